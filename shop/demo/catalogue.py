"""The demo catalogue (``data/catalogue.json``): categories, products, variants, price tiers
and drawn pictures.

Idempotent: categories and products are found by slug, variants by SKU, tiers by
currency, images by path. What exists is left alone (staff may have edited it, and stock
may have moved), what is missing is added, and nothing is ever deleted. A picture whose
row exists but whose file is gone is drawn again. Uses only the session it is given:
it flushes, the caller commits.

Prices are written in yuan (CNY) in the data and converted to JPY, SGD and USD at the
data's fixed demo rates, then rounded to tidy price points, in ``Decimal`` throughout.
"""

import random
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

import sqlalchemy as sa
from PIL import Image
from sqlalchemy.orm import Session, selectinload

from shop.catalog.attributes import AGE_GROUPS, GENDERS
from shop.catalog.colours import COLOURS
from shop.catalog.models import Category, PriceTier, Product, ProductImage, Variant
from shop.catalog.search import refresh_search_text
from shop.db import utcnow
from shop.demo.files import read_json
from shop.demo.images import draw_garment, save_product_image
from shop.images import save_derived_sizes, thumbnail_path
from shop.money import exponent, from_decimal, to_decimal
from shop.storage import Storage

IMAGE_SIZE = 800


@dataclass(frozen=True)
class CategorySpec:
    slug: str
    name: str
    name_zh: str
    name_ja: str
    parent: str | None = None


@dataclass(frozen=True)
class ProductSpec:
    slug: str
    code: str  # the SKU stem: SF-<code>-<colour>-<size>
    category: str
    kind: str  # what shop.demo.images draws
    sizes: tuple[str, ...]
    colours: tuple[str, ...]
    tiers: tuple[tuple[int, int | str], ...]  # (from quantity, yuan); the first is the MOQ
    name: str
    name_zh: str
    name_ja: str
    description: str
    description_zh: str
    description_ja: str | None = None
    chart: str | None = None  # a key of the data's size charts
    lead_time: int | None = None  # set: made to order, no stock
    increment: int = 1
    stock: str = "plenty"  # plenty | mixed | low | out
    featured: bool = False
    gender: str | None = None  # a key of shop.catalog.attributes.GENDERS
    age_group: str | None = None  # a key of AGE_GROUPS


def product_spec(data: dict[str, Any]) -> ProductSpec:
    """A product as the data writes it (lists for tuples)."""
    return ProductSpec(
        **data
        | {
            "sizes": tuple(data["sizes"]),
            "colours": tuple(data["colours"]),
            "tiers": tuple((quantity, yuan) for quantity, yuan in data["tiers"]),
        }
    )


_DATA = read_json("catalogue.json")
PRICES_IN = _DATA["prices"]["currency"]
# Demo exchange rates: units of each currency per yuan.
RATES = {currency: Decimal(rate) for currency, rate in _DATA["prices"]["rates"].items()}
# Price points: below each bound (in minor units, none: any), round to the step.
PRICE_STEPS: dict[str, list[tuple[int | None, int]]] = {
    currency: [(bound, step) for bound, step in steps]
    for currency, steps in _DATA["prices"]["steps"].items()
}
COLOUR_CODES = {key: colour["code"] for key, colour in _DATA["colours"].items()}
COLOUR_WORDS = {key: colour["words"] for key, colour in _DATA["colours"].items()}
COLOUR_WORDS_ZH = {key: colour["words_zh"] for key, colour in _DATA["colours"].items()}
COLOUR_WORDS_JA = {key: colour["words_ja"] for key, colour in _DATA["colours"].items()}
CHARTS: dict[str, dict] = _DATA["size_charts"]
CATEGORIES = [CategorySpec(**category) for category in _DATA["categories"]]
PRODUCTS = [product_spec(product) for product in _DATA["products"]]


def size_chart(key: str | None, sizes: tuple[str, ...]) -> dict | None:
    """The named chart, cut down to the product's sizes."""
    if key is None:
        return None
    chart = CHARTS[key]
    rows = [list(row) for row in chart["rows"] if row[0] in sizes]
    return {"columns": list(chart["columns"]), "rows": rows}


# --- derived values ---------------------------------------------------------------------


def size_code(size: str) -> str:
    if size == "One size":
        return "OS"
    return "".join(ch for ch in size if ch.isalnum()).upper().removesuffix("CM")


def variant_sku(spec: ProductSpec, colour: str, size: str) -> str:
    return f"SF-{spec.code}-{COLOUR_CODES[colour]}-{size_code(size)}"


def convert_price(amount_cny: int, currency: str) -> int:
    """Fen to ``currency``'s minor units at the demo rate, on a tidy price point."""
    if currency == PRICES_IN:
        return amount_cny
    scaled = (to_decimal(amount_cny, PRICES_IN) * RATES[currency]).scaleb(exponent(currency))
    for bound, step in PRICE_STEPS[currency]:
        if bound is None or scaled < bound:
            rounded = (scaled / step).quantize(Decimal(1), rounding=ROUND_HALF_UP) * step
            return max(int(rounded), step)
    raise ValueError(f"no price step for {currency}")


