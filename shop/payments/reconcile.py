"""Asking Stripe again: money a lost webhook never reported, and PaymentIntents whose
order was never written.

A webhook can be lost for good (a worker killed mid-request, an endpoint down longer than
Stripe retries, localstripe's single attempt), and a checkout can die between creating
its PaymentIntent and writing its order. ``flask --app wsgi reconcile-payments`` (run
every few minutes by the scheduler) finds both:

- every unpaid order whose latest card attempt is not spent and is older than a few
  minutes: Stripe is asked about it, and a PaymentIntent that succeeded is applied
  exactly as the webhook would (``webhooks.apply_intent``: once, under the order's lock);
- every recent PaymentIntent at Stripe that no payment of ours names: one nobody paid is
  cancelled, so no card is ever charged for an order that does not exist; one that took
  money is applied to its order (by its metadata), where a second charge for an order
  already paid is refunded in full.

Each order is its own transaction (the caller commits after each ``reconcile_order``).
"""

from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.orm import Session

from shop.groupbuys.models import Participant
from shop.orders.lifecycle import SPENT_STATUSES
from shop.orders.models import Order
from shop.payments import webhooks
from shop.payments.models import Payment
from shop.payments.stripe_gateway import Intent, StripeGateway, UnknownIntent

# A PaymentIntent in one of these can still be cancelled (nobody has paid it).
CANCELLABLE = ("requires_payment_method", "requires_confirmation", "requires_action")
# How far back to look for PaymentIntents that lost their order.
ORPHAN_WINDOW = timedelta(days=2)


def unsettled_order_ids(session: Session, older_than: datetime) -> list[int]:
    """Unpaid orders with a card attempt that is not spent and began before
    ``older_than`` (younger ones are still in the buyer's hands)."""
    return list(
        session.scalars(
            sa.select(Order.id)
            .join(Payment, Payment.order_id == Order.id)
            .where(
                Order.payment_status == "unpaid",
                Payment.status.not_in(SPENT_STATUSES),
                Payment.created_at < older_than,
            )
            .distinct()
            .order_by(Order.id)
        )
    )


def reconcile_order(
    session: Session, order: Order, gateway: StripeGateway, *, now: datetime
) -> str | None:
    """Apply what Stripe says of the order's live attempts; the outcome, or ``None``."""
    for payment in [p for p in order.payments if p.status not in SPENT_STATUSES]:
        try:
            intent = gateway.retrieve(payment.intent_id)
        except UnknownIntent:
            continue
        if intent.status == "succeeded":
            return webhooks.apply_intent(session, intent, gateway, now=now)
        if intent.status != payment.status:
            payment.status = intent.status
    return None


def unknown_intents(
    session: Session, gateway: StripeGateway, *, older_than: datetime
) -> list[Intent]:
    """Recent PaymentIntents created before ``older_than`` (a checkout younger than that
    may still be writing its order) that no order's payment names and that either can
    still be cancelled or took money."""
    since = int((older_than - ORPHAN_WINDOW).timestamp())
    cutoff = older_than.timestamp()
    candidates = [
        intent
        for intent in gateway.recent_intents(since)
        if intent.status in (*CANCELLABLE, "succeeded") and intent.created <= cutoff
    ]
    if not candidates:
        return []
    ids = [intent.id for intent in candidates]
    known = set(session.scalars(sa.select(Payment.intent_id).where(Payment.intent_id.in_(ids))))
    # A group-buy participant's card (pending, charged at joining, or paying after a
    # failed capture) has no order yet: the group buy settles it, never this sweep.
    known |= set(
        session.scalars(sa.select(Participant.intent_id).where(Participant.intent_id.in_(ids)))
    )
    return [intent for intent in candidates if intent.id not in known]


def settle_unknown(
    session: Session, intent: Intent, gateway: StripeGateway, *, now: datetime
) -> str:
    """A PaymentIntent no payment names: cancel it if nobody paid it; money it took goes
    to its order as the webhook would apply it (paid, or refunded as a second charge), or
    back to the card when there is no order at all."""
    if intent.status != "succeeded":
        return "cancelled" if gateway.cancel(intent.id) else "left"
    outcome = webhooks.apply_intent(session, intent, gateway, now=now)
    if outcome == "unknown payment":
        gateway.refund(intent.id, intent.amount, idempotency_key=f"orphan-{intent.id}")
        return "refunded: no order"
    return outcome
