"""Paying on one's own page after the close could not charge the card: the final amount,
by card, charged at once (a new PaymentIntent, automatic capture), within 48 hours.

The intent is made and remembered (``save_attempt``: committed) before the card is
confirmed, so a payment whose answer is lost is still found: by the webhook
(``closing.intent_paid``) or by the lapse sweep, which asks Stripe before it lets the
place go. Two clicks at once share one intent (a conditional ``UPDATE`` claims the
participant's empty intent slot) and one order (``closing.pay_succeeded`` under the
participant's lock).
"""

import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Session

from shop.db import rows_changed
from shop.exceptions import ShopError
from shop.groupbuys import closing
from shop.groupbuys.models import Campaign, Participant
from shop.payments.stripe_gateway import (
    CardDeclined,
    IntentNotUsable,
    StripeGateway,
    UnknownIntent,
)


class NotPayable(ShopError):
    message = "There is nothing to pay here."


@dataclass(frozen=True)
class PayResult:
    status: str  # paid, requires_action, declined
    client_secret: str = ""
    message: str = ""


def stage(participant: Participant, now: datetime) -> str:
    """What their page shows: ``pay``, ``paid`` or ``closed`` (nothing to pay)."""
    if participant.state == "captured":
        return "paid"
    return "pay" if closing.can_pay(participant, now) else "closed"


def _intent_for(
    session: Session,
    campaign: Campaign,
    participant: Participant,
    gateway: StripeGateway,
    save_attempt: Callable[[], None],
) -> str:
    """The participant's payment intent, made now if they have none."""
    if participant.intent_id is not None:
        return participant.intent_id
    intent = gateway.create_group_intent(
        campaign=campaign.code,
        participant_id=participant.id,
        attempt=int(secrets.token_hex(3), 16),
        amount=closing.amount_due(campaign, participant),
        currency=campaign.currency,
        manual_capture=False,
    )
    claimed = rows_changed(
        session,
        sa.update(Participant)
        .where(
            Participant.id == participant.id,
            Participant.state == "payment_due",
            Participant.intent_id.is_(None),
        )
        .values(intent_id=intent.id)
        .execution_options(synchronize_session=False),
    )
    save_attempt()
    session.refresh(participant)
    if not claimed:
        gateway.cancel(intent.id)  # another click made one first: use that
    if participant.intent_id is None:
        raise NotPayable()
    return participant.intent_id


def pay_with_card(
    session: Session,
    campaign: Campaign,
    participant: Participant,
    payment_method_id: str,
    gateway: StripeGateway,
    *,
    now: datetime,
    save_attempt: Callable[[], None],
) -> PayResult:
    """Charge the final amount to the card the browser tokenised; once paid, their order.
    ``NotPayable`` when the time is over or there is nothing to pay."""
    if participant.state == "captured":
        return PayResult("paid")
    if not closing.can_pay(participant, now):
        raise NotPayable()
    intent_id = _intent_for(session, campaign, participant, gateway, save_attempt)
    try:
        intent = gateway.attach_and_confirm(intent_id, payment_method_id)
    except (CardDeclined, IntentNotUsable) as error:
        return _refused(session, campaign, participant, intent_id, str(error), gateway, now)
    if intent.status == "requires_action":
        return PayResult("requires_action", client_secret=intent.client_secret)
    if intent.status == "succeeded" and closing.pay_succeeded(
        session, campaign, participant.id, intent, now
    ):
        return PayResult("paid")
    session.refresh(participant)
    if participant.state == "captured":
        return PayResult("paid")
    return PayResult("declined", message=intent.error_message)


def _refused(
    session: Session,
    campaign: Campaign,
    participant: Participant,
    intent_id: str,
    message: str,
    gateway: StripeGateway,
    now: datetime,
) -> PayResult:
    """A declined card, or an intent that takes no more cards: it may still have been
    paid by the click before this one; else the next card gets a fresh intent."""
    try:
        intent = gateway.retrieve(intent_id)
    except UnknownIntent:
        intent = None
    if intent is not None and intent.status == "succeeded":
        closing.pay_succeeded(session, campaign, participant.id, intent, now)
        session.refresh(participant)
        if participant.state == "captured":
            return PayResult("paid")
    if intent is None or intent.status in ("canceled", "requires_payment_method"):
        if intent is not None and intent.status != "canceled":
            gateway.cancel(intent_id)
        session.execute(
            sa.update(Participant)
            .where(Participant.id == participant.id, Participant.intent_id == intent_id)
            .values(intent_id=None, last_error=message[:300])
            .execution_options(synchronize_session=False)
        )
        session.flush()
    return PayResult("declined", message=message)