def tier_table(spec: ProductSpec) -> dict[str, list[tuple[int, int]]]:
    """Every currency's tiers; a break that rounding makes no cheaper is dropped."""
    base = [
        (quantity, from_decimal(Decimal(str(yuan)), PRICES_IN)) for quantity, yuan in spec.tiers
    ]
    table = {PRICES_IN: base}
    for currency in RATES:
        tiers: list[tuple[int, int]] = []
        for quantity, amount in base:
            price = convert_price(amount, currency)
            if not tiers or price < tiers[-1][1]:
                tiers.append((quantity, price))
        table[currency] = tiers
    return table


def stock_level(sku: str, profile: str) -> int:
    """A deterministic, varied on-hand quantity for a stocked variant."""
    rng = random.Random(sku)
    roll = rng.random()
    if profile == "out":
        return 0
    if profile == "low":
        if roll < 0.2:
            return 0
        return rng.randint(1, 5) if roll < 0.7 else rng.randint(8, 30)
    if profile == "mixed":
        if roll < 0.18:
            return 0
        if roll < 0.4:
            return rng.randint(1, 6)
        return rng.randint(3, 40) * 5
    if roll < 0.05:
        return rng.randint(1, 4)
    return rng.randint(8, 80) * 5


def image_plan(spec: ProductSpec) -> list[dict]:
    """The pictures of a product: the first colour, then the second colour or a close-up,
    each described in English, Chinese and Japanese."""
    first = spec.colours[0]
    plan: list[dict] = [{"colour": first, "detail": False, **_alts(spec, first)}]
    if len(spec.colours) > 1:
        plan.append({"colour": spec.colours[1], "detail": False, **_alts(spec, spec.colours[1])})
    else:
        plan.append({"colour": first, "detail": True, **_alts(spec, first, close_up=True)})
    for position, item in enumerate(plan):
        item["position"] = position
        item["path"] = f"products/{spec.slug}-{position + 1}.png"
    return plan


def _alts(spec: ProductSpec, colour: str, close_up: bool = False) -> dict[str, str]:
    en, zh, ja = COLOUR_WORDS[colour], COLOUR_WORDS_ZH[colour], COLOUR_WORDS_JA[colour]
    if close_up:
        return {
            "alt": f"Close-up of the {spec.name[0].lower()}{spec.name[1:]} in {en}",
            "alt_zh": f"{spec.name_zh}细节（{zh}）",
            "alt_ja": f"{spec.name_ja}のアップ({ja})",
        }
    return {
        "alt": f"{spec.name} in {en}",
        "alt_zh": f"{spec.name_zh}（{zh}）",
        "alt_ja": f"{spec.name_ja}({ja})",
    }


def render(spec: ProductSpec, colour: str, detail: bool, size: int = IMAGE_SIZE) -> Image.Image:
    pattern = "tartan" if colour == "tartan" else None
    return draw_garment(spec.kind, COLOURS[colour][1], size, pattern=pattern, detail=detail)


# --- seeding --------------------------------------------------------------------------


def seed_categories(session: Session) -> dict[str, Category]:
    existing = {c.slug: c for c in session.scalars(sa.select(Category))}
    positions: dict[str | None, int] = {}
    for spec in CATEGORIES:
        position = positions.get(spec.parent, 0)
        positions[spec.parent] = position + 1
        if spec.slug in existing:
            continue
        category = Category(
            slug=spec.slug,
            name=spec.name,
            name_zh=spec.name_zh,
            name_ja=spec.name_ja,
            parent=existing[spec.parent] if spec.parent else None,
            position=position,
        )
        session.add(category)
        existing[spec.slug] = category
    session.flush()
    return existing


def add_variants(product: Product, spec: ProductSpec, taken: set[str]) -> int:
    """Add the variants whose SKU is not ``taken`` (and take them); how many were added."""
    added = 0
    for size_index, size in enumerate(spec.sizes):
        for colour_index, colour in enumerate(spec.colours):
            sku = variant_sku(spec, colour, size)
            if sku in taken:
                continue
            on_hand = 0 if spec.lead_time is not None else stock_level(sku, spec.stock)
            product.variants.append(
                Variant(
                    sku=sku,
                    size=size,
                    colour=colour,
                    position=size_index * len(spec.colours) + colour_index,
                    on_hand=on_hand,
                )
            )
            taken.add(sku)
            added += 1
    return added


def add_tiers(product: Product, spec: ProductSpec) -> None:
    """Add the tiers of every currency the product has none in."""
    present = {tier.currency for tier in product.price_tiers}
    for currency, tiers in tier_table(spec).items():
        if currency in present:
            continue
        for quantity, amount in tiers:
            product.price_tiers.append(
                PriceTier(currency=currency, min_quantity=quantity, unit_amount=amount)
            )


