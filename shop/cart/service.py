"""Cart changes: plain functions over the session. They flush, never commit.

Adding is refused (nothing changes) for a variant that does not exist or is not for sale,
a quantity outside 1–9,999, or more of a stocked variant than is available. Minimums and
increments are not refused here — a buyer builds up to them — but flagged by
``price_cart`` and enforced at checkout.

Adding is the cart's busiest write, so it never loads the cart. The usual add (one
variant, to a cart the visitor has) is one statement built once, an upsert that checks the
rules as it inserts and runs as its own transaction: on PostgreSQL one round trip instead
of four, and a commit that does not wait for the disk (a server crash may lose the adds of
its last half second: ``shop.db.commits_without_waiting_for_disk``). Any other add (a size
grid, the first one, one a rule refuses) is two: one read of the variants with the cart's
id and pieces, which names what is refused, and one upsert for the lines. The upsert adds
to a line in the database, so adds sent at the same moment all count, and it refuses to
pass 9,999 however they interleave.
"""

import secrets
from dataclasses import dataclass
from functools import cache
from typing import cast

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session, joinedload

from shop.cart.models import Cart, CartLine
from shop.cart.rules import MAX_QUANTITY, InvalidQuantity
from shop.catalog.models import Product, Variant
from shop.db import PreparedSelect, commits_without_waiting_for_disk, run_alone, utcnow
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


def _cart_with_lines(found) -> sa.Select:
    return (
        sa.select(Cart)
        .where(found)
        .options(
            joinedload(Cart.lines)
            .joinedload(CartLine.variant, innerjoin=True)
            .joinedload(Variant.product, innerjoin=True)
            .defer(Product.description)
            .defer(Product.description_zh)
            .defer(Product.description_ja)
            .defer(Product.search_text)
            .defer(Product.size_chart)
        )
    )


# Built once: every checkout step loads the cart, and building this statement (its loader
# options and cache key) cost about as much as running it.
_USERS_CART = _cart_with_lines(Cart.user_id == sa.bindparam("user_id"))
_GUESTS_CART = _cart_with_lines(
    sa.and_(Cart.token == sa.bindparam("token"), Cart.user_id.is_(None))
)


def get_cart(session: Session, *, user_id: int | None, token: str | None) -> Cart | None:
    """The cart, with its lines and their variants and products in the same query: every
    page that finds a cart reads them (``shop.cart.pricing.load_lines`` uses them)."""
    values: dict[str, int | str]
    if user_id is not None:
        query, values = _USERS_CART, {"user_id": user_id}
    elif token:
        query, values = _GUESTS_CART, {"token": token}
    else:
        return None
    return session.scalars(query, values).unique().one_or_none()


# The add's statements are Core (table columns, not ORM attributes), built once: the ORM's
# per-statement work would cost more than the statements themselves.
_CART = cast(sa.Table, Cart.__table__)
_LINE = cast(sa.Table, CartLine.__table__)
_VARIANT = Variant.__table__
_PRODUCT = Product.__table__
_CART_OF_USER = sa.select(_CART.c.id).where(_CART.c.user_id == sa.bindparam("user_id"))
_CART_OF_GUEST = sa.select(_CART.c.id).where(
    _CART.c.token == sa.bindparam("token"), _CART.c.user_id.is_(None)
)


def get_cart_id(session: Session, *, user_id: int | None, token: str | None) -> int | None:
    """The id of the cart ``get_cart`` would find, without loading it."""
    if user_id is not None:
        return session.scalar(_CART_OF_USER, {"user_id": user_id})
    if token:
        return session.scalar(_CART_OF_GUEST, {"token": token})
    return None


_NEW_CART = sa.insert(_CART).returning(_CART.c.id)


def create_cart(session: Session, *, user_id: int | None) -> tuple[int, str]:
    """A new cart; → its id and its token (a guest's session keeps the token)."""
    token, now = new_token(), utcnow()
    values = {"token": token, "user_id": user_id, "created_at": now, "updated_at": now}
    return session.scalar(_NEW_CART, values), token


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


def check_quantity(
    quantity: int, *, sku: str, available: int | None, in_other_lines: int = 0
) -> None:
    """A line of ``quantity`` pieces: at most 9,999, and for a stocked variant
    (``available`` is ``None`` when made to order) no more than is left after
    ``in_other_lines``, the pieces of the same variant on the cart's other lines (other
    children's kits), which the stock must cover too."""
    if quantity > MAX_QUANTITY:
        raise TooMany()
    if available is None:
        return
    left = max(available - in_other_lines, 0)
    if quantity > left:
        raise OutOfStock(sku, left)


