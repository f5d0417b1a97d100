"""A product page's tier table and size × colour grid are rendered once per process for as
long as they read the same (``shop.catalog.views.tier_table`` and ``variant_matrix``):
kept by the tiers and the grid's cells themselves, so a changed price or stock shows on
the next request, page cache or not, and each language and currency has its own."""

import re

import pytest
import sqlalchemy as sa

from shop.catalog.models import PriceTier, Product, Variant
from shop.templating import SIZE_GRIDS
from tests.factories import make_product


@pytest.fixture
def polo(session):
    product = make_product(
        session,
        slug="polo",
        sizes=("120", "130"),
        colours=("navy", "white"),
        tiers=((1, 8900), (50, 7900)),
    )
    make_product(session, slug="shirt", tiers=((1, 8900), (50, 7900)))  # the same tiers
    session.commit()
    return product


def kept_grids(app) -> int:
    return len(app.extensions[SIZE_GRIDS].texts)


def kept_tier_tables(app) -> int:
    fragments = app.extensions["shop_fragments"].texts
    return sum(1 for template, *_ in fragments if template.name == "catalog/_tier_table.html")


def stock_sentences(page: str) -> list[str]:
    return re.findall(r'<span class="stock[^"]*"[^>]*>([^<]*)<', page)


def tier_prices(page: str) -> list[str]:
    table = page[page.index('data-testid="tier-table"') :].split("</table>")[0]
    return re.findall(r'data-amount="(\d+)"', table)


def test_the_grid_and_the_tiers_are_kept_and_shared(uncached, client, polo):
    first = client.get("/products/polo").text
    assert (kept_grids(uncached), kept_tier_tables(uncached)) == (1, 1)
    assert client.get("/products/polo").text.count('data-testid="variant"') == 4
    assert (kept_grids(uncached), kept_tier_tables(uncached)) == (1, 1)
    shirt = client.get("/products/shirt").text
    assert kept_grids(uncached) == 2  # its own grid
    assert kept_tier_tables(uncached) == 1  # the polo's tiers: the same table
    assert tier_prices(shirt) == tier_prices(first) == ["8900", "7900"]


def test_a_changed_stock_and_price_show_at_once(uncached, client, session, polo):
    assert "10 in stock" in stock_sentences(client.get("/products/polo").text)
    variant = session.scalar(sa.select(Variant).where(Variant.sku == polo.variants[0].sku))
    variant.on_hand = 3
    session.commit()
    sentences = stock_sentences(client.get("/products/polo").text)
    assert sentences[0] == "3 in stock" and sentences[1:] == ["10 in stock"] * 3

    tier = session.scalar(
        sa.select(PriceTier)
        .join(Product)
        .where(Product.slug == "polo", PriceTier.min_quantity == 50)
    )
    tier.unit_amount = 7500
    session.commit()
    assert tier_prices(client.get("/products/polo").text) == ["8900", "7500"]
    assert tier_prices(client.get("/products/shirt").text) == ["8900", "7900"]


def test_the_selected_variant_is_marked_in_its_own_grid(uncached, client, polo):
    plain = client.get("/products/polo").text
    selected = client.get(f"/products/polo?variant={polo.variants[1].id}").text
    assert "variant-cell--selected" not in plain
    assert selected.count("variant-cell--selected") == 1
    assert kept_grids(uncached) == 2


def test_each_language_and_currency_has_its_own(uncached, client, polo):
    english = client.get("/products/polo").text
    japanese = client.get("/products/polo?lang=ja").text
    assert "10 in stock" in stock_sentences(english)
    assert "10 in stock" not in stock_sentences(japanese)
    assert kept_grids(uncached) == 2
    assert kept_tier_tables(uncached) == 2
    with client.session_transaction() as visitor:
        visitor["currency"] = "USD"  # the polo has no USD price
    assert "yet; choose another currency" in client.get("/products/polo").text
    assert kept_tier_tables(uncached) == 3
