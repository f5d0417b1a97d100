"""Card payments for orders: paying with a card the browser tokenised, the webhook's
events, and expiring reservations nobody paid for.

Only a signed ``payment_intent.succeeded`` marks an order paid, and only after the
PaymentIntent, fetched again from Stripe, says it succeeded for exactly the order's
amount and currency. Everything here flushes; the caller (a request or a CLI command)
commits once.
"""

from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Session

from shop.db import utcnow
from shop.exceptions import ShopError
from shop.orders import transitions
from shop.orders.models import Order, Payment, ProcessedStripeEvent
from shop.orders.notifications import notify
from shop.payments.refunds import apply_refunded_total, sync_refund_status
from shop.payments.stripe_gateway import (
    CardDeclined,
    IntentNotUsable,
    PaymentServiceUnavailable,
    StripeGateway,
    UnknownIntent,
)
from shop.stock.allocation import release, sell

# Statuses after which a PaymentIntent takes no other card: the next try is a new attempt.
SPENT_STATUSES = ("declined", "canceled")


class OrderNotPayable(ShopError):
    message = "This order is not waiting for payment."


@dataclass(frozen=True)
class PayResult:
    status: str  # processing, requires_action, declined
    client_secret: str = ""
    message: str = ""


def latest_payment(order: Order) -> Payment | None:
    return order.payments[-1] if order.payments else None


def _new_attempt(session: Session, order: Order, gateway: StripeGateway) -> Payment:
    previous = latest_payment(order)
    attempt = previous.attempt + 1 if previous else 1
    intent = gateway.create_intent(
        order_number=order.number,
        attempt=attempt,
        amount=order.total_amount,
        currency=order.currency,
    )
    return add_card_payment(session, order, intent, attempt=attempt)


def add_card_payment(session: Session, order: Order, intent, *, attempt: int = 1) -> Payment:
    """Record ``intent`` (a PaymentIntent just created) as the order's payment attempt."""
    payment = Payment(
        attempt=attempt,
        intent_id=intent.id,
        amount=intent.amount,
        currency=intent.currency,
        status=intent.status,
    )
    order.payments.append(payment)
    session.flush()
    return payment


TAKEN_STATUSES = ("succeeded", "processing", "requires_capture")


def challenge_outcome(order: Order, gateway: StripeGateway):
    """After a 3-D Secure challenge only Stripe knows how it ended. The intent as Stripe
    has it now, or ``None`` when the latest attempt is not waiting on a challenge (or
    Stripe does not answer). Reads only: pages call it on GET."""
    payment = latest_payment(order)
    if payment is None or payment.status != "requires_action" or not order.awaiting_payment:
        return None
    try:
        return gateway.retrieve(payment.intent_id)
    except (PaymentServiceUnavailable, UnknownIntent):
        return None


def refresh_attempt(session: Session, order: Order, gateway: StripeGateway) -> None:
    """Record how a 3-D Secure challenge ended (before paying again)."""
    intent = challenge_outcome(order, gateway)
    if intent is None:
        return
    payment = latest_payment(order)
    payment.status = intent.status
    if intent.status == "requires_payment_method":
        payment.last_error = intent.error_message
    session.flush()


def pay_with_card(
    session: Session, order: Order, payment_method_id: str, gateway: StripeGateway
) -> PayResult:
    """Attach the card to the order's PaymentIntent and confirm it on the server."""
    if not order.awaiting_payment:
        raise OrderNotPayable()
    refresh_attempt(session, order, gateway)
    payment = latest_payment(order)
    if payment is not None and payment.status in TAKEN_STATUSES:
        return PayResult("processing")  # paid already; the webhook is on its way
    if payment is None or payment.status in SPENT_STATUSES:
        payment = _new_attempt(session, order, gateway)
    try:
        try:
            intent = gateway.attach_and_confirm(payment.intent_id, payment_method_id)
        except IntentNotUsable:
            # Never start a second charge while the first might have gone through.
            if not gateway.cancel(payment.intent_id):
                current = gateway.retrieve(payment.intent_id)
                if current.status in TAKEN_STATUSES:
                    payment.status = current.status
                    session.flush()
                    return PayResult("processing")
            payment.status = "canceled"
            payment = _new_attempt(session, order, gateway)
            intent = gateway.attach_and_confirm(payment.intent_id, payment_method_id)
    except CardDeclined as error:
        payment.status = "declined"
        payment.last_error = str(error)
        session.flush()
        return PayResult("declined", message=str(error))
    except IntentNotUsable as error:
        payment.status = "declined"
        payment.last_error = str(error)
        session.flush()
        return PayResult("declined", message=str(error))
    payment.status = intent.status
    session.flush()
    if intent.status == "requires_action":
        return PayResult("requires_action", client_secret=intent.client_secret)
    if intent.status in TAKEN_STATUSES:
        return PayResult("processing")
    payment.status = "declined"
    payment.last_error = intent.error_message
    return PayResult("declined", message=intent.error_message)


# --- webhook events ----------------------------------------------------------------------


def already_processed(session: Session, event_id: str) -> bool:
    return session.get(ProcessedStripeEvent, event_id) is not None


def handle_event(
    session: Session, event, gateway: StripeGateway, *, now: datetime | None = None
) -> str:
    """Apply one verified event, exactly once. Returns what happened (for the log).

    The event id is recorded in the same transaction as its effects: if anything fails
    the caller rolls back both, answers 5xx, and Stripe delivers the event again."""
    if already_processed(session, event.id):
        return "duplicate"
    session.add(ProcessedStripeEvent(event_id=event.id, type=event.type))
    session.flush()
    if event.type == "payment_intent.succeeded":
        return _intent_succeeded(session, event.object_id, gateway, now=now)
    if event.type == "payment_intent.payment_failed":
        return _intent_failed(session, event)
    if event.type == "charge.refunded":
        return _charge_refunded(session, event.object_id, gateway)
    return "ignored"


