"""A window's picks and collections: the reseller's edits, and the pages that show them.

Edits take the reseller's row lock first (``shop.db.lock_row``), so two edits of one
window run one after the other: the limits (``MAX_PICKS``, ``MAX_COLLECTIONS``), the
positions and the "already picked" check hold at any concurrency. Only an approved window
may change its picks and collections.

The window's pages read a page of picks (``WINDOW_PAGE_SIZE``) as the catalogue reads a
page of its listing, from a statement prepared once (``WindowStatements``): the page's
product rows with their prices and pictures, made into the catalogue's own
``ProductCard``s. Products that are off sale or a school's own are left out. The cost
does not grow with the catalogue, nor with the picks beyond the page (their count aside,
bounded by ``MAX_PICKS``).
"""

import functools
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import NamedTuple

import sqlalchemy as sa
from sqlalchemy.orm import Session

from shop import positions
from shop.catalog.listing import (
    CARD_COLUMNS,
    ProductCard,
    Scope,
    build_cards,
    listed_conditions,
    with_card_columns,
)
from shop.catalog.models import Product
from shop.db import PreparedSelect, Read, ReadsBeside, lock_row, rows_changed
from shop.exceptions import ShopError
from shop.pagination import Page, count_rows, paginate
from shop.resellers.models import (
    CollectionPick,
    Reseller,
    ResellerCollection,
    ResellerPick,
    WindowProfile,
)
from shop.resellers.rules import MAX_COLLECTIONS, MAX_PICKS, free_slug, slug_from_title

WINDOW_PAGE_SIZE = 48


class NotApproved(ShopError):
    message = "Only an approved window can change its picks."


class ProductNotAvailable(ShopError):
    message = "That product is not on sale in the catalogue."


class AlreadyPicked(ShopError):
    message = "That product is in the window already."


class TooManyPicks(ShopError):
    message = "The window holds as many picks as it can."


class PickGone(ShopError):
    message = "That pick is no longer in the window."


class CollectionSlugTaken(ShopError):
    message = "Another collection of the window already uses this address."


class TooManyCollections(ShopError):
    message = "The window has as many collections as it can."


class CollectionGone(ShopError):
    message = "That collection was deleted."


def _lock(session: Session, reseller: Reseller) -> None:
    """Serialise this window's edits, then check (on fresh data) that it is approved."""
    lock_row(session, Reseller.bio, reseller.id)
    session.refresh(reseller)
    if reseller.status != "approved":
        raise NotApproved()


def lock_window(session: Session, reseller: Reseller) -> None:
    """For other rules of a window (its prices): its edits one at a time, approved only."""
    _lock(session, reseller)


def _listed():
    """What a window may show: the catalogue's own products on sale (as the listing)."""
    return listed_conditions(Scope())


# --- picks -------------------------------------------------------------------------------


def add_pick(session: Session, reseller: Reseller, product_slug: str) -> ResellerPick:
    """Put the product with ``product_slug`` last in the window. Raises ``NotApproved``,
    ``ProductNotAvailable``, ``AlreadyPicked``, ``TooManyPicks``."""
    _lock(session, reseller)
    product_id = session.scalar(
        sa.select(Product.id).where(Product.slug == product_slug, *_listed())
    )
    if product_id is None:
        raise ProductNotAvailable()
    mine = sa.select(ResellerPick).where(ResellerPick.reseller_id == reseller.id)
    if session.scalar(mine.where(ResellerPick.product_id == product_id)) is not None:
        raise AlreadyPicked()
    if count_rows(session, mine) >= MAX_PICKS:
        raise TooManyPicks()
    last = session.scalar(
        sa.select(sa.func.max(ResellerPick.position)).where(ResellerPick.reseller_id == reseller.id)
    )
    pick = ResellerPick(
        reseller_id=reseller.id, product_id=product_id, position=(last or 0) + 1, note=""
    )
    session.add(pick)
    session.flush()
    return pick


def _own_pick(session: Session, reseller: Reseller, pick_id: int) -> ResellerPick:
    pick = session.get(ResellerPick, pick_id)
    if pick is None or pick.reseller_id != reseller.id:
        raise PickGone()
    return pick


