"""A school's own pages for its admins (``/schools/<slug>/admin``): the dashboard of every
order placed for the school, per-class packing lists (printable and CSV) and roster orders
(preview, confirm, then a progress page while the order is placed by a job).

Only the school's admins (``SchoolMember``) and staff with ``schools.manage`` see them;
anyone else gets a 404, exactly as for a school that does not exist, and anonymous
visitors are sent to sign in. Parents' addresses, phone numbers, emails and payment
details never appear on these pages or in their files.
"""

import csv
import io

import sqlalchemy as sa
from flask import (
    abort,
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
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from sqlalchemy.orm import selectinload
from wtforms import HiddenField, RadioField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import Length, Optional

from shop.accounts.access import require_login
from shop.catalog import pricing
from shop.catalog.colours import colour_name
from shop.catalog.models import Product
from shop.db import get_session, utcnow
from shop.downloads import attachment
from shop.exceptions import ShopError
from shop.i18n import shop_today
from shop.jobs import enqueue_after_commit, job_status
from shop.jobs.queue import job_id_for
from shop.orders.labels import FULFILMENT_LABELS, PAYMENT_LABELS
from shop.orders.models import Order
from shop.pagination import paginate, parse_page
from shop.request_keys import new_request_key, posted, request_key_field
from shop.schools import invoices, ordering, packing, roster, roster_job
from shop.schools import invoices as invoices_rules
from shop.schools.access import get_school
from shop.schools.blueprint import bp
from shop.schools.membership import can_manage_school, schools_for
from shop.schools.models import DeliveryRound, Invoice, School, SchoolMember, UniformItem
from shop.spreadsheet import BOM, safe_cell
from shop.templating import money_filter, render_document

ORDERS_PER_PAGE = 50
# Rosters travel back in a form field on the preview page (for "confirm" and for fixing
# and sending again), so they stay under Flask's form-field limit (500 kB).
ROSTER_MAX_BYTES = 400_000
PROBLEMS_SHOWN = 300


class RosterForm(FlaskForm):
    roster = TextAreaField(_l("Paste the roster"), validators=[Optional()])
    file = FileField(_l("Or upload a CSV file"))
    # Sent back by the progress page of a refused order and by the stock choices, so
    # that the confirm form shows what the bursar had typed (checked again on confirm).
    payment = HiddenField()
    po_number = HiddenField()
    notes = HiddenField()
    round_id = HiddenField()


class ConfirmForm(FlaskForm):
    roster = TextAreaField(validators=[Length(max=ROSTER_MAX_BYTES)])
    payment = RadioField(
        _l("Payment"),
        choices=[
            SelectChoice("invoice", _l("Pay on invoice")),
            SelectChoice("card", _l("Pay by card")),
        ],
        default="card",
    )
    po_number = StringField(
        _l("Purchase-order number"), validators=[Length(max=ordering.PO_NUMBER_MAX_LENGTH)]
    )
    notes = TextAreaField(
        _l("Notes for the factory"), validators=[Length(max=ordering.NOTES_MAX_LENGTH)]
    )
    # One of the school's open delivery rounds (the page lists them); checked on confirm.
    round_id = StringField(_l("Delivery round"))
    # One per preview: confirming the same preview twice (a double click on a slow page)
    # finds the first order instead of placing a second one. It also names the job that
    # places the order and the progress page's address.
    request_key = request_key_field()


# --- who may see a school's pages ------------------------------------------------------


def _school_or_404(slug: str) -> School:
    """The school, when the current user may manage it; a 404 for everyone else."""
    school = get_school(get_session(), slug)
    if school is None or not can_manage_school(current_user, school, get_session()):
        abort(404)
    return school


def _locale() -> str:
    return str(get_locale())


@bp.get("/admin")
@require_login
def admin_home():
    """Where a school admin lands after signing in: their school's dashboard."""
    schools = schools_for(get_session(), current_user)
    if len(schools) == 1:
        return redirect(url_for("schools.school_admin_dashboard", slug=schools[0].slug))
    if not schools and current_user.role == "school_admin":
        flash(_("Your account is not linked to a school yet: ask the factory."), "error")
        return redirect(url_for("accounts.account"))
    if not schools:
        abort(404)
    return render_template("schools/admin/home.html", schools=schools)


# --- the dashboard ----------------------------------------------------------------------


def _shown_orders(school: School):
    """Every order for the school except card orders abandoned before payment."""
    abandoned = sa.and_(Order.state == "cancelled", Order.payment_status == "unpaid")
    return sa.and_(Order.school_id == school.id, sa.not_(abandoned))


def _price_list(school: School) -> list[dict]:
    db = get_session()
    items = db.scalars(
        sa.select(UniformItem)
        .where(UniformItem.school_id == school.id)
        .order_by(UniformItem.position, UniformItem.id)
        .options(selectinload(UniformItem.product).selectinload(Product.price_tiers))
    ).all()
    rows = []
    for item in items:
        tiers = [tier for tier in item.product.price_tiers if tier.currency == school.currency]
        school_price = item.school_price_amount is not None
        rows.append(
            {
                "item": item,
                "product": item.product,
                "amount": pricing.unit_amount(pricing.base_tier(tiers), item.school_price_amount),
                "school_price": school_price,
                "tiers": [] if school_price else pricing.tier_ranges(tiers),
            }
        )
    return rows


@bp.get("/<slug>/admin")
@require_login
def school_admin_dashboard(slug: str):
    school = _school_or_404(slug)
    db = get_session()
    condition = _shown_orders(school)
    total = db.scalar(sa.select(sa.func.count()).select_from(Order).where(condition)) or 0
    page = paginate(total, parse_page(request.args.get("page")), ORDERS_PER_PAGE)
    orders = db.scalars(
        sa.select(Order)
        .where(condition)
        .order_by(Order.created_at.desc(), Order.id.desc())
        .offset(page.offset)
        .limit(page.per_page)
        .options(selectinload(Order.lines), selectinload(Order.user))
    ).all()
    rounds: dict[int | None, DeliveryRound] = {each.id: each for each in school.rounds}
    invoices = dict(
        db.execute(
            sa.select(Invoice.order_id, Invoice.number).where(
                Invoice.order_id.in_([order.id for order in orders])
            )
        ).all()
    )
    rows = [
        {
            "order": order,
            "placed_by": (order.user.name if order.user and order.user.name else order.recipient),
            "students": sorted({line.student_name for line in order.lines if line.student_name}),
            "round": rounds.get(order.delivery_round_id),
            "invoice_number": invoices.get(order.id),
        }
        for order in orders
    ]
    return render_template(
        "schools/admin/dashboard.html",
        school=school,
        balance=invoices_rules.school_balance(db, school, shop_today()),
        rows=rows,
        page=page,
        classes=packing.class_totals(db, school),
        prices=_price_list(school),
        payment_labels=PAYMENT_LABELS,
        fulfilment_labels=FULFILMENT_LABELS,
    )


@bp.get("/<slug>/admin/orders/<number>")
@require_login
def school_order_page(slug: str, number: str):
    """One of the school's orders as its admins see it: what was ordered for which
    student, its status, delivery round, purchase order, notes and invoice. Never the
    parent's address, phone, email or payment details."""
    school = _school_or_404(slug)
    db = get_session()
    order = db.scalars(
        sa.select(Order)
        .where(Order.number == number[:40], _shown_orders(school))
        .options(selectinload(Order.lines))
    ).first()
    if order is None:
        abort(404)
    invoice = invoices_rules.invoice_for_order(db, order.id)
    lines = sorted(order.lines, key=lambda line: (line.class_name, line.student_name, line.id))
    return render_template(
        "schools/admin/order.html",
        school=school,
        order=order,
        lines=lines,
        invoice=invoice,
        delivery_round=order.delivery_round,
        # the notes of an order a school admin placed (a parent's may hold their address)
        school_order=order.user_id is not None
        and db.scalar(
            sa.select(SchoolMember.id).where(
                SchoolMember.school_id == school.id, SchoolMember.user_id == order.user_id
            )
        )
        is not None,
        payment_labels=PAYMENT_LABELS,
        fulfilment_labels=FULFILMENT_LABELS,
    )


# --- packing lists ----------------------------------------------------------------------


@bp.get("/<slug>/admin/classes/<path:class_name>/packing")
@require_login
def packing_page(slug: str, class_name: str):
    school = _school_or_404(slug)
    rows = packing.packing_list(get_session(), school, class_name)
    document = render_document(  # in the school's language, whoever prints it
        school.locale,
        "schools/admin/_packing_doc.html",
        school=school,
        class_name=class_name,
        students=packing.by_student(rows),
        pieces=sum(row.quantity for row in rows),
    )
    return render_template(
        "schools/admin/packing.html", school=school, class_name=class_name, packing=document
    )


PACKING_COLUMNS = ("student", "class", "item", "size", "colour", "quantity", "order_number")


@bp.get("/<slug>/admin/classes/<path:class_name>/packing.csv")
@require_login
def packing_csv(slug: str, class_name: str):
    school = _school_or_404(slug)
    out = io.StringIO()
    out.write(BOM)  # Excel then reads UTF-8 (Chinese and Japanese names)
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(PACKING_COLUMNS)
    for row in packing.packing_list(get_session(), school, class_name):
        writer.writerow(
            (
                safe_cell(row.student),
                safe_cell(row.class_name),
                safe_cell(row.item),
                safe_cell(row.size),
                safe_cell(row.colour),
                row.quantity,
                row.order_number,
            )
        )
    filename = f"packing-{school.slug}-{_file_safe(class_name)}.csv"
    return attachment(out.getvalue().encode("utf-8"), filename, "text/csv")


def _file_safe(text: str) -> str:
    return "".join(c if c.isascii() and c.isalnum() else "-" for c in text).strip("-") or "class"


# --- roster orders ----------------------------------------------------------------------


@bp.get("/<slug>/admin/roster/template.csv")
@require_login
def roster_template(slug: str):
    school = _school_or_404(slug)
    catalogue = roster.load_catalogue(get_session(), school, _locale())
    # In the school's language unless another is asked for (``?lang=en``).
    wanted = request.args.get("lang", "")
    language = wanted if wanted in roster.TEMPLATE_WORDS else school.locale
    out = io.StringIO()
    out.write(BOM)
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(roster.template_header(catalogue, language))
    for row in roster.example_rows(catalogue, language):
        writer.writerow([safe_cell(cell) for cell in row])
    return attachment(out.getvalue().encode("utf-8"), f"roster-{school.slug}.csv", "text/csv")


def _render_roster(
    school: School,
    form,
    *,
    text: str = "",
    preview=None,
    status: int = 200,
    payment: str = "",
    po_number: str = "",
    notes: str = "",
    round_id: str = "",
    request_key: str | None = None,
):
    """The roster page; with a clean ``preview``, its confirm form, filled in with what
    the bursar had typed (``payment``, ``po_number``, ``notes``, ``round_id``); with
    items short of stock, the choices for each."""
    catalogue = roster.load_catalogue(get_session(), school, _locale())
    if payment not in ordering.PAYMENTS:
        payment = "invoice" if school.invoice_allowed else "card"
    confirm = ConfirmForm(
        formdata=None,
        roster=text,
        payment=payment,
        po_number=(po_number or "")[: ordering.PO_NUMBER_MAX_LENGTH],
        notes=(notes or "")[: ordering.NOTES_MAX_LENGTH],
        round_id=(round_id or "")[:12],
        request_key=request_key or new_request_key(),
    )
    form.roster.data = text or form.roster.data
    language = school.locale
    # the example shows the base columns, every item and the first item's quantity
    shown = len(roster.BASE_COLUMNS) + len(catalogue.items) + min(len(catalogue.items), 1)
    return (
        render_template(
            "schools/admin/roster.html",
            school=school,
            form=form,
            preview=preview,
            confirm=confirm,
            rounds=ordering.open_rounds(school, utcnow()),
            entries=catalogue.ordered(),
            grades=catalogue.grades,
            problems_shown=PROBLEMS_SHOWN,
            problem_rows={problem.row for problem in preview.problems} if preview else set(),
            allowance_cm=roster.DEFAULT_ALLOWANCE_CM,
            example_header=roster.template_header(catalogue, language)[:shown],
            example_rows=[row[:shown] for row in roster.example_rows(catalogue, language)],
            language=language,
            choice_values={
                "leave_out": roster.LEAVE_OUT,
                "made_to_order": roster.MADE_TO_ORDER,
            },
        ),
        status,
    )


@bp.get("/<slug>/admin/roster")
@require_login
def roster_page(slug: str):
    school = _school_or_404(slug)
    return _render_roster(school, RosterForm())


def _roster_text(form: RosterForm) -> tuple[str, str | None]:
    """The roster as text (the upload wins over the textarea), or an error."""
    upload = request.files.get("file")
    if upload is not None and upload.filename:
        data = upload.stream.read(ROSTER_MAX_BYTES + 1)
        if len(data) > ROSTER_MAX_BYTES:
            return "", _("The file is larger than 400 kB: split the roster in two orders.")
        text = roster.decode(data)
        if text is None:
            return "", _("The file is not UTF-8 text: save it as “CSV UTF-8” and try again.")
        return text, None
    text = (form.roster.data or "").lstrip(BOM)
    if len(text.encode("utf-8")) > ROSTER_MAX_BYTES:
        return "", _("The roster is larger than 400 kB: split it in two orders.")
    if not text.strip():
        return "", _("Paste the roster or choose a CSV file.")
    return text, None


@bp.post("/<slug>/admin/roster")
@require_login
def roster_preview(slug: str):
    school = _school_or_404(slug)
    form = RosterForm()
    if not form.validate_on_submit():
        return _render_roster(school, form, status=400)
    text, error = _roster_text(form)
    if error:
        form.roster.errors = [error]
        return _render_roster(school, form, status=400)
    preview = _preview(school, text)
    return _render_roster(
        school,
        form,
        text=text,
        preview=preview,
        status=200 if preview.ok else 422,
        payment=form.payment.data or "",
        po_number=form.po_number.data or "",
        notes=form.notes.data or "",
        round_id=form.round_id.data or "",
    )


def _preview(school: School, text: str):
    """The roster read with the bursar's posted choices for what is short of stock."""
    return roster.build_preview(
        get_session(),
        school,
        text,
        locale=_locale(),
        choices=roster.clean_choices(request.form.items()),
        today=shop_today(),
    )


def _round_id(raw: str) -> int | None:
    """The posted delivery round: ``None`` for "the next one"; an id that cannot be one
    is -1 (no round has it: the confirmation says the round is closed)."""
    raw = (raw or "").strip()
    if not raw:
        return None
    return int(raw) if raw.isascii() and raw.isdigit() and len(raw) < 10 else -1


def _refusal_message(refusal: dict) -> str:
    """A translated sentence for each refusal (``roster_job.refusal``) of a roster order."""
    kind = refusal.get("kind") or ""
    if kind == "credit_limit":
        return _(
            "This order (%(total)s) is more than the school's remaining credit of "
            "%(available)s. Pay by card, or ask the factory about your credit limit.",
            total=money_filter(refusal["total"], refusal["currency"]),
            available=money_filter(refusal["available"], refusal["currency"]),
        )
    if kind == "stock":
        return _(
            "Only %(n)d left of %(item)s in size %(size)s, %(colour)s. Go back to the "
            "roster to choose another colour, have them made or leave those lines out.",
            n=refusal["available"],
            item=refusal.get("item") or refusal["sku"],
            size=refusal.get("size") or "—",
            colour=colour_name(refusal.get("colour") or "") or "—",
        )
    if kind == "card_minimum":
        return _(
            "Card payments start at %(amount)s.",
            amount=money_filter(refusal["minimum"], refusal["currency"]),
        )
    messages = {
        "card_service": _("The card payment service did not answer. Nothing was ordered."),
        "invoice_not_allowed": _("This school cannot pay on invoice yet: choose card payment."),
        "po_number": _("Enter the school's purchase-order number (at most 60 characters)."),
        "payment": _("Choose how the school pays: by card or on invoice."),
        "roster": _("The roster has problems to fix before it can be ordered."),
        "delivery": _("There is no delivery round open for the school: ask the factory."),
        "round_closed": _("That delivery round is closed for orders: choose another."),
        "notes": _("The notes are longer than 500 characters."),
    }
    return messages.get(kind, _("The order could not be placed. Check the roster and try again."))


@bp.post("/<slug>/admin/roster/confirm")
@require_login
def roster_confirm(slug: str):
    """Check the confirmation at once, then queue the job that places the order and go to
    its progress page (without Redis the job has run by the time the page loads)."""
    school = _school_or_404(slug)
    db = get_session()
    form = ConfirmForm()
    text = (form.roster.data or "").lstrip(BOM)
    typed = {
        "payment": form.payment.data or "",
        "po_number": form.po_number.data or "",
        "notes": form.notes.data or "",
        "round_id": form.round_id.data or "",
    }
    if not form.validate_on_submit() or not text.strip():
        flash(_("Send the roster again and check the preview."), "error")
        preview = _preview(school, text) if text.strip() else None
        return _render_roster(
            school, RosterForm(formdata=None), text=text, preview=preview, status=400, **typed
        )
    request_key = form.request_key.data
    if _placed_with(db, school, request_key) is not None:
        return _to_progress(school, request_key)
    # Never trust the preview page: read the roster and check its stock again.
    preview = _preview(school, text)
    if not preview.ok:
        status = 422  # problems to fix in the roster
        if preview.unresolved and not preview.problems:
            status = 409  # the stock moved since the preview
            flash(
                _(
                    "Some items are no longer in stock as the preview showed: choose for "
                    "each below, then confirm again. Nothing was ordered."
                ),
                "error",
            )
        else:
            flash(_("The roster has problems to fix before it can be ordered."), "error")
        return _render_roster(
            school, RosterForm(formdata=None), text=text, preview=preview, status=status, **typed
        )
    round_id = _round_id(typed["round_id"])
    try:
        ordering.check_roster_order(
            db,
            school,
            preview,
            now=utcnow(),
            payment=typed["payment"],
            po_number=typed["po_number"],
            notes=typed["notes"],
            round_id=round_id,
        )
    except ShopError as error:
        db.rollback()
        flash(_refusal_message(roster_job.refusal(error)), "error")
        return _render_roster(
            school,
            RosterForm(formdata=None),
            text=text,
            preview=preview,
            status=409,
            request_key=request_key,  # nothing was queued with it: still unused
            **typed,
        )
    enqueue_after_commit(
        db,
        roster_job.place_roster,
        school.id,
        current_user.id,
        text,
        typed["payment"],
        typed["po_number"],
        _locale(),
        request_key,
        key=roster_job.job_key(request_key),
        choices=preview.choices,
        notes=typed["notes"],
        round_id=round_id,
    )
    db.commit()
    return _to_progress(school, request_key)


def _to_progress(school: School, request_key: str):
    return redirect(
        url_for("schools.roster_progress", slug=school.slug, request_key=request_key), code=303
    )


PROGRESS_REFRESH_SECONDS = 2


@bp.get("/<slug>/admin/roster/<request_key>")
@require_login
def roster_progress(slug: str, request_key: str):
    """Where the bursar waits while the order is placed: progress, then the order (and
    its invoice); a refusal in their words, with a way back to the roster."""
    school = _school_or_404(slug)
    if posted(request_key) is None:
        abort(404)
    db = get_session()
    status = job_status(job_id_for(roster_job.job_key(request_key)))
    order = _placed_with(db, school, request_key)  # after the status: a job that finished
    if order is not None:  # has committed its order
        return _after_placing(school, order)
    outcome = status.result if isinstance(status.result, dict) else None
    if outcome is not None and outcome.get("school_id") != school.id:
        outcome = None  # another school's key: nothing of it is shown here
    refused = None
    if outcome is not None and outcome.get("outcome") == roster_job.REFUSED:
        refused = outcome
    if status.state == "unknown" or (status.state == "finished" and refused is None):
        abort(404)
    return render_template(
        "schools/admin/roster_progress.html",
        school=school,
        status=status,
        refusal=_refusal_message(refused["refusal"]) if refused is not None else None,
        outcome=refused,
        refresh_seconds=PROGRESS_REFRESH_SECONDS,
    )


def _placed_with(db, school: School, request_key: str) -> Order | None:
    return db.scalars(
        sa.select(Order).where(Order.request_key == request_key, Order.school_id == school.id)
    ).first()


def _after_placing(school: School, order: Order):
    """An order on invoice shows its invoice; a card order goes to be paid."""
    invoice = invoices.invoice_for_order(get_session(), order.id)
    if invoice is not None:
        flash(_("Order %(number)s placed on invoice.", number=order.number), "success")
        return redirect(
            url_for("schools.invoice_page", slug=school.slug, number=invoice.number), code=303
        )
    flash(_("Order %(number)s placed: pay by card to confirm it.", number=order.number), "success")
    return redirect(url_for("payments.pay_page", number=order.number), code=303)
