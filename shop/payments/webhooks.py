"""Stripe's news about money, applied once: webhook events, and the same news fetched by
``reconcile`` when an event never arrived.

Only a PaymentIntent that Stripe — asked again, never trusted from the event's snapshot —
says succeeded marks an order paid. The event id is recorded in the same transaction as
its effects: if anything fails the caller rolls back both, answers 5xx, and Stripe
delivers the event again; the same event twice (even at once) changes nothing.
What each piece of news does to the order is ``shop.orders.lifecycle``'s to decide.
"""

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Session

from shop.orders import lifecycle
from shop.orders.models import Order
from shop.payments.models import Payment, ProcessedStripeEvent
from shop.payments.stripe_gateway import Intent, StripeGateway, UnknownIntent, WebhookEvent


def already_processed(session: Session, event_id: str) -> bool:
    return session.get(ProcessedStripeEvent, event_id) is not None


def handle_event(
    session: Session, event: WebhookEvent, gateway: StripeGateway, *, now: datetime | None = None
) -> str:
    """Apply one verified event, exactly once. Returns what happened (for the log)."""
    if already_processed(session, event.id):
        return "duplicate"
    session.add(ProcessedStripeEvent(event_id=event.id, type=event.type))
    session.flush()  # the same event at the same moment stops here (primary key)
    if event.type == "payment_intent.succeeded":
        return intent_succeeded(session, event.object_id, gateway, now=now)
    if event.type == "payment_intent.payment_failed":
        return _intent_failed(session, event)
    if event.type == "charge.refunded":
        return _charge_refunded(session, event.object_id, gateway)
    return "ignored"


def order_for_intent(session: Session, intent_id: str, order_number: str = "") -> Order | None:
    """The order a PaymentIntent pays: by our payment record, else by its metadata."""
    order = session.scalars(
        sa.select(Order)
        .join(Payment, Payment.order_id == Order.id)
        .where(Payment.intent_id == intent_id)
    ).first()
    if order is None and order_number:
        order = session.scalars(sa.select(Order).where(Order.number == order_number)).first()
    return order


def intent_succeeded(
    session: Session, intent_id: str, gateway: StripeGateway, *, now: datetime | None = None
) -> str:
    try:
        intent = gateway.retrieve(intent_id)
    except UnknownIntent:
        return "unknown payment"
    return apply_intent(session, intent, gateway, now=now)


def apply_intent(
    session: Session, intent: Intent, gateway: StripeGateway, *, now: datetime | None = None
) -> str:
    """What Stripe says of ``intent`` now, applied to its order as the webhook would."""
    order = order_for_intent(session, intent.id, intent.order_number)
    if order is None:
        # A group buy's PaymentIntent (its order is written by the close, or by the
        # participant's payment after a failed capture): ``shop.groupbuys`` decides.
        from shop.groupbuys import closing  # the close builds on orders and payments

        return closing.intent_paid(session, intent, now) or "unknown payment"
    if intent.status != "succeeded":
        return "not succeeded"
    return lifecycle.card_payment_succeeded(session, order, intent, gateway, now=now)


def _charge_refunded(session: Session, charge_id: str, gateway: StripeGateway) -> str:
    """A refund, ours or made in Stripe's dashboard: Stripe's running total is the truth."""
    try:
        charge = gateway.retrieve_charge(charge_id)
    except UnknownIntent:
        return "unknown payment"
    order = order_for_intent(session, charge.payment_intent)
    if order is None:
        return "unknown payment"
    # A group buy's hold captured for less (or its charge refunded down to the final
    # price): Stripe counts the rest as refunded, the order never had it.
    payment = next((p for p in order.payments if p.intent_id == charge.payment_intent), None)
    released = payment.released_amount if payment is not None else 0
    refunded = max(charge.amount_refunded - released, 0)
    if lifecycle.charge_refunded(session, order, refunded):
        return "refunded"
    return "no change"


def _intent_failed(session: Session, event: WebhookEvent) -> str:
    metadata = event.data.get("metadata")
    number = metadata.get("order_number", "") if isinstance(metadata, dict) else ""
    order = order_for_intent(session, event.object_id, str(number))
    if order is None:
        return "unknown payment"
    error = event.data.get("last_payment_error")
    message = error.get("message") if isinstance(error, dict) else ""
    return lifecycle.card_payment_failed(session, order, event.object_id, str(message or ""))
