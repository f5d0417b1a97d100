"""Steps a shopper takes in the browser tests (Playwright), from the size grid to a paid
order."""

import os
import re
from pathlib import Path

from playwright.sync_api import expect

from shop.mail import read_outbox
from tests.checkout_helpers import load_order

WAIT_MS = 15_000  # the longest a page may take to show what a test waits for
GOOD_CARD = "4242424242424242"
PHONE = {"width": 360, "height": 800}
DESKTOP = {"width": 1280, "height": 900}


class Screens:
    """Browser contexts (each with cookies of its own, a phone's size unless told), every
    page watched for script errors. ``look`` notes a page wider than its screen (it would
    scroll sideways) and, with ``SHOTS_DIR`` set, keeps a full-page screenshot of it there
    (``numbered``: in the order looked at)."""

    def __init__(self, browser, *, numbered: bool = False):
        self.browser = browser
        self.numbered = numbered
        self.problems: list[str] = []
        self.shots = Path(os.environ["SHOTS_DIR"]) if os.environ.get("SHOTS_DIR") else None
        self.looked = 0

    def new_page(self, viewport=PHONE, locale: str = "en-GB"):
        context = self.browser.new_context(viewport=viewport, locale=locale)
        page = context.new_page()
        page.set_default_timeout(WAIT_MS)
        page.on("pageerror", lambda error: self.problems.append(str(error)))
        page.on(
            "console",
            lambda message: message.type == "error" and self.problems.append(message.text),
        )
        return page

    def look(self, page, name: str) -> None:
        self.looked += 1
        width = page.viewport_size["width"]
        scrolled = page.evaluate("document.documentElement.scrollWidth")
        if scrolled > width:
            self.problems.append(f"{name}: {scrolled} px wide on a {width} px screen")
        if self.shots is not None:
            self.shots.mkdir(parents=True, exist_ok=True)
            stem = f"{self.looked:02d}-{name}" if self.numbered else name
            page.screenshot(path=str(self.shots / f"{stem}.png"), full_page=True)


def add_sizes(page, live_server, quantities: dict[str, int], colour: str = "Navy") -> None:
    page.goto(live_server + "/products/summer-polo")
    for size, quantity in quantities.items():
        page.get_by_label(f"Quantity of size {size}, {colour}").fill(str(quantity))
    page.get_by_test_id("add-to-cart").click()
    pieces = sum(quantities.values())
    expect(page.get_by_test_id("flash")).to_have_text(f"Added {pieces} pieces to your cart.")


def fill_details(page, *, courier: bool) -> None:
    page.get_by_label("Email").fill("buyer@example.com")
    method = "courier" if courier else "pickup"
    page.locator(f"input[name=delivery_method][value={method}]").check()
    page.get_by_label("Recipient").fill("Li Wei")
    page.get_by_label("Phone").fill("+86 139 0000 0000")
    if courier:
        page.get_by_label("Country").select_option("CN")
        page.get_by_label("Province / prefecture / state").fill("Guangdong")
        page.get_by_label("City").fill("Foshan")
        page.get_by_label("Address", exact=True).fill("18 Jihua Road")
        page.get_by_label("Postcode").fill("528000")
    page.get_by_test_id("to-review").click()
    expect(page).to_have_url(re.compile(r"/checkout/review$"))


def place_order(page) -> tuple[str, int]:
    """From the review page: place the order. Returns (order number, review total)."""
    review_total = int(page.get_by_test_id("order-total").get_attribute("data-amount"))
    page.get_by_test_id("place-order").click()
    expect(page).to_have_url(re.compile(r"/checkout/pay/[^/?#]+$"))
    number = page.url.rsplit("/", 1)[-1]
    expect(page.get_by_test_id("order-number")).to_have_text(number)
    return number, review_total


def fill_card(page, number: str) -> None:
    card = page.locator("#card")
    card.locator("input[placeholder=number]").fill(number)
    card.locator("input[placeholder=exp_month]").fill("12")
    card.locator("input[placeholder=exp_year]").fill("30")
    card.locator("input[placeholder=cvc]").fill("123")
    card.locator("input[placeholder=postal_code]").fill("528000")


def pay_with(page, number: str) -> None:
    fill_card(page, number)
    page.get_by_test_id("pay").click()


def expect_paid(page, app, number: str) -> None:
    """The page reaches the confirmation by itself (meta refresh) once the webhook lands."""
    expect(page.get_by_test_id("payment-confirmed")).to_be_visible(timeout=WAIT_MS)
    expect(page.get_by_test_id("order-status")).to_have_attribute("data-payment", "paid")
    expect(page.get_by_test_id("payment-form")).to_have_count(0)
    assert load_order(app, number).payment_status == "paid"


def last_email_link(app, live_server: str) -> str:
    """The link in the newest email of the outbox, on the server the test runs (emails
    link to ``SHOP_BASE_URL``)."""
    message = read_outbox(app.config["MAIL_OUTBOX"])[-1]
    link = re.search(r"https?://\S+", message.get_body(("plain",)).get_content()).group(0)
    return link.replace(app.config["SHOP_BASE_URL"], live_server)
