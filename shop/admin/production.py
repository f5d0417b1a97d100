"""The production queue (``/admin/production``): what the workshop must make, batches of
it, their cut sheets, and finishing them. Everything here needs ``production.manage``
(workshop, manager, owner).

The rules live in ``shop.orders.production``; this module parses, calls one function,
commits through the request's session (redirect) or rolls back and says why (400).
Due dates are calendar days in the factory's time zone (``BABEL_DEFAULT_TIMEZONE``).
"""

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import TextAreaField
from wtforms.validators import Length, Optional

from shop.accounts.access import require_permission
from shop.accounts.forms import EmptyForm
from shop.accounts.permissions import has_permission
from shop.admin.blueprint import bp
from shop.catalog.translations import product_names
from shop.db import commits, get_session
from shop.i18n import shop_zone
from shop.orders import lifecycle, production, transitions
from shop.orders.models import ProductionBatch
from shop.templating import locale_name

PERMISSION = "production.manage"
NOTE_MAX_LENGTH = 500


class BatchForm(FlaskForm):
    note = TextAreaField(
        _l("Note for the cut sheet (optional)"),
        validators=[Optional(), Length(max=NOTE_MAX_LENGTH)],
    )


def _render_queue(status: int = 200, chosen: frozenset[int] = frozenset(), form=None):
    db = get_session()
    locale = locale_name()
    groups = production.list_queue(db, shop_zone(), locale)
    ids = (row.product_id for group in groups for row in group.rows)
    return (
        render_template(
            "admin/production/queue.html",
            groups=groups,
            product_names=product_names(db, ids, locale),
            chosen=chosen,
            form=form or BatchForm(),
            can_open_orders=has_permission(current_user, "orders.view"),
        ),
        status,
    )


@bp.get("/production")
@require_permission(PERMISSION)
def production_queue():
    return _render_queue()


@bp.post("/production/batches")
@commits
@require_permission(PERMISSION)
def production_batch_start():
    db = get_session()
    form = BatchForm()
    line_ids = production.parse_line_ids(request.form.getlist("row"))
    if not form.validate_on_submit():
        flash(_("Nothing was started: check the form."), "error")
        return _render_queue(400, frozenset(line_ids), form)
    try:
        batch = production.start_batch(
            db, line_ids, actor_user_id=current_user.id, note=form.note.data or ""
        )
    except production.EmptySelection:
        db.rollback()
        flash(_("Choose at least one row to make."), "error")
        return _render_queue(400, form=form)
    except (
        production.LinesNotAvailable,
        lifecycle.CannotFulfil,
        transitions.IllegalTransition,
    ):
        db.rollback()
        flash(
            _(
                "Nothing was started: some of the chosen rows are already in a batch or no "
                "longer need making. The queue below is up to date."
            ),
            "error",
        )
        return _render_queue(400, form=form)
    flash(_("Batch %(id)d started.", id=batch.id), "success")
    return redirect(url_for("admin.production_cut_sheet", batch_id=batch.id), code=303)


def _render_batches(status: int = 200):
    db = get_session()
    return (
        render_template(
            "admin/production/batches.html",
            batches=production.list_batches(db),
            form=EmptyForm(),
        ),
        status,
    )


@bp.get("/production/batches")
@require_permission(PERMISSION)
def production_batches():
    return _render_batches()


@bp.get("/production/batches/<int:batch_id>/cut-sheet")
@require_permission(PERMISSION)
def production_cut_sheet(batch_id: int):
    db = get_session()
    batch = production.get_batch(db, batch_id)
    if batch is None:
        abort(404)
    rows = production.cut_sheet(batch)
    return render_template(
        "admin/production/cut_sheet.html",
        batch=batch,
        rows=rows,
        product_names=product_names(db, (row.product_id for row in rows), locale_name()),
        pieces=sum(row.quantity for row in rows),
        form=EmptyForm(),
    )


@bp.post("/production/batches/<int:batch_id>/finish")
@commits
@require_permission(PERMISSION)
def production_batch_finish(batch_id: int):
    db = get_session()
    if db.get(ProductionBatch, batch_id) is None:
        abort(404)
    form = EmptyForm()
    if not form.validate_on_submit():
        flash(_("The form expired; the batch was not finished. Please try again."), "error")
        return _render_batches(400)
    try:
        production.finish_batch(db, batch_id, actor_user_id=current_user.id)
    except production.BatchNotOpen:
        db.rollback()
        flash(_("Batch %(id)d was already finished.", id=batch_id), "error")
        return _render_batches(400)
    flash(
        _("Batch %(id)d finished; orders with everything made are ready to ship.", id=batch_id),
        "success",
    )
    return redirect(url_for("admin.production_batches"), code=303)
