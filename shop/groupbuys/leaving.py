"""Leaving a campaign before it closes, and letting go of places whose card never came.

A leave takes the campaign row's lock (as joins and the close do), claims the
participant's new state with one conditional ``UPDATE``, then lets the card go at Stripe
(cancels the hold, or refunds a long campaign's charge) before anything is committed: if
Stripe does not answer, the caller rolls back and the participant is still in, never
"left" with their card still held.
"""

from contextlib import suppress
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Session

from shop.db import rows_changed, utcnow
from shop.groupbuys import rules
from shop.groupbuys.models import Campaign, Participant
from shop.groupbuys.service import CannotLeave, check_card, give_back, lock_open
from shop.payments.stripe_gateway import RefundRefused, StripeGateway


def _claim(session: Session, participant: Participant, to: str) -> str | None:
    """Move a participant who holds places to ``to``; their state before, or ``None``
    when someone else already moved them."""
    session.refresh(participant)
    before = participant.state
    if before not in rules.HOLDING_STATES:
        return None
    moved = rows_changed(
        session,
        sa.update(Participant)
        .where(Participant.id == participant.id, Participant.state == before)
        .values(state=to)
        .execution_options(synchronize_session=False),
    )
    if not moved:
        return None
    participant.state = to
    return before


def let_card_go(
    campaign: Campaign, participant: Participant, before: str, gateway: StripeGateway, why: str
) -> None:
    """Cancel the participant's hold, or refund in full what a long campaign charged."""
    if participant.intent_id is None:
        return
    if before == "charged":
        # RefundRefused: already refunded (a retry after the first refund was not recorded)
        with suppress(RefundRefused):
            gateway.refund(
                participant.intent_id,
                participant.authorised_amount,
                idempotency_key=f"campaign-{campaign.code}-{participant.id}-{why}",
            )
    elif not gateway.cancel(participant.intent_id) and campaign.payment_mode == "charge":
        # A long campaign's card charged as the place was let go: give the money back.
        let_card_go(campaign, participant, "charged", gateway, why)


def leave(
    session: Session,
    campaign: Campaign,
    participant: Participant,
    gateway: StripeGateway,
    *,
    replaced: bool = False,
) -> bool:
    """The participant leaves (or is replaced by their changed pieces). ``False`` when
    they had already left; ``CannotLeave`` once the campaign is closing or closed."""
    if not lock_open(session, campaign):
        raise CannotLeave()
    before = _claim(session, participant, "left")
    if before is None:
        return False
    give_back(session, campaign, participant, was_joined=before in rules.JOINED_STATES)
    let_card_go(campaign, participant, before, gateway, "replaced" if replaced else "leave")
    return True


def expired_pending(session: Session, now: datetime) -> list[int]:
    cutoff = now - rules.PENDING_LIFETIME
    return list(
        session.scalars(
            sa.select(Participant.id)
            .where(Participant.state == "pending", Participant.created_at < cutoff)
            .order_by(Participant.id)
        )
    )


def expire_pending(
    session: Session, participant_id: int, gateway: StripeGateway, *, now: datetime | None = None
) -> str:
    """A participant still pending after ``PENDING_LIFETIME``: joined after all if Stripe
    says the card was authorised (a 3-D Secure page closed early), else their places and
    stock go back. Returns what happened."""
    now = now or utcnow()
    participant = session.get(Participant, participant_id)
    if participant is None or participant.state != "pending":
        return "nothing to do"
    campaign = session.get_one(Campaign, participant.campaign_id)
    if campaign.state == "open" and check_card(session, campaign, participant, gateway):
        return "joined"
    lock_open(session, campaign)  # take turns with joins and the close
    before = _claim(session, participant, "left")
    if before is None:
        return "nothing to do"
    give_back(session, campaign, participant, was_joined=False)
    let_card_go(campaign, participant, before, gateway, "expired")
    return "let go"
