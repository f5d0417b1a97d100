"""The product listing: parse the query string, filter, sort, page, and build cards.

Loads a page in a fixed number of queries whatever its size: a count, the page of
products, then their tiers and images (``selectinload``).
"""

from collections.abc import Mapping
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.orm import Session, selectinload

from shop.catalog import pricing
from shop.catalog.models import Category, PriceTier, Product
from shop.catalog.search import clean_text, search_terms
from shop.locales import localized
from shop.pagination import Page, paginate, parse_page

SORTS = ("relevance", "price_asc", "price_desc", "newest", "name")


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


def get_category(session: Session, slug: str | None) -> Category | None:
    if not slug:
        return None
    return session.scalars(sa.select(Category).where(Category.slug == slug)).first()


def list_top_categories(session: Session) -> list[Category]:
    return list(
        session.scalars(
            sa.select(Category)
            .where(Category.parent_id.is_(None))
            .options(selectinload(Category.children))
            .order_by(Category.position, Category.id)
        )
    )


def list_products(
    session: Session,
    query: ListingQuery,
    *,
    currency: str,
    locale: str,
    per_page: int,
    max_q_length: int = 100,
) -> Listing:
    category = get_category(session, query.category)
    terms = search_terms(query.q, max_q_length)

    conditions = [Product.active.is_(True)]
    if category is not None:
        child_ids = sa.select(Category.id).where(Category.parent_id == category.id)
        conditions.append(
            sa.or_(Product.category_id == category.id, Product.category_id.in_(child_ids))
        )
    conditions.extend(Product.search_text.contains(term, autoescape=True) for term in terms)

    total = session.scalar(sa.select(sa.func.count(Product.id)).where(*conditions))
    page = paginate(total or 0, query.page, per_page)

    statement = (
        sa.select(Product)
        .where(*conditions)
        .order_by(*_ordering(query.sort, terms, currency, locale))
        .offset(page.offset)
        .limit(per_page)
        .options(
            selectinload(Product.price_tiers.and_(PriceTier.currency == currency)),
            selectinload(Product.images),
        )
    )
    products = session.scalars(statement).all()
    cards = [build_card(product, currency, locale) for product in products]
    return Listing(query=query, page=page, cards=cards, category=category)


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


def build_card(product: Product, currency: str, locale: str) -> ProductCard:
    tiers = [tier for tier in product.price_tiers if tier.currency == currency]
    base = pricing.base_tier(tiers)
    image = product.images[0] if product.images else None
    name = localized(product, "name", locale)
    return ProductCard(
        slug=product.slug,
        name=name,
        image_path=image.path if image else None,
        image_alt=image.alt_text or name if image else name,
        currency=currency,
        price_amount=base.unit_amount if base else None,
        lowest_amount=pricing.lowest_unit_amount(tiers),
        made_to_order=product.made_to_order,
        lead_time_days=product.lead_time_days,
        min_order_quantity=product.min_order_quantity,
    )
