"""One product as its page shows it: tiers as ranges, the size × colour matrix."""

from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.orm import Session, selectinload

from shop.catalog import pricing
from shop.catalog.models import Category, PriceTier, Product, ProductImage, Variant
from shop.locales import localized


@dataclass(frozen=True)
class VariantMatrix:
    """Sizes down, colours across; ``cell(size, colour)`` is the variant or ``None``."""

    sizes: list[str]
    colours: list[str]
    variants: dict[tuple[str, str], Variant]

    def cell(self, size: str, colour: str) -> Variant | None:
        return self.variants.get((size, colour))


@dataclass(frozen=True)
class ProductPage:
    product: Product
    name: str
    description: str
    category: Category
    images: list[ProductImage]
    currency: str
    tiers: list[pricing.TierRange]
    matrix: VariantMatrix
    selected: Variant | None


def get_active_product(session: Session, slug: str, currency: str) -> Product | None:
    return session.scalars(
        sa.select(Product)
        .where(Product.slug == slug, Product.active.is_(True))
        .options(
            selectinload(Product.variants),
            selectinload(Product.images),
            selectinload(Product.price_tiers.and_(PriceTier.currency == currency)),
            selectinload(Product.category).selectinload(Category.parent),
        )
    ).first()


def build_matrix(variants: list[Variant]) -> VariantMatrix:
    sizes: list[str] = []
    colours: list[str] = []
    cells: dict[tuple[str, str], Variant] = {}
    for variant in variants:
        if variant.size not in sizes:
            sizes.append(variant.size)
        if variant.colour not in colours:
            colours.append(variant.colour)
        cells[(variant.size, variant.colour)] = variant
    return VariantMatrix(sizes, colours, cells)


def get_product_page(
    session: Session, slug: str, *, currency: str, locale: str, variant_id: int | None = None
) -> ProductPage | None:
    product = get_active_product(session, slug, currency)
    if product is None:
        return None
    selected = next((v for v in product.variants if v.id == variant_id), None)
    tiers = [tier for tier in product.price_tiers if tier.currency == currency]
    return ProductPage(
        product=product,
        name=localized(product, "name", locale),
        description=localized(product, "description", locale),
        category=product.category,
        images=list(product.images),
        currency=currency,
        tiers=pricing.tier_ranges(tiers),
        matrix=build_matrix(list(product.variants)),
        selected=selected,
    )
