"""A parent on a phone (issue 16): every customer-facing page at 360 × 800, in English,
Chinese and Japanese, fits the screen's width (nothing scrolls sideways) under a compact
one-row header; the product page shows its title, prices and size grid before the
pictures; the header's menu opens, and a language applies as soon as it is chosen."""

import re

import pytest
import sqlalchemy as sa
from playwright.sync_api import expect

from shop.accounts.models import Address
from shop.resellers.models import ResellerTerms
from shop.schools.models import Invoice
from tests.accounts.helpers import PASSWORD, make_user
from tests.factories import make_category, make_product
from tests.groupbuy_factories import make_campaign
from tests.helpers.browser import WAIT_MS
from tests.helpers.resellers import add_picks, make_reseller
from tests.order_factories import make_order
from tests.school_factories import add_item, add_member, make_school
from tests.schools.invoice_helpers import invoice_order, invoice_school

pytestmark = pytest.mark.browser

PHONE = {"width": 360, "height": 800}
HEADER_MAX_PX = 64
CHART = {
    "columns": ["Size", "Height (cm)", "Chest (cm)", "Length (cm)"],
    "rows": [["120", "115–125", "60–64", "48"], ["130", "125–135", "64–68", "52"]],
}
LOCALES = ("en", "zh_CN", "ja")


@pytest.fixture
def shop_data(session):
    """A catalogue, a private school with its list, an invoiced school with a bursar, and a
    customer with a saved address and an order: every page below has something to show."""
    uniforms = make_category(session, slug="uniforms", name="School uniforms")
    polo = make_product(
        session,
        category=uniforms,
        slug="summer-polo",
        name="Summer school polo shirt with a rather long name for a phone",
        tiers=((1, 8900), (10, 7900), (50, 6900), (200, 5900)),
        sizes=("110", "120", "130", "140", "150", "160", "170"),
        colours=("white", "navy", "sky"),
        size_chart=CHART,
        on_hand=50,
        images=2,
    )
    marina = make_school(
        session,
        slug="marina-bay",
        name="Marina Bay International School",
        country="SG",
        currency="SGD",
        access_code="MARINA2026",
    )
    shorts = make_product(
        session, slug="marina-shorts", name="Marina shorts", currency="SGD", tiers=((1, 2000),)
    )
    add_item(session, marina, shorts)
    school = invoice_school(session, slug="hillside", name="Hillside Primary School")
    add_item(session, school, polo)
    invoice_order(session, school, polo.variants[0], 3)
    bursar = make_user(session, email="bursar@hillside.example", role="school_admin")
    add_member(session, school, bursar)
    customer = make_user(session, email="ann@example.com")
    session.add(
        Address(
            user_id=customer.id,
            recipient="Ann Lee",
            country="CN",
            city="Foshan",
            line1="18 Jihua Road, Chancheng District, Building 7, Unit 1201",
        )
    )
    order = make_order(
        session,
        user=customer,
        email="ann@example.com",
        lines=(("SUMMER-POLO-130-NAVY-LONG-SKU", 12, 7900), ("POLO-140", 2, 8900)),
    )
    session.commit()
    window = make_reseller(session, email="ann@example.com", handle="ann-picks")
    session.add(ResellerTerms(reseller_id=window.id, money_model="price"))
    add_picks(session, window, [polo], notes=["Our school's own polo, washes well"])
    make_campaign(session, [polo], leader=customer, code="PHONE", delivery="each")
    session.commit()
    invoice = session.scalars(sa.select(Invoice)).one()
    address = session.scalars(sa.select(Address)).one()
    return {
        "order": order.number,
        "invoice": f"/schools/hillside/admin/invoices/{invoice.number}",
        "address": f"/account/addresses/{address.id}/edit",
    }


@pytest.fixture
def phone(browser):
    context = browser.new_context(viewport=PHONE, locale="en-GB")
    page = context.new_page()
    page.set_default_timeout(WAIT_MS)
    yield page
    context.close()


def choose_language(page, locale: str) -> None:
    """From the header's menu, as a parent would: the page reloads in the new language."""
    page.get_by_test_id("menu-button").click()
    with page.expect_navigation():
        page.locator("#pref-locale").select_option(locale)


