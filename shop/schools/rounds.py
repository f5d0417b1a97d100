"""Delivery rounds: which one an order placed now goes on, and adding or deleting a
school's rounds (plain functions over the session: they flush, never commit, and record
the change in the audit log). Cut-offs are typed on the factory's clock and stored in UTC.
"""

from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlalchemy.orm import Session

from shop.accounts.models import User
from shop.audit.service import record
from shop.db import as_utc
from shop.exceptions import ShopError
from shop.orders.models import Order
from shop.schools.models import DeliveryRound, School


class CutoffNotBeforeDelivery(ShopError):
    message = "The order cut-off must be before the delivery date."


class RoundDateTaken(ShopError):
    message = "The school already has a delivery round on that date."


class RoundInUse(ShopError):
    message = "Orders are booked on this delivery round; it cannot be deleted."


def next_round(school: School, now: datetime) -> DeliveryRound | None:
    """The earliest round whose order cut-off is still ahead of ``now``."""
    for delivery_round in sorted(school.rounds, key=lambda r: r.delivery_date):
        if as_utc(delivery_round.cutoff_at) > now:
            return delivery_round
    return None


def add_delivery_round(
    session: Session,
    actor: User,
    school: School,
    *,
    delivery_date: date,
    cutoff_local: datetime,
    zone: ZoneInfo,
) -> DeliveryRound:
    """A delivery round; ``cutoff_local`` is a naive date-time on the factory's clock
    (``zone``) and must fall before the start of the delivery day there. Raises
    ``CutoffNotBeforeDelivery`` or ``RoundDateTaken``."""
    cutoff = cutoff_local.replace(tzinfo=zone)
    if cutoff >= datetime.combine(delivery_date, time.min, tzinfo=zone):
        raise CutoffNotBeforeDelivery()
    if any(existing.delivery_date == delivery_date for existing in school.rounds):
        raise RoundDateTaken()
    delivery_round = DeliveryRound(delivery_date=delivery_date, cutoff_at=cutoff.astimezone(UTC))
    school.rounds.append(delivery_round)
    session.flush()
    record(
        session,
        actor_user_id=actor.id,
        action="school.round_add",
        target_type="delivery_round",
        target_id=delivery_round.id,
        after={
            "school_id": school.id,
            "delivery_date": delivery_date.isoformat(),
            "cutoff_at": cutoff.astimezone(UTC).isoformat(),
        },
    )
    return delivery_round


def delete_delivery_round(session: Session, actor: User, delivery_round: DeliveryRound) -> None:
    """Raises ``RoundInUse`` when any order references the round."""
    used = session.scalar(
        sa.select(sa.func.count(Order.id)).where(Order.delivery_round_id == delivery_round.id)
    )
    if used:
        raise RoundInUse()
    record(
        session,
        actor_user_id=actor.id,
        action="school.round_delete",
        target_type="delivery_round",
        target_id=delivery_round.id,
        before={
            "school_id": delivery_round.school_id,
            "delivery_date": delivery_round.delivery_date.isoformat(),
            "cutoff_at": as_utc(delivery_round.cutoff_at).isoformat(),
        },
    )
    delivery_round.school.rounds.remove(delivery_round)
    session.flush()
