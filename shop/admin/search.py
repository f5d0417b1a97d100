"""Search synonyms (``/admin/search-synonyms``): groups of words a buyer may type for the
same thing (制服, 学生服, 校服, uniform), for roles with ``catalog.manage``. Every form
carries a one-time key, so the same form sent twice at once acts once; the rules and the
audit rows are in ``shop.catalog.search_synonyms``."""

import sqlalchemy as sa
from flask import abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import TextAreaField
from wtforms.validators import DataRequired, Length

from shop import request_keys
from shop.accounts.access import require_permission
from shop.admin.blueprint import bp
from shop.catalog import search_synonyms
from shop.catalog.search_synonyms import SynonymWordsInvalid, SynonymWordTaken
from shop.db import commits, get_session

WORDS_MAX_LENGTH = 1000


class SynonymGroupForm(FlaskForm):
    words = TextAreaField(
        _l("Words that mean the same"),
        validators=[DataRequired(), Length(max=WORDS_MAX_LENGTH)],
    )
    request_key = request_keys.request_key_field(required=False)


class DeleteSynonymGroupForm(FlaskForm):
    request_key = request_keys.request_key_field(required=False)


def _fresh_form(words: str = "") -> SynonymGroupForm:
    return SynonymGroupForm(formdata=None, words=words, request_key=request_keys.new_request_key())


def _problem_message(error: SynonymWordsInvalid | SynonymWordTaken) -> str:
    if isinstance(error, SynonymWordTaken):
        return _(
            "Already in another group: %(words)s. A word can be in one group only.",
            words="、".join(error.words),
        )
    messages = {
        "too_few": _("Enter two or more words, separated by commas."),
        "too_many": _("A group can have at most %(count)d words.", count=8),
        "spaces": _("One word per entry, without spaces: %(words)s", words="、".join(error.words)),
        "too_long": _("A word can be at most 60 characters long."),
    }
    return messages[error.problem]


def _list_page(form: SynonymGroupForm, status: int = 200):
    groups = search_synonyms.list_groups(get_session())
    return render_template(
        "admin/search/synonyms.html",
        groups=groups,
        form=form,
        delete_form=DeleteSynonymGroupForm(
            formdata=None, request_key=request_keys.new_request_key()
        ),
    ), status


@bp.get("/search-synonyms")
@require_permission("catalog.manage")
def search_synonyms_list():
    return _list_page(_fresh_form())


@bp.post("/search-synonyms")
@commits
@require_permission("catalog.manage")
def search_synonyms_create():
    db = get_session()
    form = SynonymGroupForm()
    if not form.validate_on_submit():
        return _list_page(form, 400)
    try:
        words = search_synonyms.parse_words(form.words.data)
        if not request_keys.claim(db, "synonyms:create", form.request_key.data):
            return _created()  # the same form again: it was done once
        search_synonyms.create_group(db, current_user, words)
    except (SynonymWordsInvalid, SynonymWordTaken) as error:
        db.rollback()
        form.words.errors.append(_problem_message(error))
        return _list_page(form, 400)
    except sa.exc.IntegrityError:  # the same form at the same moment: the other one did it
        db.rollback()
    return _created()


def _created():
    flash(_("Synonym group saved."), "success")
    return redirect(url_for("admin.search_synonyms_list"))


def _edit_page(group, form: SynonymGroupForm, status: int = 200):
    return render_template(
        "admin/search/synonym_edit.html",
        group=group,
        form=form,
        delete_form=DeleteSynonymGroupForm(
            formdata=None, request_key=request_keys.new_request_key()
        ),
    ), status


@bp.get("/search-synonyms/<int:group_id>")
@require_permission("catalog.manage")
def search_synonyms_edit(group_id: int):
    group = search_synonyms.get_group(get_session(), group_id)
    if group is None:
        abort(404)
    return _edit_page(group, _fresh_form(", ".join(group.words)))


@bp.post("/search-synonyms/<int:group_id>")
@commits
@require_permission("catalog.manage")
def search_synonyms_update(group_id: int):
    db = get_session()
    group = search_synonyms.get_group(db, group_id)
    if group is None:
        abort(404)
    form = SynonymGroupForm()
    if not form.validate_on_submit():
        return _edit_page(group, form, 400)
    try:
        words = search_synonyms.parse_words(form.words.data)
        if not request_keys.claim(db, f"synonyms:{group_id}", form.request_key.data):
            return _created()
        search_synonyms.update_group(db, current_user, group, words)
    except (SynonymWordsInvalid, SynonymWordTaken) as error:
        db.rollback()
        group = search_synonyms.get_group(db, group_id)
        form.words.errors.append(_problem_message(error))
        return _edit_page(group, form, 400)
    except sa.exc.IntegrityError:
        db.rollback()
    return _created()


@bp.post("/search-synonyms/<int:group_id>/delete")
@commits
@require_permission("catalog.manage")
def search_synonyms_delete(group_id: int):
    db = get_session()
    form = DeleteSynonymGroupForm()
    if not form.validate_on_submit():
        abort(400)
    group = search_synonyms.get_group(db, group_id)
    try:
        if group is not None and request_keys.claim(
            db, f"synonyms-delete:{group_id}", form.request_key.data
        ):
            search_synonyms.delete_group(db, current_user, group)
    except sa.exc.IntegrityError:  # the same form at the same moment: the other one did it
        db.rollback()
    except sa.orm.exc.StaleDataError:  # another form deleted it at the same moment
        db.rollback()
    # Deleted now, or already: either way the group is gone.
    flash(_("Synonym group deleted."), "success")
    return redirect(url_for("admin.search_synonyms_list"))
