"""The group-buy rules as plain functions: which way a campaign takes cards, what a piece
costs at a given count, what a participant is authorised for and what they pay at the
close, and whether a campaign goes ahead. No database, no request.

The price a participant pays is the product's unit price at the campaign's final count,
never more than the unit price when they joined: prices only fall as people join, but a
participant who leaves can push the count back below a tier, and a held card cannot be
charged more than it was authorised for.
"""

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

from shop.catalog.pricing import NextTier, TierLike, next_tier, tier_for

# A card authorisation lasts about 7 days at Stripe: a campaign that closes within 6 days
# of opening holds cards; a longer one charges at joining and refunds the difference.
HOLD_LIMIT = timedelta(days=6)
PAYMENT_DUE = timedelta(hours=48)  # to pay by card after a capture failed
PENDING_LIFETIME = timedelta(minutes=30)  # pieces held for a card that was never given
MAX_PIECES_PER_PARTICIPANT = 999
LONGEST_CAMPAIGN = timedelta(days=60)

JOINED_STATES = ("held", "charged")  # their pieces count towards the price
HOLDING_STATES = ("pending", "held", "charged")  # their pieces are reserved


def payment_mode(opens_at: datetime, closes_at: datetime) -> str:
    """``hold`` (authorise now, capture at the close) or ``charge`` (charge now, refund
    the difference at the close)."""
    return "hold" if closes_at - opens_at <= HOLD_LIMIT else "charge"


def unit_at(tiers: Iterable[TierLike], pieces: int) -> int | None:
    """What one piece costs when the campaign has ``pieces`` of the product in all."""
    tier = tier_for(list(tiers), max(pieces, 1))
    return tier.unit_amount if tier is not None else None


def next_step(tiers: Iterable[TierLike], pieces: int) -> NextTier | None:
    """The next cheaper tier and how many more pieces reach it."""
    return next_tier(list(tiers), max(pieces, 1))


@dataclass(frozen=True)
class PricedShare:
    """A participant's pieces priced: the unit per product and the amount in all."""

    units: dict[int, int]  # product id → unit amount
    amount: int


def price_share(
    tiers: Mapping[int, Iterable[TierLike]],
    counted: Mapping[int, int],
    asked: Mapping[int, int],
) -> PricedShare:
    """Price ``asked`` pieces per product as if they joined the ``counted`` pieces the
    campaign already has: each product at the tier its new total reaches. ``KeyError``
    when a product has no tier in the campaign's currency."""
    units = {}
    for product_id, pieces in asked.items():
        unit = unit_at(tiers[product_id], counted.get(product_id, 0) + pieces)
        if unit is None:
            raise KeyError(product_id)
        units[product_id] = unit
    return PricedShare(units, sum(units[p] * asked[p] for p in asked))


def final_amount(lines: Iterable[tuple[int, int, int]], final_units: Mapping[int, int]) -> int:
    """What a participant pays at the close for ``(product id, quantity, joined unit)``
    lines: each piece at the final unit price, never above the unit they joined at."""
    return sum(
        quantity * min(final_units[product_id], joined_unit)
        for product_id, quantity, joined_unit in lines
    )


def final_unit(final: int, joined: int) -> int:
    return min(final, joined)


def goes_ahead(pieces: int, min_pieces: int) -> bool:
    return pieces >= min_pieces


def pieces_left(max_pieces: int | None, reserved: int) -> int | None:
    """How many more pieces the campaign can take (``None``: no maximum)."""
    return None if max_pieces is None else max(max_pieces - reserved, 0)


def can_close_early(state: str, pieces: int, min_pieces: int) -> bool:
    """The leader may close before the time once the minimum is reached."""
    return state == "open" and goes_ahead(pieces, min_pieces)


def is_due(state: str, closes_at: datetime, now: datetime) -> bool:
    """The close job should run: open past its time, or a close that did not finish."""
    return state == "closing" or (state == "open" and closes_at <= now)


def saved(lines: Iterable[tuple[int, int]], base_units: Mapping[int, int], paid: int) -> int:
    """What a participant saved against buying alone: ``(product id, quantity)`` lines at
    each product's first-tier price, less what they paid."""
    alone = sum(base_units[product_id] * quantity for product_id, quantity in lines)
    return max(alone - paid, 0)
