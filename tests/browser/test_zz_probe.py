from tests.browser.test_checkout_payment import *  # noqa


def test_probe(app, live_server, polo, watched):
    page, _, problems = watched
    number = buy_for_pickup(page, live_server)
    pay_with(page, THREE_D_SECURE_CARD)
    page.get_by_role("button", name="Complete authentication").click()
    page.wait_for_load_state("load")
    page.wait_for_timeout(4000)
    page.screenshot(path="/tmp/after-3ds.png")
    print(
        "STAGE",
        page.locator("h1").inner_text(),
        page.get_by_test_id("order-status").get_attribute("data-payment"),
        load_order(app, number).payment_status,
    )
