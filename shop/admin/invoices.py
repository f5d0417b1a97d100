"""School invoices in the factory admin (``/admin/invoices``): every invoice, those still
owed, those overdue; one invoice with its payments, and recording a payment the school
made (by bank transfer, with its reference).

Staff who see orders see invoices; recording a payment takes ``orders.manage``. The rules
live in ``shop.schools.invoices``; this module parses, asks and renders. "Overdue" is
judged by the factory's calendar day (``BABEL_DEFAULT_TIMEZONE``).
"""

from datetime import UTC, date, datetime

import sqlalchemy as sa
from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, selectinload
from wtforms import StringField
from wtforms.validators import DataRequired, Length

from shop import request_keys
from shop.accounts.access import require_permission
from shop.accounts.models import User
from shop.accounts.permissions import has_permission
from shop.admin.blueprint import bp
from shop.admin.forms import AMOUNT_MAX_LENGTH, BadAmount, amount_from
from shop.admin.orders import AMOUNT_PROBLEMS
from shop.audit import service as audit
from shop.db import commits, get_session
from shop.i18n import shop_today
from shop.orders.labels import PAYMENT_LABELS
from shop.orders.models import Order
from shop.pagination import count_rows, paginate, parse_page
from shop.request_keys import new_request_key, request_key_field
from shop.schools import invoices
from shop.schools.models import Invoice, InvoicePayment
from shop.templating import money_filter

PER_PAGE = 50
STATUS_FILTERS = {
    "all": _l("All"),
    "outstanding": _l("Outstanding"),
    "overdue": _l("Overdue"),
}


class RecordPaymentForm(FlaskForm):
    amount = StringField(
        _l("Amount received"),
        validators=[DataRequired(_l("Enter the amount received.")), Length(max=AMOUNT_MAX_LENGTH)],
    )
    reference = StringField(
        _l("Reference (bank transfer or remittance)"),
        validators=[
            DataRequired(_l("Enter the payment's reference.")),
            Length(
                max=invoices.REFERENCE_MAX_LENGTH,
                message=_l("The reference is at most 120 characters."),
            ),
        ],
    )
    request_key = request_key_field(required=False)


def filtered_invoices(status: str, today: date) -> sa.Select:
    query = (
        sa.select(Invoice)
        .join(Order, Order.id == Invoice.order_id)
        .options(selectinload(Invoice.school), selectinload(Invoice.order))
    )
    if status == "outstanding":
        query = query.where(Invoice.amount > Invoice.paid_amount, Order.state != "cancelled")
    elif status == "overdue":
        query = query.where(invoices.overdue_condition(today))
    return query.order_by(Invoice.due_date, Invoice.id)


@bp.get("/invoices")
@require_permission("orders.view")
def invoice_list():
    db = get_session()
    status = request.args.get("status", "all")
    if status not in STATUS_FILTERS:
        status = "all"
    today = shop_today()
    query = filtered_invoices(status, today)
    total = count_rows(db, query)
    page = paginate(total, parse_page(request.args.get("page")), PER_PAGE)
    rows = db.scalars(query.offset(page.offset).limit(PER_PAGE)).all()
    return render_template(
        "admin/invoices/list.html",
        invoices=rows,
        overdue={invoice.id for invoice in rows if invoices.is_overdue(invoice, today)},
        page=page,
        status=status,
        status_filters=STATUS_FILTERS,
        args={"status": status} if status != "all" else {},
    )


def _invoice_or_404(session: Session, number: str) -> Invoice:
    invoice = session.scalars(
        sa.select(Invoice)
        .where(Invoice.number == number)
        .options(
            selectinload(Invoice.school),
            selectinload(Invoice.order),
            selectinload(Invoice.payments),
        )
    ).first()
    if invoice is None:
        abort(404)
    return invoice


def _render_detail(session: Session, invoice: Invoice, status: int = 200, form=None):
    recorder_ids = {p.recorded_by_id for p in invoice.payments if p.recorded_by_id}
    recorders = {}
    if recorder_ids:
        recorders = dict(
            session.execute(sa.select(User.id, User.email).where(User.id.in_(recorder_ids))).all()
        )
    return (
        render_template(
            "admin/invoices/detail.html",
            invoice=invoice,
            order=invoice.order,
            overdue=invoices.is_overdue(invoice, shop_today()),
            recorders=recorders,
            payment_labels=PAYMENT_LABELS,
            can_record=has_permission(current_user, "orders.manage")
            and invoice.outstanding_amount > 0
            and invoice.order.state != "cancelled",
            form=form or RecordPaymentForm(formdata=None, request_key=new_request_key()),
        ),
        status,
    )


@bp.get("/invoices/<number>")
@require_permission("orders.view")
def invoice_detail(number: str):
    db = get_session()
    return _render_detail(db, _invoice_or_404(db, number))


def _refused(session: Session, number: str, message: str, form):
    session.rollback()
    flash(message, "error")
    return _render_detail(session, _invoice_or_404(session, number), 400, form)


def _problem(error: invoices.InvalidInvoicePayment, currency: str) -> str:
    if error.reason == "too_much":
        return _(
            "At most %(amount)s is outstanding on this invoice.",
            amount=money_filter(error.outstanding, currency),
        )
    if error.reason == "not_positive":
        return str(AMOUNT_PROBLEMS["not_positive"])
    if error.reason == "reference":
        return _("Enter the payment's reference (at most 120 characters).")
    return _("This invoice has nothing left to pay.")


@bp.post("/invoices/<number>/payments")
@commits
@require_permission("orders.manage")
def invoice_record_payment(number: str):
    db = get_session()
    invoice = _invoice_or_404(db, number)
    form = RecordPaymentForm()
    if not form.validate_on_submit():
        return _refused(db, number, _("No payment was recorded: check the form."), form)
    try:
        amount = amount_from(form.amount.data, invoice.currency)
    except BadAmount as error:
        if error.reason == "too_large":
            message = _problem(
                invoices.InvalidInvoicePayment("too_much", invoice.outstanding_amount),
                invoice.currency,
            )
        else:
            message = str(AMOUNT_PROBLEMS[error.reason])
        return _refused(db, number, message, form)
    before = {
        "paid_amount": invoice.paid_amount,
        "payment_status": invoice.order.payment_status,
    }
    try:
        first_time = request_keys.claim(db, f"invoice-payment:{number}", form.request_key.data)
    except IntegrityError:  # the same form, sent twice at the same moment: recorded once
        db.rollback()
        first_time = False
    if not first_time:
        flash(_("That payment is recorded; it was not recorded twice."), "success")
        return redirect(url_for("admin.invoice_detail", number=number), code=303)
    try:
        payment: InvoicePayment = invoices.record_payment(
            db,
            invoice,
            amount=amount,
            reference=form.reference.data,
            user=current_user,
            now=datetime.now(UTC),
        )
    except invoices.InvalidInvoicePayment as error:
        return _refused(db, number, _problem(error, invoice.currency), form)
    audit.record(
        db,
        actor_user_id=current_user.id,
        action="invoice.payment",
        target_type="invoice",
        target_id=invoice.number,
        before=before,
        after={
            "paid_amount": invoice.paid_amount,
            "payment_status": invoice.order.payment_status,
            "amount": payment.amount,
            "reference": payment.reference,
        },
    )
    flash(
        _(
            "Recorded %(amount)s against invoice %(number)s.",
            amount=money_filter(payment.amount, invoice.currency),
            number=invoice.number,
        ),
        "success",
    )
    return redirect(url_for("admin.invoice_detail", number=number), code=303)
