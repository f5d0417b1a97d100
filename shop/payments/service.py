"""Card payment attempts: paying an order with a card the browser tokenised.

An attempt is a Stripe PaymentIntent (``Payment``); a card that leaves one unusable gets
a new attempt on the same order. Nothing here moves the order: only a PaymentIntent that
Stripe says succeeded does that (``shop.payments.webhooks`` → ``shop.orders.lifecycle``).
Everything here flushes; the caller commits once.
"""

from dataclasses import dataclass

from sqlalchemy.orm import Session

from shop.exceptions import ShopError
from shop.orders.lifecycle import SPENT_STATUSES, TAKEN_STATUSES, add_card_payment
from shop.orders.models import Order
from shop.payments.models import Payment
from shop.payments.stripe_gateway import (
    CardDeclined,
    IntentNotUsable,
    PaymentServiceUnavailable,
    StripeGateway,
    UnknownIntent,
)


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
    payment = latest_payment(order)
    if intent is None or payment is None:  # an outcome comes from a payment
        return
    payment.status = intent.status
    if intent.status == "requires_payment_method":
        payment.last_error = intent.error_message
    session.flush()


def pay_with_card(
    session: Session,
    order: Order,
    payment_method_id: str,
    gateway: StripeGateway,
    *,
    save_attempt=lambda: None,
) -> PayResult:
    """Attach the card to the order's PaymentIntent and confirm it on the server.

    ``save_attempt`` (the caller's commit) runs after a new attempt is recorded and before
    its card is charged: a request that dies while Stripe charges the card leaves the
    attempt on record, so a retry, ``reconcile-payments`` and expiry all know of it."""
    if not order.awaiting_payment:
        raise OrderNotPayable()
    refresh_attempt(session, order, gateway)
    payment = latest_payment(order)
    if payment is not None and payment.status in TAKEN_STATUSES:
        return PayResult("processing")  # paid already; the webhook is on its way
    if payment is None or payment.status in SPENT_STATUSES:
        payment = _new_attempt(session, order, gateway)
        save_attempt()
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
            save_attempt()
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
    payment.card_brand, payment.card_last4 = gateway.card_of(payment_method_id)
    session.flush()
    if intent.status == "requires_action":
        return PayResult("requires_action", client_secret=intent.client_secret)
    if intent.status in TAKEN_STATUSES:
        return PayResult("processing")
    payment.status = "declined"
    payment.last_error = intent.error_message
    return PayResult("declined", message=intent.error_message)
