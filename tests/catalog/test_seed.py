"""The demo seed: a realistic catalogue, loaded idempotently.

Self-contained: its own SQLite database built by the Alembic migrations, its own upload
folder. The catalogue is seeded once per module (drawing the pictures is the slow part,
so they are drawn small here) and then seeded again to prove the second run changes
nothing.
"""

from collections import defaultdict
from pathlib import Path

import pytest
import sqlalchemy as sa
from PIL import Image
from sqlalchemy.orm import Session

from shop import migrate
from shop.catalog.models import Category, PriceTier, Product, ProductImage, Variant
from shop.catalog.search import fold
from shop.db import make_engine
from shop.demo.catalogue import seed_demo_catalogue
from shop.images import THUMBNAIL_SIZE, thumbnail_path
from shop.storage import FileStorage

IMAGE_SIZE = 160
KIDS = ["110", "120", "130", "140", "150", "160", "170"]
ADULT = ["S", "M", "L", "XL", "XXL"]


def table_counts(engine: sa.Engine) -> dict[str, int]:
    with engine.connect() as connection:
        return {
            name: connection.scalar(sa.select(sa.func.count()).select_from(sa.table(name)))
            for name in sa.inspect(connection).get_table_names()
        }


def snapshot(session: Session) -> dict:
    """Everything the seed writes, as plain values."""
    products = session.scalars(sa.select(Product).order_by(Product.slug))
    return {
        "products": [
            (p.slug, p.name, p.search_text, p.created_at, p.updated_at, p.min_order_quantity)
            for p in products
        ],
        "variants": session.execute(
            sa.select(Variant.sku, Variant.on_hand, Variant.position).order_by(Variant.sku)
        ).all(),
        "tiers": session.execute(
            sa.select(
                PriceTier.product_id,
                PriceTier.currency,
                PriceTier.min_quantity,
                PriceTier.unit_amount,
            ).order_by(PriceTier.id)
        ).all(),
        "images": session.execute(
            sa.select(ProductImage.path, ProductImage.width).order_by(ProductImage.id)
        ).all(),
    }


@pytest.fixture(scope="module")
def seeded(tmp_path_factory):
    root = tmp_path_factory.mktemp("seed")
    url = f"sqlite:///{root / 'seed.sqlite3'}"
    upload_folder = root / "uploads"
    migrate.upgrade(url)
    engine = make_engine(url)
    with Session(engine) as session:
        first_report = seed_demo_catalogue(
            session, FileStorage(upload_folder), image_size=IMAGE_SIZE
        )
        session.commit()
    yield {
        "engine": engine,
        "upload_folder": upload_folder,
        "first_report": first_report,
    }
    engine.dispose()


@pytest.fixture
def session(seeded):
    with Session(seeded["engine"]) as session:
        yield session


def test_report_says_what_was_created(seeded):
    report = seeded["first_report"]
    assert report.startswith("Demo catalogue: ")
    assert "0 already present" in report


def test_two_level_categories_in_three_languages(session):
    categories = session.scalars(sa.select(Category)).all()
    top = [c for c in categories if c.parent_id is None]
    children = [c for c in categories if c.parent_id is not None]
    assert {c.slug for c in top} >= {"school-uniforms", "workwear", "accessories"}
    assert len(children) >= 10
    assert all(c.parent.parent_id is None for c in children)
    assert all(c.name and c.name_zh and c.name_ja for c in categories)


def test_products_are_complete(session, seeded):
    products = session.scalars(sa.select(Product)).all()
    assert len(products) >= 40
    for product in products:
        assert product.variants, product.slug
        assert product.name_zh and product.name_ja, product.slug
        assert product.description and product.description_zh, product.slug
        assert any("\u4e00" <= ch <= "\u9fff" for ch in product.name_zh), product.slug
        currencies = {tier.currency for tier in product.price_tiers}
        assert currencies == {"CNY", "JPY", "SGD", "USD"}, product.slug
        assert product.images, product.slug
        assert product.category.parent is not None, product.slug
        for image in product.images:
            path = Path(seeded["upload_folder"]) / image.path
            assert image.path.startswith("products/") and path.is_file(), image.path
            assert image.alt_text
            with Image.open(path) as picture:
                picture.load()
                assert picture.size == (image.width, image.height) == (IMAGE_SIZE, IMAGE_SIZE)


def test_search_text_covers_languages_and_skus(session):
    products = session.scalars(sa.select(Product)).all()
    for product in products:
        assert fold(product.name_zh) in product.search_text
        assert fold(product.variants[0].sku) in product.search_text
    uniforms = [p for p in products if fold("校服") in p.search_text]
    assert len(uniforms) >= 5


def test_skus_are_unique_and_readable(session):
    skus = session.scalars(sa.select(Variant.sku)).all()
    assert len(skus) == len(set(skus))
    assert all(sku.startswith("SF-") and sku.isascii() and " " not in sku for sku in skus)


