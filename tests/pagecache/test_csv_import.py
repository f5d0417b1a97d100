"""The CSV import (through the admin's dry run and apply, both jobs) changes prices, names and
stock counts, and creates products with bulk inserts: every cached page shows it at once."""

import pytest

from tests.factories import make_category, make_product
from tests.helpers.csv_files import rows_of, to_csv, token_on
from tests.helpers.csv_files import upload as upload_csv
from tests.helpers.pagecache import (
    available,
    behind_the_cache,
    card_html,
    card_prices,
    card_slugs,
    mark_product,
    tier_amounts,
)

PAGES = (
    "/",
    "/products",
    "/products?category=uniforms",
    "/products?q=polo",
    "/products/summer-polo",
)


@pytest.fixture
def polo(session):
    uniforms = make_category(session, slug="uniforms", name="Uniforms")
    product = make_product(
        session,
        category=uniforms,
        slug="summer-polo",
        name="Summer polo",
        tiers=((1, 8900),),
        on_hand=12,
    )
    session.commit()
    return product


def apply_csv(client, rows) -> None:
    uploaded = upload_csv(client, to_csv(rows), follow=False)
    assert uploaded.status_code == 302, uploaded.text  # to the upload's page
    dry_run = client.get(uploaded.headers["Location"])  # checked by the job already
    assert dry_run.status_code == 200, dry_run.text
    applied = client.post(
        "/admin/csv/apply", data={"token": token_on(dry_run.text)}, follow_redirects=True
    )
    assert 'data-ok="true"' in applied.text


def test_a_csv_import_of_price_name_and_stock_shows_on_product_page_and_listings(
    app, client, visitor, sign_in, polo
):
    behind_the_cache(app, visitor, PAGES, mark_product("summer-polo"))
    sign_in("manager")
    rows = rows_of(client.get("/admin/csv/export").data)
    [row] = rows
    row.update(name="Summer polo 2027", price_CNY="1:99.00|50:80.00", on_hand="7")

    apply_csv(client, rows)

    for path in PAGES[:4]:
        page = visitor.get(path).text
        assert card_prices(page) == {"summer-polo": 9900}, path
        assert "Summer polo 2027" in card_html(page, "summer-polo"), path
    page = visitor.get("/products/summer-polo").text
    assert "<h1>Summer polo 2027</h1>" in page
    assert tier_amounts(page) == [9900, 8000]
    assert available(page) == {polo.variants[0].sku: "7"}


def test_a_csv_import_of_a_stock_count_alone_shows_on_the_product_page(
    app, client, visitor, sign_in, polo
):
    """A row whose only change is ``on_hand`` writes only a ledger row (no catalogue row)."""
    behind_the_cache(app, visitor, PAGES, mark_product("summer-polo"))
    sign_in("manager")
    rows = rows_of(client.get("/admin/csv/export").data)
    rows[0]["on_hand"] = "3"

    apply_csv(client, rows)

    assert available(visitor.get("/products/summer-polo").text) == {polo.variants[0].sku: "3"}


def test_products_created_by_a_csv_import_appear_in_listings_and_search(
    app, client, visitor, sign_in, polo
):
    """New products go in with Core bulk ``INSERT``s, not through the ORM."""
    behind_the_cache(app, visitor, [*PAGES, "/products?q=coat"], mark_product("summer-polo"))
    assert card_slugs(visitor.get("/products?q=coat").text) == []
    sign_in("manager")
    rows = rows_of(client.get("/admin/csv/export").data)
    coat = dict(rows[0], product_slug="winter-coat", name="Winter coat", sku="WC-1", on_hand="4")
    coat["price_CNY"] = "1:300.00"

    apply_csv(client, [*rows, coat])

    for path in ("/products", "/products?category=uniforms", "/"):
        assert sorted(card_slugs(visitor.get(path).text)) == ["summer-polo", "winter-coat"], path
    assert card_prices(visitor.get("/products?q=coat").text) == {"winter-coat": 30000}
    assert available(visitor.get("/products/winter-coat").text) == {"WC-1": "4"}
