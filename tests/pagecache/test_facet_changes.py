"""The listing's filter menus (``variant_facet``) on cached pages: a size added in the
admin shows in the menus on the next request; a size the prune removes leaves them; a
prune that removes nothing leaves the cached pages alone. Each test runs with the memory
store and with Redis."""

import re

import pytest

from shop.catalog.facets import prune_facets
from tests.factories import make_category, make_product
from tests.helpers.pagecache import RAW, behind_the_cache, mark_product, raw_marked

MENU_PAGES = ("/products", "/products?category=uniforms", "/products?q=polo")


def size_menu(page: str) -> list[str]:
    menu = page.split('id="filter-size"')[1].split("</select>")[0]
    return [value for value in re.findall(r'<option value="([^"]*)"', menu) if value]


@pytest.fixture
def polo(session):
    uniforms = make_category(session, slug="uniforms", name="Uniforms")
    product = make_product(
        session, category=uniforms, slug="summer-polo", name="Summer polo", sizes=("130", "140")
    )
    session.commit()
    return product


def test_a_size_added_in_the_admin_shows_in_the_menus_at_once(app, client, visitor, sign_in, polo):
    behind_the_cache(app, visitor, MENU_PAGES, mark_product("summer-polo"))
    assert size_menu(visitor.get("/products").text) == ["130", "140"]
    sign_in("manager")

    response = client.post(
        f"/admin/products/{polo.id}/variants/generate",
        data={"sizes": "150, XL", "colours": "navy", "pattern": "{slug}-{size}-{colour}"},
    )

    assert response.status_code == 302
    for path in MENU_PAGES:
        assert size_menu(visitor.get(path).text) == ["130", "140", "150", "XL"], path


def test_a_pruned_size_leaves_the_cached_menus(app, visitor, session, polo):
    gone = next(variant for variant in polo.variants if variant.size == "140")
    session.delete(gone)
    session.commit()
    behind_the_cache(app, visitor, MENU_PAGES, mark_product("summer-polo"))
    # No variant has 140 now; until the prune the menus offer it (it finds nothing).
    assert size_menu(visitor.get("/products").text) == ["130", "140"]

    assert prune_facets(session) == 1
    session.commit()

    for path in MENU_PAGES:
        assert size_menu(visitor.get(path).text) == ["130"], path


def test_a_prune_that_removes_nothing_leaves_the_cache_alone(app, visitor, session, polo):
    marker = mark_product("summer-polo")
    behind_the_cache(app, visitor, MENU_PAGES, marker)

    assert prune_facets(session) == 0
    session.commit()

    with raw_marked(app, marker):
        for path in MENU_PAGES:
            assert RAW not in visitor.get(path).text, f"{path} was rendered again"