def _check_quantity(variant: Variant, quantity: int, in_other_lines: int = 0) -> None:
    available = None if variant.product.made_to_order else variant.available
    check_quantity(quantity, sku=variant.sku, available=available, in_other_lines=in_other_lines)


def _in_cart(cart_id: sa.ColumnElement, *, same_line: bool):
    """Pieces of the outer query's variant in the cart: on the line being added to
    (``same_line``), or on all its lines."""
    where = [_LINE.c.cart_id == cart_id, _LINE.c.variant_id == _VARIANT.c.id]
    if same_line:
        where += [
            _LINE.c.student_name == sa.bindparam("student_name"),
            _LINE.c.class_name == sa.bindparam("class_name"),
        ]
    return sa.select(sa.func.coalesce(sa.func.sum(_LINE.c.quantity), 0)).where(*where)


def _pieces_in(cart_id: sa.ColumnElement):
    return sa.select(sa.func.coalesce(sa.func.sum(_LINE.c.quantity), 0)).where(
        _LINE.c.cart_id == cart_id
    )


def _addable(cart_id: sa.ColumnElement) -> sa.Select:
    """The variants an add names that are for sale, with the cart's pieces of each, and
    the cart's id and all its pieces (the same on every row; ``None`` and 0 when the
    visitor has no cart yet)."""
    return (
        sa.select(
            _VARIANT.c.id,
            _VARIANT.c.sku,
            _VARIANT.c.on_hand,
            _VARIANT.c.allocated,
            _PRODUCT.c.made_to_order,
            _PRODUCT.c.school_id,
            _in_cart(cart_id, same_line=True).scalar_subquery().label("on_line"),
            _in_cart(cart_id, same_line=False).scalar_subquery().label("in_cart"),
            cart_id.label("cart_id"),
            _pieces_in(cart_id).scalar_subquery().label("cart_pieces"),
        )
        .join_from(_VARIANT, _PRODUCT, _PRODUCT.c.id == _VARIANT.c.product_id)
        .where(
            _VARIANT.c.id.in_(sa.bindparam("variant_ids", expanding=True)),
            _VARIANT.c.for_sale,
            _PRODUCT.c.active,
        )
    )


# By the cart's id; or finding the visitor's cart (by account, or a guest's token) in the
# same statement, which saves the add a round trip to the database.
_ADDABLE = _addable(sa.bindparam("cart_id", type_=sa.Integer))
_ADDABLE_TO_USERS_CART = _addable(_CART_OF_USER.scalar_subquery())
_ADDABLE_TO_GUESTS_CART = _addable(_CART_OF_GUEST.scalar_subquery())
_CART_PIECES = _pieces_in(sa.bindparam("cart_id"))
_LINE_KEY = ("cart_id", "variant_id", "student_name", "class_name")  # the unique constraint


@cache
def _add_to_line(dialect: str):
    """``INSERT … ON CONFLICT DO UPDATE`` adding ``quantity`` to the line, unless that
    passes 9,999: then no row changes and none is returned (a row count would not do:
    PostgreSQL's is -1 here). SQLite and PostgreSQL spell it alike, and a size grid's
    lines go in one statement (SQLAlchemy's "insertmanyvalues")."""
    statement: sqlite.Insert | postgresql.Insert
    if dialect == "sqlite":
        statement = sqlite.insert(_LINE)
    elif dialect == "postgresql":
        statement = postgresql.insert(_LINE)
    else:
        raise ValueError(f"no INSERT … ON CONFLICT for {dialect}")
    new_quantity = _LINE.c.quantity + statement.excluded.quantity
    return statement.on_conflict_do_update(
        index_elements=[_LINE.c[name] for name in _LINE_KEY],
        set_={"quantity": new_quantity},
        where=new_quantity <= MAX_QUANTITY,
    ).returning(_LINE.c.id)


# The pieces on the cart's other lines, beside a line the add just wrote: the same rows
# whether the database shows a statement's subqueries the lines as they were before it
# (PostgreSQL) or as it goes (SQLite). Spelled out, as SQLAlchemy would not correlate a
# subquery in RETURNING to the table written (and SQLite's RETURNING drops table names).
_OTHER_LINES_PIECES = sa.literal_column(
    "(SELECT coalesce(sum(other.quantity), 0) FROM cart_line AS other"
    " WHERE other.cart_id = cart_line.cart_id AND other.id <> cart_line.id)",
    sa.Integer,
)