def move_pick(session: Session, reseller: Reseller, pick_id: int, direction: str) -> bool:
    """Swap a pick with its neighbour before (``"up"``) or after; ``False`` at an end."""
    _lock(session, reseller)
    pick = _own_pick(session, reseller, pick_id)
    picks = list(
        session.scalars(
            sa.select(ResellerPick)
            .where(ResellerPick.reseller_id == reseller.id)
            .order_by(ResellerPick.position, ResellerPick.id)
        )
    )
    moved = positions.move(picks, pick, direction)
    session.flush()
    return moved


def set_pick_note(session: Session, reseller: Reseller, pick_id: int, note: str) -> None:
    """The pick's one-line note (checked by the form: ``NOTE_MAX_LENGTH``, one line)."""
    _lock(session, reseller)
    pick = _own_pick(session, reseller, pick_id)
    pick.note = note
    session.flush()


def remove_pick(session: Session, reseller: Reseller, pick_id: int) -> None:
    """Take a pick out of the window and out of its collections. Raises ``PickGone``
    (removed already: the same form twice)."""
    _lock(session, reseller)
    pick = _own_pick(session, reseller, pick_id)
    collections = sa.select(ResellerCollection.id).where(
        ResellerCollection.reseller_id == reseller.id
    )
    session.execute(
        sa.delete(CollectionPick)
        .where(
            CollectionPick.collection_id.in_(collections),
            CollectionPick.product_id == pick.product_id,
        )
        .execution_options(synchronize_session=False)
    )
    session.delete(pick)
    session.flush()


# --- collections -------------------------------------------------------------------------


def create_collection(
    session: Session, reseller: Reseller, title: str, slug: str
) -> ResellerCollection:
    """A new, empty collection last among the window's, at ``slug`` (empty: one made
    from the title). Raises ``NotApproved``, ``CollectionSlugTaken``,
    ``TooManyCollections``."""
    _lock(session, reseller)
    existing = list_collections(session, reseller)
    taken = {collection.slug for collection in existing}
    if not slug:
        slug = free_slug(slug_from_title(title), taken)
    elif slug in taken:
        raise CollectionSlugTaken()
    if len(existing) >= MAX_COLLECTIONS:
        raise TooManyCollections()
    collection = ResellerCollection(
        reseller_id=reseller.id,
        slug=slug,
        title=title,
        position=max((each.position for each in existing), default=0) + 1,
    )
    session.add(collection)
    session.flush()
    return collection


def _own_collection(session: Session, reseller: Reseller, collection_id: int):
    collection = session.get(ResellerCollection, collection_id)
    if collection is None or collection.reseller_id != reseller.id:
        raise CollectionGone()
    return collection


def rename_collection(session: Session, reseller: Reseller, collection_id: int, title: str):
    _lock(session, reseller)
    _own_collection(session, reseller, collection_id).title = title
    session.flush()


def delete_collection(session: Session, reseller: Reseller, collection_id: int) -> None:
    """Delete a collection (its picks stay in the window). Raises ``CollectionGone``."""
    _lock(session, reseller)
    collection = _own_collection(session, reseller, collection_id)
    session.execute(
        sa.delete(CollectionPick)
        .where(CollectionPick.collection_id == collection.id)
        .execution_options(synchronize_session=False)
    )
    session.delete(collection)
    session.flush()


def add_to_collection(
    session: Session, reseller: Reseller, collection_id: int, pick_id: int
) -> bool:
    """Show a pick in a collection too (last); ``False`` if it is there already."""
    _lock(session, reseller)
    collection = _own_collection(session, reseller, collection_id)
    pick = _own_pick(session, reseller, pick_id)
    items = _collection_items(session, collection.id)
    if any(item.product_id == pick.product_id for item in items):
        return False
    position = max((item.position for item in items), default=0) + 1
    session.add(
        CollectionPick(collection_id=collection.id, product_id=pick.product_id, position=position)
    )
    session.flush()
    return True


def _collection_items(session: Session, collection_id: int) -> list[CollectionPick]:
    return list(
        session.scalars(
            sa.select(CollectionPick)
            .where(CollectionPick.collection_id == collection_id)
            .order_by(CollectionPick.position, CollectionPick.id)
        )
    )


def move_in_collection(
    session: Session, reseller: Reseller, collection_id: int, item_id: int, direction: str
) -> bool:
    _lock(session, reseller)
    collection = _own_collection(session, reseller, collection_id)
    items = _collection_items(session, collection.id)
    item = next((each for each in items if each.id == item_id), None)
    if item is None:
        raise PickGone()
    moved = positions.move(items, item, direction)
    session.flush()
    return moved


