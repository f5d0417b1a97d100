"""What makes a slug, a SKU and a ladder of price tiers valid — each rule once.

The admin forms (``shop.admin.catalog_forms``), the variant generator
(``shop.catalog.management``), the CSV import (``shop.catalog.csv_io``) and the shop's own
URL guard (``shop.catalog.views``) all ask these functions, so that what one path refuses
the others refuse too. Whether a slug or SKU is already taken needs the database and is
checked where the write happens.

The functions return what is wrong (``None`` or an empty list when nothing is): slugs and
SKUs in words, tiers as ``TierProblem`` kinds, because the tier table names a row and the
CSV a column, each in its own words.
"""

import re
from collections.abc import Sequence
from dataclasses import dataclass

from flask_babel import lazy_gettext as _l

from shop.money import MAX_AMOUNT

SLUG_PATTERN = r"^[a-z0-9]+(?:-[a-z0-9]+)*$"
SLUG_MESSAGE = _l("Use lowercase letters, digits and single hyphens only (like summer-polo).")
SLUG_MAX_LENGTH = 120  # a product's
CATEGORY_SLUG_MAX_LENGTH = 80

SKU_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._-]*$"
SKU_MESSAGE = _l("Use letters, digits, dots, hyphens and underscores only.")
SKU_MAX_LENGTH = 64

MAX_TIERS = 20  # per currency
MAX_TIER_QUANTITY = 9_999_999

_SLUG = re.compile(SLUG_PATTERN)
_SKU = re.compile(SKU_PATTERN)


def _too_long(limit: int) -> str:
    return str(_l("Longer than %(limit)d characters.", limit=limit))


def slug_problem(value: str, max_length: int = SLUG_MAX_LENGTH) -> str | None:
    """Why ``value`` is not a slug (``"summer-polo"``), or ``None`` when it is."""
    if len(value) > max_length:
        return _too_long(max_length)
    if not _SLUG.fullmatch(value):
        return str(SLUG_MESSAGE)
    return None


def is_slug(value: str) -> bool:
    return slug_problem(value) is None


def sku_problem(value: str) -> str | None:
    """Why ``value`` is not a SKU (``"POLO-130-NAVY"``), or ``None`` when it is."""
    if len(value) > SKU_MAX_LENGTH:
        return _too_long(SKU_MAX_LENGTH)
    if not _SKU.fullmatch(value):
        return str(SKU_MESSAGE)
    return None


# --- price tiers -------------------------------------------------------------------------

QUANTITY_BELOW_ONE = "quantity_below_one"
QUANTITY_TOO_LARGE = "quantity_too_large"
QUANTITY_NOT_RISING = "quantity_not_rising"
PRICE_OUT_OF_RANGE = "price_out_of_range"
PRICE_RISING = "price_rising"
TOO_MANY = "too_many"


@dataclass(frozen=True)
class TierProblem:
    """``index`` is the tier's place in the ladder as given (``None``: the whole ladder);
    ``above`` the minimum quantity of the last good tier before it."""

    kind: str
    index: int | None = None
    above: int = 0


def _tier_problem(
    quantity: int, amount: int, previous: tuple[int, int] | None
) -> tuple[str, int] | None:
    if quantity < 1:
        return QUANTITY_BELOW_ONE, 0
    if quantity > MAX_TIER_QUANTITY:
        return QUANTITY_TOO_LARGE, 0
    if not 0 <= amount <= MAX_AMOUNT:
        return PRICE_OUT_OF_RANGE, 0
    if previous is not None and quantity <= previous[0]:
        return QUANTITY_NOT_RISING, previous[0]
    if previous is not None and amount > previous[1]:
        return PRICE_RISING, previous[0]
    return None


def tier_problems(tiers: Sequence[tuple[int, int]]) -> list[TierProblem]:
    """What is wrong with a ladder of ``(min_quantity, unit_amount)`` in one currency, in
    the order given: quantities from 1 rise strictly, prices (0 or more) never rise, at
    most ``MAX_TIERS`` tiers. A tier found wrong is left out when judging the next."""
    problems: list[TierProblem] = []
    previous: tuple[int, int] | None = None
    good = 0
    for index, (quantity, amount) in enumerate(tiers):
        problem = _tier_problem(quantity, amount, previous)
        if problem is not None:
            problems.append(TierProblem(problem[0], index, problem[1]))
            continue
        previous = (quantity, amount)
        good += 1
    if good > MAX_TIERS:
        problems.append(TierProblem(TOO_MANY))
    return problems
