"""The listing's filters and sort apply as soon as they change (a small script submits
the form, leaving empty fields out of the address); without JavaScript, the button."""

import pytest

from tests.factories import make_product

pytestmark = pytest.mark.browser


@pytest.fixture
def catalogue(session):
    make_product(session, slug="navy-polo", colours=("navy",), sizes=("120",), age_days=1)
    make_product(session, slug="white-polo", colours=("white",), sizes=("130",), age_days=2)
    make_product(session, slug="white-blazer", colours=("white",), tiers=((1, 25000),), age_days=3)
    session.commit()


def slugs(page) -> list[str]:
    return page.locator('[data-testid="product-card"]').evaluate_all(
        "cards => cards.map(card => card.dataset.slug)"
    )


def test_choosing_a_colour_then_a_sort_applies_each_at_once(page, live_server, catalogue):
    page.goto(live_server + "/products")
    with page.expect_navigation():
        page.get_by_label("Colour").select_option("white")
    assert page.url == live_server + "/products?colour=white"
    assert slugs(page) == ["white-polo", "white-blazer"]

    with page.expect_navigation():
        page.get_by_label("Sort by").select_option("price_desc")
    assert page.url == live_server + "/products?colour=white&sort=price_desc"
    assert slugs(page) == ["white-blazer", "white-polo"]

    with page.expect_navigation():
        page.get_by_label("Maximum price").fill("100")
        page.get_by_label("Maximum price").press("Enter")
    assert slugs(page) == ["white-polo"]
    assert "price_max=100" in page.url and "colour=white" in page.url


def test_without_javascript_the_button_applies_the_filters(browser, live_server, catalogue):
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    try:
        page.goto(live_server + "/products")
        page.get_by_label("Size").select_option("120")
        assert page.url == live_server + "/products"  # nothing happens on its own
        with page.expect_navigation():
            page.get_by_test_id("apply-filters").click()
        assert "size=120" in page.url
        assert slugs(page) == ["navy-polo"]
    finally:
        context.close()


def test_on_a_phone_the_filters_fold_away_and_the_results_come_first(
    browser, live_server, catalogue
):
    context = browser.new_context(viewport={"width": 360, "height": 800})
    page = context.new_page()
    try:
        page.goto(live_server + "/products?colour=white")
        size = page.get_by_label("Size")
        assert not size.is_visible()
        first_card = page.get_by_test_id("product-card").first.bounding_box()
        assert first_card["y"] < 800  # on the first screen
        assert page.get_by_test_id("filter-count").inner_text() == "1"
        page.get_by_test_id("filter-fold").locator("summary").click()
        assert size.is_visible()
    finally:
        context.close()


@pytest.mark.parametrize("javascript", [True, False])
def test_on_a_wide_screen_the_filters_are_open(browser, live_server, catalogue, javascript):
    context = browser.new_context(
        viewport={"width": 1280, "height": 800}, java_script_enabled=javascript
    )
    page = context.new_page()
    try:
        page.goto(live_server + "/products")
        assert page.get_by_label("Size").is_visible()
        assert page.get_by_label("Maximum price").is_visible()
    finally:
        context.close()
