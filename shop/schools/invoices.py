"""Invoices: schools that pay later, their credit, and the payments staff record.

A verified school with invoice terms may order on invoice up to its credit limit: what it
owes on invoices not yet paid (of orders not cancelled) counts against the limit; paid
invoices do not. Issuing the invoice moves the order to "awaiting invoice payment" and
turns its held stock into a sale (the school has bought it; payment follows). Staff record
payments, whole or in parts; the last one moves the order to "paid".

Dates are calendar days in the factory's zone (passed in; ``FACTORY_ZONE`` by default):
an invoice issued at 01:00 in Shanghai on 1 May is dated 1 May, and with 30 days' terms
it is due on 31 May and overdue from 1 June.

Plain functions over the session: they flush, the caller commits.
"""

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlalchemy.orm import Session

from shop.db import as_utc, lock_row
from shop.exceptions import ShopError
from shop.money import format_money
from shop.orders import lifecycle, transitions
from shop.orders.models import Order
from shop.schools.models import Invoice, InvoicePayment, School

# The factory's clock (the default of ``BABEL_DEFAULT_TIMEZONE``); views pass the setting.
FACTORY_ZONE = ZoneInfo("Asia/Shanghai")
REFERENCE_MAX_LENGTH = 120
NUMBER_PREFIX = "INV"


class InvoiceNotAllowed(ShopError):
    message = "This school cannot pay on invoice: it must be verified and have payment terms."


class CreditLimitExceeded(ShopError):
    def __init__(self, total: int, available: int, currency: str):
        super().__init__(
            f"This order ({format_money(total, currency)}) is more than the school's "
            f"remaining credit of {format_money(available, currency)}."
        )
        self.total = total
        self.available = available
        self.currency = currency


class InvalidInvoicePayment(ShopError):
    def __init__(self, reason: str, outstanding: int = 0):
        super().__init__(f"cannot record this payment: {reason}")
        self.reason = reason  # not_positive, too_much, reference, not_payable
        self.outstanding = outstanding


# --- credit ------------------------------------------------------------------------------


def _outstanding_of_school(school_id: int):
    return (
        sa.select(sa.func.coalesce(sa.func.sum(Invoice.amount - Invoice.paid_amount), 0))
        .join(Order, Order.id == Invoice.order_id)
        .where(Invoice.school_id == school_id, Order.state != "cancelled")
    )


def credit_in_use(session: Session, school: School) -> int:
    """What the school owes on its invoices (orders not cancelled), in minor units."""
    return int(session.scalar(_outstanding_of_school(school.id)) or 0)


def credit_available(session: Session, school: School) -> int:
    """How much more the school may order on invoice (never below 0)."""
    return max(school.credit_limit_amount - credit_in_use(session, school), 0)


def lock_school(session: Session, school: School) -> None:
    """Serialise invoice orders of one school until the transaction ends, so two orders
    placed at once cannot both fit the same remaining credit."""
    lock_row(session, School.credit_limit_amount, school.id)


def check_credit(session: Session, school: School, total: int) -> None:
    """Refuse an invoice order of ``total`` the school is not allowed or cannot afford."""
    if not school.invoice_allowed:
        raise InvoiceNotAllowed()
    available = credit_available(session, school)
    if total > available:
        raise CreditLimitExceeded(total, available, school.currency)


# --- issuing -----------------------------------------------------------------------------


def factory_day(moment: datetime, zone: ZoneInfo | None = None) -> date:
    return as_utc(moment).astimezone(zone or FACTORY_ZONE).date()


def invoice_number(year: int, invoice_id: int) -> str:
    """``INV-2026-000123``: the year it was issued and the invoice's own id (unique)."""
    return f"{NUMBER_PREFIX}-{year}-{invoice_id:06d}"


def issue_invoice(
    session: Session, order: Order, school: School, *, now: datetime, zone: ZoneInfo | None = None
) -> Invoice:
    """Invoice ``order`` to ``school``: the order awaits invoice payment and its held stock
    is sold. Raises (nothing changes) when the order is not waiting for payment."""
    lifecycle.accept_on_invoice(session, order, now=now)
    invoice = new_invoice(session, order, school, issued_at=now, zone=zone)
    session.flush()
    return invoice


def new_invoice(
    session: Session,
    order: Order,
    school: School,
    *,
    issued_at: datetime,
    zone: ZoneInfo | None = None,
) -> Invoice:
    """The invoice row for ``order``: numbered, due ``invoice_terms_days`` after the
    factory day it is issued on."""
    issued_on = factory_day(issued_at, zone)
    invoice = Invoice(
        # A placeholder as unique as the order, until the id gives the real number.
        number=f"TMP-{order.number}",
        order_id=order.id,
        school_id=school.id,
        issued_at=issued_at,
        due_date=issued_on + timedelta(days=school.invoice_terms_days),
        amount=order.total_amount,
        currency=order.currency,
        paid_amount=0,
    )
    session.add(invoice)
    session.flush()
    invoice.number = invoice_number(issued_on.year, invoice.id)
    return invoice