def remove_from_collection(
    session: Session, reseller: Reseller, collection_id: int, item_id: int
) -> None:
    """Take a pick out of a collection (it stays in the window)."""
    _lock(session, reseller)
    collection = _own_collection(session, reseller, collection_id)
    removed = rows_changed(
        session,
        sa.delete(CollectionPick)
        .where(CollectionPick.id == item_id, CollectionPick.collection_id == collection.id)
        .execution_options(synchronize_session=False),
    )
    if removed != 1:
        raise PickGone()


class CollectionRow(NamedTuple):
    """A collection as lists of them show it (the window's menu, the reseller's page)."""

    id: int
    slug: str
    title: str
    position: int


# Every window page lists its collections: a statement prepared once, plain rows.
def _reseller_id(by_handle: bool) -> sa.ColumnElement:
    """A window's statements' reseller: the ``reseller_id`` parameter, or ``by_handle`` the
    id of the window at the ``handle`` parameter (read in the statement, so that a window's
    page reads the window and its picks together: ``window_picks_at``)."""
    if not by_handle:
        return sa.bindparam("reseller_id")
    return sa.select(Reseller.id).where(Reseller.handle == sa.bindparam("handle")).scalar_subquery()


def _collections(by_handle: bool) -> PreparedSelect:
    return PreparedSelect(
        sa.select(
            ResellerCollection.id,
            ResellerCollection.slug,
            ResellerCollection.title,
            ResellerCollection.position,
        )
        .where(ResellerCollection.reseller_id == _reseller_id(by_handle))
        .order_by(ResellerCollection.position, ResellerCollection.id)
    )


_COLLECTIONS = _collections(by_handle=False)
_COLLECTIONS_AT = _collections(by_handle=True)


def list_collections(session: Session, reseller: Reseller) -> list[CollectionRow]:
    """The window's collections in order (at most ``MAX_COLLECTIONS``)."""
    return collections_of(_COLLECTIONS.rows(session.connection(), reseller_id=reseller.id))


def collections_of(rows) -> list[CollectionRow]:
    return [CollectionRow._make(row) for row in rows]


def get_collection(
    session: Session, reseller: Reseller | WindowProfile, slug: str
) -> ResellerCollection | None:
    return session.scalar(
        sa.select(ResellerCollection).where(
            ResellerCollection.reseller_id == reseller.id, ResellerCollection.slug == slug
        )
    )


# --- the pages ---------------------------------------------------------------------------


@dataclass(frozen=True)
class OwnPick:
    """A row of the reseller's own list: every pick, on sale or not."""

    id: int
    slug: str
    name: str
    name_zh: str | None
    name_ja: str | None
    note: str
    on_sale: bool
    collection_item_id: int | None = None  # on a collection's page: the item to move


def list_own_picks(
    session: Session, reseller: Reseller, page: int, per_page: int = WINDOW_PAGE_SIZE
) -> tuple[Page, list[OwnPick]]:
    """A page of the window's picks in order, off-sale ones too (marked)."""
    query = (
        sa.select(
            ResellerPick.id,
            ResellerPick.note,
            Product.slug,
            Product.name,
            Product.name_zh,
            Product.name_ja,
            sa.and_(*_listed()).label("on_sale"),
        )
        .join(Product, Product.id == ResellerPick.product_id)
        .where(ResellerPick.reseller_id == reseller.id)
    )
    shown = paginate(count_rows(session, query), page, per_page)
    rows = session.execute(
        query.order_by(ResellerPick.position, ResellerPick.id)
        .offset(shown.offset)
        .limit(shown.per_page)
    ).all()
    return shown, [
        OwnPick(row.id, row.slug, row.name, row.name_zh, row.name_ja, row.note, bool(row.on_sale))
        for row in rows
    ]


