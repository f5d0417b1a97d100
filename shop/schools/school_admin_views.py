"""A school's own pages for its admins (``/schools/<slug>/admin``): the dashboard of every
order placed for the school, per-class packing lists (printable and CSV) and roster orders.

Only the school's admins (``SchoolMember``) and staff with ``schools.manage`` see them;
anyone else gets a 404, exactly as for a school that does not exist, and anonymous
visitors are sent to sign in. Parents' addresses, phone numbers, emails and payment
details never appear on these pages or in their files.
"""

import csv
import io
import secrets

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
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from sqlalchemy.orm import selectinload
from wtforms import HiddenField, RadioField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, Optional

from shop.accounts.access import require_login
from shop.catalog import pricing
from shop.catalog.models import Product
from shop.checkout.service import BelowCardMinimum, NoSchoolDelivery, StockRanOut
from shop.db import get_session, utcnow
from shop.downloads import attachment
from shop.exceptions import ShopError
from shop.i18n import shop_zone
from shop.links import external_url
from shop.locales import localized
from shop.mail import send_after_commit
from shop.orders.labels import FULFILMENT_LABELS, PAYMENT_LABELS
from shop.orders.models import Order
from shop.pagination import paginate, parse_page
from shop.payments.stripe_gateway import PaymentServiceUnavailable, gateway
from shop.schools import invoices, ordering, packing, roster
from shop.schools.access import get_school
from shop.schools.membership import can_manage_school, schools_for
from shop.schools.models import Invoice, School, UniformItem
from shop.schools.views import bp
from shop.spreadsheet import BOM, safe_cell
from shop.templating import money_filter

ORDERS_PER_PAGE = 50
# Rosters travel back in a form field on the preview page (for "confirm" and for fixing
# and sending again), so they stay under Flask's form-field limit (500 kB).
ROSTER_MAX_BYTES = 400_000
PROBLEMS_SHOWN = 300


class RosterForm(FlaskForm):
    roster = TextAreaField(_l("Paste the roster"), validators=[Optional()])
    file = FileField(_l("Or upload a CSV file"))


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
    po_number = StringField(_l("Purchase-order number"), validators=[Length(max=60)])
    # One per preview: confirming the same preview twice (a double click on a slow page)
    # finds the first order instead of placing a second one.
    request_key = HiddenField(validators=[DataRequired(), Length(min=16, max=64)])


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
    total = db.scalar(sa.select(sa.func.count()).select_from(Order).where(condition))
    page = paginate(total, parse_page(request.args.get("page")), ORDERS_PER_PAGE)
    orders = db.scalars(
        sa.select(Order)
        .where(condition)
        .order_by(Order.created_at.desc(), Order.id.desc())
        .offset(page.offset)
        .limit(page.per_page)
        .options(selectinload(Order.lines), selectinload(Order.user))
    ).all()
    rounds = {delivery_round.id: delivery_round for delivery_round in school.rounds}
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
        rows=rows,
        page=page,
        classes=packing.class_totals(db, school),
        prices=_price_list(school),
        payment_labels=PAYMENT_LABELS,
        fulfilment_labels=FULFILMENT_LABELS,
    )


# --- packing lists ----------------------------------------------------------------------


