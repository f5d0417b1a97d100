"""Stock counted in the admin shows on the product page and the school shop at once,
though both were cached just before."""

import re

import pytest

from tests.factories import make_product
from tests.helpers.pagecache import (
    available,
    behind_the_cache,
    mark_product,
    raw_marked,
    school_sizes,
)
from tests.school_factories import add_item, make_school

PAGES = ("/products/polo", "/schools/greenfield")


@pytest.fixture
def polo(session):
    """A polo in two sizes, 5 of each, on the Greenfield school's list."""
    product = make_product(session, slug="polo", name="Polo", sizes=("130", "140"), on_hand=5)
    school = make_school(session, slug="greenfield")
    add_item(session, school, product)
    session.commit()
    return product


def adjust(client, variant_id: int, reason: str, quantity: str):
    response = client.post(
        f"/admin/stock/{variant_id}/adjust", data={"reason": reason, "quantity": quantity}
    )
    assert response.status_code == 302, response.text


def test_stock_received_in_the_admin_shows_on_the_product_page(app, client, visitor, sign_in, polo):
    small, large = polo.variants
    behind_the_cache(app, visitor, PAGES, mark_product("polo"))
    sign_in("warehouse")

    adjust(client, small.id, "received", "+4")

    page = visitor.get("/products/polo").text
    assert available(page) == {small.sku: "9", large.sku: "5"}
    assert "9 in stock" in page and "5 in stock" in page


def test_stock_counted_to_zero_shows_out_of_stock_on_product_page_and_school_shop(
    app, client, visitor, sign_in, polo
):
    small, large = polo.variants
    behind_the_cache(app, visitor, PAGES, mark_product("polo"))
    assert school_sizes(visitor.get("/schools/greenfield").text) == {"130": True, "140": True}
    sign_in("warehouse")

    adjust(client, small.id, "counted", "0")

    page = visitor.get("/products/polo").text
    assert available(page) == {small.sku: "0", large.sku: "5"}
    assert re.search(rf'id="qty-{small.id}"[^>]*disabled', page)
    assert f'id="oos-{small.id}">out of stock' in page
    assert school_sizes(visitor.get("/schools/greenfield").text) == {"130": False, "140": True}

    behind_the_cache(app, visitor, PAGES, mark_product("polo"))
    adjust(client, small.id, "received", "3")

    assert available(visitor.get("/products/polo").text)[small.sku] == "3"
    assert school_sizes(visitor.get("/schools/greenfield").text) == {"130": True, "140": True}


def test_a_stock_change_leaves_other_products_pages_cached(
    app, client, visitor, session, sign_in, polo
):
    """The stock version is per product: another product's page is still served from the
    cache (the point of per-product versions), while the polo's is rendered again."""
    make_product(session, slug="skirt", name="Skirt")
    session.commit()
    behind_the_cache(app, visitor, ["/products/skirt", "/products/polo"], mark_product("skirt"))
    sign_in("warehouse")

    adjust(client, polo.variants[0].id, "damaged", "-1")

    with raw_marked(app, mark_product("skirt")):
        assert "~raw~" not in visitor.get("/products/skirt").text
    assert available(visitor.get("/products/polo").text)[polo.variants[0].sku] == "4"