# --- payments ----------------------------------------------------------------------------


def record_payment(
    session: Session,
    invoice: Invoice,
    *,
    amount: int,
    reference: str,
    user,
    now: datetime,
) -> InvoicePayment:
    """Record money the school paid against ``invoice``. At most what is outstanding; the
    payment that settles it moves the order to "paid". Two staff recording at once take
    turns (the order's row lock), and the second sees what the first recorded."""
    reference = (reference or "").strip()
    if not reference or len(reference) > REFERENCE_MAX_LENGTH:
        raise InvalidInvoicePayment("reference")
    order = invoice.order
    lifecycle.lock(session, order)
    session.refresh(invoice)
    outstanding = invoice.outstanding_amount
    if order.state == "cancelled" or outstanding <= 0:
        raise InvalidInvoicePayment("not_payable")
    if amount <= 0:
        raise InvalidInvoicePayment("not_positive", outstanding)
    if amount > outstanding:
        raise InvalidInvoicePayment("too_much", outstanding)
    actor_id = getattr(user, "id", None)
    payment = InvoicePayment(
        amount=amount, reference=reference, recorded_by_id=actor_id, recorded_at=now
    )
    invoice.payments.append(payment)
    invoice.paid_amount += amount
    note = f"{invoice.number}: {format_money(amount, invoice.currency)} ({reference})"
    if invoice.paid_amount == invoice.amount:
        invoice.paid_at = now
        lifecycle.settle_invoice(session, order, note=note, actor_user_id=actor_id, now=now)
    else:
        transitions.record(
            session, order, "invoice_payment", note=note, actor_user_id=actor_id, now=now
        )
    session.flush()
    return payment


# --- reading -----------------------------------------------------------------------------


def is_overdue(invoice: Invoice, today: date) -> bool:
    return invoice.outstanding_amount > 0 and invoice.due_date < today


def overdue_condition(today: date):
    return sa.and_(
        Invoice.amount > Invoice.paid_amount,
        Invoice.due_date < today,
        Order.state != "cancelled",
    )


def overdue_invoices(session: Session, today: date) -> list[Invoice]:
    """Invoices with money outstanding past their due date (orders not cancelled),
    oldest due first."""
    return list(
        session.scalars(
            sa.select(Invoice)
            .join(Order, Order.id == Invoice.order_id)
            .where(overdue_condition(today))
            .order_by(Invoice.due_date, Invoice.id)
        )
    )


def count_overdue(session: Session, today: date) -> int:
    return int(
        session.scalar(
            sa.select(sa.func.count(Invoice.id))
            .join(Order, Order.id == Invoice.order_id)
            .where(overdue_condition(today))
        )
        or 0
    )


@dataclass(frozen=True)
class SchoolBalance:
    """What a school owes on its invoices (orders not cancelled), how much of it is past
    due, and the credit left (``None`` when the school has no credit limit)."""

    currency: str
    outstanding_amount: int
    overdue_amount: int
    overdue_count: int
    credit_limit_amount: int
    remaining_credit_amount: int | None


def school_balance(session: Session, school: School, today: date) -> SchoolBalance:
    """The school's balance in one query: outstanding, overdue (due before ``today``, a
    day on the factory's clock) and the remaining credit (limit less outstanding)."""
    owed = Invoice.amount - Invoice.paid_amount
    overdue = sa.and_(owed > 0, Invoice.due_date < today)
    row = session.execute(
        sa.select(
            sa.func.coalesce(sa.func.sum(owed), 0),
            sa.func.coalesce(sa.func.sum(sa.case((overdue, owed), else_=0)), 0),
            sa.func.count(sa.case((overdue, Invoice.id))),
        )
        .join(Order, Order.id == Invoice.order_id)
        .where(Invoice.school_id == school.id, Order.state != "cancelled")
    ).one()
    outstanding, overdue_amount, overdue_count = (int(value or 0) for value in row)
    limit = school.credit_limit_amount
    return SchoolBalance(
        currency=school.currency,
        outstanding_amount=outstanding,
        overdue_amount=overdue_amount,
        overdue_count=overdue_count,
        credit_limit_amount=limit,
        remaining_credit_amount=max(limit - outstanding, 0) if limit > 0 else None,
    )


def get_invoice(session: Session, number: str) -> Invoice | None:
    return session.scalars(sa.select(Invoice).where(Invoice.number == number)).first()


def invoice_for_order(session: Session, order_id: int) -> Invoice | None:
    return session.scalars(sa.select(Invoice).where(Invoice.order_id == order_id)).first()