@cache
def _add_one_to_visitors_line(dialect: str, *, by_user: bool, alone: bool):
    """One variant added to the visitor's own line in one statement: ``INSERT … SELECT``
    from their cart (by account, or a guest's token) and the variant, only if it is for
    sale outside a school's shop and, when stocked, the cart's pieces of it plus
    ``quantity`` do not pass what is left; then ``_add_to_line``'s upsert (9,999 at
    most). Returns the line's cart, its new quantity and the cart's other pieces; no row
    when any rule (or a missing cart) refused it, and nothing changed. ``alone``: the
    statement is its own transaction (``run_alone`` outside one), committed without
    waiting for the disk (``commits_without_waiting_for_disk``: a cart line is a write
    the visitor can repeat, and an order's commit flushes it)."""
    if by_user:
        found = _CART.c.user_id == sa.bindparam("user_id")
    else:
        found = sa.and_(_CART.c.token == sa.bindparam("token"), _CART.c.user_id.is_(None))
    quantity = sa.bindparam("quantity", type_=sa.Integer)
    in_cart = _in_cart(_CART.c.id, same_line=False).scalar_subquery()
    left = _VARIANT.c.on_hand - _VARIANT.c.allocated
    rows = (
        sa.select(_CART.c.id, _VARIANT.c.id, quantity, sa.null(), sa.literal(""), sa.literal(""))
        .join_from(_CART, _VARIANT, _VARIANT.c.id == sa.bindparam("variant_id"))
        .join(_PRODUCT, _PRODUCT.c.id == _VARIANT.c.product_id)
        .where(
            found,
            _VARIANT.c.for_sale,
            _PRODUCT.c.active,
            _PRODUCT.c.school_id.is_(None),
            sa.or_(_PRODUCT.c.made_to_order, in_cart + quantity <= left),
            *(commits_without_waiting_for_disk(dialect) if alone else ()),
        )
    )
    statement: sqlite.Insert | postgresql.Insert
    statement = (sqlite if dialect == "sqlite" else postgresql).insert(_LINE)
    statement = statement.from_select(
        ["cart_id", "variant_id", "quantity", "school_id", "student_name", "class_name"], rows
    )
    new_quantity = _LINE.c.quantity + statement.excluded.quantity
    upsert = statement.on_conflict_do_update(
        index_elements=[_LINE.c[name] for name in _LINE_KEY],
        set_={"quantity": new_quantity},
        where=new_quantity <= MAX_QUANTITY,
    ).returning(_LINE.c.cart_id, _LINE.c.quantity, _OTHER_LINES_PIECES.label("others"))
    return PreparedSelect(upsert)  # compiled once: the shop's most frequent write


def _add_one_alone(
    session: Session, *, user_id: int | None, token: str | None, additions: dict[int, int]
) -> "Added | None":
    """The usual add — one variant, to a cart the visitor has — as one statement and its
    own transaction (``shop.db.run_alone``: one round trip on PostgreSQL). ``None`` when
    it is not that add, or a rule refused it: nothing changed, and the general way finds
    out why (or makes the cart)."""
    if len(additions) != 1 or (user_id is None and not token):
        return None
    [(variant_id, quantity)] = additions.items()
    if not 1 <= quantity <= MAX_QUANTITY:
        return None
    dialect = session.get_bind().dialect.name
    if dialect not in ("sqlite", "postgresql"):
        return None
    params: dict[str, object] = {"variant_id": variant_id, "quantity": quantity}
    if user_id is not None:
        params["user_id"] = user_id
    else:
        params["token"] = token
    alone = not session.in_transaction()  # else run_alone runs it in the caller's
    statement = _add_one_to_visitors_line(dialect, by_user=user_id is not None, alone=alone)
    rows = run_alone(session, statement, params)
    if not rows:
        return None
    [(cart_id, line_quantity, others)] = rows
    _forget_loaded_lines(session, cart_id)
    return Added(cart_id, quantity, others + line_quantity)


@dataclass(frozen=True)
class Added:
    """What ``add_to_visitors_cart`` did: the cart, the pieces added and the pieces now in
    the cart (the header's count), and the token of a guest's cart it had to make."""

    cart_id: int
    added: int
    cart_pieces: int
    new_guest_token: str | None = None


