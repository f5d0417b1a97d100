"""The product listing: parse the query string, filter, sort, page, and build cards.

Loads a page in a fixed number of queries whatever its size: a count, then the page's
card columns with their prices in the currency and first images; a search is one
statement (its candidates gathered once, ranked and counted, then the page's cards). No ORM
objects: a listing page is the hottest path in the shop.

Its cost does not grow with the catalogue: the count stops at ``COUNT_CAP`` + 1 products
("1,000+ products"), pages go no further than the cap (so an ``OFFSET`` never walks more
than the cap's entries), and every order is a walk of an index that stops after the page:
the partial listing indexes of migration 0013, ``ix_product_listing_name[_zh|_ja]`` for
``sort=name`` and ``product_sort_price`` (each product's base price per currency, kept by
triggers) for the price sorts (migration 0014).

A search gathers at most ``COUNT_CAP`` + 1 candidates through the search indexes (the
trigram index for terms of three characters or more, the gram index for shorter ones such
as 衬衫; several terms intersected; a term with synonyms through both, united: see
``SearchPlan``) and ranks, counts and pages only those. The trade-off:
when more products match than the cap, the page says "1,000+" and the order (relevance:
name match, then featured, then newest; or the chosen sort) applies within the candidates,
which are the first the index gives (on SQLite the newest by id; on PostgreSQL, for one
term, the newest whose names hold it, else in table order), not necessarily the best of
every match. A narrower query finds the rest.
"""

import functools
import re
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal
from typing import Any, NamedTuple

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql
from sqlalchemy.orm import Session

from shop.catalog.attributes import AGE_GROUPS, GENDERS, UNISEX
from shop.catalog.colours import COLOURS
from shop.catalog.models import (
    SEARCH_FTS_TABLE,
    SEARCH_GRAMS_FTS_TABLE,
    Category,
    ListingVersion,
    PriceTier,
    Product,
    ProductImage,
    ProductSortPrice,
    Variant,
)
from shop.catalog.search import (
    TRIGRAM,
    clean_text,
    corrected_groups,
    database_key,
    fts_phrase,
    gram_token,
    kept_synonyms,
    read_synonyms,
    search_terms,
    synonyms_version_column,
    walk_check_term,
    walk_term,
)
from shop.catalog.search_models import SEARCH_TERMS_TABLE
from shop.db import PreparedSelect, Read, ReadsBeside, rows_together
from shop.locales import column_language
from shop.money import MAX_AMOUNT, exponent
from shop.pagination import Page, paginate, parse_page

SORTS = ("relevance", "price_asc", "price_desc", "newest", "name")
PRICE_SORTS = ("price_asc", "price_desc")
# A listing counts (and pages through) at most this many products; past it, "1,000+".
COUNT_CAP = 1000
# A search ranks at most this many matches (the cost of a search is the ranking of its
# candidates, so this keeps a search in a 100,000-product catalogue about as fast as in a
# small one); past it, "300+": a narrower query finds the rest.
SEARCH_CAP = 300


# The listing's filters (query-string names): each narrows the products shown, combined
# with ``q``, ``category`` and ``sort``. See ``parse_filters`` and ``filter_conditions``.
FILTERS = ("size", "colour", "price_min", "price_max", "stock", "moq", "gender", "age")
STOCK_CHOICES = ("in_stock", "made_to_order")
# The largest "minimum order at most N" a filter takes; a bigger N is no filter at all.
MAX_MOQ_FILTER = 100_000
# Prices typed in the filter: digits, an optional point and up to two decimals.
PRICE_PATTERN = re.compile(r"\d{1,9}(?:\.\d{1,2})?")


@dataclass(frozen=True)
class ListingQuery:
    q: str = ""
    category: str | None = None
    sort: str = "relevance"
    page: int = 1
    size: str | None = None
    colour: str | None = None
    price_min: str | None = None  # major units as typed ("49.5"), in the page's currency
    price_max: str | None = None
    stock: str | None = None  # STOCK_CHOICES
    moq: int | None = None  # minimum order quantity at most this
    gender: str | None = None
    age: str | None = None
    # Names of filters given a value the listing cannot use (ignored; the page says so).
    ignored: tuple[str, ...] = ()

    def args_with(self, **changes) -> dict[str, str | int]:
        """Query-string arguments for a link to this listing with some parts changed;
        defaults and ``None`` are left out so links stay short and canonical."""
        values = {"q": self.q, "category": self.category, "sort": self.sort, "page": self.page}
        values.update({name: getattr(self, name) for name in FILTERS})
        values.update(changes)
        defaults = {"q": "", "category": None, "sort": "relevance", "page": 1}
        return {
            key: value
            for key, value in values.items()
            if value is not None and value != defaults.get(key)
        }

    def args_without_filters(self) -> dict[str, str | int]:
        """``args_with`` for the first page of this listing with no filter."""
        return self.args_with(page=None, **dict.fromkeys(FILTERS))

    @property
    def filters(self) -> dict[str, str | int]:
        """The filters in force, by query-string name."""
        return {name: value for name in FILTERS if (value := getattr(self, name)) is not None}


class ProductCard(NamedTuple):
    """What a product card shows; built from a product, or from anything in a benchmark.
    (A named tuple: a page builds 24 of them, and a tuple is the quickest to build.)"""

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


class CategoryRow(NamedTuple):
    id: int
    slug: str
    name: str
    name_zh: str | None
    name_ja: str | None
    parent_id: int | None


@dataclass(frozen=True)
class Listing:
    query: ListingQuery
    page: Page
    cards: list[ProductCard]
    category: CategoryRow | None  # the category page's own (``category_in``)
    # A search that found nothing as typed: the corrected words it looked for instead.
    corrected: tuple[str, ...] = ()
    menus: "Menus | None" = None  # when asked for (``list_products``' ``with_menus``)


def parse_listing_query(args: Mapping[str, str], max_q_length: int) -> ListingQuery:
    sort = args.get("sort", "relevance")
    return ListingQuery(
        q=clean_text(args.get("q"), max_q_length),
        category=clean_text(args.get("category"), 80) or None,
        sort=sort if sort in SORTS else "relevance",
        page=parse_page(args.get("page")),
        **parse_filters(args),
    )


def parse_filters(args: Mapping[str, str]) -> dict:
    """The filters of a query string, each checked: an empty one is no filter; one the
    listing cannot use (an unknown colour, a price that is not a price, a NUL byte, a
    number past any minimum order) is left out and named in ``ignored``."""
    raw = {name: clean_text(args.get(name), 40) for name in FILTERS}
    parsers = {
        "size": lambda value: value if len(value) <= SIZE_LENGTH else None,
        "colour": lambda value: value if value in COLOURS else None,
        "price_min": _price,
        "price_max": _price,
        "stock": lambda value: value if value in STOCK_CHOICES else None,
        "moq": _moq,
        "gender": lambda value: value if value in GENDERS else None,
        "age": lambda value: value if value in AGE_GROUPS else None,
    }
    filters: dict = {}
    ignored = []
    for name, parse in parsers.items():
        if not raw[name]:
            continue
        value = parse(raw[name])
        if value is None or raw[name] != (args.get(name) or "").strip():
            ignored.append(name)
        else:
            filters[name] = value
    return {**filters, "ignored": tuple(ignored)}


def _price(value: str) -> str | None:
    if not PRICE_PATTERN.fullmatch(value):
        return None
    return str(Decimal(value).normalize()) if "." in value else str(int(value))


def _moq(value: str) -> int | None:
    if not value.isascii() or not value.isdigit() or len(value) > 6:
        return None
    number = int(value)
    return number if 1 <= number <= MAX_MOQ_FILTER else None


SIZE_LENGTH = 32  # variant.size


_CATEGORY = PreparedSelect(
    sa.select(Category.id, Category.slug, Category.name, Category.name_zh, Category.name_ja)
    .add_columns(Category.parent_id)
    .where(
        sa.or_(
            Category.slug == sa.bindparam("slug"),
            Category.parent_id.in_(
                sa.select(Category.id).where(Category.slug == sa.bindparam("slug"))
            ),
        )
    )
)


def get_category(
    connection: sa.Connection, slug: str | None
) -> tuple[CategoryRow | None, tuple[int, ...]]:
    """``category_in`` from one query of the category and its children only."""
    if not slug:
        return None, ()
    return category_in(category_rows_of(_CATEGORY.rows(connection, slug=slug)), slug)