@bp.get("/<slug>/admin/classes/<path:class_name>/packing")
@require_login
def packing_page(slug: str, class_name: str):
    school = _school_or_404(slug)
    rows = packing.packing_list(get_session(), school, class_name)
    return render_template(
        "schools/admin/packing.html",
        school=school,
        class_name=class_name,
        students=packing.by_student(rows),
        pieces=sum(row.quantity for row in rows),
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
    out = io.StringIO()
    out.write(BOM)
    csv.writer(out, lineterminator="\r\n").writerow(roster.template_header(catalogue))
    return attachment(out.getvalue().encode("utf-8"), f"roster-{school.slug}.csv", "text/csv")


def _render_roster(school: School, form, *, text: str = "", preview=None, status: int = 200):
    catalogue = roster.load_catalogue(get_session(), school, _locale())
    confirm = None
    if preview is not None and preview.ok:
        confirm = ConfirmForm(
            formdata=None,
            roster=text,
            payment="invoice" if school.invoice_allowed else "card",
            request_key=secrets.token_urlsafe(24),
        )
    form.roster.data = text or form.roster.data
    return (
        render_template(
            "schools/admin/roster.html",
            school=school,
            form=form,
            preview=preview,
            confirm=confirm,
            entries=catalogue.ordered(),
            grades=catalogue.grades,
            problems_shown=PROBLEMS_SHOWN,
            problem_rows={problem.row for problem in preview.problems} if preview else set(),
            allowance_cm=roster.DEFAULT_ALLOWANCE_CM,
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
    preview = roster.build_preview(get_session(), school, text, locale=_locale())
    return _render_roster(
        school, form, text=text, preview=preview, status=200 if preview.ok else 422
    )


def _refusal(error: ShopError) -> str:
    """A translated sentence for each refusal ``place_roster_order`` may raise."""
    if isinstance(error, invoices.CreditLimitExceeded):
        return _(
            "This order (%(total)s) is more than the school's remaining credit of "
            "%(available)s. Pay by card, or ask the factory about your credit limit.",
            total=money_filter(error.total, error.currency),
            available=money_filter(error.available, error.currency),
        )
    if isinstance(error, invoices.InvoiceNotAllowed):
        return _("This school cannot pay on invoice yet: choose card payment.")
    if isinstance(error, ordering.PurchaseOrderRequired):
        return _("Enter the school's purchase-order number (at most 60 characters).")
    if isinstance(error, ordering.UnknownPayment):
        return _("Choose how the school pays: by card or on invoice.")
    if isinstance(error, ordering.RosterNotReady):
        return _("The roster has problems to fix before it can be ordered.")
    if isinstance(error, StockRanOut):
        return _(
            "Only %(n)d of %(sku)s left: lower the quantities or choose other sizes.",
            n=error.available,
            sku=error.sku,
        )
    if isinstance(error, BelowCardMinimum):
        return _(
            "Card payments start at %(amount)s.",
            amount=money_filter(error.minimum, error.currency),
        )
    if isinstance(error, NoSchoolDelivery):
        return _("There is no delivery round open for the school: ask the factory.")
    return _("The order could not be placed. Check the roster and try again.")


def _email_invoice(db, school: School, order: Order, invoice: Invoice) -> None:
    """The invoice goes to whoever ordered and to the school's contact (once the order is
    committed)."""
    link = external_url("schools.invoice_page", slug=school.slug, number=invoice.number)
    recipients = dict.fromkeys(
        address for address in (current_user.email, school.contact_email) if address
    )
    for address in recipients:
        send_after_commit(
            db,
            address,
            _l("Invoice %(number)s for %(school)s", number=invoice.number, school=school.name),
            "school_invoice",
            school_name=localized(school, "name", _locale()),
            order=order,
            invoice=invoice,
            link=link,
        )


@bp.post("/<slug>/admin/roster/confirm")
@require_login
def roster_confirm(slug: str):
    school = _school_or_404(slug)
    db = get_session()
    form = ConfirmForm()
    text = (form.roster.data or "").lstrip(BOM)
    if not form.validate_on_submit() or not text.strip():
        flash(_("Send the roster again and check the preview."), "error")
        return _render_roster(school, RosterForm(formdata=None), text=text, status=400)
    placed = _placed_with(db, school, form.request_key.data)
    if placed is not None:
        return _after_placing(school, placed)
    # Never trust the preview page: read and check the roster again.
    preview = roster.build_preview(db, school, text, locale=_locale())
    if not preview.ok:
        flash(_("The roster has problems to fix before it can be ordered."), "error")
        return _render_roster(
            school, RosterForm(formdata=None), text=text, preview=preview, status=422
        )
    try:
        order = ordering.place_roster_order(
            db,
            school,
            preview,
            user=current_user,
            payment=form.payment.data or "",
            po_number=form.po_number.data or "",
            locale=_locale(),
            gateway=gateway() if form.payment.data == "card" else None,
            now=utcnow(),
            reservation_minutes=current_app.config["RESERVATION_MINUTES"],
            invoice_production=current_app.config["INVOICE_ORDERS_TO_PRODUCTION"],
            zone=shop_zone(),
            request_key=form.request_key.data,
        )
    except sa.exc.IntegrityError:
        db.rollback()  # the same confirmation, sent twice at once: the first one placed it
        placed = _placed_with(db, school, form.request_key.data)
        if placed is None:
            raise
        return _after_placing(school, placed)
    except (ShopError, PaymentServiceUnavailable) as error:
        db.rollback()
        if isinstance(error, PaymentServiceUnavailable):
            message = _("The card payment service did not answer. Nothing was ordered.")
        else:
            message = _refusal(error)
        flash(message, "error")
        return _render_roster(
            school, RosterForm(formdata=None), text=text, preview=preview, status=409
        )
    if form.payment.data == "invoice":
        _email_invoice(db, school, order, invoices.invoice_for_order(db, order.id))
        db.commit()
        flash(_("Order %(number)s placed on invoice.", number=order.number), "success")
    else:
        db.commit()
        flash(
            _("Order %(number)s placed: pay by card to confirm it.", number=order.number),
            "success",
        )
    return _after_placing(school, order)


def _placed_with(db, school: School, request_key: str) -> Order | None:
    return db.scalars(
        sa.select(Order).where(Order.request_key == request_key, Order.school_id == school.id)
    ).first()


def _after_placing(school: School, order: Order):
    """An order on invoice shows its invoice; a card order goes to be paid."""
    invoice = invoices.invoice_for_order(get_session(), order.id)
    if invoice is not None:
        return redirect(
            url_for("schools.invoice_page", slug=school.slug, number=invoice.number), code=303
        )
    return redirect(url_for("payments.pay_page", number=order.number), code=303)
