"""The listing's and the home page's grid of cards is rendered once per process for as long
as its cards read the same (``shop.templating.card_grid``): kept by the cards themselves,
so a price, name, picture or stock change shows on the next request, page cache or not,
and each language and currency has its own."""

import re

import pytest
import sqlalchemy as sa

from shop.catalog.models import PriceTier, Product, Variant
from shop.templating import GRIDS
from tests.factories import make_product
from tests.helpers.pagecache import card_prices


@pytest.fixture
def catalogue(session):
    made = [make_product(session, slug=f"item-{n:02d}", images=1, age_days=3 - n) for n in range(3)]
    session.commit()
    return made


def names(page: str) -> list[str]:
    return re.findall(r'class="product-card__name">([^<]*)<', page)


def grid(page: str) -> str:
    return page[page.index('<ul class="product-grid">') :].split("</ul>")[0]


def kept_grids(app) -> int:
    return len(app.extensions[GRIDS].texts)


def test_the_grid_is_kept_and_a_second_page_renders_none(uncached, client, catalogue):
    first = grid(client.get("/products").text)
    assert kept_grids(uncached) == 1
    assert grid(client.get("/products").text) == first  # (the CSRF token has its second)
    assert kept_grids(uncached) == 1  # the same cards: the same grid
    by_name = client.get("/products?sort=name").text
    assert names(by_name) == sorted(names(first))  # newest first is the other way round
    assert kept_grids(uncached) == 2


def test_a_changed_price_name_and_stock_show_at_once(uncached, client, session, catalogue):
    assert card_prices(client.get("/products").text)["item-01"] == 8900
    tier = session.scalar(
        sa.select(PriceTier)
        .join(Product)
        .where(Product.slug == "item-01", PriceTier.currency == "CNY")
    )
    tier.unit_amount = 4321
    session.commit()
    assert card_prices(client.get("/products").text)["item-01"] == 4321

    product = session.scalar(sa.select(Product).where(Product.slug == "item-02"))
    product.name = "Renamed polo"
    session.commit()
    assert "Renamed polo" in names(client.get("/products").text)
    assert "Renamed polo" in names(client.get("/").text)  # the home page's featured grid

    product.made_to_order, product.lead_time_days = True, 21
    session.execute(sa.update(Variant).where(Variant.product_id == product.id).values(on_hand=0))
    session.commit()
    assert "about 21 days" in client.get("/products").text


def test_each_language_and_currency_has_its_own_grid(uncached, client, catalogue):
    english = client.get("/products").text
    chinese = client.get("/products", headers={"Accept-Language": "zh-CN"}).text
    assert "From stock" in english and "From stock" not in chinese
    assert kept_grids(uncached) == 2