def list_collection_items(
    session: Session, reseller: Reseller, collection: ResellerCollection
) -> list[OwnPick]:
    """A collection's picks in order, for its owner (at most ``MAX_PICKS``)."""
    rows = session.execute(
        sa.select(
            CollectionPick.id.label("item_id"),
            ResellerPick.id,
            ResellerPick.note,
            Product.slug,
            Product.name,
            Product.name_zh,
            Product.name_ja,
            sa.and_(*_listed()).label("on_sale"),
        )
        .join(Product, Product.id == CollectionPick.product_id)
        .join(
            ResellerPick,
            (ResellerPick.product_id == CollectionPick.product_id)
            & (ResellerPick.reseller_id == reseller.id),
        )
        .where(CollectionPick.collection_id == collection.id)
        .order_by(CollectionPick.position, CollectionPick.id)
        .limit(MAX_PICKS)
    ).all()
    return [
        OwnPick(
            row.id,
            row.slug,
            row.name,
            row.name_zh,
            row.name_ja,
            row.note,
            bool(row.on_sale),
            row.item_id,
        )
        for row in rows
    ]


@dataclass(frozen=True)
class WindowPage:
    page: Page
    cards: list[ProductCard]
    notes: dict[str, str]  # card slug → the reseller's note (only those with one)
    # The window's collections (``list_collections``), when asked for (``with_collections``).
    collections: list[CollectionRow] | None = None


