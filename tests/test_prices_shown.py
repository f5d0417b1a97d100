"""Prices in each market's own words on the pages people read: the yen says tax is
included to consumers (Japan's 総額表示) in every language, the yuan is CN¥ to English and
Japanese readers and ¥ to Chinese ones, the Singapore dollar S$; the back office shows
bare amounts, and CN¥ wherever currencies mix."""

import re

import pytest

from shop.templating import money_filter
from tests.factories import make_product

TAX = {"en": "¥4,800 (tax incl.)", "ja": "¥4,800（税込）", "zh_CN": "¥4,800（含税）"}


def shown_prices(page: str) -> list[str]:
    """The text of every ``data-testid="price"`` element."""
    return re.findall(r'data-testid="price"[^>]*>([^<]*)<', page)


def in_currency(client, currency: str) -> None:
    with client.session_transaction() as browser_session:
        browser_session["currency"] = currency


@pytest.fixture
def blazer(session):
    product = make_product(
        session, slug="blazer", name="Blazer", currency="JPY", tiers=((1, 4800),)
    )
    session.commit()
    return product


@pytest.mark.parametrize("lang", sorted(TAX))
def test_yen_prices_on_the_product_page_and_listing_say_tax_included(client, blazer, lang):
    in_currency(client, "JPY")
    product_page = client.get(f"/products/blazer?lang={lang}").text
    listing = client.get(f"/products?lang={lang}").text
    assert TAX[lang] in shown_prices(product_page)
    assert shown_prices(listing) == [TAX[lang]]


def test_yen_prices_in_the_cart_say_tax_included(client, blazer):
    in_currency(client, "JPY")
    variant_id = blazer.variants[0].id
    response = client.post("/cart/add", data={"variant_id": variant_id, "quantity": 2})
    assert response.status_code == 303
    cart = client.get("/cart?lang=ja").text
    assert "¥9,600（税込）" in shown_prices(cart)
    assert all(price.endswith("（税込）") for price in shown_prices(cart))


@pytest.mark.parametrize(
    ("lang", "expected"), [("en", "CN¥49.00"), ("ja", "CN¥49.00"), ("zh_CN", "¥49.00")]
)
def test_yuan_prices_read_as_yuan_in_each_language_and_carry_no_tax_note(
    client, session, lang, expected
):
    make_product(session, slug="polo", tiers=((1, 4900),))
    session.commit()
    prices = shown_prices(client.get(f"/products/polo?lang={lang}").text)
    assert expected in prices
    assert not any("元" in price or "税" in price or "tax" in price for price in prices)


@pytest.mark.parametrize("lang", sorted(TAX))
def test_singapore_dollars_are_s_dollars_with_no_bare_dollar_beside_them(client, session, lang):
    make_product(session, slug="polo", currency="SGD", tiers=((1, 1250),))
    session.commit()
    in_currency(client, "SGD")
    assert shown_prices(client.get(f"/products/polo?lang={lang}").text) == ["S$12.50"]


@pytest.mark.parametrize(
    ("path", "yen", "yuan"),
    [
        ("/products?lang=zh_CN", "¥4,800（含税）", "¥49.00"),
        ("/orders?lang=zh_CN", "¥4,800（含税）", "CN¥49.00"),  # a customer's orders: mixed
        ("/admin/orders?lang=zh_CN", "¥4,800", "CN¥49.00"),  # the back office
        ("/schools/north/admin?lang=zh_CN", "¥4,800", "CN¥49.00"),  # a school's admin
        ("/admin/orders?lang=ja", "¥4,800", "CN¥49.00"),
    ],
)
def test_the_back_office_shows_bare_amounts_and_mixed_pages_tell_yuan_from_yen(
    app, path, yen, yuan
):
    with app.test_request_context(path):
        assert money_filter(4800, "JPY") == yen
        assert money_filter(4900, "CNY") == yuan
        assert money_filter(None, "JPY") == ""


def test_an_email_rendered_outside_a_request_is_for_a_consumer(app):
    from flask_babel import force_locale

    with app.app_context(), force_locale("ja"):  # as shop.mail renders one in a job
        assert money_filter(4800, "JPY") == "¥4,800（税込）"
