"""The product listing: parse the query string, filter, sort, page, and build cards.

Loads a page in a fixed number of queries whatever its size: a count (for a search, a
window count in the same pass), the page's card columns, then the page's tiers in the
currency and first images. No ORM objects: a listing page is
the hottest path in the shop.

Its cost does not grow with the catalogue: the count stops at ``COUNT_CAP`` + 1 products
("1,000+ products"), pages go no further than the cap (so an ``OFFSET`` never walks more
than the cap's entries), and every order is a walk of an index that stops after the page:
the partial listing indexes of migration 0013, ``ix_product_listing_name[_zh|_ja]`` for
``sort=name`` and ``product_sort_price`` (each product's base price per currency, kept by
triggers) for the price sorts (migration 0014).

A search gathers at most ``COUNT_CAP`` + 1 candidates through the search indexes (the
trigram index for terms of three characters or more, the gram index for shorter ones such
as 衬衫; several terms intersected) and ranks, counts and pages only those. The trade-off:
when more products match than the cap, the page says "1,000+" and the order (relevance:
name match, then featured, then newest; or the chosen sort) applies within the candidates,
which are the first the index gives (on SQLite the newest by id; on PostgreSQL in table
order), not necessarily the best of every match. A narrower query finds the rest.
"""

from collections.abc import Mapping
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql
from sqlalchemy.orm import Session

from shop.catalog import pricing
from shop.catalog.models import (
    SEARCH_FTS_TABLE,
    SEARCH_GRAMS_FTS_TABLE,
    Category,
    PriceTier,
    Product,
    ProductImage,
    ProductSortPrice,
)
from shop.catalog.search import TRIGRAM, clean_text, fts_phrase, gram_token, search_terms
from shop.locales import localized
from shop.pagination import Page, paginate, parse_page

SORTS = ("relevance", "price_asc", "price_desc", "newest", "name")
PRICE_SORTS = ("price_asc", "price_desc")
# A listing counts (and pages through) at most this many products; past it, "1,000+".
COUNT_CAP = 1000


@dataclass(frozen=True)
class ListingQuery:
    q: str = ""
    category: str | None = None
    sort: str = "relevance"
    page: int = 1

    def args_with(self, **changes) -> dict[str, str | int]:
        """Query-string arguments for a link to this listing with some parts changed;
        defaults and ``None`` are left out so links stay short and canonical."""
        values = {"q": self.q, "category": self.category, "sort": self.sort, "page": self.page}
        values.update(changes)
        defaults = {"q": "", "category": None, "sort": "relevance", "page": 1}
        return {key: value for key, value in values.items() if value not in (None, defaults[key])}


@dataclass(frozen=True)
class ProductCard:
    """What a product card shows; built from a product, or from anything in a benchmark."""

    slug: str
    name: str
    image_path: str | None
    image_alt: str
    currency: str
    price_amount: int | None
    lowest_amount: int | None
    made_to_order: bool
    lead_time_days: int | None
    min_order_quantity: int


@dataclass(frozen=True)
class Listing:
    query: ListingQuery
    page: Page
    cards: list[ProductCard]
    category: Category | None


def parse_listing_query(args: Mapping[str, str], max_q_length: int) -> ListingQuery:
    sort = args.get("sort", "relevance")
    return ListingQuery(
        q=clean_text(args.get("q"), max_q_length),
        category=clean_text(args.get("category"), 80) or None,
        sort=sort if sort in SORTS else "relevance",
        page=parse_page(args.get("page")),
    )


def get_category(session: Session, slug: str | None) -> tuple[Category | None, list[int]]:
    """The category with this slug and the ids it lists (its own and its children's),
    from one query."""
    if not slug:
        return None, []
    rows = session.scalars(
        sa.select(Category).where(
            sa.or_(
                Category.slug == slug,
                Category.parent_id.in_(sa.select(Category.id).where(Category.slug == slug)),
            )
        )
    ).all()
    category = next((row for row in rows if row.slug == slug), None)
    if category is None:
        return None, []
    return category, [category.id, *(row.id for row in rows if row is not category)]


