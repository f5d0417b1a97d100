"""axe-core (bundled by axe-playwright-python) on the shop's key pages — the shop, the
customer's account and order, a school's shop and its admin, and the factory admin — in
English, Chinese and Japanese: no critical and no serious violations.

When it fails it prints every violation it found: the page, the rule, its impact, and the
first elements it names."""

import re

import pytest
from axe_playwright_python.sync_playwright import Axe

from tests.accounts.helpers import PASSWORD, make_user
from tests.factories import make_product
from tests.order_factories import make_order
from tests.school_factories import add_item, add_member, make_school

pytestmark = pytest.mark.browser

LANGUAGES = ("en", "zh_CN", "ja")
BLOCKING = ("critical", "serious")


@pytest.fixture
def app(make_app):
    """The plain shop (no page here pays; localstripe is not needed)."""
    return make_app()


@pytest.fixture
def site(app, serve):
    return serve(app)


@pytest.fixture
def shop_data(session):
    polo = make_product(
        session,
        slug="summer-polo",
        name="Summer school polo",
        tiers=((1, 8900), (10, 7900)),
        sizes=("120", "130", "140"),
        colours=("white", "navy"),
        on_hand=50,
        images=1,
        description="Cotton piqué.",
    )
    polo.variants[0].on_hand = 1  # low stock somewhere
    polo.variants[0].low_stock_threshold = 5
    school = make_school(session, slug="hangzhou-no-2", name="Hangzhou No. 2 Primary")
    add_item(session, school, polo, quantity_per_child=2)
    customer = make_user(session, email="parent@example.com", role="customer", name="Li")
    school_admin = make_user(session, email="bursar@example.com", role="customer", name="Wu")
    add_member(session, school, school_admin)
    make_user(session, email="owner@factory.example", role="owner", name="Owner")
    order = make_order(
        session,
        user=customer,
        email="parent@example.com",
        lines=((polo.variants[1].sku, 2, 8900),),
    )
    session.commit()
    return {"product": polo, "school": school, "order": order.number}


def sign_in(context, site: str, email: str) -> None:
    page = context.new_page()
    page.goto(site + "/account/login")
    page.locator("input[name=email]").fill(email)
    page.locator("input[name=password]").fill(PASSWORD)
    page.locator("form button[type=submit]").last.click()
    page.wait_for_load_state()
    assert "/account/login" not in page.url, f"{email} could not sign in"
    page.close()


def with_lang(path: str, lang: str) -> str:
    return path + ("&" if "?" in path else "?") + f"lang={lang}"


def blocking_violations(axe: Axe, page) -> list[str]:
    results = axe.run(page)
    found = []
    for violation in results.response["violations"]:
        if violation.get("impact") not in BLOCKING:
            continue
        targets = [", ".join(node["target"]) for node in violation["nodes"][:3]]
        found.append(
            f"{violation['impact']}: {violation['id']} ({violation['help']}), "
            f"{len(violation['nodes'])} element(s): {targets}"
        )
    return found


DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 390, "height": 844}  # parents order on their phones


def audit(browser, site: str, paths: list[str], *, email=None, cart=None, viewport=DESKTOP):
    """Every path in every language, as ``email`` (signed in) or a visitor, with the
    variant ``cart`` in the cart (two of it)."""
    context = browser.new_context(viewport=viewport)
    try:
        if email is not None:
            sign_in(context, site, email)
        if cart is not None:
            added = context.request.post(
                site + "/cart/add", form={"variant_id": str(cart), "quantity": "2"}
            )
            assert added.ok, added.status
        page = context.new_page()
        axe = Axe()
        problems: dict[str, list] = {}
        for path in paths:
            for lang in LANGUAGES:
                url = with_lang(path, lang)
                response = page.goto(site + url)
                assert response is not None and response.status == 200, (url, response)
                assert page.locator("html").get_attribute("lang"), url
                found = blocking_violations(axe, page)
                if found:
                    who = email or "visitor"
                    problems[f"{url} (as {who}, {viewport['width']}px wide)"] = found
        return problems
    finally:
        context.close()


def report(problems: dict[str, list]) -> str:
    lines = []
    for where, found in problems.items():
        lines.append(where)
        lines.extend(f"    {item}" for item in found)
    return "\n".join(lines)


def test_key_pages_have_no_serious_accessibility_problems(browser, site, shop_data):
    product_id = shop_data["product"].id
    variant_id = shop_data["product"].variants[1].id
    school = shop_data["school"].slug
    number = shop_data["order"]

    visitor = [
        "/",
        "/products",
        "/products/summer-polo",
        "/products?q=polo",
        "/schools",
        f"/schools/{school}",
        "/account/login",
        "/account/register",
        "/track",
    ]
    customer = ["/account", "/orders", f"/orders/{number}", "/cart", "/checkout"]
    bursar = [f"/schools/{school}/admin"]
    staff = [
        "/admin/",
        "/admin/orders",
        f"/admin/orders/{number}",
        "/admin/products",
        f"/admin/products/{product_id}",
        "/admin/products/new",
        f"/admin/variants/{variant_id}",
        "/admin/stock",
        "/admin/stock?low=1",
        "/admin/staff",
        "/admin/audit",
        "/admin/csv",
        "/admin/categories",
    ]
    pages = len(visitor) + len(customer) + len(bursar) + len(staff)
    assert pages >= 20

    problems: dict[str, list] = {}
    for viewport in (DESKTOP, PHONE):
        problems |= audit(browser, site, visitor, viewport=viewport)
        problems |= audit(
            browser, site, customer, email="parent@example.com", cart=variant_id, viewport=viewport
        )
    problems |= audit(browser, site, bursar, email="bursar@example.com")
    problems |= audit(browser, site, staff, email="owner@factory.example")

    if problems:
        print("axe found these critical or serious violations:\n" + report(problems))
    assert not problems, report(problems)


def test_the_violation_report_names_page_rule_and_elements():
    """The failure message is usable: page, impact, rule and the elements."""
    text = report({"/x?lang=ja (as visitor)": ["serious: color-contrast (…), 2 element(s): []"]})
    assert re.search(r"/x\?lang=ja .*\n    serious: color-contrast", text)