def _payment_and_order(
    session: Session, intent_id: str, order_number: str = ""
) -> tuple[Payment | None, Order | None]:
    payment = session.scalars(sa.select(Payment).where(Payment.intent_id == intent_id)).first()
    if payment is not None:
        return payment, payment.order
    if order_number:
        order = session.scalars(sa.select(Order).where(Order.number == order_number)).first()
        return None, order
    return None, None


def _intent_succeeded(session: Session, intent_id: str, gateway: StripeGateway, *, now) -> str:
    # Never trust the event's snapshot: ask Stripe what the PaymentIntent is now.
    try:
        intent = gateway.retrieve(intent_id)
    except UnknownIntent:
        return "unknown payment"
    payment, order = _payment_and_order(session, intent_id, intent.order_number)
    if order is None:
        return "unknown payment"
    if intent.status != "succeeded":
        return "not succeeded"
    if payment is not None:
        payment.status = "succeeded"
    if order.payment_status != "unpaid":
        return "already paid"
    if intent.amount != order.total_amount or intent.currency != order.currency:
        flag(
            session,
            order,
            "payment_mismatch",
            f"{intent.id} paid {intent.amount} {intent.currency}; "
            f"the order is {order.total_amount} {order.currency}",
        )
        return "mismatch"
    if order.state != "open":
        flag(session, order, "paid_after_cancel", f"{intent.id} succeeded after cancellation")
        return "paid after cancel"
    mark_paid(session, order, note=intent.id, now=now)
    notify(session, order, "paid")
    sync_refund_status(session, order)  # a refund whose event came first
    return "paid"


def _charge_refunded(session: Session, charge_id: str, gateway: StripeGateway) -> str:
    """A refund, ours or made in Stripe's dashboard: Stripe's running total is the truth."""
    try:
        charge = gateway.retrieve_charge(charge_id)
    except UnknownIntent:
        return "unknown payment"
    _payment, order = _payment_and_order(session, charge.payment_intent)
    if order is None:
        return "unknown payment"
    if apply_refunded_total(session, order, charge.amount_refunded):
        return "refunded"
    return "no change"


def _intent_failed(session: Session, event) -> str:
    payment, order = _payment_and_order(
        session, event.object_id, (event.data.get("metadata") or {}).get("order_number", "")
    )
    if order is None:
        return "unknown payment"
    message = (event.data.get("last_payment_error") or {}).get("message") or ""
    if payment is not None and payment.status not in ("succeeded",):
        payment.last_error = message
    transitions.record(session, order, "payment_failed", note=message)
    return "failed"


def flag(session: Session, order: Order, kind: str, note: str) -> None:
    """Something staff must look at; the customer does not see it."""
    order.needs_attention = True
    transitions.record(session, order, kind, note=note, visible_to_customer=False)


def mark_paid(session: Session, order: Order, *, note: str = "", now: datetime | None = None):
    """Paid: the order moves on, and its held stock becomes a sale."""
    transitions.move(session, order, "payment_status", "paid", note=note, now=now)
    sell_stock(session, order)


def _held_by_variant(order: Order) -> dict[int, int]:
    """The pieces the order holds, per variant (one stock change each, however many
    children's lines share a variant), marking its lines as no longer holding them."""
    held: dict[int, int] = {}
    for line in order.lines:
        if line.allocated and line.variant_id is not None:
            held[line.variant_id] = held.get(line.variant_id, 0) + line.quantity
            line.allocated = False
    return held


def sell_stock(session: Session, order: Order) -> None:
    """The order's held stock becomes a sale (paid by card, or accepted on invoice)."""
    for variant_id, quantity in _held_by_variant(order).items():
        sell(session, variant_id, quantity, reference=order.number)
    session.flush()


def release_stock(session: Session, order: Order) -> None:
    for variant_id, quantity in _held_by_variant(order).items():
        release(session, variant_id, quantity, reference=order.number)
    session.flush()


# --- reservations ------------------------------------------------------------------------


def expired_orders(session: Session, now: datetime) -> list[Order]:
    return list(
        session.scalars(
            sa.select(Order)
            .where(
                Order.state == "open",
                Order.payment_status == "unpaid",
                Order.reserved_until < now,
            )
            .order_by(Order.id)
        )
    )


def expire_reservations(
    session: Session, gateway: StripeGateway, *, now: datetime | None = None
) -> list[str]:
    """Cancel unpaid orders whose reservation ran out: cancel their PaymentIntents,
    release their stock. An order whose payment Stripe already took is left for the
    webhook. Returns the numbers of the orders cancelled."""
    now = now or utcnow()
    cancelled = []
    for order in expired_orders(session, now):
        if _payment_under_way(order, gateway):
            continue
        for payment in order.payments:
            if payment.status not in SPENT_STATUSES and gateway.cancel(payment.intent_id):
                payment.status = "canceled"
        release_stock(session, order)
        transitions.move(session, order, "state", "cancelled", note="reservation expired", now=now)
        cancelled.append(order.number)
    return cancelled


def _payment_under_way(order: Order, gateway: StripeGateway) -> bool:
    for payment in order.payments:
        if payment.status in SPENT_STATUSES:
            continue
        try:
            status = gateway.retrieve(payment.intent_id).status
        except PaymentServiceUnavailable:
            return True  # cannot tell: keep the order until Stripe answers
        except UnknownIntent:
            continue
        if status in TAKEN_STATUSES:
            return True
    return False
