"""Golden path, after paying: a guest pays, the warehouse ships the order with a tracking
number from the order desk, and the guest — in another browser, with nothing but the
order number and email — finds it shipped at /track with the carrier's tracking link."""

import pytest
from playwright.sync_api import expect

from tests.accounts.helpers import PASSWORD, make_user
from tests.helpers.browser import (
    GOOD_CARD,
    WAIT_MS,
    add_sizes,
    expect_paid,
    fill_details,
    pay_with,
    place_order,
)

pytestmark = pytest.mark.browser


def test_guest_pays_staff_ships_and_the_guest_tracks_it(
    app, live_server, polo, watched, browser, session
):
    page, _posted, problems = watched
    add_sizes(page, live_server, {"120": 2, "130": 1})
    page.goto(live_server + "/cart")
    page.get_by_test_id("checkout").click()
    fill_details(page, courier=True)
    number, _total = place_order(page)
    pay_with(page, GOOD_CARD)
    expect_paid(page, app, number)

    make_user(session, email="packer@example.com", role="warehouse")
    session.commit()
    staff = browser.new_context(viewport={"width": 1280, "height": 900}).new_page()
    staff.set_default_timeout(WAIT_MS)
    staff.goto(live_server + "/account/login")
    staff.get_by_label("Email").fill("packer@example.com")
    staff.get_by_label("Password").fill(PASSWORD)
    staff.get_by_role("button", name="Sign in").click()
    staff.goto(f"{live_server}/admin/orders")
    staff.get_by_role("link", name=number).click()
    staff.get_by_label("Carrier", exact=True).select_option("sf_express")
    staff.get_by_label("Tracking number").fill("SF1234567890")
    staff.get_by_role("button", name="Ship these").click()
    expect(staff.get_by_test_id("shipment")).to_have_attribute("data-tracking", "SF1234567890")
    staff.context.close()

    guest = browser.new_context(viewport={"width": 390, "height": 844}).new_page()
    guest.set_default_timeout(WAIT_MS)
    guest.goto(live_server + "/track")
    guest.get_by_label("Order number").fill(number.lower().replace("-", " "))
    guest.get_by_label("Email used for the order").fill("BUYER@example.com")
    guest.get_by_role("button", name="Find my order").click()
    status = guest.get_by_test_id("order-status")
    expect(status).to_have_attribute("data-payment", "paid")
    expect(status).to_have_attribute("data-fulfilment", "shipped")
    link = guest.get_by_role("link", name="SF1234567890")
    expect(link).to_have_attribute(
        "href", "https://www.sf-express.com/chn/en/waybill/waybill-detail/SF1234567890"
    )
    guest.screenshot(path="/tmp/track-phone.png", full_page=True)
    guest.context.close()
    assert problems == []