# The pages a window (or a collection) can have: no more picks than ``MAX_PICKS``.
LAST_WINDOW_PAGE = -(-MAX_PICKS // WINDOW_PAGE_SIZE)


@dataclass(frozen=True)
class WindowStatements:
    """A window's page as prepared statements (``PreparedSelect``), compiled once per
    database: the page's picks in order with how many there are, then the prices and
    pictures (``with_card_columns``) of those on the page only; and a count alone, for a
    page past the end (which shows the last page). Parameters: the picks query's own,
    ``currency``, ``offset`` and ``limit``. Each row: the ``CARD_COLUMNS``, the note
    (``NOTE``), the count (``TOTAL``), the card columns.

    The count: on PostgreSQL a window ``count(*) OVER ()`` over the picks the page is
    chosen from (read once: a window holds at most ``MAX_PICKS``, and its page is chosen
    after all of them are read and sorted anyway, or a walk of their index that a
    separate count would walk again); on SQLite an uncorrelated subquery, counted once
    over at most ``MAX_PICKS`` picks (with ``count(*) OVER ()`` SQLite sorted the picks
    again instead of reading them in their index's order)."""

    page: PreparedSelect
    count: PreparedSelect

    @classmethod
    def of(cls, picks: sa.Select, order: tuple, dialect: str) -> "WindowStatements":
        position, tiebreak = order
        walk = picks.add_columns(position.label("pick_position"), tiebreak.label("pick_id"))
        # In the picks' order: the database walks their index (a count alone may start
        # from the catalogue's products instead, as SQLite does for a collection's).
        in_order = picks.order_by(*order).limit(MAX_PICKS).subquery()
        count = sa.select(sa.func.count()).select_from(in_order)
        if dialect == "postgresql":
            counted = sa.func.least(sa.func.count().over(), MAX_PICKS)  # as ``count``
            walk = walk.add_columns(counted.label("total"))
        chosen = (
            walk.order_by(*order)
            .offset(sa.bindparam("offset"))
            .limit(sa.bindparam("limit"))
            .subquery("page")
        )
        total = chosen.c.total if dialect == "postgresql" else count.scalar_subquery()
        page = sa.select(
            *(chosen.c[column.key] for column in CARD_COLUMNS),
            chosen.c.note,
            total.label("total"),
        )
        page = with_card_columns(page, chosen.c.id, dialect)
        page = page.order_by(chosen.c.pick_position, chosen.c.pick_id)
        return cls(PreparedSelect(page), PreparedSelect(count))


# A page's row, read by position (a Row's attributes are looked up by name on every read).
NOTE = len(CARD_COLUMNS)
TOTAL = NOTE + 1
_SLUG = [column.key for column in CARD_COLUMNS].index("slug")


@functools.cache
def _window_picks(dialect: str, by_handle: bool = False) -> WindowStatements:
    return WindowStatements.of(
        sa.select(*CARD_COLUMNS, ResellerPick.note)
        .join(ResellerPick, ResellerPick.product_id == Product.id)
        .where(ResellerPick.reseller_id == _reseller_id(by_handle), *_listed()),
        (ResellerPick.position, ResellerPick.id),
        dialect,
    )


def _window_picks_at(dialect: str) -> WindowStatements:
    return _window_picks(dialect, by_handle=True)


@functools.cache
def _collection_picks(dialect: str) -> WindowStatements:
    return WindowStatements.of(
        sa.select(*CARD_COLUMNS, ResellerPick.note)
        .join(CollectionPick, CollectionPick.product_id == Product.id)
        .join(
            ResellerPick,
            (ResellerPick.product_id == Product.id)
            & (ResellerPick.reseller_id == sa.bindparam("reseller_id")),
        )
        .where(CollectionPick.collection_id == sa.bindparam("collection_id"), *_listed()),
        (CollectionPick.position, CollectionPick.id),
        dialect,
    )


def _window_page(
    session: Session,
    statements_for: Callable[[str], WindowStatements],
    ids: Mapping[str, int | str],
    page: int,
    currency: str,
    locale: str,
    with_collections: bool,
    lookup: PreparedSelect | None = None,
) -> tuple[WindowPage, list]:
    """One statement for the page (two for a page past the end), whatever the picks;
    the window's collections, when asked for, and ``lookup`` (a read of the window at
    ``ids["handle"]``), with the first: one round trip for all on PostgreSQL. → the page
    and ``lookup``'s rows (none without it; without any, no count is read either)."""
    connection = session.connection()
    statements = statements_for(connection.dialect.name)
    reads: list[Read] = []
    if lookup is not None:
        reads.append((lookup, {"handle": ids["handle"]}))
    if with_collections:
        collections = _COLLECTIONS_AT if "handle" in ids else _COLLECTIONS
        reads.append(
            (collections, {key: ids[key] for key in ("handle", "reseller_id") if key in ids})
        )
    beside = ReadsBeside(*reads)
    requested = min(max(page, 1), LAST_WINDOW_PAGE)
    params = {**ids, "currency": currency, "limit": WINDOW_PAGE_SIZE}
    offset = (requested - 1) * WINDOW_PAGE_SIZE
    rows = beside.rows(statements.page, connection, offset=offset, **params)
    looked_up = beside.taken(connection)[0] if lookup is not None else []
    if rows:
        shown = paginate(rows[0][TOTAL], requested, WINDOW_PAGE_SIZE)
    elif lookup is not None and not looked_up:
        shown = paginate(0, page, WINDOW_PAGE_SIZE)  # no window there: nothing to count
    else:
        shown = paginate(statements.count.rows(connection, **ids)[0][0], page, WINDOW_PAGE_SIZE)
        if shown.total:
            rows = statements.page.rows(connection, offset=shown.offset, **params)
    cards = build_cards([(row, row) for row in rows], currency, locale)
    notes = {row[_SLUG]: row[NOTE] for row in rows if row[NOTE]}
    collections_read = beside.taken(connection)[-1] if with_collections else None
    page_read = WindowPage(
        shown, cards, notes, collections_of(collections_read) if with_collections else None
    )
    return page_read, looked_up


def window_picks(
    session: Session,
    reseller: Reseller | WindowProfile,
    *,
    page: int,
    currency: str,
    locale: str,
    with_collections: bool = False,
) -> WindowPage:
    """A page of the window as visitors see it: picks on sale, in the reseller's order."""
    ids = {"reseller_id": reseller.id}
    return _window_page(session, _window_picks, ids, page, currency, locale, with_collections)[0]


def window_picks_at(
    session: Session, handle: str, lookup: PreparedSelect, *, page: int, currency: str, locale: str
) -> tuple[list, WindowPage]:
    """``window_picks`` of the window at ``handle``, with its collections, and the rows of
    ``lookup`` (the window itself, read by its ``handle`` parameter) read with them: one
    round trip on PostgreSQL where looking the window up first costs two. The page shows
    the picks of whichever window has the handle: the caller shows it only if ``lookup``
    finds the window one to show."""
    ids = {"handle": handle}
    shown, looked_up = _window_page(
        session, _window_picks_at, ids, page, currency, locale, True, lookup
    )
    return looked_up, shown


def collection_picks(
    session: Session,
    reseller: Reseller | WindowProfile,
    collection: ResellerCollection,
    *,
    page: int,
    currency: str,
    locale: str,
    with_collections: bool = False,
) -> WindowPage:
    """A page of a collection as visitors see it, each pick with its note."""
    ids = {"reseller_id": reseller.id, "collection_id": collection.id}
    shown, _ = _window_page(
        session, _collection_picks, ids, page, currency, locale, with_collections
    )
    return shown
