"""Cart rules as plain functions: quantities, minimums, increments, stock. No database.

A problem is a code plus the numbers its message needs; views turn it into words.
"""

from dataclasses import dataclass, field

MAX_QUANTITY = 9_999


class InvalidQuantity(ValueError):
    """Not a whole number from 0 (or 1) to 9,999."""


@dataclass(frozen=True)
class Problem:
    code: str  # below_moq, not_increment, inactive, no_price, short_stock
    values: dict = field(default_factory=dict)


def parse_quantity(raw: str | int | None, *, allow_zero: bool) -> int:
    """``"12"`` → 12. Refuses blanks, signs, decimals, words and anything over 9,999."""
    text = str(raw if raw is not None else "").strip()
    if not text.isascii() or not text.isdigit() or len(text) > 5:
        raise InvalidQuantity(text)
    quantity = int(text)
    if quantity > MAX_QUANTITY or quantity < (0 if allow_zero else 1):
        raise InvalidQuantity(text)
    return quantity


def product_problems(
    total: int, *, min_order_quantity: int, order_increment: int, active: bool, has_price: bool
) -> list[Problem]:
    """What stops one product's lines (all sizes and colours together) going to checkout."""
    if not active:
        return [Problem("inactive")]
    problems = []
    if not has_price:
        problems.append(Problem("no_price"))
    if total < min_order_quantity:
        problems.append(
            Problem("below_moq", {"moq": min_order_quantity, "more": min_order_quantity - total})
        )
    if order_increment > 1 and total % order_increment:
        problems.append(Problem("not_increment", {"increment": order_increment}))
    return problems


def line_problems(quantity: int, *, available: int | None) -> list[Problem]:
    """``available`` is ``None`` for made-to-order variants (no stock limit)."""
    if available is not None and quantity > available:
        return [Problem("short_stock", {"available": available})]
    return []