@dataclass
class CategoryNode:
    """A category for menus: names and children, no ORM object."""

    id: int
    slug: str
    name: str
    name_zh: str | None
    name_ja: str | None
    children: list["CategoryNode"]


def list_top_categories(session: Session) -> list[CategoryNode]:
    """Top-level categories with their children, from one query."""
    rows = session.execute(
        sa.select(
            Category.id,
            Category.slug,
            Category.name,
            Category.name_zh,
            Category.name_ja,
            Category.parent_id,
        ).order_by(Category.position, Category.id)
    ).all()
    nodes = {row.id: CategoryNode(*row[:5], children=[]) for row in rows}
    top = []
    for row in rows:
        if row.parent_id is None:
            top.append(nodes[row.id])
        elif row.parent_id in nodes:
            nodes[row.parent_id].children.append(nodes[row.id])
    return top


def list_products(
    session: Session,
    query: ListingQuery,
    *,
    currency: str,
    locale: str,
    per_page: int,
    max_q_length: int = 100,
    count_cap: int | None = None,
) -> Listing:
    count_cap = count_cap or COUNT_CAP
    category, category_ids = get_category(session, query.category)
    terms = search_terms(query.q, max_q_length)
    dialect = session.get_bind().dialect.name

    # School-only products (with a school's logo) are sold in that school's shop only.
    conditions = [Product.active == sa.true(), Product.school_id.is_(None)]
    if category is not None:
        conditions.append(Product.category_id.in_(category_ids))
    # Pages beyond the cap are not offered: such a request shows the last page there is.
    requested = min(query.page, max(-(-count_cap // per_page), 1))
    candidates = None
    if terms:
        # A search ranks, counts and pages its first ``count_cap`` + 1 matches only.
        candidates = search_candidates(terms, dialect, conditions, count_cap + 1).subquery()

    def page_rows(number: int, *extra):
        offset = (number - 1) * per_page
        if candidates is not None:
            statement = _ranked(candidates, query.sort, terms, currency, locale, *extra)
        elif query.sort in PRICE_SORTS:
            return _price_page(session, conditions, query.sort, currency, offset, per_page)
        else:
            statement = _sorted(sa.select(*CARD_COLUMNS), query.sort, locale).where(*conditions)
        return session.execute(statement.offset(offset).limit(per_page)).all()

    rows = []
    if candidates is not None:
        # The candidates are few: take their number from the same pass as the page.
        rows = page_rows(requested, sa.func.count().over().label("total"))
        total = rows[0].total if rows else _count(session, candidates)
    else:
        total = capped_count(session, conditions, count_cap)
    page = paginate(min(total, count_cap), requested, per_page, more=total > count_cap)
    if not rows and page.total:
        rows = page_rows(page.number)
    # The last page before the cap ends at the cap, as its "Showing 985–1,000" says.
    rows = rows[: page.last_item - page.offset]
    cards = build_cards(session, rows, currency, locale)
    return Listing(query=query, page=page, cards=cards, category=category)


def _count(session: Session, subquery) -> int:
    return session.scalar(sa.select(sa.func.count()).select_from(subquery)) or 0


def capped_count(session: Session, conditions: list, cap: int) -> int:
    """How many products meet ``conditions``, counting no further than ``cap`` + 1: a
    walk of at most that many index entries, however big the catalogue."""
    matches = sa.select(Product.id).where(*conditions).limit(cap + 1).subquery()
    return session.scalar(sa.select(sa.func.count()).select_from(matches)) or 0


def search_candidates(terms: list[str], dialect: str, conditions: list, limit: int):
    """A ``SELECT`` of ``CANDIDATE_COLUMNS`` of at most ``limit`` products that meet
    ``conditions`` and whose ``search_text`` holds every term, found through a search
    index: a walk that stops after ``limit`` matches, however many there are.

    With a term shorter than ``TRIGRAM`` characters (衬衫, 裤), the gram index (migration
    0014) finds the products holding every short term and every two-character piece of
    the long non-ASCII ones (牛津纺: 牛津, 津纺; pieces of English words are in nearly
    every product and would not narrow anything), and each product found is checked for
    the long terms themselves. Otherwise the trigram index (0002) answers every term.

    SQLite: the FTS5 table drives the query, newest product ids first, each match's
    product row read by its primary key (an FTS5 table joined by rowid would rerun its
    whole query per row). PostgreSQL: the GIN index narrows ``product`` in a bitmap; the
    long terms are checked outside the trigram index, whose lossy bitmap would make
    PostgreSQL recheck every row found against the (slow) gram function.
    """
    long_terms = [term for term in terms if len(term) >= TRIGRAM]
    grams = [term for term in terms if len(term) < TRIGRAM]
    if grams:
        for term in long_terms:
            if not term.isascii():
                grams.extend(_pieces(term))
    statement = sa.select(*CANDIDATE_COLUMNS)
    if dialect == "sqlite":
        if grams:
            tokens = " AND ".join(fts_phrase(gram_token(gram)) for gram in grams)
            fts = sa.table(SEARCH_GRAMS_FTS_TABLE, sa.column("rowid"))
        else:
            tokens = " AND ".join(map(fts_phrase, long_terms))
            fts = sa.table(SEARCH_FTS_TABLE, sa.column("rowid"))
        statement = (
            statement.select_from(fts)
            .join(Product, Product.id == fts.c.rowid)
            .where(sa.literal_column(fts.name).op("MATCH")(tokens))
            .order_by(fts.c.rowid.desc())
        )
    elif grams:
        indexed = sa.func.product_search_grams(Product.search_text)
        wanted = sa.literal(sorted(set(grams)), postgresql.ARRAY(sa.Text))
        statement = statement.where(indexed.op("@>")(wanted))
    else:
        statement = statement.where(
            *(Product.search_text.contains(term, autoescape=True) for term in long_terms)
        )
    if grams:
        # A plain substring test on the rows found, out of any index's reach.
        position = sa.func.instr if dialect == "sqlite" else sa.func.strpos
        statement = statement.where(
            *(position(Product.search_text, term) > 0 for term in long_terms)
        )
    return statement.where(*conditions).limit(limit)


def _pieces(term: str):
    return (term[i : i + 2] for i in range(len(term) - 1))


def _sorted(statement, sort: str, locale: str):
    """``statement`` over ``product`` in the order of ``sort`` (not the price sorts: see
    ``_price_page``), each a walk of an index that stops after the page:
    ``ix_product_listing`` (relevance), ``ix_product_listing_newest`` and
    ``ix_product_listing_name[_zh|_ja]`` (migrations 0013, 0014)."""
    if sort == "newest":
        return statement.order_by(Product.created_at.desc(), Product.id.desc())
    if sort == "name":
        return statement.order_by(_localized_name_column(locale), Product.id)
    return statement.order_by(Product.featured.desc(), Product.created_at.desc(), Product.id.desc())


def _ranked(candidates, sort: str, terms: list[str], currency: str, locale: str, *extra):
    """A search's candidates (a subquery of ``CANDIDATE_COLUMNS``) as cards in the order
    of ``sort``: at most the cap's rows to order, so no index is needed.

    Relevance: products whose name holds the first term, then featured, then newest."""
    c = candidates.c
    statement = sa.select(*(c[column.key] for column in CARD_COLUMNS), *extra)
    newest = (c.created_at.desc(), c.id.desc())
    if sort == "newest":
        return statement.order_by(*newest)
    if sort == "name":
        column = {"zh": c.name_zh, "ja": c.name_ja}.get(locale.split("_")[0])
        name = c.name if column is None else sa.func.coalesce(column, c.name)
        return statement.order_by(name, c.id)
    if sort in PRICE_SORTS:
        price = ProductSortPrice.__table__.alias("price")
        on = (price.c.product_id == c.id) & (price.c.currency == currency)
        statement = statement.select_from(candidates.outerjoin(price, on))
        direction = price.c.amount.asc() if sort == "price_asc" else price.c.amount.desc()
        return statement.order_by(direction.nulls_last(), c.id)
    name_match = sa.or_(
        *(
            sa.func.lower(column).contains(terms[0], autoescape=True)
            for column in (c.name, c.name_zh, c.name_ja)
        )
    )
    return statement.order_by(sa.case((name_match, 0), else_=1), c.featured.desc(), *newest)


def _sort_price_of(currency: str):
    return (ProductSortPrice.product_id == Product.id) & (ProductSortPrice.currency == currency)


def _price_page(session: Session, conditions: list, sort: str, currency: str, offset, limit):
    """A page of ``sort=price_asc``/``price_desc`` (by base price, then id; products
    without a price in ``currency`` last, by id): a walk of ``ix_product_sort_price_order``
    that stops after the page. Only a page past the priced products reads the unpriced
    ones: a walk of the listing in id order that skips the priced."""
    amount = ProductSortPrice.amount
    priced = (
        sa.select(*CARD_COLUMNS)
        .join(ProductSortPrice, _sort_price_of(currency))
        .where(*conditions)
        .order_by(amount.asc() if sort == "price_asc" else amount.desc())
        .order_by(ProductSortPrice.product_id)
    )
    rows = session.execute(priced.offset(offset).limit(limit)).all()
    if len(rows) == limit:
        return rows
    if rows or not offset:
        priced_total = offset + len(rows)
    else:
        counted = priced.with_only_columns(Product.id).order_by(None).limit(offset).subquery()
        priced_total = session.scalar(sa.select(sa.func.count()).select_from(counted)) or 0
    unpriced = (
        sa.select(*CARD_COLUMNS)
        .where(*conditions, ~sa.exists().where(_sort_price_of(currency)))
        .order_by(Product.id)
        .offset(max(offset - priced_total, 0))
        .limit(limit - len(rows))
    )
    return rows + session.execute(unpriced).all()


def _localized_name_column(locale: str):
    language = locale.split("_")[0]
    column = {"zh": Product.name_zh, "ja": Product.name_ja}.get(language)
    return Product.name if column is None else sa.func.coalesce(column, Product.name)


CARD_COLUMNS = (
    Product.id,
    Product.slug,
    Product.name,
    Product.name_zh,
    Product.name_ja,
    Product.made_to_order,
    Product.lead_time_days,
    Product.min_order_quantity,
)
# What a search reads of each candidate: the card and what ranks it.
CANDIDATE_COLUMNS = (*CARD_COLUMNS, Product.featured, Product.created_at)


# build_cards' statements, built once (Core over the tables, bound parameters): building
# them from ORM attributes on every page cost more than running them.
_tier_columns = PriceTier.__table__.c
_CARD_TIERS = sa.select(
    _tier_columns.product_id, _tier_columns.min_quantity, _tier_columns.unit_amount
).where(
    _tier_columns.product_id.in_(sa.bindparam("ids", expanding=True)),
    _tier_columns.currency == sa.bindparam("currency"),
)
_image_columns = ProductImage.__table__.c
_CARD_IMAGES = (
    sa.select(_image_columns.product_id, _image_columns.path, _image_columns.alt_text)
    .where(_image_columns.product_id.in_(sa.bindparam("ids", expanding=True)))
    .order_by(_image_columns.position, _image_columns.id)
)


def build_cards(session: Session, rows, currency: str, locale: str) -> list[ProductCard]:
    """Cards for product rows of ``CARD_COLUMNS``, in their order; tiers in ``currency``
    and first images come from one query each."""
    if not rows:
        return []
    ids = [row.id for row in rows]
    tiers: dict[int, list] = {}
    for row in session.execute(_CARD_TIERS, {"ids": ids, "currency": currency}):
        tiers.setdefault(row.product_id, []).append(row)
    first_images = {}
    for row in session.execute(_CARD_IMAGES, {"ids": ids}):
        first_images.setdefault(row.product_id, row)

    cards = []
    for product in rows:
        product_tiers = tiers.get(product.id, [])
        base = pricing.base_tier(product_tiers)
        image = first_images.get(product.id)
        name = localized(product, "name", locale)
        cards.append(
            ProductCard(
                slug=product.slug,
                name=name,
                image_path=image.path if image else None,
                image_alt=(image.alt_text or name) if image else name,
                currency=currency,
                price_amount=base.unit_amount if base else None,
                lowest_amount=pricing.lowest_unit_amount(product_tiers),
                made_to_order=product.made_to_order,
                lead_time_days=product.lead_time_days,
                min_order_quantity=product.min_order_quantity,
            )
        )
    return cards