def measure(page) -> dict:
    return page.evaluate(
        """() => ({
            scroll: document.documentElement.scrollWidth,
            width: window.innerWidth,
            header: document.querySelector('.site-header').getBoundingClientRect().height,
        })"""
    )


def check(page, problems: list[str], what: str) -> None:
    """The page as it is now: no sideways scrolling, a one-row header."""
    size = measure(page)
    if size["scroll"] > size["width"]:
        problems.append(f"{what}: {size['scroll']} px wide on a {size['width']} px screen")
    if size["header"] > HEADER_MAX_PX:
        problems.append(f"{what}: the header is {size['header']} px tall")


def visit(page, url: str, problems: list[str]) -> None:
    response = page.goto(url)
    assert response is not None and response.status < 400, (url, response and response.status)
    check(page, problems, url.split("//", 1)[-1].split("/", 1)[-1] or "/")


def sign_in(page, live_server: str, email: str) -> None:
    page.goto(live_server + "/account/login")
    page.locator("main input[name=email]").fill(email)
    page.locator("main input[name=password]").fill(PASSWORD)
    page.locator("main form button[type=submit]").click()
    expect(page.get_by_test_id("account-link")).to_have_count(1)


def sign_out(page) -> None:
    page.get_by_test_id("menu-button").click()
    page.locator(".site-nav form button[type=submit]").click()
    expect(page.get_by_test_id("login-link")).to_have_count(1)


def checkout_pages(page, live_server: str, problems: list[str]) -> str:
    """Details → review → pay, filled in by field names (the labels are translated)."""
    visit(page, live_server + "/checkout", problems)
    page.locator("input[name=email]").fill("buyer@example.com")
    page.locator("input[name=delivery_method][value=courier]").check()
    page.locator("input[name=recipient]").fill("Li Wei")
    page.locator("input[name=phone]").fill("+86 139 0000 0000")
    page.locator("select[name=country]").select_option("CN")
    page.locator("input[name=region]").fill("Guangdong")
    page.locator("input[name=city]").fill("Foshan")
    page.locator("input[name=line1]").fill("18 Jihua Road")
    page.locator("input[name=postcode]").fill("528000")
    page.get_by_test_id("to-review").click()
    expect(page).to_have_url(re.compile(r"/checkout/review$"))
    check(page, problems, "checkout/review")
    page.get_by_test_id("place-order").click()
    expect(page).to_have_url(re.compile(r"/checkout/pay/[^/?#]+$"))
    expect(page.locator("#card input").first).to_be_visible()
    check(page, problems, "checkout/pay")
    return page.url.rsplit("/", 1)[-1]


@pytest.mark.parametrize("locale", LOCALES)
def test_every_customer_page_fits_a_360px_phone(live_server, shop_data, phone, locale):
    page, problems = phone, []
    page.goto(live_server + "/")
    if locale != "en":
        choose_language(page, locale)
    expect(page.locator("html")).to_have_attribute("lang", locale.replace("_", "-"))

    for path in (
        "/",
        "/products",
        "/products?category=uniforms",
        "/products?q=polo",
        "/products/summer-polo",
        "/schools",
        "/schools/marina-bay",  # locked: the access-code form
        "/cart",  # empty
        "/track",
        "/account/login",
        "/account/register",
        "/account/reset",
        "/g/PHONE",  # a group buy (issue 18): progress, size grid, join form with address
    ):
        visit(page, live_server + path, problems)

    page.goto(live_server + "/schools/marina-bay")
    page.locator("input[name=code]").fill("MARINA2026")
    page.get_by_test_id("access-code-form").locator("button[type=submit]").click()
    expect(page.get_by_test_id("kit-form")).to_be_visible()
    check(page, problems, "schools/marina-bay (open)")

    page.goto(live_server + "/products/summer-polo")
    page.locator("input.qty:not([disabled])").first.fill("12")
    page.get_by_test_id("add-to-cart").click()
    expect(page.get_by_test_id("flash")).to_be_visible()
    visit(page, live_server + "/cart", problems)  # filled
    number = checkout_pages(page, live_server, problems)

    page.goto(live_server + "/track")
    page.locator("input[name=number]").fill(number)
    page.locator("input[name=email]").fill("buyer@example.com")
    page.get_by_test_id("track-form").locator("button[type=submit]").click()
    expect(page).to_have_url(re.compile(rf"/orders/{number}$"))
    check(page, problems, "track → order")

    sign_in(page, live_server, "ann@example.com")
    for path in (
        "/account",
        shop_data["address"],
        "/orders",
        f"/orders/{shop_data['order']}",
        f"/orders/{shop_data['order']}/receipt",
        "/w/ann-picks",  # her window, and her pages as its reseller
        "/account/window",
        "/account/window/prices",
        "/account/window/dashboard",
        "/account/window/earnings",
    ):
        visit(page, live_server + path, problems)
    sign_out(page)

    sign_in(page, live_server, "bursar@hillside.example")
    for path in (
        "/schools/hillside/admin",
        "/schools/hillside/admin/classes/3A/packing",
        "/schools/hillside/admin/roster",
        shop_data["invoice"],
    ):
        visit(page, live_server + path, problems)

    assert problems == []


