"""Golden path, buying and paying: a guest fills the size grid, checks out and pays by card.

The shop is wired to localstripe: its stand-in Stripe.js renders plain card inputs in the
page, a 3-D Secure challenge is its modal ("Complete authentication" / "Fail
authentication"), and only localstripe's signed webhook, delivered to the served app,
marks an order paid.
"""

import re

import pytest
from playwright.sync_api import expect

from tests.checkout_helpers import load_order
from tests.helpers.browser import (
    GOOD_CARD,
    add_sizes,
    expect_paid,
    fill_details,
    pay_with,
    place_order,
)

pytestmark = pytest.mark.browser

THREE_D_SECURE_CARD = "4000002500003155"
DECLINED_CARD = "4000000000000341"


def variant_sku(product, size: str, colour: str) -> str:
    [variant] = [v for v in product.variants if (v.size, v.colour) == (size, colour)]
    return variant.sku


def buy_for_pickup(page, live_server) -> str:
    """Cart → details (pick-up) → review → place; returns the order number."""
    add_sizes(page, live_server, {"130": 2})
    page.goto(live_server + "/cart")
    page.get_by_test_id("checkout").click()
    fill_details(page, courier=False)
    number, _ = place_order(page)
    return number


def expect_unpaid_and_payable(page, app, number: str) -> None:
    page.reload()
    expect(page.get_by_test_id("order-status")).to_have_attribute("data-payment", "unpaid")
    expect(page.get_by_test_id("payment-form")).to_be_visible()
    expect(page.locator("#card input[placeholder=number]")).to_be_visible()
    order = load_order(app, number)
    assert (order.payment_status, order.state) == ("unpaid", "open")


def test_guest_buys_three_sizes_by_courier_and_pays_by_card(app, live_server, polo, watched):
    page, posted, problems = watched
    add_sizes(page, live_server, {"120": 4, "130": 5, "140": 3})

    page.goto(live_server + "/cart")
    lines = page.get_by_test_id("cart-line")
    expect(lines).to_have_count(3)
    quantities = {
        line.get_attribute("data-sku"): line.get_attribute("data-quantity") for line in lines.all()
    }
    assert quantities == {
        variant_sku(polo, "120", "navy"): "4",
        variant_sku(polo, "130", "navy"): "5",
        variant_sku(polo, "140", "navy"): "3",
    }
    # 12 pieces reach the 10-piece tier: 12 × 79.00 CNY.
    expect(page.get_by_test_id("cart-total")).to_have_attribute("data-amount", "94800")

    page.get_by_test_id("checkout").click()
    expect(page).to_have_url(re.compile(r"/checkout$"))
    fill_details(page, courier=True)
    expect(page.get_by_test_id("review-email")).to_have_text("buyer@example.com")
    expect(page.get_by_test_id("summary-line")).to_have_count(3)
    expect(page.get_by_test_id("shipping")).to_have_attribute("data-amount", "1500")
    number, review_total = place_order(page)
    assert review_total == 94800 + 1500

    pay_total = page.get_by_test_id("order-total")
    expect(pay_total).to_have_attribute("data-amount", str(review_total))
    expect(pay_total).to_have_attribute("data-currency", "CNY")
    expect(page.get_by_test_id("order-line")).to_have_count(3)
    expect(page.get_by_test_id("order-status")).to_have_attribute("data-payment", "unpaid")
    expect(page.locator("#card input[placeholder=number]")).to_be_visible()
    page.screenshot(path="/tmp/pay-page.png", full_page=True)

    pay_with(page, GOOD_CARD)
    expect_paid(page, app, number)
    order = load_order(app, number)
    assert order.total_amount == review_total
    assert sorted((line.sku, line.quantity) for line in order.lines) == sorted(
        (sku, int(quantity)) for sku, quantity in quantities.items()
    )
    assert [payment.status for payment in order.payments] == ["succeeded"]
    # The card number went to (local)stripe only, never to the shop.
    assert posted and not any(GOOD_CARD in body for body in posted)
    assert problems == []


def test_three_d_secure_completed_pays_the_order(app, live_server, polo, watched):
    page, _, problems = watched
    number = buy_for_pickup(page, live_server)

    pay_with(page, THREE_D_SECURE_CARD)
    complete = page.get_by_role("button", name="Complete authentication")
    expect(complete).to_be_visible()
    assert load_order(app, number).payment_status == "unpaid"  # not before the challenge
    complete.click()

    expect_paid(page, app, number)
    assert problems == []


def test_three_d_secure_failed_leaves_the_order_unpaid_and_payable(app, live_server, polo, watched):
    page, _, problems = watched
    number = buy_for_pickup(page, live_server)

    pay_with(page, THREE_D_SECURE_CARD)
    page.get_by_role("button", name="Fail authentication").click()

    error = page.get_by_test_id("payment-error")
    expect(error).to_be_visible()
    expect(error).to_have_text("The card was not authenticated. Try again or use another card.")
    expect(page.get_by_test_id("pay")).to_be_enabled()
    expect(page).to_have_url(re.compile(rf"/checkout/pay/{number}$"))
    page.wait_for_timeout(2_000)  # time for a (wrong) webhook to arrive
    expect_unpaid_and_payable(page, app, number)

    pay_with(page, GOOD_CARD)
    expect_paid(page, app, number)
    assert problems == []


def test_a_declined_card_shows_stripes_message_then_another_card_pays(
    app, live_server, polo, watched
):
    page, _, problems = watched
    number = buy_for_pickup(page, live_server)

    pay_with(page, DECLINED_CARD)
    error = page.get_by_test_id("payment-error")
    expect(error).to_be_visible()
    expect(error).to_have_text("Your card was declined.")
    expect(page.get_by_test_id("pay")).to_be_enabled()
    expect_unpaid_and_payable(page, app, number)
    # The decline is remembered: the page says so after a reload too.
    expect(page.get_by_test_id("payment-error")).to_have_text("Your card was declined.")

    pay_with(page, GOOD_CARD)
    expect_paid(page, app, number)
    statuses = [payment.status for payment in load_order(app, number).payments]
    assert statuses == ["declined", "succeeded"]
    assert problems == []