def category_in(rows, slug: str | None) -> tuple[CategoryRow | None, tuple[int, ...]]:
    """The category with this slug among ``rows`` (``CategoryRow``s: every category, or
    ``get_category``'s) and the ids a page of it lists: its own, then its children's;
    ``(None, ())`` if none (the page then lists every category's products)."""
    category = next((row for row in rows if row.slug == slug), None) if slug else None
    if category is None:
        return None, ()
    return category, (category.id, *(row.id for row in rows if row.parent_id == category.id))


@dataclass
class CategoryNode:
    """A category for menus: names and children, no ORM object."""

    id: int
    slug: str
    name: str
    name_zh: str | None
    name_ja: str | None
    children: list["CategoryNode"]


_CATEGORY_TREE = PreparedSelect(
    sa.select(Category.id, Category.slug, Category.name, Category.name_zh, Category.name_ja)
    .add_columns(Category.parent_id)
    .order_by(Category.position, Category.id)
)


def list_top_categories(session: Session) -> list[CategoryNode]:
    """Top-level categories with their children, from one query."""
    return category_tree(list_category_rows(session))


def list_category_rows(session: Session) -> tuple[CategoryRow, ...]:
    """Every category, in menu order: what the category menu shows, as one plain value
    (hashed and compared as a tuple: a rendered menu's key)."""
    return category_rows_of(_CATEGORY_TREE.rows(session.connection()))


def category_rows_of(rows) -> tuple[CategoryRow, ...]:
    return tuple(CategoryRow._make(row) for row in rows)


def category_tree(rows) -> list[CategoryNode]:
    """Top-level categories with their children, from ``list_category_rows``' rows."""
    nodes = {
        row.id: CategoryNode(row.id, row.slug, row.name, row.name_zh, row.name_ja, children=[])
        for row in rows
    }
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
    with_menus: bool = False,
) -> Listing:
    """A page of the listing: browsing (``COUNT_CAP``), a price sort, or a search
    (``SEARCH_CAP``); ``count_cap`` overrides both caps. ``with_menus``: with the page's
    menus too (``Menus``), read with the page's first statement (one round trip for
    both on PostgreSQL).

    The menus, and the count of a listing that is neither a search nor filtered, come
    from this process's copy while the version read with the page says it holds
    (``KeptListing``): one number instead of every category and filter value, and a
    count of up to 1,001 products.

    A category page's statements are made for its category's ids (``Scope``). Without
    the menus it looks them up first (``get_category``). With them, it takes its
    category from the menus: the page is made for the ids of the kept copy's tree, then
    made again if the menus as they are now give other ids (a child added, moved or
    removed; the process's first listing page), or if it took a kept count that no
    longer holds. Never stale: what the page lists is what the menu beside it shows; a
    renamed category keeps its ids, and its page its first statement."""
    connection = session.connection()
    listed = functools.partial(
        _listed,
        connection,
        query,
        currency=currency,
        locale=locale,
        per_page=per_page,
        max_q_length=max_q_length,
        count_cap=count_cap,
    )
    if not with_menus:
        category, category_ids = get_category(connection, query.category)
        page, cards, corrected = listed(category_ids, ReadsBeside())
        return Listing(query, page, cards, category, corrected)
    kept = _KEPT_LISTINGS.get(database_key(connection))
    # The version alone (menus kept): the page's statement carries it as a column.
    beside = ReadsBeside(*listing_reads(kept), carried=LISTING_VERSION if kept else None)
    guessed_ids: tuple[int, ...] = ()
    if query.category and kept is not None:
        guessed_ids = category_in(kept.menus.category_rows, query.category)[1]
    counts_kept = count_cap is None and not query.q and not filter_shape(query)
    total = kept.totals.get(guessed_ids) if counts_kept and kept is not None else None
    page, cards, corrected = listed(guessed_ids, beside, total=total)
    now = kept_listing(connection, kept, beside.taken(connection))
    # Whether a count the page read is as new as ``now``'s version (read before it).
    counted_since = kept is None or now is kept
    category, category_ids = category_in(now.menus.category_rows, query.category)
    if category_ids != guessed_ids or (total is not None and now is not kept):
        page, cards, corrected = listed(category_ids, ReadsBeside())
        total, counted_since = None, True
    if counts_kept and total is None and counted_since:
        now.totals[category_ids] = page.total + page.more  # (the cap + 1: "more")
    return Listing(query, page, cards, category, corrected, now.menus)


def _listed(
    connection: sa.Connection,
    query: ListingQuery,
    category_ids: tuple[int, ...],
    beside: ReadsBeside,
    *,
    currency: str,
    locale: str,
    per_page: int,
    max_q_length: int,
    count_cap: int | None,
    total: int | None = None,
) -> tuple[Page, list[ProductCard], tuple[str, ...]]:
    """→ (page, cards, corrected) of ``list_products``, over the products of these
    categories (none: of every category); ``beside`` goes with the first statement.
    ``total``: the listing's count up to the cap, known (a listing that is not a search);
    the page's statement then counts nothing."""
    terms = search_terms(query.q, max_q_length)
    params = {
        "currency": currency,
        **category_params(category_ids),
        **filter_params(query, currency),
        "limit": per_page,
    }
    if total is not None:
        params["total"] = total
    corrected: tuple[str, ...] = ()
    scope = Scope(len(category_ids), filter_shape(query))
    if terms:
        cap = count_cap or min(COUNT_CAP, SEARCH_CAP)
        page, rows, corrected = _search(
            connection, query, terms, scope, params, cap, locale, beside
        )
    elif query.sort in PRICE_SORTS:
        cap = count_cap or COUNT_CAP
        page, rows = _price_sorted(connection, query, scope, params, cap, beside)
    else:
        cap = count_cap or COUNT_CAP
        page, rows = _browse(connection, query, scope, params, cap, locale, beside)
    # The last page before the cap ends at the cap, as its "Showing 985–1,000" says.
    rows = rows[: page.last_item - page.offset]
    return page, build_cards(rows, currency, locale), corrected