def test_the_product_page_puts_title_prices_and_size_grid_before_the_pictures(
    live_server, shop_data, phone
):
    phone.goto(live_server + "/products/summer-polo")

    def top(selector: str) -> float:
        return phone.locator(selector).first.evaluate("e => e.getBoundingClientRect().top")

    title, tiers = top("h1"), top("[data-testid=tier-table]")
    grid, gallery = top("[data-testid=variant-matrix]"), top(".product__gallery")
    assert title < 400
    assert title < tiers < grid < gallery


def test_the_menu_opens_by_keyboard_and_the_language_applies_when_chosen(
    live_server, shop_data, phone
):
    phone.goto(live_server + "/products/summer-polo")
    toggle = phone.get_by_test_id("menu-button")
    nav_link = phone.locator(".site-nav a").first
    expect(toggle).to_have_attribute("aria-expanded", "false")
    expect(toggle).to_have_attribute("aria-controls", "site-menu-panel")
    expect(nav_link).to_be_hidden()
    expect(phone.get_by_test_id("preferences-apply")).to_be_hidden()  # no Apply to press

    toggle.focus()
    phone.keyboard.press("Enter")
    expect(toggle).to_have_attribute("aria-expanded", "true")
    expect(nav_link).to_be_visible()
    phone.keyboard.press("Escape")
    expect(toggle).to_have_attribute("aria-expanded", "false")
    expect(nav_link).to_be_hidden()
    expect(toggle).to_be_focused()

    phone.keyboard.press("Enter")
    with phone.expect_navigation():
        phone.get_by_label("Language").select_option("zh_CN")
    expect(phone.locator("html")).to_have_attribute("lang", "zh-CN")
    expect(phone.get_by_test_id("menu-button")).to_contain_text("菜单")
    assert phone.url.endswith("/products/summer-polo")

    phone.get_by_test_id("menu-button").click()
    with phone.expect_navigation():
        phone.locator("#pref-currency").select_option("SGD")
    expect(phone.locator("#pref-currency")).to_have_value("SGD")
    assert phone.url.endswith("/products/summer-polo")


def test_without_javascript_the_menu_and_the_apply_button_still_work(
    browser, live_server, shop_data
):
    context = browser.new_context(viewport=PHONE, java_script_enabled=False)
    page = context.new_page()
    page.set_default_timeout(WAIT_MS)
    page.goto(live_server + "/")
    page.get_by_test_id("menu-button").click()  # a <details>: opens by itself
    page.locator("#pref-locale").select_option("ja")
    page.get_by_test_id("preferences-apply").click()
    expect(page.locator("html")).to_have_attribute("lang", "ja")
    assert measure(page)["header"] <= HEADER_MAX_PX
    context.close()


def test_at_1280px_the_header_shows_links_and_preferences_without_a_menu(
    page, live_server, shop_data
):
    page.goto(live_server + "/")
    expect(page.get_by_test_id("menu-button")).to_be_hidden()
    expect(page.locator(".site-nav a").first).to_be_visible()
    expect(page.get_by_test_id("login-link")).to_be_visible()
    expect(page.locator("#pref-locale")).to_be_visible()
    expect(page.get_by_test_id("cart-link")).to_contain_text("Cart")