def add_to_visitors_cart(
    session: Session, *, user_id: int | None, token: str | None, additions: dict[int, int]
) -> Added:
    """The shop's add (``POST /cart/add``): ``add_to_cart`` for the visitor's own cart,
    found by account or by a guest's token in the same read as the variants, and made
    now on the first add. Two statements for a cart that exists: that read, the upsert;
    one for the usual add, one variant to a cart that exists (``_add_one_alone``, which
    commits it at once), and anything that does not do comes this way.

    The count is the cart's pieces as read plus those added (the usual add: the line's
    new quantity and the other lines' pieces as the upsert saw them): an add from the
    same cart at the very same moment may be missing from it until the cart page counts
    again."""
    fast = _add_one_alone(session, user_id=user_id, token=token, additions=additions)
    if fast is not None:
        return fast
    finder: dict[str, object]
    if user_id is not None:
        statement, finder = _ADDABLE_TO_USERS_CART, {"user_id": user_id}
    elif token:
        statement, finder = _ADDABLE_TO_GUESTS_CART, {"token": token}
    else:
        statement, finder = _ADDABLE, {"cart_id": None}
    names = {"student_name": "", "class_name": ""}
    params: dict[str, object] = {**finder, **names}
    rows = _checked_rows(session, statement, params, additions, school_id=None)
    cart_id = rows[0].cart_id
    new_guest_token = None
    if cart_id is None:
        cart_id, new_token = create_cart(session, user_id=user_id)
        new_guest_token = new_token if user_id is None else None
    added = _upsert_lines(session, cart_id, additions, {**names, "school_id": None})
    return Added(cart_id, added, rows[0].cart_pieces + added, new_guest_token)


def add_to_cart(
    session: Session,
    cart_id: int,
    additions: dict[int, int],
    *,
    school_id: int | None = None,
    student_name: str = "",
    class_name: str = "",
) -> int:
    """Add ``{variant_id: quantity}`` to the cart, all or nothing (the caller rolls back
    on an error); returns the pieces added.

    Lines for a child at a school (``student_name``, ``class_name``) are kept apart from
    each other and from the buyer's own lines; the stock check counts them all."""
    names = {"student_name": student_name, "class_name": class_name}
    params = {"cart_id": cart_id, **names}
    _checked_rows(session, _ADDABLE, params, additions, school_id=school_id)
    return _upsert_lines(session, cart_id, additions, {**names, "school_id": school_id})


def _checked_rows(
    session: Session, statement, params: dict, additions: dict[int, int], *, school_id
) -> list[sa.Row]:
    """The ``_addable`` rows of the variants added, once every addition passes the
    quantity, sale and stock rules (else the first refusal is raised)."""
    if not additions:
        raise InvalidQuantity("")
    for quantity in additions.values():
        if quantity < 1:
            raise InvalidQuantity(str(quantity))
    rows = session.execute(statement, {**params, "variant_ids": list(additions)}).all()
    variants = {row.id: row for row in rows}
    for variant_id, quantity in additions.items():
        row = variants.get(variant_id)
        if row is None or row.school_id not in (None, school_id):
            raise UnknownVariant()  # a school-only product is sold in its school's shop
        check_quantity(
            row.on_line + quantity,
            sku=row.sku,
            available=None if row.made_to_order else max(row.on_hand - row.allocated, 0),
            in_other_lines=row.in_cart - row.on_line,
        )
    return list(rows)


def _upsert_lines(session: Session, cart_id: int, additions: dict[int, int], line: dict) -> int:
    """The upsert of every addition's line (``line``: its school, student and class);
    raises ``TooMany`` when adds at the same moment took one past 9,999."""
    upsert = _add_to_line(session.get_bind().dialect.name)
    lines = [
        {"cart_id": cart_id, **line, "variant_id": variant_id, "quantity": quantity}
        for variant_id, quantity in additions.items()
    ]
    if len(session.execute(upsert, lines).all()) != len(lines):
        raise TooMany()
    _forget_loaded_lines(session, cart_id)
    return sum(additions.values())


def _forget_loaded_lines(session: Session, cart_id: int) -> None:
    """A ``Cart`` this session loaded before the add would still show its old lines: it
    reads them again when next asked."""
    cart = session.identity_map.get(sa.inspect(Cart).identity_key_from_primary_key((cart_id,)))
    if cart is not None:
        session.expire(cart, ["lines"])


def count_pieces(session: Session, cart_id: int | None) -> int:
    """The pieces in the cart (the header's count), without loading it."""
    if cart_id is None:
        return 0
    return session.scalar(_CART_PIECES, {"cart_id": cart_id}) or 0


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
