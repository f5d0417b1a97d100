"""What staff do to campaigns: approve or reject one that waits for approval, approve a
campaign's own ladder; and the lists and details the back office shows.

Each change is one conditional ``UPDATE`` (the row must still be in the state the button
was shown for), so two staff pressing at once, or one pressing twice, change it once; the
audit row is written in the same transaction, only by the one that changed it.
"""

from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Session, selectinload

from shop.accounts.models import User
from shop.audit.service import record
from shop.db import rows_changed, utcnow
from shop.groupbuys.models import CAMPAIGN_STATES, Campaign, Participant

PAGE_SIZE = 50


def _audit(session: Session, actor: User, action: str, campaign: Campaign, before, after) -> None:
    record(
        session,
        actor_user_id=actor.id,
        action=action,
        target_type="campaign",
        target_id=campaign.id,
        before=before,
        after=after,
    )


def approve(session: Session, actor: User, campaign: Campaign, now: datetime | None = None) -> bool:
    """Open a campaign that waits for approval (it opens now). ``False``: it no longer
    waits (approved or rejected already)."""
    now = now or utcnow()
    changed = rows_changed(
        session,
        sa.update(Campaign)
        .where(Campaign.id == campaign.id, Campaign.state == "pending_approval")
        .values(state="open", approved_by_id=actor.id, opens_at=now, version=Campaign.version + 1)
        .execution_options(synchronize_session=False),
    )
    if changed:
        _audit(
            session,
            actor,
            "campaign.approve",
            campaign,
            {"state": "pending_approval"},
            {"state": "open"},
        )
    session.refresh(campaign)
    return bool(changed)


def reject(session: Session, actor: User, campaign: Campaign) -> bool:
    """Refuse a campaign that waits for approval. ``False``: it no longer waits."""
    changed = rows_changed(
        session,
        sa.update(Campaign)
        .where(Campaign.id == campaign.id, Campaign.state == "pending_approval")
        .values(state="rejected", version=Campaign.version + 1)
        .execution_options(synchronize_session=False),
    )
    if changed:
        _audit(
            session,
            actor,
            "campaign.reject",
            campaign,
            {"state": "pending_approval"},
            {"state": "rejected"},
        )
    session.refresh(campaign)
    return bool(changed)


def approve_ladder(session: Session, actor: User, campaign: Campaign) -> bool:
    """Let the campaign's own ladder set its prices (from the next join on). ``False``: it
    has none, it was approved already, or the campaign is past taking orders."""
    changed = rows_changed(
        session,
        sa.update(Campaign)
        .where(
            Campaign.id == campaign.id,
            Campaign.own_ladder.is_(True),
            Campaign.ladder_approved_by_id.is_(None),
            Campaign.state.in_(("pending_approval", "open")),
        )
        .values(ladder_approved_by_id=actor.id, version=Campaign.version + 1)
        .execution_options(synchronize_session=False),
    )
    if changed:
        _audit(
            session,
            actor,
            "campaign.ladder_approve",
            campaign,
            {"ladder_approved": False},
            {"ladder_approved": True},
        )
    session.refresh(campaign)
    return bool(changed)


def list_campaigns(session: Session, state: str | None, page: int = 1) -> list[Campaign]:
    """Campaigns in ``state`` (``None``: all), the ones closing soonest first."""
    query = sa.select(Campaign)
    if state in CAMPAIGN_STATES:
        query = query.where(Campaign.state == state)
    return list(
        session.scalars(
            query.order_by(Campaign.closes_at.desc(), Campaign.id.desc())
            .limit(PAGE_SIZE)
            .offset((page - 1) * PAGE_SIZE)
        )
    )


def state_counts(session: Session) -> dict[str, int]:
    rows = session.execute(sa.select(Campaign.state, sa.func.count()).group_by(Campaign.state))
    return {state: count for state, count in rows}


@dataclass(frozen=True)
class StaffParticipant:
    participant: Participant
    unpaid: bool  # the close could not charge them; they have until ``payment_due_until``


def staff_participants(session: Session, campaign: Campaign) -> list[StaffParticipant]:
    """Every participant (with their emails: this is staff's page), by bag number."""
    rows = session.scalars(
        sa.select(Participant)
        .where(Participant.campaign_id == campaign.id)
        .order_by(Participant.bag_number, Participant.id)
        .options(selectinload(Participant.lines))
    ).all()
    return [StaffParticipant(row, row.state == "payment_due") for row in rows]
