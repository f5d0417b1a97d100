"""A confirmed roster becomes one order: a line per student per item, priced with tiers
over the whole order (and the school's own prices), delivered free to the school on the
delivery round the bursar chose among those still open (the next one by default), with
their notes for the factory, paid by card or on invoice. Lines the bursar chose to have
made to order (``RosterLine.made_to_order``) hold no stock and go to the workshop.

On invoice, the school must be allowed to (verified, with terms), give a purchase-order
number, and have the credit left for the whole order; then the order is written, the
invoice issued, and the order awaits invoice payment. With the factory's
``INVOICE_ORDERS_TO_PRODUCTION`` off, its made-to-order lines wait for the payment before
the workshop sees them (an internal ``production_held`` timeline event; see
``shop.orders.production``).

By card, the PaymentIntent is created before the first write, exactly as checkout does
(``shop.checkout.service.card_intent``), and the order holds its stock until
``reservation_minutes`` from now.

``check_roster_order`` refuses, without writing or pricing, what can be told at once (the
payment, the purchase-order number, the delivery round, the credit and card minimum for
the preview's estimate): the confirm page says so before the order is queued as a job
(``shop.schools.roster_job``), which then places it with ``place_roster_order``.

Plain functions: the caller commits, or rolls back on any error (nothing is written
before a refusal).
"""

from collections.abc import Callable
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlalchemy.orm import Session, selectinload

from shop.cart.pricing import CartPricing, LineRequest, price_lines
from shop.catalog.models import Variant
from shop.checkout.service import (
    BelowCardMinimum,
    CheckoutDetails,
    NoSchoolDelivery,
    card_intent,
    refuse_short_stock,
)
from shop.db import as_utc
from shop.exceptions import ShopError
from shop.money import MIN_CARD_AMOUNTS
from shop.orders import transitions
from shop.orders.lifecycle import StockRanOut, add_card_payment, write_order
from shop.orders.models import Order
from shop.orders.numbers import new_order_number
from shop.orders.production import HELD_UNTIL_PAID
from shop.payments.stripe_gateway import StripeGateway
from shop.schools import invoices
from shop.schools.models import DeliveryRound, School
from shop.schools.roster import RosterPreview
from shop.schools.rounds import next_round

PAYMENTS = ("card", "invoice")
PO_NUMBER_MAX_LENGTH = 60
NOTES_MAX_LENGTH = 500
PROGRESS_EVERY = 100  # students between two calls of a placement's ``progress``


class RosterNotReady(ShopError):
    message = "The roster has problems to fix before it can be ordered."


class PurchaseOrderRequired(ShopError):
    message = "Enter the school's purchase-order number (at most 60 characters)."


class UnknownPayment(ShopError):
    message = "Choose how the school pays: by card or on invoice."


class RoundClosed(ShopError):
    message = "That delivery round is closed for orders: choose another."


class NotesTooLong(ShopError):
    message = "The notes are longer than 500 characters."


def open_rounds(school: School, now: datetime) -> list[DeliveryRound]:
    """The rounds an order placed now may go on: those whose cut-off is still ahead."""
    return [
        each
        for each in sorted(school.rounds, key=lambda r: r.delivery_date)
        if as_utc(each.cutoff_at) > now
    ]


def choose_round(school: School, now: datetime, round_id: int | None) -> DeliveryRound:
    """The round the bursar chose (one still open), or the next one when they did not."""
    if round_id is None:
        delivery_round = next_round(school, now)
        if delivery_round is None:
            raise NoSchoolDelivery()
        return delivery_round
    for delivery_round in open_rounds(school, now):
        if delivery_round.id == round_id:
            return delivery_round
    if next_round(school, now) is None:
        raise NoSchoolDelivery()
    raise RoundClosed()


def clean_notes(notes: str | None) -> str:
    value = (notes or "").strip()
    if len(value) > NOTES_MAX_LENGTH:
        raise NotesTooLong()
    return value


def roster_requests(
    session: Session,
    school: School,
    preview: RosterPreview,
    progress: Callable[[int], None] | None = None,
) -> list:
    """A ``LineRequest`` per student per line of ``preview`` (variants in one query);
    ``progress(students done)`` every ``PROGRESS_EVERY`` students and at the end."""
    variant_ids = {line.variant_id for student in preview.students for line in student.lines}
    variants = {
        variant.id: variant
        for variant in session.scalars(
            sa.select(Variant)
            .where(Variant.id.in_(variant_ids))
            .options(selectinload(Variant.product))
        )
    }
    requests = []
    for done, student in enumerate(preview.students, start=1):
        for line in student.lines:
            variant = variants.get(line.variant_id)
            if variant is None:
                raise RosterNotReady()
            requests.append(
                LineRequest(
                    variant=variant,
                    quantity=line.quantity,
                    school_id=school.id,
                    student_name=student.name,
                    class_name=student.class_name,
                    made_to_order=line.made_to_order,
                )
            )
        if progress is not None and (done % PROGRESS_EVERY == 0 or done == len(preview.students)):
            progress(done)
    return requests


