"""How the cart page lays a priced cart out: a school order by child, the rest by product.

A parent ordering for two children reads the cart as two kits ("Tan Wei, P2A": polo,
shorts…), not as products with children's names scattered across them. Lines bought for
a child (``student_name``, as the school shop puts them in the cart) are grouped by the
child; every other line stays under its product, as before. Prices and problems are
``price_cart``'s: nothing is computed again here, only arranged. Volume tiers are the
retail buyer's business: a child's kit never offers "add N more to pay less".
"""

from dataclasses import dataclass, replace

from shop.cart.pricing import CartPricing, PricedLine, ProductGroup
from shop.cart.rules import Problem


@dataclass(frozen=True)
class KitLine:
    """A child's line with the product it belongs to (its name, link and lead time)."""

    group: ProductGroup
    line: PricedLine


@dataclass(frozen=True)
class ChildKit:
    """Everything in the cart for one child (a name and class at one school)."""

    student_name: str
    class_name: str
    school_id: int | None
    lines: list[KitLine]

    @property
    def quantity(self) -> int:
        return sum(kit_line.line.quantity for kit_line in self.lines)

    @property
    def amount(self) -> int | None:
        """The kit's subtotal; ``None`` while a line has no price."""
        amounts = [kit_line.line.line_amount for kit_line in self.lines]
        if any(amount is None for amount in amounts):
            return None
        return sum(amount for amount in amounts if amount is not None)


@dataclass(frozen=True)
class KitProblem:
    """A problem of a whole product (minimum order, increment…) bought for children."""

    group: ProductGroup
    problem: Problem


@dataclass(frozen=True)
class CartLayout:
    children: list[ChildKit]
    groups: list[ProductGroup]  # products with their lines not bought for a child
    kit_problems: list[KitProblem]


def is_childs(line: PricedLine) -> bool:
    return bool(line.student_name)


def arrange(pricing: CartPricing) -> CartLayout:
    """The children's kits (in the order they were added), then the other products."""
    kits: dict[tuple[str, str, int | None], list[KitLine]] = {}
    groups: list[ProductGroup] = []
    kit_problems: list[KitProblem] = []
    for group in pricing.groups:
        others = [line for line in group.lines if not is_childs(line)]
        for line in group.lines:
            if is_childs(line):
                key = (line.student_name, line.class_name, line.school_id)
                kits.setdefault(key, []).append(KitLine(group, line))
        if others:
            groups.append(replace(group, lines=others))
        elif group.problems:
            kit_problems.extend(KitProblem(group, problem) for problem in group.problems)
    children = [
        ChildKit(name, class_name, school_id, sorted(lines, key=_added_order))
        for (name, class_name, school_id), lines in kits.items()
    ]
    children.sort(key=lambda kit: _added_order(kit.lines[0]))
    return CartLayout(children=children, groups=groups, kit_problems=kit_problems)


def _added_order(kit_line: KitLine) -> int:
    line_id = kit_line.line.line_id
    return line_id if line_id is not None else 0
