"""Which versions a transaction changes, bumped when (and only when) it commits.

Listeners on every SQLAlchemy ``Session`` watch what is written:

- any insert, update or delete of a catalogue table (products, variants other than their
  stock, price tiers, images, categories, search synonyms, the filter menus' values,
  schools, uniform lists, delivery rounds) —
  through the ORM or a Core statement such as the CSV import's bulk inserts — changes
  ``catalogue``;
- any write to what a reseller's window shows (the window's profile and status, its picks,
  collections, reseller prices and the factory's programme) changes ``windows`` (one name
  for all windows: they change rarely, and a visit's own rows are not among them);
- every stock movement writes a ``StockMovement`` ledger row (``shop.stock.allocation``
  is the only module that changes stock, with Core ``UPDATE``s of ``variant`` that are
  therefore not catalogue changes); its variant's product changes ``stock:<slug>`` and
  every school whose uniform list holds that product ``school-stock:<slug>``.

- any write of a window's prices or picks, or of the terms and programme they follow,
  changes ``reseller-prices`` (the pages of visitors marked for a window that prices).

The names are bumped after the commit, never before: a page rendered from the old rows
while the transaction was open is stored under the old versions, which nobody asks for
again. A rollback bumps nothing; a rolled-back savepoint keeps what the rest of its
transaction noted.
"""

import logging
import weakref

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.orm import ORMExecuteState, Session

from shop.catalog.models import (
    Category,
    PriceTier,
    Product,
    ProductImage,
    Variant,
    VariantFacet,
)
from shop.catalog.search_models import Synonym, SynonymGroup
from shop.resellers.models import (
    CollectionPick,
    Reseller,
    ResellerCollection,
    ResellerPick,
    ResellerPrice,
    ResellerProgram,
    ResellerTerms,
)
from shop.schools.models import DeliveryRound, School, UniformItem
from shop.stock.models import StockMovement

logger = logging.getLogger(__name__)

CATALOGUE = "catalogue"
CATALOGUE_MODELS = (
    Product,
    Variant,
    PriceTier,
    ProductImage,
    Category,
    School,
    UniformItem,
    DeliveryRound,
    # Search synonyms change what a cached search page lists.
    SynonymGroup,
    Synonym,
    # The filter menus' values: triggers add them with the variant write (a catalogue
    # change already); only the prune (shop.catalog.facets) writes them itself.
    VariantFacet,
)
# (The search grams and sort prices follow products and tiers through database triggers.)
CATALOGUE_TABLES = frozenset(model.__tablename__ for model in CATALOGUE_MODELS)
STOCK_COLUMNS = frozenset({"on_hand", "allocated"})
WINDOWS = "windows"
WINDOW_PRICES = "reseller-prices"
# A write to any of these changes both names (windows change rarely; one rule is simpler
# than knowing which column a marked visitor's prices read).
WINDOW_NAMES = (WINDOWS, WINDOW_PRICES)
WINDOW_MODELS = (
    Reseller,
    ResellerPick,
    ResellerCollection,
    CollectionPick,
    ResellerPrice,
    ResellerProgram,
    ResellerTerms,
)
WINDOW_TABLES = frozenset(model.__tablename__ for model in WINDOW_MODELS)

# The store each engine's writes bump (one per app; tests make many apps).
_stores: "weakref.WeakKeyDictionary[sa.Engine, object]" = weakref.WeakKeyDictionary()
_PENDING = "pagecache_names"
_STOCK_VARIANTS = "pagecache_variants"


def stock_name(product_slug: str) -> str:
    return f"stock:{product_slug}"


def school_stock_name(school_slug: str) -> str:
    return f"school-stock:{school_slug}"


def register(engine: sa.Engine, store) -> None:
    _stores[engine] = store


def store_for(session: Session):
    try:
        bind = session.get_bind()
    except sa.exc.UnboundExecutionError:
        return None
    engine = bind if isinstance(bind, sa.Engine) else bind.engine
    return _stores.get(engine)


