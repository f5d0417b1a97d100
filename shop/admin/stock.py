"""Stock (``/admin/stock``): every variant's on hand, allocated and available, a low-stock
filter, and per variant a ledger with an adjustment form. And the catalogue as CSV
(``/admin/csv``): export, upload for a dry run, apply with progress.

Adjustments go through ``shop.stock.allocation.adjust`` (the only code that changes stock
columns: one conditional ``UPDATE``, so concurrent adjustments add up) and write an audit
row in the same transaction. A "counted" adjustment takes the counted total and turns it
into a delta against what the database holds at that moment.

The CSV rules are ``shop.catalog.csv_io``. An upload is kept in the shop's store
(``shop.admin.csv_staging``: any instance can check or apply it, only its uploader may)
and its dry run queued as a job (``shop.admin.csv_check``); the upload leads to
``/admin/csv/imports/<token>``, which shows rows checked of total, reloading itself every
2 s (no script), then the dry run's outcome. If it passed, "apply" queues
``shop.admin.csv_job`` once, however often it is pressed, and the same page shows rows
saved of total, then the import's outcome.
"""

import sqlalchemy as sa
from flask import (
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from shop import request_keys
from shop.accounts.access import require_permission
from shop.accounts.models import User
from shop.admin import csv_check, csv_job, csv_staging
from shop.admin.blueprint import bp
from shop.admin.stock_forms import (
    AdjustForm,
    ImportApplyForm,
    ImportUploadForm,
    signed_int,
)
from shop.audit.service import record
from shop.catalog import csv_io
from shop.catalog.csv_io import CSV_MAX_BYTES
from shop.catalog.models import Product, Variant
from shop.catalog.search import clean_text, fold
from shop.db import commits, get_session
from shop.downloads import attachment
from shop.pagination import paginate, parse_page
from shop.stock.allocation import InvalidStockChange, adjust, count
from shop.stock.levels import is_low, variant_is_low
from shop.stock.models import StockMovement
from shop.storage import StorageError, get_storage

PER_PAGE = 50
# Every reason a ledger row can have (``shop.stock.models.REASONS``), in words.
LEDGER_LABELS = {
    "allocated": _l("Allocated to an order"),
    "released": _l("Released from an order"),
    "sold": _l("Sold (dispatched)"),
    "received": _l("Received"),
    "counted": _l("Counted"),
    "damaged": _l("Damaged"),
    "returned": _l("Returned"),
}
PROGRESS_REFRESH_SECONDS = 2
LEDGER_LIMIT = 200
SEARCH_MAX_LENGTH = 100


@bp.get("/stock", endpoint="stock")
@require_permission("stock.manage")
def stock_list():
    db = get_session()
    q = clean_text(request.args.get("q"), SEARCH_MAX_LENGTH)
    low = request.args.get("low") == "1"
    query = sa.select(Variant, Product).join(Product, Variant.product_id == Product.id)
    if q:
        for term in q.split():
            escaped = fold(term).replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
            pattern = f"%{escaped}%"
            query = query.where(
                sa.or_(
                    sa.func.lower(Variant.sku).like(pattern, escape="\\"),
                    Product.search_text.like(pattern, escape="\\"),
                )
            )
    if low:
        query = query.where(variant_is_low())
    total = db.scalar(sa.select(sa.func.count()).select_from(query.subquery())) or 0
    page = paginate(total, parse_page(request.args.get("page")), PER_PAGE)
    rows = db.execute(
        query.order_by(Product.slug, Variant.position, Variant.sku)
        .limit(PER_PAGE)
        .offset(page.offset)
    ).all()
    return render_template(
        "admin/stock/list.html",
        rows=rows,
        page=page,
        filters={"q": q, "low": low},
        filter_args={key: value for key, value in (("q", q), ("low", "1" if low else "")) if value},
        low_ids={variant.id for variant, _product in rows if is_low(variant)},
    )


def _variant_or_404(variant_id: int) -> Variant:
    variant = get_session().get(Variant, variant_id)
    if variant is None:
        abort(404)
    return variant


def _render_ledger(variant: Variant, form: AdjustForm, status: int = 200):
    movements = get_session().execute(
        sa.select(StockMovement, User.name)
        .outerjoin(User, StockMovement.staff_user_id == User.id)
        .where(StockMovement.variant_id == variant.id)
        .order_by(StockMovement.id.desc())
        .limit(LEDGER_LIMIT)
    )
    return (
        render_template(
            "admin/stock/ledger.html",
            variant=variant,
            form=form,
            movements=movements.all(),
            reasons=LEDGER_LABELS,
        ),
        status,
    )


@bp.get("/stock/<int:variant_id>")
@require_permission("stock.manage")
def stock_ledger(variant_id: int):
    form = AdjustForm(formdata=None, request_key=request_keys.new_request_key())
    return _render_ledger(_variant_or_404(variant_id), form)


@bp.post("/stock/<int:variant_id>/adjust")
@commits
@require_permission("stock.manage")
def stock_adjust(variant_id: int):
    db = get_session()
    variant = _variant_or_404(variant_id)
    form = AdjustForm()
    if not form.validate_on_submit():
        return _render_ledger(variant, form, 400)
    quantity = signed_int(form.quantity.data)
    reason = form.reason.data
    if quantity is None:
        form.quantity.errors.append(_("Enter a whole number, like 5 or -3."))
        return _render_ledger(variant, form, 400)
    if reason == "counted" and quantity < 0:
        form.quantity.errors.append(_("A counted total cannot be negative."))
        return _render_ledger(variant, form, 400)
    if reason != "counted" and quantity == 0:
        form.quantity.errors.append(_("Enter a quantity other than zero."))
        return _render_ledger(variant, form, 400)
    note = (form.note.data or "").strip()
    try:
        if not request_keys.claim(db, f"stock:{variant.id}", form.request_key.data):
            return _adjusted(db, variant)  # the same form again: it was done once
        delta = _apply_adjustment(db, variant.id, reason, quantity, note)
    except sa.exc.IntegrityError:  # the same form at the same moment: the other one did it
        db.rollback()
        return _adjusted(db, _variant_or_404(variant_id))
    except InvalidStockChange:
        db.rollback()
        variant = _variant_or_404(variant_id)
        form.quantity.errors.append(
            _(
                "On hand cannot go below the %(allocated)d allocated to orders.",
                allocated=variant.allocated,
            )
        )
        return _render_ledger(variant, form, 400)
    if delta == 0:
        db.rollback()
        form.quantity.errors.append(_("That is already the number on hand."))
        return _render_ledger(_variant_or_404(variant_id), form, 400)
    on_hand = db.execute(sa.select(Variant.on_hand).where(Variant.id == variant.id)).scalar_one()
    record(
        db,
        actor_user_id=current_user.id,
        action="stock.adjust",
        target_type="variant",
        target_id=variant.id,
        before={"on_hand": on_hand - delta},
        after={"on_hand": on_hand, "reason": reason, "delta": delta, "note": note},
    )
    return _adjusted(db, variant)


def _apply_adjustment(db, variant_id: int, reason: str, quantity: int, note: str) -> int:
    """The change made: a counted total sets on hand (0 when it already was)."""
    if reason == "counted":
        return count(db, variant_id, quantity, staff_user_id=current_user.id, note=note)
    adjust(db, variant_id, quantity, reason=reason, staff_user_id=current_user.id, note=note)
    return quantity


def _adjusted(db, variant: Variant):
    on_hand = db.scalar(sa.select(Variant.on_hand).where(Variant.id == variant.id))
    flash(_("Stock of %(sku)s is now %(on_hand)d.", sku=variant.sku, on_hand=on_hand))
    return redirect(url_for("admin.stock_ledger", variant_id=variant.id))


# --- CSV ------------------------------------------------------------------------------


@bp.get("/csv", endpoint="csv")
@require_permission("catalog.manage")
def csv_page():
    return render_template("admin/csv/index.html", form=ImportUploadForm())


@bp.get("/csv/export")
@require_permission("catalog.manage")
def csv_export():
    return attachment(csv_io.export_csv(get_session()), "catalogue.csv", "text/csv")


CHECK_PER_PAGE = 100  # problems (or, without problems, changed rows) per dry-run page


def _render_check(result: dict, token: str):
    """The dry run's outcome, as the check job recorded it: the counts, then a page of
    its problems (or, when there are none, of its changes) with links to the others."""
    problems, changed = result["problems"], result["changed"]
    listed = problems or changed
    page = paginate(len(listed), parse_page(request.args.get("page")), CHECK_PER_PAGE)
    shown = listed[page.offset : page.offset + page.per_page]
    return render_template(
        "admin/csv/dry_run.html",
        counts=result["counts"],
        changed=[] if problems else shown,
        changes_hidden=result["changes_hidden"],
        problems=shown if problems else [],
        problem_count=result["problem_count"],
        problems_hidden=result["problem_count"] - len(problems),
        page=page,
        token=token,
        form=ImportApplyForm(token=token) if not result["problem_count"] else None,
    )


@bp.post("/csv/import")
@commits
@require_permission("catalog.manage")
def csv_import():
    """Keep the file and queue its dry run; the page of the upload shows the check's
    progress, then its outcome (without Redis the check has run by the redirect)."""
    form = ImportUploadForm()
    upload = request.files.get("file")
    # (A missing CSRF token is refused app-wide before this view runs.)
    if not form.validate_on_submit() or upload is None or not upload.filename:
        form.file.errors = [_("Choose a CSV file to upload.")]
        return render_template("admin/csv/index.html", form=form), 400
    data = upload.stream.read(CSV_MAX_BYTES + 1)
    if len(data) > CSV_MAX_BYTES:
        form.file.errors = [_("The file is larger than 20 MB.")]
        return render_template("admin/csv/index.html", form=form), 400
    try:
        token = csv_staging.stage_upload(get_storage(), current_user.id, data)
    except StorageError:
        current_app.logger.exception("CSV import: the store refused the upload")
        flash(_("The file could not be kept for applying. Try again in a minute."))
        return render_template("admin/csv/index.html", form=form), 503
    csv_check.queue_check(get_session(), current_user.id, token, len(data), str(get_locale()))
    return redirect(url_for("admin.csv_import_progress", token=token))


@bp.post("/csv/apply")
@commits
@require_permission("catalog.manage")
def csv_apply():
    """Queue the apply (once, however often it is pressed) and show its progress."""
    form = ImportApplyForm()
    token = form.token.data if form.validate_on_submit() else None
    if token is None:
        flash(_("That upload has expired or was already applied. Upload the file again."))
        return redirect(url_for("admin.csv"))
    db = get_session()
    progress_page = redirect(url_for("admin.csv_import_progress", token=token))
    if csv_job.is_claimed(db, current_user.id, token):
        return progress_page  # pressed again: the first press queued it
    try:
        staged = csv_staging.is_staged(get_storage(), current_user.id, token)
    except StorageError:
        current_app.logger.exception("CSV import: the store did not answer")
        abort(503)
    if not staged:
        flash(_("That upload has expired or was already applied. Upload the file again."))
        return redirect(url_for("admin.csv"))
    try:
        claimed = csv_job.claim_apply(db, current_user.id, token)
    except sa.exc.IntegrityError:  # pressed twice at the same moment: the other one won
        claimed = False
    if not claimed:
        db.rollback()
        return progress_page
    csv_job.queue_apply(db, current_user.id, token, str(get_locale()))
    return progress_page  # committed by @commits; without Redis the job runs right then


@bp.get("/csv/imports/<token>")
@require_permission("catalog.manage")
def csv_import_progress(token: str):
    """One page per upload, for both of its jobs: rows checked of total while the dry run
    runs, then its outcome (with the Apply button); once applied, rows saved of total,
    then the import's outcome. It reloads itself while a job runs. Only the uploader's
    own imports."""
    db = get_session()
    if not csv_staging.TOKEN.fullmatch(token):
        abort(404)
    if csv_job.is_claimed(db, current_user.id, token):
        progress = csv_job.get_progress(db, current_user.id, token)
        return render_template(
            "admin/csv/progress.html", progress=progress, refresh_seconds=PROGRESS_REFRESH_SECONDS
        )
    check = csv_check.get_check(db, current_user.id, token)
    if check is None:
        abort(404)
    if check.result is not None:
        return _render_check(check.result, token)
    return render_template(
        "admin/csv/progress.html",
        progress=check.progress,
        checking=True,
        refresh_seconds=PROGRESS_REFRESH_SECONDS,
    )