def _first_page_to_try(query: ListingQuery, cap: int, per_page: int) -> int:
    """Pages beyond the cap are not offered: such a request shows the last page there is."""
    return min(query.page, max(-(-cap // per_page), 1))


def _capped_page(
    connection, query: ListingQuery, scope: "Scope", params: dict, cap: int, beside: ReadsBeside
):
    """The page to show of a listing that is not a search, and the count it says: at
    most ``cap`` (then "more"), from a walk of at most ``cap`` + 1 index entries."""
    per_page = params["limit"]
    count = _count_statement(scope, connection.dialect.name)
    total = beside.rows(count, connection, cap=cap + 1, **params)[0][0]
    requested = _first_page_to_try(query, cap, per_page)
    return paginate(min(total, cap), requested, per_page, more=total > cap)


def _browse(
    connection,
    query: ListingQuery,
    scope: "Scope",
    params: dict,
    cap: int,
    locale,
    beside: ReadsBeside,
):
    """→ (page, rows): no search, not a price sort. One prepared statement gives the page
    asked for and the capped count with it (a round trip fewer: on PostgreSQL each is
    one); an empty first page is an empty listing; a page past the last asks for the
    count alone, then the last page."""
    per_page = params["limit"]
    requested = _first_page_to_try(query, cap, per_page)
    offset = (requested - 1) * per_page
    dialect = connection.dialect.name
    paged = _browse_statement(
        dialect, query.sort, locale, scope, _skips(offset, per_page), "total" not in params
    )
    rows = beside.rows(paged, connection, offset=offset, cap=cap + 1, **params)
    if rows or not offset:
        total = rows[0].total if rows else 0
        return paginate(min(total, cap), requested, per_page, more=total > cap), [
            (row, row) for row in rows
        ]
    page = _capped_page(connection, query, scope, params, cap, beside)
    if not page.total:
        return page, []
    skips = _skips(page.offset, per_page)
    paged = _browse_statement(dialect, query.sort, locale, scope, skips, counted=True)
    rows = paged.rows(connection, offset=page.offset, cap=cap + 1, **params)
    return page, [(row, row) for row in rows]


def _skips(offset: int, per_page: int) -> bool:
    """Whether a page is chosen by id from the index (``_browse_statement``): when it
    skips more rows than it shows."""
    return offset > per_page


def _price_sorted(
    connection, query: ListingQuery, scope: "Scope", params: dict, cap: int, beside: ReadsBeside
):
    """→ (page, rows) of ``sort=price_asc``/``price_desc``. One prepared statement gives
    the page asked for with the capped count, prices and pictures when priced products
    fill it or end the listing (``_priced_statement``); otherwise (an empty listing, a
    page past the last, one that unpriced products end) the count, then the page
    (``_price_page``), then its prices and pictures."""
    per_page = params["limit"]
    requested = _first_page_to_try(query, cap, per_page)
    offset = (requested - 1) * per_page
    paged = _priced_statement(connection.dialect.name, query.sort, scope, "total" not in params)
    rows = beside.rows(paged, connection, offset=offset, cap=cap + 1, **params)
    if rows:
        total = rows[0].total
        page = paginate(min(total, cap), requested, per_page, more=total > cap)
        listed = _listed_priced(scope, page)
        if len(rows) == per_page or (listed is not None and offset + len(rows) >= listed):
            return page, [(row, row) for row in rows]
    else:
        page = _capped_page(connection, query, scope, params, cap, beside)
        if not page.total:
            return page, []
    rows = _price_page(
        connection,
        listed_conditions(scope),
        query.sort,
        params,
        page.offset,
        per_page,
        _listed_priced(scope, page),
    )
    return page, with_card_extras(connection, rows, params)


def _listed_priced(scope: "Scope", page: Page) -> int | None:
    """``_price_page``'s ``listed``: every product the count found is priced when a price
    filter is in force (none without a price passes it), or when the priced ones reach
    the count (then there is no walk for unpriced ones)."""
    if "price_min" in scope.filters or "price_max" in scope.filters:
        return 0
    return None if page.more else page.total


@functools.cache
def _priced_statement(dialect: str, sort: str, scope: "Scope", counted: bool) -> PreparedSelect:
    """A page of a price sort's priced products (``_price_page``'s walk of
    ``ix_product_sort_price_order``), each row with the capped count (``total``; not
    ``counted``: the known count, a parameter) and its prices and pictures, as
    ``_browse_statement`` makes a browsing page (the page chosen first, in a subquery: the
    prices and pictures of its rows only)."""
    conditions = listed_conditions(scope)
    total = _total_column(scope, dialect, counted)
    amount = ProductSortPrice.amount
    priced = (ProductSortPrice.product_id == Product.id) & (
        ProductSortPrice.currency == sa.bindparam("currency")
    )
    order = [amount.asc() if sort == "price_asc" else amount.desc(), ProductSortPrice.product_id]
    walk = (
        sa.select(*CARD_COLUMNS)
        .join(ProductSortPrice, priced)
        .where(*conditions)
        .order_by(*order)
        .offset(sa.bindparam("offset"))
        .limit(sa.bindparam("limit"))
    )
    chosen = walk.add_columns(amount.label("sort_amount")).subquery("page")
    page = sa.select(*(chosen.c[column.key] for column in CARD_COLUMNS), total, _version_column())
    page = with_card_columns(page, chosen.c.id, dialect)
    sort_amount = chosen.c.sort_amount
    page_order = sort_amount.asc() if sort == "price_asc" else sort_amount.desc()
    return PreparedSelect(
        page.order_by(page_order, chosen.c.id), inline=inline_numbers(scope, _numbers(counted))
    )


def _search(
    connection,
    query: ListingQuery,
    terms,
    scope: "Scope",
    params,
    cap: int,
    locale,
    beside: ReadsBeside,
):
    """→ (page, rows, corrected): a search ranks, counts and pages its first ``cap`` + 1
    matches only, in prepared statements; the page's prices and pictures come after.
    Each term is a group of alternatives (itself and its synonyms: this process's copy,
    checked against the version the search statement returns, and the search run again
    when they were not current); a search that finds nothing is tried once more with its
    misspelt Latin words corrected (``corrected``: the words it then looked for)."""
    synonyms = kept_synonyms(connection)
    groups = synonyms.expand(terms)
    page, rows, version = _search_groups(
        connection, query, groups, scope, params, cap, locale, beside
    )
    if version != synonyms.version:
        current = read_synonyms(connection).expand(terms)
        if current != groups:
            groups = current
            page, rows, _version = _search_groups(
                connection, query, groups, scope, params, cap, locale, beside
            )
    corrected: tuple[str, ...] = ()
    if not page.total:
        fixed = corrected_groups(connection, groups)
        if fixed is not None:
            page, rows, _version = _search_groups(
                connection, query, fixed, scope, params, cap, locale, beside
            )
            corrected = tuple(group[0] for group in fixed)
    # The page's rows end with their prices and pictures (``with_card_columns``).
    return page, [(row, row) for row in rows], corrected


def _search_groups(
    connection,
    query: ListingQuery,
    groups,
    scope: "Scope",
    params,
    cap,
    locale,
    beside: ReadsBeside,
):
    """→ (page, rows, the synonyms' version as of the search)."""
    per_page = params["limit"]
    dialect = connection.dialect.name
    plan = SearchPlan.of(dialect, groups)
    paged, count = _search_statements(
        dialect, query.sort, locale, scope, plan.shape, len(groups[0])
    )
    params = {
        **params,
        **plan.params(groups),
        **{f"first_{index}": like_escape(alt) for index, alt in enumerate(groups[0])},
        "cap": cap + 1,
    }
    # The candidates are few: take their number from the same pass as the page.
    requested = _first_page_to_try(query, cap, per_page)
    rows = beside.rows(paged, connection, offset=(requested - 1) * per_page, **params)
    if rows:
        total, version = rows[0].total, rows[0].synonyms_version
    else:
        total, version = count.rows(connection, **params)[0]
    page = paginate(min(total, cap), requested, per_page, more=total > cap)
    if not rows and page.total:
        rows = paged.rows(connection, offset=page.offset, **params)
    return page, rows, version


def with_card_extras(connection, rows, params) -> list[tuple]:
    """``(row, extra)`` for rows of ``CARD_COLUMNS``: their ``with_card_columns`` from one
    prepared lookup by id, for the page's products only."""
    if not rows:
        return []
    ids = {f"id_{index}": row.id for index, row in enumerate(rows)}
    lookup = _card_extras(len(rows), connection.dialect.name)
    extras = lookup.rows(connection, currency=params["currency"], **ids)
    by_id = {extra.id: extra for extra in extras}
    return [(row, by_id[row.id]) for row in rows]


@dataclass(frozen=True)
class Scope:
    """The shape of what a listing shows, which its prepared statements are made for:
    the number of category ids (``category_params``) and the filters in force
    (``filter_shape``). The values are parameters."""

    categories: int = 0
    filters: tuple[str, ...] = ()


def listed_conditions(scope: Scope) -> list:
    """What every listing shows: active products that are not a school's own (those, with
    a school's logo, sell in that school's shop only); on a category page, those of its
    ``categories`` ids (``category_params``: the category's own and its children's). A
    category without children is then an equality, which walks the category's index in
    the page's order. Then the filters (``filter_conditions``)."""
    conditions = [Product.active == sa.true(), Product.school_id.is_(None)]
    if scope.categories:
        ids: list[sa.BindParameter[int]] = [
            sa.bindparam(f"category_{index}") for index in range(scope.categories)
        ]
        conditions.append(Product.category_id.in_(ids))
    return conditions + filter_conditions(scope.filters)


def filter_shape(query: ListingQuery) -> tuple[str, ...]:
    """Which filters ``query`` applies, as ``filter_conditions`` names them (the stock
    filter by its value: the two are different conditions)."""
    shape = [name for name in query.filters if name != "stock"]
    if query.stock:
        shape.append(query.stock)
    return tuple(sorted(shape))


def filter_conditions(filters: tuple[str, ...]) -> list:
    """The conditions of the filters named in ``filters`` (``filter_shape``), their
    values parameters (``filter_params``). Each is a lookup per product the listing's
    index walk reaches, never a read of a whole table: a size or colour through
    ``ix_variant_size_product``/``ix_variant_colour_product`` (migration 0018), a price
    through ``product_sort_price``'s key (the base price, as the price sorts and the
    cards show it), the rest on the product's own row.

    The trade-off: the count still stops at the cap's matches, but a filter few products
    meet makes the walk read more index entries to find them (at worst the listing's);
    the sort orders, the cap and the pages stay as they are."""
    conditions = []
    for column in ("size", "colour"):
        if column in filters:
            conditions.append(
                _has_variant(lambda c, column=column: c[column] == sa.bindparam(column))
            )
    if "price_min" in filters or "price_max" in filters:
        price = ProductSortPrice.__table__.alias("filter_price")
        bounds = [price.c.product_id == Product.id, price.c.currency == sa.bindparam("currency")]
        if "price_min" in filters:
            bounds.append(price.c.amount >= sa.bindparam("price_min"))
        if "price_max" in filters:
            bounds.append(price.c.amount <= sa.bindparam("price_max"))
        conditions.append(_found(sa.select(price.c.amount).where(*bounds)))
    if "in_stock" in filters:
        conditions.append(Product.made_to_order == sa.false())
        conditions.append(_has_variant(lambda c: c.on_hand > c.allocated))
    if "made_to_order" in filters:
        conditions.append(Product.made_to_order == sa.true())
    if "moq" in filters:
        conditions.append(Product.min_order_quantity <= sa.bindparam("moq"))
    if "gender" in filters:
        conditions.append(Product.gender.in_([sa.bindparam("gender"), UNISEX]))
    if "age" in filters:
        conditions.append(Product.age_group == sa.bindparam("age"))
    return conditions


def _has_variant(condition):
    """The product has a variant for sale that meets ``condition(variant columns)``."""
    variant = Variant.__table__.alias("filter_variant")
    return _found(
        sa.select(variant.c.id).where(
            variant.c.product_id == Product.id,
            variant.c.for_sale == sa.true(),
            condition(variant.c),
        )
    )


def _found(lookup):
    """``lookup`` (a correlated ``SELECT`` of the product's rows elsewhere) finds a row:
    as a scalar subquery, not ``EXISTS``, which PostgreSQL would turn into a join that
    reads every variant (or price) to hash them; this stays a lookup per product the
    walk reaches, on both databases."""
    return lookup.limit(1).scalar_subquery().is_not(None)


def filter_params(query: ListingQuery, currency: str) -> dict[str, str | int]:
    """The values of ``query``'s filters for ``filter_conditions``: prices typed in major
    units of ``currency`` become minor units (a lower bound rounded up, an upper one
    down: the filter never lets in a price outside what was typed)."""
    params: dict[str, str | int] = {}
    for name in ("size", "colour", "moq", "gender", "age"):
        value = getattr(query, name)
        if value is not None:
            params[name] = value
    for name, rounding in (("price_min", ROUND_CEILING), ("price_max", ROUND_FLOOR)):
        value = getattr(query, name)
        if value is not None:
            scaled = Decimal(value).scaleb(exponent(currency)).to_integral_value(rounding)
            params[name] = min(int(scaled), MAX_AMOUNT)
    return params


def category_params(category_ids: tuple[int, ...]) -> dict[str, int]:
    return {f"category_{index}": category_id for index, category_id in enumerate(category_ids)}


# A page's numbers, written into its statement's text on PostgreSQL (``PreparedSelect``).
PAGE_NUMBERS = ("offset", "limit", "cap")


def inline_numbers(scope: "Scope", numbers: tuple[str, ...] = PAGE_NUMBERS) -> tuple[str, ...]:
    """The parameters written into the text of a statement of ``scope`` on PostgreSQL:
    the page's numbers and the category's ids, which PostgreSQL would otherwise plan for
    on every execution (a plan for unknown ids guesses how many products they list)."""
    return numbers + tuple(category_params(tuple(range(scope.categories))))


@functools.cache
def _count_statement(scope: Scope, dialect: str = "sqlite") -> PreparedSelect:
    return PreparedSelect(_capped_count(scope, dialect), inline=inline_numbers(scope, ("cap",)))


def _capped_count(scope: Scope, dialect: str) -> sa.Select:
    """How many products a listing that is not a search shows, counting no further than
    ``cap``: a walk of at most that many index entries, however big the catalogue.

    A filter most products meet (``moq=10``) would have PostgreSQL read ``product`` from
    its start until the cap's matches (its estimate of the cheapest way); counted in the
    listing's default order, it walks ``ix_product_listing`` (or a filter's own listing
    index) instead, as the page itself does."""
    conditions = listed_conditions(scope)
    listed = sa.select(Product.id).where(*conditions)
    if scope.filters and dialect == "postgresql":
        listed = _sorted(listed, "relevance", "en")
    matches = listed.limit(sa.bindparam("cap")).subquery()
    return sa.select(sa.func.count()).select_from(matches)


def _numbers(counted: bool) -> tuple[str, ...]:
    """A page's numbers (``inline_numbers``): without the count's ``cap`` when it counts
    nothing."""
    return PAGE_NUMBERS if counted else tuple(name for name in PAGE_NUMBERS if name != "cap")


def _total_column(scope: Scope, dialect: str, counted: bool):
    """A page's ``total`` column: the capped count (``_capped_count``, an uncorrelated
    subquery: worked out once per statement), or when not ``counted`` the count known
    already (``total``, a parameter)."""
    if counted:
        return _capped_count(scope, dialect).scalar_subquery().label("total")
    return sa.bindparam("total", type_=sa.Integer).label("total")


@functools.cache
def _browse_statement(
    dialect: str, sort: str, locale: str, scope: Scope, skips: bool, counted: bool
) -> PreparedSelect:
    """A browsing page (no search, not a price sort), prepared once per sort, language
    and number of categories: ``offset``/``limit``, the card's ``currency`` and
    ``category_params`` are its parameters.

    The page's products are chosen in a subquery and only those 24 get their prices and
    pictures (``with_card_columns``): PostgreSQL computes a query's select list before its
    ``OFFSET`` drops rows (page 20 would otherwise look them up for 480 products), and
    SQLite would join the first image of every row it skips. The page's rows are then
    put back in order (on SQLite a sort of those 24).

    ``skips``: the products are chosen by id alone, so that the rows ``OFFSET`` skips
    are read from the listing's index only (it holds the sort's keys and the id), then
    the page's own rows from the table by id (page 20 read 480 table rows, now 24). The
    lookup by id costs more than reading a row on the walk, so this is for pages that
    skip more rows than they show (``_skips``): from page 3 (PostgreSQL, 10,000
    products: page 2 read 133 buffers the one way and 160 the other; page 10 327 and
    161, page 20 571 and 162).

    Each row also carries ``total``, the listing's count up to ``cap`` (``_total_column``:
    counted, or known), between the card's columns and its prices and pictures
    (``build_cards`` reads a row from both ends)."""
    conditions = listed_conditions(scope)
    total = _total_column(scope, dialect, counted)
    keys = _sort_keys(Product.__table__.c, sort, locale)
    extra = [key.label(name) for name, key in keys.items() if name != "id"]
    walked = sa.select(Product.id, *extra) if skips else sa.select(*CARD_COLUMNS, *extra)
    walked = _sorted(walked, sort, locale).where(*conditions)
    chosen = walked.offset(sa.bindparam("offset")).limit(sa.bindparam("limit"))
    if skips:
        ids = chosen.subquery("skipped")
        chosen = sa.select(*CARD_COLUMNS, *(ids.c[name] for name in keys if name != "id"))
        chosen = chosen.join(ids, ids.c.id == Product.id)
    chosen = chosen.subquery("page")
    page = sa.select(*(chosen.c[column.key] for column in CARD_COLUMNS), total, _version_column())
    page = with_card_columns(page, chosen.c.id, dialect)
    page = page.order_by(*_sort_order({name: chosen.c[name] for name in keys}, sort))
    return PreparedSelect(page, inline=inline_numbers(scope, _numbers(counted)))


def _is_long(alternative: str) -> bool:
    return len(alternative) >= TRIGRAM


def _gram_narrows(alternative: str) -> bool:
    """Whether the gram index narrows by ``alternative``: one or two characters, or a
    longer non-ASCII word by its two-character pieces (牛津纺: 牛津, 津纺); pieces of
    English words are in nearly every product and would not narrow anything."""
    return not _is_long(alternative) or not alternative.isascii()


def _alternative_grams(alternative: str) -> list[str]:
    return [alternative] if not _is_long(alternative) else sorted(set(_pieces(alternative)))


# PostgreSQL: how a search walks the name terms first (``_walk_names_first``): not at all,
# by its ``walk_term``, or by that and, checked in the terms' index, its ``walk_check_term``.
WALK_NONE, WALK_TERM, WALK_CHECKED = 0, 1, 2


@dataclass(frozen=True)
class SearchPlan:
    """How a search's groups of alternatives (``expand_terms``) reach the indexes; its
    ``shape`` is what the prepared statements depend on, ``params`` the values.

    SQLite: when every alternative has ``TRIGRAM`` characters or more, one walk of the
    trigram table answers all of them (``"a" OR "b"`` within a group, groups ``AND``ed).
    Otherwise the first group holding a shorter alternative *drives*: its short
    alternatives (and the other groups the gram index can narrow) go to the gram table,
    its long ones (with the all-long groups) to the trigram table, each arm stops after
    ``cap`` matches, the two are united; every other group is then checked on the rows
    found (``instr``), out of any index's reach.
    PostgreSQL: one statement; a long alternative is a ``LIKE`` the pg_trgm index answers,
    a group's short ones one ``&&`` on the gram index. Those build a bitmap of every match
    before the cap can stop anything, so a search for one term that has a ``walk_term``
    first walks the products whose names hold it (``product_fts_terms``, in product order,
    newest first) and stops at the cap; only when the names give fewer than the cap do the
    GIN indexes find every match (``_walk_names_first``)."""

    shape: tuple

    @classmethod
    def of(cls, dialect: str, groups) -> "SearchPlan":
        shape = tuple(tuple(_is_long(alt) for alt in group) for group in groups)
        if dialect != "sqlite":
            alone = len(groups) == 1 and len(groups[0]) == 1
            walk = WALK_NONE
            if alone and walk_term(groups[0][0]):
                checked = walk_check_term(groups[0][0]) is not None
                walk = WALK_CHECKED if checked else WALK_TERM
            return cls(("pg", shape, walk))
        if all(all(group) for group in shape):
            return cls(("trigram", len(groups)))
        driver = next(index for index, group in enumerate(shape) if not all(group))
        has_long = any(shape[driver])
        return cls(("mixed", shape, driver, has_long))

    def params(self, groups) -> dict[str, Any]:
        kind = self.shape[0]
        if kind == "trigram":
            return {"match": _or_groups(groups)}
        values: dict[str, Any] = {}
        for g, group in enumerate(groups):
            for a, alt in enumerate(group):
                values[f"alt_{g}_{a}"] = like_escape(alt) if kind == "pg" and _is_long(alt) else alt
            if kind == "pg" and not _trigram_drives(self.shape[1]):
                values[f"grams_{g}"] = [alt for alt in group if not _is_long(alt)]
        if kind == "pg" and self.shape[2]:
            values["walk_term"] = walk_term(groups[0][0])
            values["walk_text"] = groups[0][0]
        if kind == "pg" and self.shape[2] == WALK_CHECKED:
            values["walk_check"] = walk_check_term(groups[0][0])
        if kind == "mixed":
            _kind, _shape, driver, has_long = self.shape
            values["match_grams"] = _gram_match(groups, driver)
            if has_long:
                long_groups = [group for group in groups if all(_is_long(alt) for alt in group)]
                driver_long = [alt for alt in groups[driver] if _is_long(alt)]
                values["match_long"] = _or_groups([driver_long, *long_groups])
        return values


def _or_groups(groups) -> str:
    """An FTS5 query: each group's alternatives as phrases ``OR``ed, groups ``AND``ed."""
    return " AND ".join("(" + " OR ".join(map(fts_phrase, group)) + ")" for group in groups)


def _gram_match(groups, driver: int) -> str:
    """The gram table's query: the driving group's short alternatives, and every other
    group whose alternatives all narrow the gram index."""
    parts = [
        "("
        + " OR ".join(fts_phrase(gram_token(alt)) for alt in groups[driver] if not _is_long(alt))
        + ")"
    ]
    for index, group in enumerate(groups):
        if index == driver or not all(_gram_narrows(alt) for alt in group):
            continue
        options = [
            "(" + " AND ".join(fts_phrase(gram_token(g)) for g in _alternative_grams(alt)) + ")"
            for alt in group
        ]
        parts.append("(" + " OR ".join(options) + ")")
    return " AND ".join(parts)


def _alt_param(group: int, alternative: int) -> sa.BindParameter[str]:
    return sa.bindparam(f"alt_{group}_{alternative}")


def _holds_the_other_groups(shape, driver: int) -> list:
    """A plain substring test (``instr``) on the rows found of every group but the
    driving one, which both arms match exactly (a gram token is a substring of one or two
    characters, a trigram phrase a substring)."""
    return [
        sa.or_(
            *(sa.func.instr(Product.search_text, _alt_param(g, a)) > 0 for a in range(len(group)))
        )
        for g, group in enumerate(shape)
        if g != driver
    ]


def search_candidates(
    dialect: str, conditions: list, shape: tuple, columns: tuple, plain: bool = False
):
    """A ``SELECT`` of ``columns`` (of ``product``, each named: a search's
    ``_candidate_keys``) of at most ``cap`` products that meet
    ``conditions`` and whose ``search_text`` holds an alternative of every group, found
    through the search indexes as ``SearchPlan`` says: walks that stop after ``cap``
    matches, however many there are.

    SQLite: an FTS5 table drives each arm, newest product ids first, each match's
    product row read by its primary key (an FTS5 table joined by rowid would rerun its
    whole query per row). PostgreSQL: the GIN indexes narrow ``product`` in a bitmap,
    after a walk of the name terms for one term (``_walk_names_first``). ``plain``: a
    search with no category or filter (only the listed test in ``conditions``).
    """
    kind = shape[0]
    if kind == "trigram":
        return _fts_arm(SEARCH_FTS_TABLE, "match", conditions, [], columns)
    if kind == "mixed":
        _kind, groups, driver, has_long = shape
        checks = _holds_the_other_groups(groups, driver)
        arms = [_fts_arm(SEARCH_GRAMS_FTS_TABLE, "match_grams", conditions, checks, columns)]
        if has_long:
            arms.append(_fts_arm(SEARCH_FTS_TABLE, "match_long", conditions, checks, columns))
        if len(arms) == 1:
            return arms[0]
        united = sa.union(*(sa.select(arm.subquery()) for arm in arms)).subquery("hits")
        return (
            sa.select(*(united.c[column.key] for column in columns))
            .order_by(united.c.id.desc())
            .limit(sa.bindparam("cap"))
        )
    _kind, groups, walk = shape
    indexed = sa.func.product_search_grams(Product.search_text)
    where = []
    for g, group in enumerate(groups):
        options = [
            Product.search_text.contains(_alt_param(g, a), escape=LIKE_ESCAPE)
            for a, long in enumerate(group)
            if long
        ]
        shorts = [a for a, long in enumerate(group) if not long]
        if shorts and _trigram_drives(groups):
            options.extend(
                sa.func.strpos(Product.search_text, _alt_param(g, a)) > 0 for a in shorts
            )
        elif shorts:
            wanted = sa.bindparam(f"grams_{g}", type_=postgresql.ARRAY(sa.Text))
            options.append(indexed.op("&&")(wanted))
        where.append(sa.or_(*options))
    if walk:
        # A word the terms hold whole, on a plain search (no category or filter: only the
        # listed test, which the terms carry) ordered by keys the terms carry.
        from_terms = plain and walk == WALK_TERM and {c.key for c in columns} <= TERM_KEYS
        checked = walk == WALK_CHECKED
        return _walk_names_first(conditions, where, columns, checked, from_terms)
    return sa.select(*columns).where(*where, *conditions).limit(sa.bindparam("cap"))


def _trigram_drives(shape) -> bool:
    """PostgreSQL: whether a group of long alternatives only lets the trigram index narrow
    the search; the short alternatives of the other groups are then checked on the rows it
    gives with ``strpos``, the same test. The gram index's ``&&`` would be checked there
    too, computing every row's grams (``product_search_grams``, milliseconds a row)."""
    return any(all(group) for group in shape)


# ``product_fts_terms``' columns: the term and product, and (migration 0029) whether the
# product is listed and the keys a relevance or newest-first search orders it by.
TERM_COLUMNS = ("term", "product_id", "listed", "featured", "created_at")
TERM_KEYS = frozenset({"id", "rank", "featured", "created_at"})


def _walk_names_first(
    conditions: list, where: list, columns: tuple, checked: bool, from_terms: bool
):
    """PostgreSQL, a search for one term: the newest ``cap`` products whose names hold it
    (``walk_term`` in ``product_fts_terms``: a walk of its primary key backwards, each
    product read by its id and checked, ``strpos``: no index can take over), and only when
    there are fewer, every match through the GIN indexes (``where``); a one-time filter
    keeps the other branch from running. When fewer products than the cap are listed
    under the term at all (a count of the key's entries, reading no product), the walk
    could not fill the cap and is not run. A word of three or more other characters is
    listed under its first two and, checked in the same index, its last two
    (``checked``: ``walk_check_term``), so the walk and the count leave out most products
    that only share its first two (ブレ of ブレスレット for ブレザー). One statement.

    The terms carry whether their product is listed and its featured flag and age
    (migration 0029, kept by their trigger), and the walk takes listed entries only.
    ``from_terms``: the candidates come from the terms alone, no product read (a word
    they hold whole, a search with no other condition, keys among ``TERM_KEYS``: each is
    a name match, ``rank`` 0); otherwise each walked product is read and checked.

    The trade-off, as with any capped search: past the cap the candidates are the newest
    products named so (the best ranked: a name match comes first), not every match."""
    terms = sa.table(SEARCH_TERMS_TABLE, *(sa.column(name) for name in TERM_COLUMNS))
    cap: sa.BindParameter[int] = sa.bindparam("cap")
    # Only listed products' entries (migration 0029: the partial index holds them).
    term = (terms.c.term == sa.bindparam("walk_term")) & terms.c.listed
    if checked:
        # Listed under the word's last two characters too (``walk_check_term``): looked up
        # in the same index, so the entries that cannot match are dropped before a
        # product is read, and before they count towards the cap below.
        also = terms.alias("also")
        term = term & sa.exists().where(
            also.c.term == sa.bindparam("walk_check"), also.c.product_id == terms.c.product_id
        )
    if from_terms:
        # The entries carry what the candidates are ranked by; each is a name match.
        keys = {"id": terms.c.product_id, "rank": sa.literal(0, sa.Integer)}
        keys |= {"featured": terms.c.featured, "created_at": terms.c.created_at}
        walk = (
            sa.select(*(keys[column.key].label(column.key) for column in columns))
            .where(term)
            .order_by(terms.c.product_id.desc())
            .limit(cap)
            .subquery("walk")
        )
    else:
        # A lateral lookup with a LIMIT, which the planner cannot turn into a merge join:
        # that would walk ``product`` backwards from its newest row, reading what it skips.
        named = (
            sa.select(*columns)
            .where(Product.id == terms.c.product_id)
            .where(sa.func.strpos(Product.search_text, sa.bindparam("walk_text")) > 0, *conditions)
            .limit(1)
            .lateral("named")
        )
        walk = (
            sa.select(*named.c)
            .select_from(terms.join(named, sa.true()))
            .where(term)
            .order_by(terms.c.product_id.desc())
            .limit(cap)
            .subquery("walk")
        )
    # Fewer names listed under the term than the cap cannot fill it: the walk is skipped
    # (a count of the key's entries, no product read) and every match found as below.
    listed = sa.select(terms.c.product_id).where(term).limit(cap).subquery("listed")
    listed_enough = sa.select(sa.func.count()).select_from(listed).scalar_subquery() >= cap
    walked = sa.select(*walk.c).where(listed_enough).cte("walked")
    found = sa.select(sa.func.count()).select_from(walked).scalar_subquery()
    enough = sa.select(*walked.c).where(found >= cap)
    # The test outside the subquery (no condition goes into one with a LIMIT): were it
    # inside, a parallel plan would start its workers before the test stops them.
    matches = sa.select(*columns).where(*where, *conditions).limit(cap).subquery()
    every = sa.select(*matches.c).where(found < cap)
    return sa.union_all(enough, every)


def _fts_arm(table: str, match: str, conditions: list, checks: list, columns: tuple):
    fts = sa.table(table, sa.column("rowid"))
    return (
        sa.select(*columns)
        .select_from(fts)
        .join(Product, Product.id == fts.c.rowid)
        .where(sa.literal_column(fts.name).op("MATCH")(sa.bindparam(match)))
        .where(*checks, *conditions)
        .order_by(fts.c.rowid.desc())
        .limit(sa.bindparam("cap"))
    )


LIKE_ESCAPE = "/"


def like_escape(term: str) -> str:
    """``term`` for ``LIKE '%' || term || '%' ESCAPE '/'``: its wildcards taken literally."""
    for special in (LIKE_ESCAPE, "%", "_"):
        term = term.replace(special, LIKE_ESCAPE + special)
    return term


@functools.lru_cache(maxsize=512)
def _search_statements(
    dialect: str, sort: str, locale: str, scope: "Scope", shape: tuple, first_group: int
):
    """A search's page with the candidates' number, and that number alone, both with the
    synonyms' version as of the statement (``kept_synonyms``), prepared once per shape of
    search (``SearchPlan.shape``).

    The page is one statement: the candidates carry only what orders them
    (``_candidate_keys``), gathered once (a ``WITH``, materialised: read twice), ranked
    for the page with a sort that keeps only the page's rows, and counted apart (a window
    count would copy and sort all of them for the number); the page's ids then read their
    cards' columns and ``with_card_columns`` (prices and pictures), for the page's rows only.
    Its rows: ``CARD_COLUMNS``, ``total``, ``synonyms_version``, then the
    ``with_card_columns`` (``build_cards`` reads a row from both ends)."""
    keys = _candidate_keys(dialect, sort, locale, first_group)
    plain = scope == Scope()
    candidates = search_candidates(dialect, listed_conditions(scope), shape, keys, plain)
    found = candidates.cte("candidates")
    chosen = (
        _ranked(found, sort)
        .offset(sa.bindparam("offset"))
        .limit(sa.bindparam("limit"))
        .subquery("page")
    )
    total = sa.select(sa.func.count()).select_from(found).scalar_subquery()
    version = synonyms_version_column()
    paged = (
        sa.select(
            *CARD_COLUMNS,
            total.label("total"),
            version.label("synonyms_version"),
            _version_column(),
        )
        .select_from(chosen.join(Product, Product.id == chosen.c.id))
        .order_by(*_search_order(chosen.c, sort))
    )
    paged = with_card_columns(paged, Product.id, dialect)
    count = sa.select(sa.func.count(), version).select_from(candidates.subquery())
    return PreparedSelect(paged), PreparedSelect(count)


@functools.cache
def _card_extras(ids: int, dialect: str) -> PreparedSelect:
    """``with_card_columns`` of the products ``id_0`` … ``id_<ids - 1>``."""
    wanted: list[sa.BindParameter[int]] = [sa.bindparam(f"id_{index}") for index in range(ids)]
    extras = sa.select(Product.id).where(Product.id.in_(wanted))
    return PreparedSelect(with_card_columns(extras, Product.id, dialect))


def _pieces(term: str):
    return (term[i : i + 2] for i in range(len(term) - 1))


def _sorted(statement, sort: str, locale: str):
    """``statement`` over ``product`` in the order of ``sort`` (not the price sorts: see
    ``_price_page``), each a walk of an index that stops after the page:
    ``ix_product_listing`` (relevance), ``ix_product_listing_newest`` and
    ``ix_product_listing_name[_zh|_ja]`` (migrations 0013, 0014)."""
    return statement.order_by(*_sort_order(_sort_keys(Product.__table__.c, sort, locale), sort))


def _sort_keys(columns, sort: str, locale: str) -> dict:
    """What ``sort`` orders by, over ``product``'s ``columns``: name → expression."""
    if sort == "newest":
        return {"created_at": columns.created_at, "id": columns.id}
    if sort == "name":
        column = {"zh": columns.name_zh, "ja": columns.name_ja}.get(locale.split("_")[0])
        name = columns.name if column is None else sa.func.coalesce(column, columns.name)
        return {"sort_name": name, "id": columns.id}
    return {"featured": columns.featured, "created_at": columns.created_at, "id": columns.id}


def _sort_order(keys, sort: str) -> list:
    """The ``ORDER BY`` of ``sort`` over its keys (``_sort_keys``' names)."""
    if sort == "newest":
        return [keys["created_at"].desc(), keys["id"].desc()]
    if sort == "name":
        return [keys["sort_name"], keys["id"]]
    return [keys["featured"].desc(), keys["created_at"].desc(), keys["id"].desc()]


def _folded_name(column, dialect: str):
    """A name as ``LIKE`` compares it with a folded term: ``lower`` on PostgreSQL. SQLite's
    ``LIKE`` already ignores the case of ASCII letters, the only ones its ``lower``
    changes, so there the column itself matches the same (and spares a copy of every
    candidate's names)."""
    return column if dialect == "sqlite" else sa.func.lower(column)


def _candidate_keys(dialect: str, sort: str, locale: str, first_group: int) -> tuple:
    """What a search reads of each candidate: its id and what ``sort`` orders it by, each
    named as ``_search_order`` reads it. Only these go through the ranking and its count
    (narrow rows: the sort that orders them copies each); the page's cards read the rest.

    Relevance: products whose name holds the first term (``rank`` 0), then those whose
    name holds one of its synonyms (``first_group`` alternatives in all; 1), then the
    rest (2); then featured, then newest."""
    if sort == "newest":
        return (Product.id, Product.created_at)
    if sort == "name":
        column = {"zh": Product.name_zh, "ja": Product.name_ja}.get(locale.split("_")[0])
        name = Product.name if column is None else sa.func.coalesce(column, Product.name)
        return (Product.id, name.label("sort_name"))
    if sort in PRICE_SORTS:
        return (Product.id,)

    def name_holds(index: int):
        alternative: sa.BindParameter[str] = sa.bindparam(f"first_{index}")  # like_escape()d
        return sa.or_(
            *(
                _folded_name(column, dialect).contains(alternative, escape=LIKE_ESCAPE)
                for column in (Product.name, Product.name_zh, Product.name_ja)
            )
        )

    rank = [(name_holds(0), 0)]
    if first_group > 1:
        rank.append((sa.or_(*(name_holds(i) for i in range(1, first_group))), 1))
    rank_column = sa.case(*rank, else_=2).label("rank")
    return (Product.id, rank_column, Product.featured, Product.created_at)


def _ranked(candidates, sort: str):
    """A search's candidates (a subquery of ``_candidate_keys``) in the order of ``sort``,
    their ids and keys: at most the cap's rows to order, so no index is needed. The price
    sorts read each candidate's base price (``sort_amount``)."""
    c = candidates.c
    if sort in PRICE_SORTS:
        price = ProductSortPrice.__table__.alias("price")
        on = (price.c.product_id == c.id) & (price.c.currency == sa.bindparam("currency"))
        statement = sa.select(c.id, price.c.amount.label("sort_amount"))
        statement = statement.select_from(candidates.outerjoin(price, on))
        return statement.order_by(*_search_order({"id": c.id, "sort_amount": price.c.amount}, sort))
    return sa.select(*c).order_by(*_search_order(c, sort))


def _search_order(keys, sort: str) -> list:
    """The ``ORDER BY`` of a search's ``sort`` over its keys (``_candidate_keys``' names,
    and ``sort_amount`` for a price sort)."""
    if sort == "newest":
        return [keys["created_at"].desc(), keys["id"].desc()]
    if sort == "name":
        return [keys["sort_name"], keys["id"]]
    if sort in PRICE_SORTS:
        amount = keys["sort_amount"]
        direction = amount.asc() if sort == "price_asc" else amount.desc()
        return [direction.nulls_last(), keys["id"]]
    return [keys["rank"], keys["featured"].desc(), keys["created_at"].desc(), keys["id"].desc()]


def _sort_price_of(currency: str):
    return (ProductSortPrice.product_id == Product.id) & (ProductSortPrice.currency == currency)


def _price_page(
    connection: sa.Connection,
    conditions: list,
    sort: str,
    params,
    offset,
    limit,
    listed: int | None = None,
):
    """A page of ``sort=price_asc``/``price_desc`` (by base price, then id; products
    without a price in ``currency`` last, by id): a walk of ``ix_product_sort_price_order``
    that stops after the page. Only a page past the priced products reads the unpriced
    ones: a walk of the listing in id order that skips the priced — unless the priced
    products reach ``listed`` (the products the listing counted, when it counted them
    all; 0 when none can be unpriced), so there are none. Rows of
    ``CARD_COLUMNS``: their prices and pictures come after, for the page only
    (PostgreSQL would compute them for every row the OFFSET skips)."""
    amount = ProductSortPrice.amount
    currency = params["currency"]
    priced = (
        sa.select(*CARD_COLUMNS)
        .join(ProductSortPrice, _sort_price_of(currency))
        .where(*conditions)
        .order_by(amount.asc() if sort == "price_asc" else amount.desc())
        .order_by(ProductSortPrice.product_id)
    )
    rows = connection.execute(priced.offset(offset).limit(limit), params).all()
    if len(rows) == limit or (listed is not None and offset + len(rows) >= listed):
        return rows
    if rows or not offset:
        priced_total = offset + len(rows)
    else:
        counted = priced.with_only_columns(Product.id).order_by(None).limit(offset).subquery()
        priced_total = connection.scalar(sa.select(sa.func.count()).select_from(counted), params)
        priced_total = priced_total or 0
    unpriced = (
        sa.select(*CARD_COLUMNS)
        .where(*conditions, ~sa.exists().where(_sort_price_of(currency)))
        .order_by(Product.id)
        .offset(max(offset - priced_total, 0))
        .limit(limit - len(rows))
    )
    return [*rows, *connection.execute(unpriced, params).all()]


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


# What ``with_card_columns`` adds at the end of a row, in order (``_CardExtra``).
CARD_EXTRA_LABELS = (
    "price_amount",
    "lowest_amount",
    "image_path",
    "image_alt",
    "image_alt_zh",
    "image_alt_ja",
)


def with_card_columns(statement: sa.Select, product_id, dialect: str) -> sa.Select:
    """``statement`` with a card's price and picture at the end of its columns
    (``CARD_EXTRA_LABELS``), for the product whose id is the column ``product_id`` (of
    ``product``, or of a page of products chosen in a subquery): the base price, the
    lowest tier and the first image (in ``position``, then ``id`` order; ``NULL`` for
    a product without one). A page of cards is then one statement. Every row the
    statement gives gets them: a statement with an ``OFFSET`` chooses its page in a
    subquery first (PostgreSQL computes the columns of the rows it skips; on SQLite the
    image's join would be made for them).

    The first image is one lookup for its four columns, and on PostgreSQL the two prices
    one more: a ``LEFT JOIN LATERAL`` of the first image, and one of the product's tiers
    in the currency in ``min_quantity`` order, the first's amount (the base price, which
    ``product_sort_price`` holds for the sorts, kept by triggers from the same rule) with
    the least (a window ``min`` over the same index walk). SQLite has no ``LATERAL``: the
    first image's id (a covering index lookup) joins its row by primary key, and the
    prices are a lookup each (``product_sort_price``, the tiers' ``min``), cheaper there
    than a window function."""
    currency: sa.BindParameter[str] = sa.bindparam("currency")
    tier = PriceTier.__table__.alias("card_tier")
    image = ProductImage.__table__.alias("card_image")
    first_image = (
        sa.select(image.c.path, image.c.alt_text, image.c.alt_text_zh, image.c.alt_text_ja)
        .where(image.c.product_id == product_id)
        .order_by(image.c.position, image.c.id)
        .limit(1)
    )
    picture: sa.FromClause
    amounts: tuple[sa.ColumnElement, ...]
    if dialect == "postgresql":
        prices = (
            sa.select(
                tier.c.unit_amount.label("price_amount"),
                sa.func.min(tier.c.unit_amount).over().label("lowest_amount"),
            )
            .where(tier.c.product_id == product_id, tier.c.currency == currency)
            .order_by(tier.c.min_quantity)
            .limit(1)
            .lateral("card_prices")
        )
        picture = first_image.lateral("card_picture")
        (left,) = statement.get_final_froms()
        joined = left.outerjoin(prices, sa.true()).outerjoin(picture, sa.true())
        statement = statement.select_from(joined)
        amounts = (prices.c.price_amount, prices.c.lowest_amount)
    else:
        sort_price = ProductSortPrice.__table__.alias("card_price")
        price = (
            sa.select(sort_price.c.amount)
            .where(sort_price.c.product_id == product_id, sort_price.c.currency == currency)
            .scalar_subquery()
        )
        lowest = (
            sa.select(sa.func.min(tier.c.unit_amount))
            .where(tier.c.product_id == product_id, tier.c.currency == currency)
            .scalar_subquery()
        )
        picture = ProductImage.__table__.alias("card_picture")
        first_id = first_image.with_only_columns(image.c.id).scalar_subquery()
        (left,) = statement.get_final_froms()
        statement = statement.select_from(left.outerjoin(picture, picture.c.id == first_id))
        amounts = (price, lowest)
    pictured = (picture.c.path, picture.c.alt_text, picture.c.alt_text_zh, picture.c.alt_text_ja)
    columns = (*amounts, *pictured)
    return statement.add_columns(
        *(column.label(label) for column, label in zip(columns, CARD_EXTRA_LABELS, strict=True))
    )


class _CardProduct(NamedTuple):
    """The ``CARD_COLUMNS`` that start a card's product row, read by position (a Row's
    attributes are looked up by name on every read)."""

    id: int
    slug: str
    name: str
    name_zh: str | None
    name_ja: str | None
    made_to_order: bool
    lead_time_days: int | None
    min_order_quantity: int


class _CardExtra(NamedTuple):
    """The six ``with_card_columns`` that end a card's extra row, as ``image_alt`` reads an
    image (``alt_text`` in each language)."""

    price_amount: int | None
    lowest_amount: int | None
    image_path: str | None
    alt_text: str | None
    alt_text_zh: str | None
    alt_text_ja: str | None


# Where a language's translated name and alt text sit, after the English one (``name`` in
# ``_CardProduct``, ``alt_text`` in ``_CardExtra``): ``shop.locales.column_language``'s
# suffixes. A language without columns of its own reads none (``translated``'s ``None``).
_LANGUAGE_OFFSETS = {"en": 0, "zh": 1, "ja": 2}
_SLUG, _NAME, _MADE_TO_ORDER, _LEAD_TIME, _MOQ = (
    _CardProduct._fields.index(field)
    for field in ("slug", "name", "made_to_order", "lead_time_days", "min_order_quantity")
)
# The extra row's columns, counted from its end.
_PRICE, _LOWEST, _IMAGE, _ALT = (
    _CardExtra._fields.index(field) - len(_CardExtra._fields)
    for field in ("price_amount", "lowest_amount", "image_path", "alt_text")
)


def build_cards(rows, currency: str, locale: str) -> list[ProductCard]:
    """Cards for ``(product, extra)`` pairs of rows, in their order: ``product`` starts
    with the ``CARD_COLUMNS``, ``extra`` ends with the ``with_card_columns`` (often the same
    row). The name is ``shop.locales.localized``'s and the alt text ``image_alt``'s, read
    by position with the language worked out once (a window's page builds 48 cards;
    tests/catalog/test_listing_cards.py holds the two ways to the same answers)."""
    offset = _LANGUAGE_OFFSETS.get(column_language(locale))
    cards = []
    for product, extra in rows:
        name = product[_NAME]
        # ``translated``: the name and alt text in the language, ``None`` where empty.
        own_name = (product[_NAME + offset] or None) if offset is not None else None
        own_alt = (extra[_ALT + offset] or None) if offset is not None else None
        cards.append(
            ProductCard(
                product[_SLUG],
                own_name or name,
                extra[_IMAGE],
                own_alt or own_name or extra[_ALT] or name,
                currency,
                extra[_PRICE],
                extra[_LOWEST],
                bool(product[_MADE_TO_ORDER]),
                product[_LEAD_TIME],
                product[_MOQ],
            )
        )
    return cards


# The filter menus offer at most this many sizes (and colours).
FACET_LIMIT = 60
# The distinct sizes and colours of the variants, at most ``FACET_LIMIT`` of each, the
# lowest by value (the menus sort them their own way): two walks of ``variant_facet``'s
# primary key (kind, value), kept by triggers on ``variant`` (migration 0026; values no
# variant has any more go in a periodic prune, ``shop.catalog.facets``), so the cost
# follows the number of sizes and colours, not of variants. One statement for both.
FACETS_STATEMENT = sa.text("""
SELECT kind, value FROM (
    SELECT kind, value FROM variant_facet WHERE kind = 'size' ORDER BY value LIMIT :limit
) AS sizes
UNION ALL
SELECT kind, value FROM (
    SELECT kind, value FROM variant_facet WHERE kind = 'colour' ORDER BY value LIMIT :limit
) AS colours
""")
LETTER_SIZES = ("XXS", "XS", "S", "M", "L", "XL", "XXL", "2XL", "XXXL", "3XL", "4XL", "5XL")


@dataclass(frozen=True)
class Facets:
    """What the filter menus offer: the sizes and colours the catalogue's variants have
    (hashable: part of the rendered filters' key)."""

    sizes: tuple[str, ...]
    colours: tuple[str, ...]


_FACETS = PreparedSelect(FACETS_STATEMENT)


def list_facets(session: Session) -> Facets:
    """The sizes (in size order: numbers, then S, M, L…, then the rest) and colours (in
    the colour list's order, unknown keys last) of the catalogue's variants: two walks of
    ``variant_facet``'s key, at most ``FACET_LIMIT`` values each, whatever the number of
    variants."""
    return facets_of(_FACETS.rows(session.connection(), limit=FACET_LIMIT))


def facets_of(rows) -> Facets:
    """``Facets`` from the rows of ``FACETS_STATEMENT``."""
    values: dict[str, list[str]] = {"size": [], "colour": []}
    for kind, value in rows:
        values[kind].append(value)
    return facets_in_order(tuple(values["size"]), tuple(values["colour"]))


@functools.lru_cache(maxsize=64)
def facets_in_order(sizes: tuple[str, ...], colours: tuple[str, ...]) -> Facets:
    """``Facets`` of these sizes and colours, each in the menus' order (sorted once per
    set of values: every listing page reads the same few)."""
    order = list(COLOURS)
    in_order = sorted(
        colours, key=lambda key: (order.index(key) if key in order else len(order), key)
    )
    return Facets(tuple(sorted(sizes, key=size_order)), tuple(in_order))


def size_order(size: str) -> tuple:
    """Numeric sizes (110, 120, 36.5) by number, then letter sizes from XXS to 5XL, then
    anything else alphabetically."""
    upper = size.strip().upper()
    if re.fullmatch(r"\d{1,6}(?:\.\d{1,3})?", upper):
        return (0, float(upper), upper)
    if upper in LETTER_SIZES:
        return (1, LETTER_SIZES.index(upper), upper)
    return (2, 0, upper)


@dataclass(frozen=True)
class Menus:
    """What a listing page shows beside its products: every category's row, in menu
    order (``list_category_rows``), and the filter menus' sizes and colours
    (``list_facets``)."""

    category_rows: tuple[CategoryRow, ...]
    facets: Facets


# The menus' reads, in ``menus_of``'s order: independent of the page, so they go with its
# first statement (``ReadsBeside``).
MENU_READS: tuple[Read, ...] = ((_CATEGORY_TREE, {}), (_FACETS, {"limit": FACET_LIMIT}))


def menus_of(tree_rows, facet_rows) -> Menus:
    return Menus(category_rows_of(tree_rows), facets_of(facet_rows))


# What a listing page shows beside its products changes seldom: each process keeps the
# menus, and the counts of listings that are neither searches nor filtered, per database
# (``database_key``), with the version they were read at (``listing_version``, migration
# 0028: every write to a category, a filter value or which products are listed changes it,
# in the writer's transaction). A listing page reads that one number beside its products
# instead. Never stale: the version is read before what is kept with it, so a copy is at
# least as new as its version; a copy whose version is not the database's now is read
# again (the counts, as pages count them).
_VERSION_SELECT = sa.select(ListingVersion.version).where(ListingVersion.id == 1)
_LISTING_VERSION = PreparedSelect(_VERSION_SELECT)
LISTING_VERSION = "listing_version"  # the column a page's statement carries it in


def _version_column() -> sa.Label:
    """The listing's version as of a page's statement, a column beside its rows (read
    once per statement): the page's own read of it (``ReadsBeside``'s ``carried``)."""
    return _VERSION_SELECT.scalar_subquery().label(LISTING_VERSION)


@dataclass(frozen=True)
class KeptListing:
    version: int | None  # (None: the version row is missing; then nothing is kept)
    menus: Menus
    # a listing's count up to the cap (+ 1: more), by its category ids (none: all)
    totals: dict[tuple[int, ...], int]


_KEPT_LISTINGS: dict[str, KeptListing] = {}


def listing_reads(kept: KeptListing | None) -> tuple[Read, ...]:
    """What a listing page reads beside its first statement: the version, and the menus
    themselves (``MENU_READS``) when this process keeps none."""
    version: Read = (_LISTING_VERSION, {})
    return (version,) if kept is not None else (version, *MENU_READS)


def kept_listing(connection: sa.Connection, kept: KeptListing | None, taken) -> KeptListing:
    """What is kept of the listing as of now, from the rows of ``listing_reads(kept)``:
    ``kept`` while its version is the database's; otherwise the menus read (again, with
    the version first), kept without counts."""
    version = _version_in(taken[0])
    if kept is not None:
        if version is not None and version == kept.version:
            return kept
        taken = rows_together(connection, *listing_reads(None))
        version = _version_in(taken[0])
    now = KeptListing(version, menus_of(*taken[1:]), {})
    if version is not None:  # (no version row: nothing to check a copy against)
        _KEPT_LISTINGS[database_key(connection)] = now
    return now


def _version_in(rows) -> int | None:
    """The version ``_LISTING_VERSION`` read (``None``: no version row)."""
    return rows[0][0] if rows else None