def _pending(session: Session) -> set[str]:
    return session.info.setdefault(_PENDING, set())


def _is_stock_only(obj: Variant) -> bool:
    changed = {attr.key for attr in sa.inspect(obj).attrs if attr.history.has_changes()}
    return bool(changed) and changed <= STOCK_COLUMNS


@event.listens_for(Session, "before_flush")
def _note_flush(session: Session, _context, _instances) -> None:
    variants = session.info.setdefault(_STOCK_VARIANTS, set())
    for obj in session.new:
        if isinstance(obj, StockMovement):
            variants.add(obj.variant_id)
        elif isinstance(obj, CATALOGUE_MODELS):
            _pending(session).add(CATALOGUE)
        elif isinstance(obj, WINDOW_MODELS):
            _pending(session).update(WINDOW_NAMES)
    for obj in session.deleted:
        if isinstance(obj, CATALOGUE_MODELS):
            _pending(session).add(CATALOGUE)
        elif isinstance(obj, WINDOW_MODELS):
            _pending(session).update(WINDOW_NAMES)
    for obj in session.dirty:
        if isinstance(obj, WINDOW_MODELS) and session.is_modified(obj):
            _pending(session).update(WINDOW_NAMES)
        if not isinstance(obj, CATALOGUE_MODELS) or not session.is_modified(obj):
            continue
        if isinstance(obj, Variant) and _is_stock_only(obj):
            variants.add(obj.id)
        else:
            _pending(session).add(CATALOGUE)


@event.listens_for(Session, "do_orm_execute")
def _note_statement(state: ORMExecuteState) -> None:
    if not (state.is_insert or state.is_update or state.is_delete):
        return
    if state.execution_options.get("changes_nothing"):
        return  # shop.db.lock_row: a row lock, the row stays as it was
    table = getattr(state.statement, "table", None)
    name = getattr(table, "name", None)
    if name in WINDOW_TABLES:
        _pending(state.session).update(WINDOW_NAMES)
        return
    if name not in CATALOGUE_TABLES:
        return
    if name == "variant" and state.is_update:
        return  # a stock change: its StockMovement row names the variant
    _pending(state.session).add(CATALOGUE)


@event.listens_for(Session, "before_commit")
def _resolve_stock(session: Session) -> None:
    """Turn the variants whose stock moved into product and school names, in the
    transaction (one query), before it commits."""
    if session.new or session.dirty or session.deleted:
        session.flush()
    variants = session.info.pop(_STOCK_VARIANTS, None)
    if not variants or store_for(session) is None:
        return
    rows = session.execute(
        sa.select(Product.slug, School.slug.label("school_slug"))
        .select_from(Variant)
        .join(Product, Product.id == Variant.product_id)
        .outerjoin(UniformItem, UniformItem.product_id == Product.id)
        .outerjoin(School, School.id == UniformItem.school_id)
        .where(Variant.id.in_(sorted(variants)))
    ).all()
    names = _pending(session)
    for row in rows:
        names.add(stock_name(row.slug))
        if row.school_slug:
            names.add(school_stock_name(row.school_slug))


@event.listens_for(Session, "after_commit")
def _bump(session: Session) -> None:
    names = session.info.pop(_PENDING, None)
    session.info.pop(_STOCK_VARIANTS, None)
    if not names:
        return
    store = store_for(session)
    if store is None:
        return
    try:
        store.bump(sorted(names))
    except Exception:  # the change is committed; say loudly that pages may lag
        logger.exception("could not bump page versions %s: cached pages may be stale", names)


@event.listens_for(Session, "after_transaction_end")
def _forget(session: Session, transaction) -> None:
    """The outermost transaction ended without a commit (which already took its names):
    nothing it noted happened. A savepoint's end changes nothing here — its rollback may
    over-bump, never under-bump."""
    if transaction.parent is None and not transaction.nested:
        session.info.pop(_PENDING, None)
        session.info.pop(_STOCK_VARIANTS, None)
