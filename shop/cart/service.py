"""Cart changes: plain functions over the session. They flush, never commit.

Adding is refused (nothing changes) for a variant that does not exist or is not for sale,
a quantity outside 1–9,999, or more of a stocked variant than is available. Minimums and
increments are not refused here — a buyer builds up to them — but flagged by
``price_cart`` and enforced at checkout.
"""

import secrets

import sqlalchemy as sa
from sqlalchemy.orm import Session, joinedload

from shop.cart.models import Cart, CartLine
from shop.cart.rules import MAX_QUANTITY, InvalidQuantity
from shop.catalog.models import Variant
from shop.exceptions import ShopError


class UnknownVariant(ShopError):
    message = "That item is not for sale."


class OutOfStock(ShopError):
    def __init__(self, sku: str, available: int):
        super().__init__(f"only {available} of {sku} left")
        self.sku = sku
        self.available = available


class TooMany(ShopError):
    message = "At most 9,999 of one item per order."


def new_token() -> str:
    return secrets.token_urlsafe(32)


def get_cart(session: Session, *, user_id: int | None, token: str | None) -> Cart | None:
    """The cart, with its lines and their variants and products in the same query: every
    page that finds a cart reads them (``shop.cart.pricing.load_lines`` uses them)."""
    if user_id is not None:
        found = Cart.user_id == user_id
    elif token:
        found = sa.and_(Cart.token == token, Cart.user_id.is_(None))
    else:
        return None
    query = (
        sa.select(Cart)
        .where(found)
        .options(
            joinedload(Cart.lines)
            .joinedload(CartLine.variant, innerjoin=True)
            .joinedload(Variant.product, innerjoin=True)
        )
    )
    return session.scalars(query).unique().one_or_none()


def create_cart(session: Session, *, user_id: int | None) -> Cart:
    cart = Cart(token=new_token(), user_id=user_id)
    session.add(cart)
    session.flush()
    return cart


def _line(cart: Cart, variant_id: int, student_name: str = "", class_name: str = ""):
    """The cart's line for a variant (bought for that student and class, if any)."""
    return next(
        (
            line
            for line in cart.lines
            if (line.variant_id, line.student_name, line.class_name)
            == (variant_id, student_name, class_name)
        ),
        None,
    )


def find_line(cart: Cart, *, line_id: int | None, variant_id: int | None) -> CartLine:
    """The line a cart form names: by its id, or (older forms) the variant's plain line."""
    if line_id is not None:
        line = next((line for line in cart.lines if line.id == line_id), None)
    elif variant_id is not None:
        line = _line(cart, variant_id)
    else:
        line = None
    if line is None:
        raise UnknownVariant()
    return line


def _for_sale(session: Session, variant_id: int) -> Variant:
    return _checked(session.get(Variant, variant_id))


def _checked(variant: Variant | None) -> Variant:
    # A size/colour staff withdrew (``for_sale`` off) is refused like an inactive product.
    if variant is None or not variant.product.active or not variant.for_sale:
        raise UnknownVariant()
    return variant


def _load_variants(session: Session, variant_ids) -> dict[int, Variant]:
    """The variants a form names, with their products, in one query (a size grid posts
    many)."""
    variants = session.scalars(
        sa.select(Variant)
        .where(Variant.id.in_(list(variant_ids)))
        .options(joinedload(Variant.product, innerjoin=True))
    )
    return {variant.id: variant for variant in variants}


def _check_quantity(variant: Variant, quantity: int, in_other_lines: int = 0) -> None:
    """``in_other_lines``: pieces of the same variant on the cart's other lines (other
    children's kits), which the stock must cover too."""
    if quantity > MAX_QUANTITY:
        raise TooMany()
    left = max(variant.available - in_other_lines, 0)
    if not variant.product.made_to_order and quantity > left:
        raise OutOfStock(variant.sku, left)


def add_to_cart(
    session: Session,
    cart: Cart,
    additions: dict[int, int],
    *,
    school_id: int | None = None,
    student_name: str = "",
    class_name: str = "",
) -> int:
    """Add ``{variant_id: quantity}``, all or nothing; returns the pieces added.

    Lines for a child at a school (``student_name``, ``class_name``) are kept apart from
    each other and from the buyer's own lines; the stock check counts them all."""
    planned = []
    for quantity in additions.values():
        if quantity < 1:
            raise InvalidQuantity(str(quantity))
    variants = _load_variants(session, additions)
    for variant_id, quantity in additions.items():
        variant = _checked(variants.get(variant_id))
        if variant.product.school_id not in (None, school_id):
            raise UnknownVariant()  # a school-only product is sold in its school's shop
        line = _line(cart, variant_id, student_name, class_name)
        new_quantity = (line.quantity if line else 0) + quantity
        in_other_lines = sum(
            other.quantity for other in cart.lines if other.variant_id == variant_id
        ) - (line.quantity if line else 0)
        _check_quantity(variant, new_quantity, in_other_lines)
        planned.append((variant_id, line, new_quantity))
    for variant_id, line, new_quantity in planned:
        if line is None:
            cart.lines.append(
                CartLine(
                    variant_id=variant_id,
                    quantity=new_quantity,
                    school_id=school_id,
                    student_name=student_name,
                    class_name=class_name,
                )
            )
        else:
            line.quantity = new_quantity
    session.flush()
    return sum(additions.values())


def set_quantity(session: Session, cart: Cart, line: CartLine, quantity: int) -> None:
    """Set a line's quantity; 0 removes it. Lowering is always allowed."""
    if quantity == 0:
        cart.lines.remove(line)
    else:
        if quantity > line.quantity:
            in_other_lines = sum(
                other.quantity
                for other in cart.lines
                if other.variant_id == line.variant_id and other is not line
            )
            _check_quantity(_for_sale(session, line.variant_id), quantity, in_other_lines)
        line.quantity = quantity
    session.flush()


def remove_line(session: Session, cart: Cart, line: CartLine) -> None:
    set_quantity(session, cart, line, 0)


def merge_carts(session: Session, guest: Cart | None, user_id: int) -> Cart | None:
    """At sign-in the guest's cart joins the account's: quantities add up, capped by the
    stock and quantity rules (what cannot fit stays at what can). Returns the cart."""
    mine = get_cart(session, user_id=user_id, token=None)
    if guest is None or guest.user_id is not None:
        return mine
    if mine is None:
        guest.user_id = user_id
        session.flush()
        return guest
    for line in list(guest.lines):
        existing = _line(mine, line.variant_id, line.student_name, line.class_name)
        wanted = line.quantity + (existing.quantity if existing else 0)
        variant = session.get(Variant, line.variant_id)
        limit = MAX_QUANTITY
        if variant is not None and not variant.product.made_to_order:
            limit = min(limit, max(variant.available, existing.quantity if existing else 0))
        quantity = min(wanted, limit)
        if existing is not None:
            existing.quantity = quantity
        elif quantity > 0:
            mine.lines.append(
                CartLine(
                    variant_id=line.variant_id,
                    quantity=quantity,
                    school_id=line.school_id,
                    student_name=line.student_name,
                    class_name=line.class_name,
                )
            )
    session.delete(guest)
    session.flush()
    return mine


def item_count(cart: Cart | None) -> int:
    return sum(line.quantity for line in cart.lines) if cart else 0
