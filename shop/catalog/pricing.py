"""Tiered (volume) prices: plain functions over tiers, no database, no request.

The quantity that selects a tier is the total of one product across all its sizes and
colours. Tiers are anything with ``min_quantity`` and ``unit_amount`` (``PriceTier`` rows
or ``Tier`` values), in one currency.
"""

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Protocol


class TierLike(Protocol):
    """A price tier's two numbers, read-only: a ``PriceTier`` row or a ``Tier``."""

    @property
    def min_quantity(self) -> int: ...

    @property
    def unit_amount(self) -> int: ...


@dataclass(frozen=True)
class Tier:
    min_quantity: int
    unit_amount: int


@dataclass(frozen=True)
class TierRange:
    """A tier as a buyer reads it: ``min_quantity``–``max_quantity`` (``None`` = and up)."""

    min_quantity: int
    max_quantity: int | None
    unit_amount: int


@dataclass(frozen=True)
class NextTier:
    tier: TierLike
    pieces_needed: int


def sorted_tiers(tiers: Iterable[TierLike]) -> list[TierLike]:
    return sorted(tiers, key=lambda tier: tier.min_quantity)


def select_tier(tiers: Iterable[TierLike], quantity: int) -> TierLike | None:
    """The tier that prices ``quantity`` pieces: the one with the highest minimum not above
    it. ``None`` when there are no tiers or ``quantity`` is below the first tier."""
    chosen = None
    for tier in sorted_tiers(tiers):
        if tier.min_quantity > quantity:
            break
        chosen = tier
    return chosen


def next_tier(tiers: Iterable[TierLike], quantity: int) -> NextTier | None:
    """The next tier worth reaching from ``quantity`` pieces, and how many more reach it:
    the first tier above ``quantity`` whose piece costs less than ``quantity`` pays now
    (``tier_for``: below the first tier's minimum, that is the first tier's price, so
    "add 5 more to pay ¥59.00" is never said to someone already paying ¥59.00). ``None``
    when no tier ahead is cheaper: the hint then says nothing.

    ``static/js/size_grid.js`` applies the same rule to the page's quantities as they
    are typed; ``tests/catalog/test_pricing.py`` pins both to one table of cases."""
    ordered = sorted_tiers(tiers)
    paying = tier_for(ordered, quantity)
    for tier in ordered:
        if tier.min_quantity > quantity and paying and tier.unit_amount < paying.unit_amount:
            return NextTier(tier, tier.min_quantity - quantity)
    return None


def tier_ranges(tiers: Iterable[TierLike]) -> list[TierRange]:
    """``[1→89, 50→79, 200→69]`` → ``1–49: 89 · 50–199: 79 · 200+: 69``."""
    ordered = sorted_tiers(tiers)
    ranges = []
    for index, tier in enumerate(ordered):
        following = ordered[index + 1] if index + 1 < len(ordered) else None
        upper = following.min_quantity - 1 if following else None
        ranges.append(TierRange(tier.min_quantity, upper, tier.unit_amount))
    return ranges


def base_tier(tiers: Iterable[TierLike]) -> TierLike | None:
    """The tier a single order at the minimum quantity pays: the lowest one."""
    ordered = sorted_tiers(tiers)
    return ordered[0] if ordered else None


def tier_for(tiers: Iterable[TierLike], quantity: int) -> TierLike | None:
    """The tier ``quantity`` pieces pay; below the first tier's minimum, the first tier
    (the cart flags the minimum separately)."""
    return select_tier(tiers, quantity) or base_tier(tiers)


def unit_amount(tier: TierLike | None, school_price: int | None = None) -> int | None:
    """What one piece costs: a school's negotiated price where it has one (a child's kit,
    a roster), else the tier's; ``None`` when there is neither."""
    if school_price is not None:
        return school_price
    return tier.unit_amount if tier is not None else None


def lowest_unit_amount(tiers: Iterable[TierLike]) -> int | None:
    amounts = [tier.unit_amount for tier in tiers]
    return min(amounts) if amounts else None
