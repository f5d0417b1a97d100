"""A product's page is built from plain rows: one statement whatever the number of
variants, images and tiers, and no ORM object loaded."""

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session

from shop.catalog.models import PriceTier, Product, Variant
from shop.catalog.products import get_product_page
from tests.factories import make_category, make_product
from tests.helpers.queries import recording_queries

SIZES = ("110", "120", "130", "140", "150", "160", "170", "180")
COLOURS = ("navy", "white", "grey", "red", "green")


@pytest.fixture
def page_session(app):
    """A fresh session, as a request has: nothing in its identity map."""
    with Session(app.extensions["sa_engine"]) as db_session:
        yield db_session


@pytest.fixture
def orm_loads():
    """Product and Variant objects the ORM builds from rows while the test runs."""
    loaded = []

    def record(target, context):
        loaded.append(target)

    for mapper in (Product, Variant):
        sa.event.listen(mapper, "load", record)
    yield loaded
    for mapper in (Product, Variant):
        sa.event.remove(mapper, "load", record)


@pytest.mark.parametrize(("sizes", "colours", "images"), [(1, 1, 0), (8, 5, 4)])
def test_a_fixed_number_of_statements_and_no_orm_objects(
    app, session, page_session, orm_loads, sizes, colours, images
):
    parent = make_category(session, slug="uniforms")
    category = make_category(session, slug="polos", parent=parent)
    make_product(
        session,
        slug="polo",
        category=category,
        sizes=SIZES[:sizes],
        colours=COLOURS[:colours],
        images=images,
        tiers=((1, 8900), (50, 7900), (200, 6900)),
    )
    session.commit()

    with recording_queries(app) as statements:
        page = get_product_page(page_session, "polo", currency="CNY", locale="en")

    assert len(page.matrix.variants) == sizes * colours
    assert len(page.images) == images
    # the product with its category and parent, its variants, images and tiers as JSON
    assert len(statements) == 1
    assert orm_loads == []
    assert len(page_session.identity_map) == 0


def test_the_page_has_what_the_template_shows(session, page_session):
    parent = make_category(session, slug="uniforms", name="Uniforms", name_zh="校服")
    category = make_category(session, slug="polos", name="Polos", parent=parent)
    product = make_product(
        session,
        slug="polo",
        name="Polo",
        name_zh="polo衫",
        description="Soft.\n\nCotton.",
        category=category,
        sizes=("120", "130"),
        colours=("navy", "white"),
        images=2,
        tiers=((50, 7900), (1, 8900)),
        min_order_quantity=2,
        order_increment=2,
        size_chart={"columns": ["size", "chest"], "rows": [["120", "64"]]},
    )
    product.price_tiers.append(PriceTier(currency="JPY", min_quantity=1, unit_amount=1800))
    first, second, third, fourth = product.variants
    second.on_hand, second.allocated = 5, 5
    third.on_hand, third.allocated = 7, 2
    fourth.for_sale = False
    session.commit()

    page = get_product_page(
        page_session, "polo", currency="CNY", locale="zh_CN", variant_id=third.id
    )

    assert page.name == "polo衫"
    assert page.description == "Soft.\n\nCotton."
    assert (page.product.slug, page.product.min_order_quantity) == ("polo", 2)
    assert page.product.order_increment == 2 and page.product.made_to_order is False
    assert page.product.size_chart == {"columns": ["size", "chest"], "rows": [["120", "64"]]}
    assert (page.category.slug, page.category.parent.slug) == ("polos", "uniforms")
    assert page.category.parent.name_zh == "校服"
    assert [image.path for image in page.images] == ["products/polo-0.png", "products/polo-1.png"]
    assert [(t.min_quantity, t.max_quantity, t.unit_amount) for t in page.tiers] == [
        (1, 49, 8900),
        (50, None, 7900),
    ]
    assert page.matrix.sizes == ["120", "130"] and page.matrix.colours == ["navy", "white"]
    cells = [
        page.matrix.cell(size, colour) for size in ("120", "130") for colour in ("navy", "white")
    ]
    assert [(cell.sku, cell.available, cell.for_sale) for cell in cells] == [
        (first.sku, 10, True),
        (second.sku, 0, True),
        (third.sku, 5, True),
        (fourth.sku, 10, False),
    ]
    assert page.matrix.cell("150", "navy") is None
    assert page.selected.id == third.id and page.selected.available == 5


def test_a_category_without_parent_and_a_product_without_tiers(session, page_session):
    make_product(session, slug="cap", category=make_category(session, slug="hats"), tiers=())
    session.commit()

    page = get_product_page(page_session, "cap", currency="USD", locale="en", variant_id=10**9)

    assert page.category.slug == "hats" and page.category.parent is None
    assert page.tiers == [] and page.images == [] and page.selected is None


def test_an_inactive_or_unknown_product_has_no_page(session, page_session):
    make_product(session, slug="retired", active=False)
    session.commit()

    assert get_product_page(page_session, "retired", currency="CNY", locale="en") is None
    assert get_product_page(page_session, "nothing", currency="CNY", locale="en") is None


def test_the_page_renders_the_grid_from_the_rows(client, session):
    make_product(
        session,
        slug="polo",
        sizes=SIZES[:3],
        colours=COLOURS[:2],
        made_to_order=True,
        lead_time_days=21,
    )
    session.commit()

    text = client.get("/products/polo").text

    assert text.count('data-testid="variant"') == 6
    assert text.count('data-available=""') == 6  # made to order: no stock shown
    assert "Made to order — ships in about 21 days." in text
