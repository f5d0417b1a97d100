"""A parent on a 360 px phone (issue 16): after "Add to cart" the focus is on the
confirmation, a failed checkout leads with an error summary that has the focus and links
to each field, pick-up or school delivery asks for two fields, and the cart's line totals
and Remove buttons show without scrolling sideways."""

import re

import pytest
from playwright.sync_api import expect

from tests.factories import make_product
from tests.helpers.browser import WAIT_MS
from tests.school_factories import add_item, make_school

pytestmark = pytest.mark.browser

PHONE = {"width": 360, "height": 740}


@pytest.fixture
def phone(browser):
    context = browser.new_context(viewport=PHONE, device_scale_factor=2, locale="en-GB")
    page = context.new_page()
    page.set_default_timeout(WAIT_MS)
    yield page
    context.close()


@pytest.fixture
def school(session):
    school = make_school(
        session,
        slug="lotus",
        name="Lotus Primary",
        country="SG",
        currency="SGD",
        rounds_in_days=(12,),
    )
    for slug, name in (("lotus-polo", "Lotus polo"), ("lotus-shorts", "Lotus shorts")):
        product = make_product(
            session,
            slug=slug,
            name=name,
            currency="SGD",
            tiers=((1, 2500), (50, 2000)),
            sizes=("120", "130"),
            colours=("navy",),
            images=1,
        )
        add_item(session, school, product)
    session.commit()
    return school


def focused_testid(page) -> str | None:
    return page.evaluate("document.activeElement && document.activeElement.dataset.testid")


def add_kit(page, live_server, student: str) -> None:
    page.goto(live_server + "/schools/lotus")
    page.get_by_label("Student’s name").fill(student)
    page.get_by_label("Class", exact=True).fill("P2A")
    for select in page.get_by_test_id("size-select").all():
        select.select_option(label="120")
    page.get_by_test_id("add-kit").click()
    expect(page.get_by_test_id("kit-added")).to_be_visible()


def test_after_add_to_cart_the_confirmation_has_the_focus(phone, live_server, polo):
    phone.goto(live_server + "/products/summer-polo")
    phone.get_by_label("Quantity of size 130, Navy").fill("2")
    phone.get_by_test_id("add-to-cart").click()
    expect(phone.get_by_test_id("flash")).to_have_text("Added 2 pieces to your cart.")
    expect(phone.get_by_test_id("flashes")).to_be_focused()
    assert phone.get_by_test_id("flashes").get_attribute("tabindex") == "-1"


def test_after_adding_a_childs_kit_the_confirmation_has_the_focus(phone, live_server, school):
    add_kit(phone, live_server, "Tan Wei")
    expect(phone.get_by_test_id("flash")).to_have_text("Added Tan Wei’s kit")
    assert focused_testid(phone) == "flashes"
    # Each item shows its picture.
    expect(phone.get_by_test_id("item-picture")).to_have_count(2)


def test_the_cart_fits_a_phone_by_child_with_totals_and_remove_in_view(
    phone, live_server, school, polo
):
    add_kit(phone, live_server, "Tan Wei")
    add_kit(phone, live_server, "Tan Mei")
    phone.goto(live_server + "/cart")
    expect(phone.get_by_test_id("cart-child")).to_have_count(2)
    overflow = phone.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 0
    for locator in (phone.get_by_test_id("line-total"), phone.get_by_test_id("remove-line")):
        assert locator.count() == 4
        for element in locator.all():
            box = element.bounding_box()
            assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"]
    # A stacked cell says what it is.
    label = phone.evaluate(
        "getComputedStyle(document.querySelector('[data-testid=line-total]'), '::before').content"
    )
    assert label == '"Line total"'


def test_school_delivery_asks_for_two_fields_and_the_error_summary_takes_the_focus(
    phone, live_server, school
):
    add_kit(phone, live_server, "Tan Wei")
    phone.goto(live_server + "/checkout")
    expect(phone.locator("input[name=delivery_method][value=school]")).to_be_checked()
    expect(phone.get_by_label("Country")).to_have_value("SG")
    receives = phone.get_by_test_id("who-receives")
    visible = receives.locator("input:visible, select:visible, textarea:visible")
    expect(visible).to_have_count(2)
    phone.locator("input[name=delivery_method][value=courier]").check()
    expect(receives.locator("input:visible, select:visible")).to_have_count(8)
    phone.locator("input[name=delivery_method][value=school]").check()

    phone.get_by_test_id("to-review").click()  # no email, no name
    summary = phone.get_by_test_id("error-summary")
    expect(summary).to_be_visible()
    expect(summary).to_be_focused()
    links = summary.get_by_test_id("error-summary-link")
    expect(links).to_have_count(2)
    assert [link.get_attribute("href") for link in links.all()] == ["#email", "#recipient"]
    expect(phone.locator("#email")).to_have_attribute("aria-invalid", "true")
    expect(phone.locator("#email")).to_have_attribute(
        "aria-describedby", re.compile(r"\bemail-error\b")
    )

    links.nth(1).click()
    expect(phone).to_have_url(re.compile(r"#recipient$"))
    expect(phone.locator("#recipient")).to_be_in_viewport()
