"""Resellers' windows (``/admin/resellers``): applications and windows, searched by
handle or name and filtered by status, and staff's approve / suspend / reinstate / close —
for roles with ``resellers.manage``. The rules are ``shop.resellers.service``'s: a status
change is a compare-and-set from the status the page showed, written to the audit log."""

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from shop import images as image_store
from shop.accounts.access import require_permission
from shop.accounts.models import User
from shop.admin.blueprint import bp
from shop.admin.reseller_program_forms import MONEY_MODEL_LABELS, new_terms_form
from shop.audit.sentences import describe_entries
from shop.catalog.search import clean_text, fold
from shop.db import commits, get_session
from shop.pagination import parse_page
from shop.resellers import ledger, program, service
from shop.resellers.forms import StatusForm
from shop.resellers.labels import ACTION_LABELS, STATUS_LABELS
from shop.resellers.models import STATUSES, Reseller
from shop.resellers.rules import InvalidTransition, available_actions
from shop.templating import locale_name

PER_PAGE = 50
SEARCH_MAX_LENGTH = 100


@bp.get("/resellers")
@require_permission("resellers.manage")
def reseller_list():
    db = get_session()
    q = clean_text(request.args.get("q"), SEARCH_MAX_LENGTH)
    status = request.args.get("status")
    status = status if status in STATUSES else None
    page, rows = service.list_resellers(
        db, status=status, q=fold(q), page=parse_page(request.args.get("page")), per_page=PER_PAGE
    )
    args = {key: value for key, value in (("q", q), ("status", status)) if value}
    return render_template(
        "admin/resellers/list.html",
        rows=rows,
        earnings=ledger.balances_by_window(db, [row.reseller.id for row in rows]),
        page=page,
        q=q,
        status=status,
        args=args,
        statuses=STATUSES,
        status_labels=STATUS_LABELS,
    )


def _reseller_or_404(reseller_id: int) -> Reseller:
    reseller = get_session().get(Reseller, reseller_id)
    if reseller is None:
        abort(404)
    return reseller


@bp.get("/resellers/<int:reseller_id>")
@require_permission("resellers.manage")
def reseller_detail(reseller_id: int):
    db = get_session()
    reseller = _reseller_or_404(reseller_id)
    history = service.list_status_history(db, reseller)
    changed_by = reseller.status_changed_by_id
    return render_template(
        "admin/resellers/detail.html",
        reseller=reseller,
        owner=db.get(User, reseller.user_id),
        changed_by=db.get(User, changed_by) if changed_by else None,
        status_labels=STATUS_LABELS,
        actions=[(action, ACTION_LABELS[action]) for action in available_actions(reseller.status)],
        status_form=StatusForm(formdata=None),
        history=history,
        sentences=describe_entries(db, history, locale_name(), _("system")),
        avatar=image_store.thumbnail_path(reseller.avatar_path) if reseller.avatar_path else None,
        window_terms=program.window_terms(db, reseller.id),
        terms_form=new_terms_form(program.terms(db, reseller.id)),
        money_model_labels=MONEY_MODEL_LABELS,
    )


@bp.post("/resellers/<int:reseller_id>/status")
@commits
@require_permission("resellers.manage")
def reseller_status(reseller_id: int):
    db = get_session()
    reseller = _reseller_or_404(reseller_id)
    back = url_for("admin.reseller_detail", reseller_id=reseller.id)
    form = StatusForm()
    if not form.validate_on_submit():
        flash(_("Check the form and try again."), "error")
        return redirect(back)
    action = form.action.data
    try:
        new = service.change_status(db, current_user, reseller, action, expected=form.expected.data)
    except InvalidTransition:
        db.rollback()
        flash(_("That change is not possible from the window's status."), "error")
    except service.StatusChanged as changed:
        db.rollback()
        flash(
            _(
                "Someone else changed this window first: it is %(status)s now. Nothing was "
                "changed; look again and choose.",
                status=STATUS_LABELS[changed.status],
            ),
            "error",
        )
    else:
        flash(
            _(
                "The window %(handle)s is %(status)s now.",
                handle=reseller.handle,
                status=STATUS_LABELS[new],
            ),
            "success",
        )
    return redirect(back)