def price_roster(
    session: Session,
    school: School,
    preview: RosterPreview,
    locale: str,
    progress: Callable[[int], None] | None = None,
) -> CartPricing:
    """The roster priced as its order will be, or ``RosterNotReady``/``StockRanOut``."""
    _require_ready(school, preview)
    pricing = price_lines(
        session, roster_requests(session, school, preview, progress), school.currency, locale
    )
    refuse_short_stock(pricing)
    if not pricing.can_checkout:
        raise RosterNotReady()
    return pricing


def _require_ready(school: School, preview: RosterPreview) -> None:
    if preview.unresolved and not preview.problems:
        # Short of stock with no choice made for it (stock went since the preview): say
        # which item, as the order itself would.
        shortage = preview.unresolved[0]
        raise StockRanOut(shortage.sku, shortage.available)
    if not preview.ok or preview.school_id != school.id or preview.currency != school.currency:
        raise RosterNotReady()


def school_details(school: School, user, notes: str = "") -> CheckoutDetails:
    """Delivery to the school (``write_order`` copies its address); who orders is the
    contact, the school's receiver takes the parcel."""
    return CheckoutDetails(
        email=getattr(user, "email", "") or school.contact_email,
        delivery_method="school",
        recipient=school.delivery_recipient or school.contact_name,
        phone=school.delivery_phone or school.contact_phone,
        notes=notes,
    )


def clean_po_number(po_number: str | None) -> str:
    value = (po_number or "").strip()
    if not value or len(value) > PO_NUMBER_MAX_LENGTH:
        raise PurchaseOrderRequired()
    return value


def _payment_terms(school: School, payment: str, po_number: str | None) -> str:
    """The purchase-order number to keep, or the refusal of how the school pays."""
    if payment not in PAYMENTS:
        raise UnknownPayment()
    if payment == "invoice":
        if not school.invoice_allowed:
            raise invoices.InvoiceNotAllowed()
        return clean_po_number(po_number)
    return (po_number or "").strip()[:PO_NUMBER_MAX_LENGTH]


def check_roster_order(
    session: Session,
    school: School,
    preview: RosterPreview,
    *,
    payment: str,
    po_number: str = "",
    now: datetime,
    notes: str = "",
    round_id: int | None = None,
) -> None:
    """Refuse at once what ``place_roster_order`` would refuse for how the school pays,
    its delivery round, or the preview's estimated total (credit without the school's
    lock, card minimum). Writes nothing and prices nothing: stock, and the credit under
    the lock, are checked again when the order is placed."""
    _payment_terms(school, payment, po_number)
    clean_notes(notes)
    _require_ready(school, preview)
    choose_round(school, now, round_id)
    estimate = preview.estimated_total_amount
    if estimate is None:  # a product without a price: placing says the roster is not ready
        return
    if payment == "invoice":
        invoices.check_credit(session, school, estimate)
    elif estimate < MIN_CARD_AMOUNTS[school.currency]:
        raise BelowCardMinimum(MIN_CARD_AMOUNTS[school.currency], school.currency)


def place_roster_order(
    session: Session,
    school: School,
    preview: RosterPreview,
    *,
    user,
    payment: str,
    po_number: str = "",
    locale: str,
    gateway: StripeGateway | None,
    now: datetime,
    reservation_minutes: int,
    invoice_production: bool = True,
    zone: ZoneInfo | None = None,
    request_key: str | None = None,
    progress: Callable[[int], None] | None = None,
    notes: str = "",
    round_id: int | None = None,
) -> Order:
    """Order what ``preview`` lists for ``school``. Raises a ``ShopError`` (the caller
    rolls back; nothing is written before a refusal, no PaymentIntent is left open).
    ``request_key`` (unique per order) makes the same confirmation twice an
    ``IntegrityError`` rather than a second order. ``progress(students)`` is told how
    many students' lines are ready, every ``PROGRESS_EVERY`` (the job's progress page)."""
    po_number = _payment_terms(school, payment, po_number)
    notes = clean_notes(notes)
    delivery_round = choose_round(school, now, round_id)
    pricing = price_roster(session, school, preview, locale, progress)
    total = pricing.total_amount  # delivery to the school is free
    details = school_details(school, user, notes)
    number = new_order_number()

    def write() -> Order:
        return write_order(
            session,
            pricing,
            details,
            number=number,
            shipping_amount=0,
            user_id=getattr(user, "id", None),
            locale=locale,
            now=now,
            school_id=school.id,
            delivery_round_id=delivery_round.id,
            po_number=po_number,
            request_key=request_key,
        )

    if payment == "invoice":
        invoices.lock_school(session, school)
        invoices.check_credit(session, school, total)
        order = write()
        invoices.issue_invoice(session, order, school, now=now, zone=zone)
        if not invoice_production:
            transitions.record(session, order, HELD_UNTIL_PAID, visible_to_customer=False, now=now)
        return order

    if gateway is None:
        raise ValueError("a card payment needs the payment gateway")
    if total < MIN_CARD_AMOUNTS[school.currency]:
        raise BelowCardMinimum(MIN_CARD_AMOUNTS[school.currency], school.currency)
    with card_intent(gateway, number=number, amount=total, currency=school.currency) as intent:
        order = write()
        add_card_payment(session, order, intent)
    order.reserved_until = now + timedelta(minutes=reservation_minutes)
    return order