def test_children_and_adult_sizes_in_size_order(session):
    sizes = set(session.scalars(sa.select(Variant.size)))
    assert set(KIDS) <= sizes
    assert set(ADULT) <= sizes
    for product in session.scalars(sa.select(Product)):
        ordered = sorted(product.variants, key=lambda v: v.position)
        seen: list[str] = []
        for variant in ordered:
            if variant.size not in seen:
                seen.append(variant.size)
        for scale in (KIDS, ADULT):
            in_scale = [size for size in seen if size in scale]
            assert in_scale == sorted(in_scale, key=scale.index), product.slug


def test_size_charts_match_sizes(session):
    charted = 0
    for product in session.scalars(sa.select(Product)):
        chart = product.size_chart
        if chart is None:
            continue
        charted += 1
        assert chart["columns"][0] == "Size"
        assert all(len(row) == len(chart["columns"]) for row in chart["rows"])
        assert {row[0] for row in chart["rows"]} == {v.size for v in product.variants}
    assert charted >= 30


def test_made_to_order_and_stocked_mix(session):
    products = session.scalars(sa.select(Product)).all()
    made = [p for p in products if p.made_to_order]
    stocked = [p for p in products if not p.made_to_order]
    assert len(made) >= 8 and len(stocked) >= 20
    for product in made:
        assert 7 <= product.lead_time_days <= 30
        assert all(v.on_hand == 0 for v in product.variants)
    stocked_variants = [v for p in stocked for v in p.variants]
    assert any(v.on_hand == 0 for v in stocked_variants)
    assert any(1 <= v.on_hand <= 6 for v in stocked_variants)
    assert sum(v.on_hand >= 50 for v in stocked_variants) > len(stocked_variants) / 3
    assert any(p.min_order_quantity > 1 for p in products)
    assert any(p.order_increment > 1 for p in products)
    assert 8 <= sum(p.featured for p in products) <= 12
    assert len({p.created_at for p in products}) == len(products)


def test_price_tiers_are_well_formed(session):
    tiers: dict[tuple[int, str], list[PriceTier]] = defaultdict(list)
    for tier in session.scalars(sa.select(PriceTier)):
        tiers[(tier.product_id, tier.currency)].append(tier)
    products = {p.id: p for p in session.scalars(sa.select(Product))}
    for (product_id, currency), rows in tiers.items():
        rows.sort(key=lambda t: t.min_quantity)
        product = products[product_id]
        quantities = [t.min_quantity for t in rows]
        amounts = [t.unit_amount for t in rows]
        assert isinstance(amounts[0], int)
        assert quantities[0] == product.min_order_quantity, product.slug
        assert all(a < b for a, b in zip(quantities, quantities[1:], strict=False))
        assert all(a >= b for a, b in zip(amounts, amounts[1:], strict=False))
        assert all(q % product.order_increment == 0 for q in quantities), product.slug
        if currency == "CNY":
            assert len(rows) >= 2
            assert all(500 <= a <= 100_000 for a in amounts)  # ¥5 to ¥1,000
        if currency == "JPY":
            assert all(100 <= a <= 100_000 for a in amounts)  # whole yen
            assert all(a % 10 == 0 for a in amounts)


def test_second_run_changes_nothing(seeded):
    engine = seeded["engine"]
    before = table_counts(engine)
    with Session(engine) as session:
        state = snapshot(session)
        report = seed_demo_catalogue(
            session, FileStorage(seeded["upload_folder"]), image_size=IMAGE_SIZE
        )
        session.commit()
        assert "created 0 products" in report
        assert "drew 0 images" in report
    assert table_counts(engine) == before
    with Session(engine) as session:
        assert snapshot(session) == state


def test_a_missing_picture_is_drawn_again(seeded):
    engine = seeded["engine"]
    with Session(engine) as session:
        image = session.scalars(sa.select(ProductImage).order_by(ProductImage.id)).first()
        path = Path(seeded["upload_folder"]) / image.path
    path.unlink()
    before = table_counts(engine)
    with Session(engine) as session:
        report = seed_demo_catalogue(
            session, FileStorage(seeded["upload_folder"]), image_size=IMAGE_SIZE
        )
        session.commit()
    assert "drew 1 image)" in report
    assert path.is_file()
    assert table_counts(engine) == before


def test_every_seeded_picture_has_its_thumbnail(seeded, session):
    """Seeded pictures get a thumbnail as uploads do (the admin and listings show those)."""
    folder = Path(seeded["upload_folder"])
    paths = session.scalars(sa.select(ProductImage.path)).all()
    assert paths
    for path in paths:
        thumb = folder / thumbnail_path(path)
        assert thumb.is_file(), path
        with Image.open(thumb) as small:
            assert max(small.size) <= max(THUMBNAIL_SIZE)


def test_a_missing_thumbnail_is_made_again(seeded):
    engine = seeded["engine"]
    with Session(engine) as session:
        image = session.scalars(sa.select(ProductImage).order_by(ProductImage.id)).first()
        thumb = Path(seeded["upload_folder"]) / thumbnail_path(image.path)
    thumb.unlink()
    with Session(engine) as session:
        seed_demo_catalogue(session, FileStorage(seeded["upload_folder"]), image_size=IMAGE_SIZE)
        session.commit()
    assert thumb.is_file()
