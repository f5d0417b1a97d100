"""Delivery rounds: which one an order placed now goes on."""

from datetime import datetime

from shop.db import as_utc
from shop.schools.models import DeliveryRound, School


def next_round(school: School, now: datetime) -> DeliveryRound | None:
    """The earliest round whose order cut-off is still ahead of ``now``."""
    for delivery_round in sorted(school.rounds, key=lambda r: r.delivery_date):
        if as_utc(delivery_round.cutoff_at) > now:
            return delivery_round
    return None
