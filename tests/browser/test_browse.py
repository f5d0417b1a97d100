"""Golden path, first part: a buyer browses, searches and opens a product, on a phone too."""

import re

import pytest
from playwright.sync_api import expect

from tests.factories import make_category, make_product

pytestmark = pytest.mark.browser


@pytest.fixture
def catalogue(session):
    school = make_category(session, slug="school-uniforms", name="School uniforms")
    make_product(
        session,
        slug="summer-polo",
        name="Summer school polo",
        name_zh="夏季校服短袖polo衫",
        category=school,
        tiers=((1, 8900), (50, 7900), (200, 6900)),
        sizes=("110", "120", "130", "140", "150", "160", "170"),
        colours=("white", "navy", "sky"),
        featured=True,
        on_hand=100,
    )
    for number in range(10):
        make_product(session, slug=f"blazer-{number}", name=f"Wool blend blazer {number}")
    session.commit()


def test_search_from_the_header_and_open_a_product(page, live_server, catalogue):
    page.goto(live_server + "/")
    page.get_by_label("Search products").fill("polo")
    page.get_by_label("Search products").press("Enter")
    expect(page).to_have_url(re.compile(r"/products\?q=polo$"))  # count() would not wait
    page.wait_for_load_state()  # the address changes before the page has arrived
    cards = page.locator('[data-testid="product-card"]')
    assert cards.count() == 1
    with page.expect_navigation():
        cards.first.get_by_role("link").click()
    assert page.url.endswith("/products/summer-polo")
    tiers = page.locator('[data-testid="tier"]')
    assert tiers.all_inner_texts()[0].split("\t")[0].strip() == "1–49"
    assert page.locator('[data-testid="variant"]').count() == 21


def test_switch_language_to_chinese(page, live_server, catalogue):
    page.goto(live_server + "/products/summer-polo")
    with page.expect_navigation():  # applies when chosen: no button to press
        page.get_by_label("Language").select_option("zh_CN")
    assert page.locator("h1").inner_text() == "夏季校服短袖polo衫"
    assert page.url.endswith("/products/summer-polo")


@pytest.mark.parametrize(
    "path", ["/", "/products", "/products/summer-polo", "/cart", "/account/register"]
)
def test_pages_fit_a_360px_phone_without_sideways_scrolling(browser, live_server, catalogue, path):
    context = browser.new_context(viewport={"width": 360, "height": 740}, device_scale_factor=2)
    phone = context.new_page()
    phone.goto(live_server + "/products/summer-polo")
    phone.locator("input.qty").first.fill("2")
    phone.get_by_test_id("add-to-cart").click()  # so the cart page has lines
    phone.goto(live_server + path)
    overflow = phone.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    context.close()
    assert overflow <= 0


def test_keyboard_focus_is_visible(page, live_server, catalogue):
    page.goto(live_server + "/products")
    page.keyboard.press("Tab")  # the skip link comes first
    focused = page.evaluate("document.activeElement.className")
    outline = page.evaluate("getComputedStyle(document.activeElement).outlineStyle")
    assert focused == "skip-link"
    assert outline != "none"


def test_add_three_sizes_with_the_grid(page, live_server, catalogue):
    page.goto(live_server + "/products/summer-polo")
    for size, quantity in (("110", "20"), ("120", "20"), ("130", "10")):
        page.get_by_label(f"Quantity of size {size}, Navy").fill(quantity)
    page.get_by_test_id("add-to-cart").click()
    assert page.get_by_test_id("flash").inner_text() == "Added 50 pieces to your cart."
    assert page.get_by_test_id("cart-count").inner_text() == "50"
    page.get_by_test_id("cart-link").click()
    assert page.get_by_test_id("cart-total").get_attribute("data-amount") == str(50 * 7900)