def add_images(product: Product, spec: ProductSpec, storage: Storage, size: int) -> int:
    """Draw the pictures that are missing (row or file); how many were drawn."""
    drawn = 0
    rows = {image.path: image for image in product.images}
    for item in image_plan(spec):
        row = rows.get(item["path"])
        if row is not None and storage.exists(row.path):
            if not storage.exists(thumbnail_path(row.path)):  # seeded before thumbnails
                save_derived_sizes(storage, row.path)
            continue
        image = render(spec, item["colour"], item["detail"], size)
        width, height = save_product_image(storage, item["path"], image)
        save_derived_sizes(storage, item["path"])
        drawn += 1
        if row is None:
            product.images.append(
                ProductImage(
                    path=item["path"],
                    alt_text=item["alt"],
                    alt_text_zh=item["alt_zh"],
                    alt_text_ja=item["alt_ja"],
                    width=width,
                    height=height,
                    position=item["position"],
                )
            )
    return drawn


def seed_demo_catalogue(session: Session, storage: Storage, *, image_size: int = IMAGE_SIZE) -> str:
    """Load the demo catalogue; returns a one-line report. Flushes, never commits.
    ``image_size`` (pixels square) is for tests that want to draw small and fast."""
    _check_tables()
    categories = seed_categories(session)
    slugs = [spec.slug for spec in PRODUCTS]
    existing = {
        product.slug: product
        for product in session.scalars(
            sa.select(Product)
            .where(Product.slug.in_(slugs))
            .options(
                selectinload(Product.variants),
                selectinload(Product.price_tiers),
                selectinload(Product.images),
            )
        )
    }
    taken = set(session.scalars(sa.select(Variant.sku)))
    now = utcnow()
    created = variants_added = drawn = 0
    for spec in PRODUCTS:
        product = existing.get(spec.slug)
        if product is None:
            product = new_product(spec, categories[spec.category], now)
            session.add(product)
            created += 1
        added = add_variants(product, spec, taken)
        variants_added += added
        if added:
            refresh_search_text(product)
        add_tiers(product, spec)
        drawn += add_images(product, spec, storage, image_size)
    session.flush()

    counts = {
        model: session.scalar(sa.select(sa.func.count()).select_from(model)) or 0
        for model in (Category, Product, Variant, ProductImage)
    }
    return (
        f"Demo catalogue: {_plural(counts[Category], 'category', 'categories')}, "
        f"{_plural(counts[Product], 'product')}, {_plural(counts[Variant], 'variant')}, "
        f"{_plural(counts[ProductImage], 'image')} (created {_plural(created, 'product')}, "
        f"{len(PRODUCTS) - created} already present; added {_plural(variants_added, 'variant')}; "
        f"drew {_plural(drawn, 'image')})."
    )


def _plural(count: int, singular: str, plural: str | None = None) -> str:
    return f"{count} {singular if count == 1 else plural or singular + 's'}"


def new_product(spec: ProductSpec, category: Category, now: datetime) -> Product:
    """The product row of ``spec`` (no variants, tiers or images yet), created some
    days before ``now``."""
    rng = random.Random(spec.slug)
    return Product(
        slug=spec.slug,
        name=spec.name,
        name_zh=spec.name_zh,
        name_ja=spec.name_ja,
        description=spec.description,
        description_zh=spec.description_zh,
        description_ja=spec.description_ja,
        category=category,
        made_to_order=spec.lead_time is not None,
        lead_time_days=spec.lead_time,
        min_order_quantity=spec.tiers[0][0],
        order_increment=spec.increment,
        size_chart=size_chart(spec.chart, spec.sizes),
        featured=spec.featured,
        gender=spec.gender,
        age_group=spec.age_group,
        active=True,
        created_at=now - timedelta(days=rng.randint(1, 150), minutes=rng.randint(0, 1439)),
    )


def _check_tables() -> None:
    """The data is typed by hand: fail loudly on a typo rather than seed something odd."""
    category_slugs = {c.slug for c in CATEGORIES}
    seen_slugs: set[str] = set()
    seen_skus: set[str] = set()
    for spec in PRODUCTS:
        quantities = [q for q, _ in spec.tiers]
        prices = [Decimal(str(p)) for _, p in spec.tiers]
        skus = [
            variant_sku(spec, c, s) for c in spec.colours if c in COLOUR_CODES for s in spec.sizes
        ]
        problems = [
            (spec.slug in seen_slugs, "duplicate slug"),
            (spec.category not in category_slugs, "unknown category"),
            (
                any(c not in COLOURS or c not in COLOUR_CODES for c in spec.colours),
                "unknown colour",
            ),
            (spec.chart is not None and spec.chart not in CHARTS, "unknown size chart"),
            (quantities != sorted(set(quantities)), "tier quantities not increasing"),
            (prices != sorted(prices, reverse=True), "tier prices increasing"),
            (any(q % spec.increment for q in quantities), "tier not a multiple of increment"),
            (len(set(skus)) != len(skus) or seen_skus.intersection(skus), "duplicate SKU"),
            (spec.gender not in (None, *GENDERS), "unknown gender"),
            (spec.age_group not in (None, *AGE_GROUPS), "unknown age group"),
        ]
        for failed, problem in problems:
            if failed:
                raise ValueError(f"demo product {spec.slug}: {problem}")
        seen_slugs.add(spec.slug)
        seen_skus.update(skus)
