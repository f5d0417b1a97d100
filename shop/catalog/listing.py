"""The product listing: parse the query string, filter, sort, page, and build cards.

Loads a page in a fixed number of queries whatever its size: a count (for a search, a
window count in the same pass), the page's card columns, then the page's tiers in the
currency and first images. No ORM objects: a listing page is
the hottest path in the shop.

Its cost does not grow with the catalogue: the count stops at ``COUNT_CAP`` + 1 products
("1,000+ products"), pages go no further than the cap (so an ``OFFSET`` never walks more
than the cap's entries), and the filters and default orders are walks of the partial
listing indexes of migration 0013.
"""

from collections.abc import Mapping
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.orm import Session

from shop.catalog import pricing
from shop.catalog.models import SEARCH_FTS_TABLE, Category, PriceTier, Product, ProductImage
from shop.catalog.search import clean_text, search_terms
from shop.locales import localized
from shop.pagination import Page, paginate, parse_page

SORTS = ("relevance", "price_asc", "price_desc", "newest", "name")
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

    active = Product.active == sa.true()
    if terms and dialect == "sqlite":
        # Nearly every product is active: reading the table straight through beats a
        # lookup per entry of the ``active`` index when every row must be matched anyway.
        active = sa.func.likely(active)
    # School-only products (with a school's logo) are sold in that school's shop only.
    conditions = [active, Product.school_id.is_(None)]
    if category is not None:
        conditions.append(Product.category_id.in_(category_ids))
    conditions.extend(search_condition(term, dialect) for term in terms)

    def page_rows(number: int, *extra):
        return (
            sa.select(*CARD_COLUMNS, *extra)
            .where(*conditions)
            .order_by(*_ordering(query.sort, terms, currency, locale))
            .offset((number - 1) * per_page)
            .limit(per_page)
        )

    # Pages beyond the cap are not offered: such a request shows the last page there is.
    requested = min(query.page, max(-(-count_cap // per_page), 1))
    rows = []
    if terms:
        # A search visits every match anyway: take the total from the same pass.
        rows = session.execute(page_rows(requested, sa.func.count().over().label("total"))).all()
    total = rows[0].total if rows else capped_count(session, conditions, count_cap)
    page = paginate(min(total, count_cap), requested, per_page, more=total > count_cap)
    if not rows and page.total:
        rows = session.execute(page_rows(page.number)).all()
    # The last page before the cap ends at the cap, as its "Showing 985–1,000" says.
    rows = rows[: page.last_item - page.offset]
    cards = build_cards(session, rows, currency, locale)
    return Listing(query=query, page=page, cards=cards, category=category)


def capped_count(session: Session, conditions: list, cap: int) -> int:
    """How many products meet ``conditions``, counting no further than ``cap`` + 1: a
    walk of at most that many index entries, however big the catalogue."""
    matches = sa.select(Product.id).where(*conditions).limit(cap + 1).subquery()
    return session.scalar(sa.select(sa.func.count()).select_from(matches)) or 0


def search_condition(term: str, dialect: str):
    """``search_text`` holds ``term``, through the trigram index where one can answer.

    SQLite's FTS5 trigram table (migration 0002) answers a substring ``LIKE`` of three or
    more characters, but ignores ``ESCAPE``, so only wildcard-free terms go there; shorter
    terms (two-character Chinese words such as 校服) scan. PostgreSQL's pg_trgm index
    serves the plain ``LIKE`` by itself.
    """
    if dialect == "sqlite" and len(term) >= 3 and not any(char in term for char in "%_\\"):
        fts = sa.table(SEARCH_FTS_TABLE, sa.column("rowid"), sa.column("search_text"))
        return Product.id.in_(sa.select(fts.c.rowid).where(fts.c.search_text.contains(term)))
    return Product.search_text.contains(term, autoescape=True)


def _ordering(sort: str, terms: list[str], currency: str, locale: str) -> list:
    newest = (Product.created_at.desc(), Product.id.desc())
    if sort == "newest":
        return [*newest]
    if sort == "name":
        return [_localized_name_column(locale), Product.id]
    if sort in ("price_asc", "price_desc"):
        base_price = (
            sa.select(PriceTier.unit_amount)
            .where(PriceTier.product_id == Product.id, PriceTier.currency == currency)
            .order_by(PriceTier.min_quantity)
            .limit(1)
            .scalar_subquery()
        )
        direction = base_price.asc() if sort == "price_asc" else base_price.desc()
        return [direction.nulls_last(), Product.id]
    # relevance: products whose name holds the first term, then featured, then newest.
    if terms:
        name_match = sa.or_(
            *(
                sa.func.lower(column).contains(terms[0], autoescape=True)
                for column in (Product.name, Product.name_zh, Product.name_ja)
            )
        )
        return [sa.case((name_match, 0), else_=1), Product.featured.desc(), *newest]
    return [Product.featured.desc(), *newest]


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


def build_cards(session: Session, rows, currency: str, locale: str) -> list[ProductCard]:
    """Cards for product rows of ``CARD_COLUMNS``, in their order; tiers in ``currency``
    and first images come from one query each."""
    if not rows:
        return []
    ids = [row.id for row in rows]
    tiers: dict[int, list] = {}
    for row in session.execute(
        sa.select(PriceTier.product_id, PriceTier.min_quantity, PriceTier.unit_amount).where(
            PriceTier.product_id.in_(ids), PriceTier.currency == currency
        )
    ):
        tiers.setdefault(row.product_id, []).append(row)
    first_images = {}
    for row in session.execute(
        sa.select(ProductImage.product_id, ProductImage.path, ProductImage.alt_text)
        .where(ProductImage.product_id.in_(ids))
        .order_by(ProductImage.position, ProductImage.id)
    ):
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
