"""A reseller fills the size grid: the pieces, the tier reached, the total and the next
cheaper tier add up as quantities are typed, in the page's currency and language, in
the same money format as the server's."""

import pytest

from shop.money import format_money
from tests.factories import make_product

pytestmark = pytest.mark.browser


@pytest.fixture
def polo(session):
    product = make_product(
        session,
        slug="reseller-polo",
        name="Reseller polo",
        tiers=((10, 5900), (50, 4500), (200, 3900)),
        sizes=("120", "130", "140"),
        colours=("white", "navy"),
        on_hand=500,
        min_order_quantity=10,
        order_increment=2,
    )
    session.commit()
    return product


def qty(page, sku):
    return page.locator(f'[data-testid="variant"][data-sku="{sku}"] input.qty')


def summary(page) -> dict[str, str]:
    return {
        name: page.get_by_test_id(f"grid-{name}").inner_text()
        for name in ("pieces", "unit", "total")
    }


def test_typing_quantities_adds_up_pieces_tier_and_total(page, live_server, polo):
    skus = [variant.sku for variant in polo.variants]
    page.goto(live_server + "/products/reseller-polo")
    assert page.get_by_test_id("grid-summary").is_visible()

    qty(page, skus[0]).fill("3")
    # Below the first tier's minimum: it pays the first tier, and the hint names the
    # tier after it (never "add 7 more to pay CN¥59.00").
    assert summary(page) == {"pieces": "3", "unit": "CN¥59.00", "total": "CN¥177.00"}
    assert page.get_by_test_id("grid-next").inner_text() == "47 more for CN¥45.00 each"
    assert page.get_by_test_id("grid-rule").inner_text() == (
        "7 more to reach the minimum order of 10 pieces"
    )

    qty(page, skus[1]).fill("20")
    qty(page, skus[4]).fill("15")
    assert summary(page) == {"pieces": "38", "unit": "CN¥59.00", "total": "CN¥2,242.00"}
    assert page.get_by_test_id("grid-next").inner_text() == "12 more for CN¥45.00 each"
    assert page.get_by_test_id("grid-rule").is_hidden()

    qty(page, skus[5]).fill("171")
    total = 209 * 3900
    assert summary(page) == {
        "pieces": "209",
        "unit": "CN¥39.00",
        "total": format_money(total, "CNY", "en"),
    }
    assert page.get_by_test_id("grid-total").get_attribute("data-amount") == str(total)
    assert page.get_by_test_id("grid-next").is_hidden()  # no cheaper tier left
    assert page.get_by_test_id("grid-rule").inner_text() == (
        "1 more to make a multiple of 2 pieces in total"
    )

    qty(page, skus[5]).fill("")
    assert summary(page)["pieces"] == "38"


def test_the_grid_speaks_the_page_currency_and_language(page, live_server, polo, session):
    make_product(session, slug="yen-polo", currency="JPY", tiers=((1, 1200), (100, 980)))
    session.commit()
    page.goto(live_server + "/products/yen-polo")
    with page.expect_navigation():  # each choice applies when made
        page.locator("#pref-locale").select_option("ja")
    with page.expect_navigation():
        page.locator("#pref-currency").select_option("JPY")
    assert page.get_by_test_id("grid-summary").is_visible()
    page.locator("input.qty").first.fill("1000")
    assert summary(page) == {
        "pieces": "1000",
        "unit": format_money(980, "JPY", "ja"),
        "total": format_money(980_000, "JPY", "ja"),
    }


def test_without_javascript_the_summary_stays_hidden(browser, live_server, polo):
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    try:
        page.goto(live_server + "/products/reseller-polo")
        assert page.get_by_test_id("grid-summary").is_hidden()
        assert page.get_by_test_id("add-to-cart").is_visible()
    finally:
        context.close()
