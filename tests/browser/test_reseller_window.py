"""Golden path for a small window (issue 17), on a 360 × 800 phone: a new user applies for a
window, a manager approves it (on the 'price' money model), the reseller picks three
products, prices one under the cap (a price above it is refused) and shares the window's
link; a buyer in another browser opens it, sees the reseller's price and the link-preview
tags, and pays by card. The reseller's dashboard shows the commission pending and nothing
about the buyer; staff ship and deliver; past the return window the commission is
approved; staff pay it out; a refund afterwards writes a reversal the reseller sees.

Every page it looks at fits the phone's width; set ``SHOTS_DIR`` to keep a full-page
screenshot of each there.
"""

import re
from datetime import timedelta

import pytest
import sqlalchemy as sa
from playwright.sync_api import expect

from shop.orders.models import Order, OrderEvent
from shop.payments.stripe_gateway import gateway
from shop.resellers import ledger
from shop.storage import get_storage
from tests.accounts.helpers import PASSWORD, make_user
from tests.checkout_helpers import load_order
from tests.factories import make_category, make_product
from tests.helpers.browser import (
    GOOD_CARD,
    Screens,
    add_sizes,
    expect_paid,
    fill_details,
    last_email_link,
    pay_with,
    place_order,
)
from tests.helpers.images import picture
from tests.helpers.stripe_events import charge_refunded, deliver

pytestmark = pytest.mark.browser

HANDLE = "mei-picks"
FACTORY_PRICE = 8900
CAP = 11570  # the programme's default cap: 30 % above the factory's price
OWN_PRICE = 9900
PIECES = {"120": 2, "130": 1}
MARGIN = (OWN_PRICE - FACTORY_PRICE) * sum(PIECES.values())
BUYER_DETAILS = ("Li Wei", "buyer@example.com", "+86 139 0000 0000", "18 Jihua Road", "Foshan")
BANK_REFERENCE = "ICBC-2026-0417"


@pytest.fixture
def catalogue(app, session):
    """Three products to pick; the polo (``add_sizes``' product, with its picture stored)
    is the one repriced."""
    category = make_category(session, slug="uniforms", name="School uniforms")
    polo = make_product(
        session,
        category=category,
        slug="summer-polo",
        name="Summer school polo",
        tiers=((1, FACTORY_PRICE), (10, 7900)),
        sizes=("120", "130", "140"),
        colours=("white", "navy"),
        on_hand=50,
        images=1,
    )
    apron = make_product(session, category=category, slug="kitchen-apron", name="Kitchen apron")
    tote = make_product(session, category=category, slug="canvas-tote", name="Canvas tote bag")
    session.commit()
    get_storage(app).save(polo.images[0].path, picture(size=(800, 800)), "image/png")
    return [polo, apron, tote]


def on_live_server(app, live_server: str, url: str) -> str:
    """A link the shop wrote on ``SHOP_BASE_URL``, on the server this test runs."""
    return url.replace(app.config["SHOP_BASE_URL"], live_server)


def register(app, page, live_server) -> None:
    page.goto(live_server + "/account/register")
    page.get_by_label("Your name").fill("Mei Chen")
    page.get_by_label("Email").fill("mei@example.com")
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_label("Repeat password").fill(PASSWORD)
    page.get_by_role("button", name="Create account").click()
    expect(page.get_by_test_id("flash")).to_contain_text("Check your inbox")
    page.goto(last_email_link(app, live_server))
    page.get_by_role("button", name="Confirm my email address").click()
    expect(page.get_by_test_id("account-email")).to_contain_text("mei@example.com")


def sign_in_staff(page, live_server, email: str) -> None:
    page.goto(live_server + "/account/login")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").last.click()
    expect(page).to_have_url(re.compile(r"/admin/$"))  # staff land on the admin


def flash(page):
    return page.get_by_test_id("flash")


def pick(page, live_server, query: str, slug: str) -> None:
    """The reseller's own page → the pick search → "Add to my window"."""
    page.goto(live_server + "/account/window")
    search = page.get_by_label("Find products to add")
    search.fill(query)
    search.press("Enter")
    result = page.get_by_test_id("search-result").and_(page.locator(f"[data-slug={slug}]"))
    result.get_by_role("button", name="Add to my window").click()
    expect(flash(page)).to_have_text("Added to your window.")


def set_polo_price(page, amount: str) -> None:
    polo = page.locator("[data-testid=price-pick][data-slug=summer-polo]")
    polo.get_by_label("Your price in CNY").fill(amount)
    polo.get_by_role("button", name="Save prices").click()


def open_order_on_desk(staff, live_server, number: str) -> None:
    staff.goto(live_server + "/admin/orders")
    staff.get_by_role("link", name=number).click()
    expect(staff.get_by_test_id("order-number")).to_have_text(number)


def stripe_reports_the_refund(app, number: str) -> str:
    """Stripe's ``charge.refunded`` for the order's charge, signed and delivered to the
    webhook as Stripe would send it after the desk's refund; the webhook's outcome."""
    intent_id = load_order(app, number).payments[0].intent_id
    with app.app_context():
        charge = gateway().client.v1.payment_intents.retrieve(intent_id).latest_charge
    charge_id = charge if isinstance(charge, str) else charge.id
    response = deliver(app.test_client(), charge_refunded(f"evt_refund_{number}", charge_id))
    return response.get_json()["outcome"]


def delivered_at(session, number: str):
    order_id = session.scalar(sa.select(Order.id).where(Order.number == number))
    return session.scalar(
        sa.select(OrderEvent.created_at).where(
            OrderEvent.order_id == order_id, OrderEvent.kind == "delivered"
        )
    )


def test_a_window_from_application_to_payout_and_reversal(
    app, live_server, browser, session, catalogue
):
    phone = Screens(browser, numbered=True)
    make_user(session, email="manager@factory.example", role="manager", name="Wang Fang")

    # 1. A new user registers and applies for a window.
    reseller = phone.new_page()
    register(app, reseller, live_server)
    reseller.goto(live_server + "/account/window")
    reseller.get_by_label("Window name (its web address)").fill(HANDLE)
    reseller.get_by_label("Display name").fill("Mei's picks")
    reseller.get_by_label("A few words about you and your window").fill(
        "Uniforms and kitchen things I use myself."
    )
    reseller.get_by_label("I accept the factory's reseller terms.").check()
    phone.look(reseller, "apply")
    reseller.get_by_role("button", name="Apply").click()
    expect(flash(reseller)).to_contain_text("Thank you for applying")
    expect(reseller.get_by_test_id("window-status")).to_have_attribute("data-status", "applied")

    # 2. A manager sets the 'price' model (and a payout minimum this order reaches) and
    # approves the window.
    staff = phone.new_page()
    sign_in_staff(staff, live_server, "manager@factory.example")
    staff.goto(live_server + "/admin/resellers/program")
    staff.get_by_label("Money model").select_option("price")
    staff.get_by_label("Smallest payout in CNY").fill("10.00")
    phone.look(staff, "program")
    staff.get_by_role("button", name="Save").first.click()
    expect(flash(staff)).to_have_text("The reseller programme is saved.")
    staff.goto(live_server + "/admin/resellers")
    row = staff.locator(f"[data-testid=reseller-row][data-handle={HANDLE}]")
    expect(row).to_have_attribute("data-status", "applied")
    phone.look(staff, "reseller-list")
    row.get_by_role("link", name="Mei's picks").click()
    staff.locator("button[data-action=approve]").click()
    expect(staff.get_by_test_id("reseller")).to_have_attribute("data-status", "approved")
    expect(staff.get_by_test_id("window-terms")).to_have_attribute("data-money-model", "price")
    phone.look(staff, "reseller-approved")

    # 3. The reseller picks three products and prices the polo: above the cap is refused,
    # under it is saved.
    pick(reseller, live_server, "polo", "summer-polo")
    pick(reseller, live_server, "apron", "kitchen-apron")
    pick(reseller, live_server, "tote", "canvas-tote")
    phone.look(reseller, "pick-search")
    reseller.goto(live_server + "/account/window")
    expect(reseller.get_by_test_id("own-pick")).to_have_count(3)
    phone.look(reseller, "own-window")
    reseller.get_by_test_id("prices-link").click()
    polo_cny = reseller.locator(
        "[data-testid=price-pick][data-slug=summer-polo] [data-testid=price-row][data-currency=CNY]"
    )
    expect(polo_cny).to_have_attribute("data-factory", str(FACTORY_PRICE))
    expect(polo_cny).to_have_attribute("data-cap", str(CAP))
    set_polo_price(reseller, "120.00")
    expect(flash(reseller)).to_have_text("CNY: the price cannot be above the cap, CN¥115.70.")
    expect(polo_cny).to_have_attribute("data-own", "")
    set_polo_price(reseller, "99.00")
    expect(flash(reseller)).to_have_text("Your prices are saved.")
    expect(polo_cny).to_have_attribute("data-own", str(OWN_PRICE))
    phone.look(reseller, "prices")

    # 4. The reseller copies the window's link from the share panel.
    reseller.get_by_role("link", name="Your window").first.click()
    share_field = reseller.get_by_label("Your window", exact=True)
    expect(share_field).to_have_value(re.compile(rf"/w/{HANDLE}$"))
    share_link = share_field.input_value()
    qr = reseller.get_by_test_id("share-panel").get_by_test_id("share-qr").first
    qr.scroll_into_view_if_needed()  # drawn lazily
    expect(qr).to_have_js_property("complete", True)
    assert qr.evaluate("image => image.naturalWidth") > 0
    phone.look(reseller, "share")

    # 5. A buyer in another browser opens it, sees the reseller's price and the preview
    # tags, and pays by card.
    buyer = phone.new_page()
    buyer.goto(on_live_server(app, live_server, share_link))
    card = buyer.locator("[data-testid=product-card][data-slug=summer-polo]")
    expect(card.get_by_test_id("price")).to_have_attribute("data-amount", str(OWN_PRICE))
    for tag in ("og:title", "og:url"):
        expect(buyer.locator(f"meta[property='{tag}']")).to_have_count(1)
    expect(buyer.locator("meta[property='og:url']")).to_have_attribute("content", share_link)
    phone.look(buyer, "window")
    card.get_by_role("link").first.click()
    expect(buyer.get_by_test_id("product")).to_have_attribute("data-slug", "summer-polo")
    expect(buyer.locator("#price-heading")).to_have_text("Prices")  # not "Factory prices"
    first_tier = buyer.get_by_test_id("tier").first.get_by_test_id("price")
    expect(first_tier).to_have_attribute("data-amount", str(OWN_PRICE))
    expect(buyer.locator("meta[property='og:title']")).to_have_attribute(
        "content", "Summer school polo"
    )
    expect(buyer.locator("meta[property='og:image']")).to_have_attribute(
        "content", re.compile(r"^https?://.+/media/")
    )
    expect(buyer.locator("meta[property='og:url']")).to_have_attribute(
        "content", re.compile(r"/products/summer-polo")
    )
    expect(buyer.locator("meta[property='product:price:amount']")).to_have_attribute(
        "content", "99.00"
    )
    assert str(FACTORY_PRICE) not in buyer.content()  # one price: the reseller's
    phone.look(buyer, "product")
    add_sizes(buyer, live_server, PIECES)
    buyer.goto(live_server + "/cart")
    expect(buyer.get_by_test_id("cart-total")).to_have_attribute(
        "data-amount", str(OWN_PRICE * sum(PIECES.values()))
    )
    buyer.get_by_test_id("checkout").click()
    fill_details(buyer, courier=True)
    number, _total = place_order(buyer)
    phone.look(buyer, "pay")
    pay_with(buyer, GOOD_CARD)
    expect_paid(buyer, app, number)
    phone.look(buyer, "paid")

    # 6. The reseller's dashboard: the order, its commission pending, no buyer's details.
    reseller.goto(live_server + "/account/window/dashboard")
    referred = reseller.locator(f"[data-testid=referred-order][data-number='{number}']")
    expect(referred).to_have_attribute("data-commission", str(MARGIN))
    expect(referred).to_have_attribute("data-stage", "paid")
    balance = reseller.locator("[data-testid=balance][data-currency=CNY]")
    expect(balance).to_have_attribute("data-pending", str(MARGIN))
    expect(balance).to_have_attribute("data-approved", "0")
    dashboard = reseller.content()
    assert [detail for detail in BUYER_DETAILS if detail in dashboard] == []
    phone.look(reseller, "dashboard-pending")

    # 7. Staff ship the order and mark it delivered on the desk.
    open_order_on_desk(staff, live_server, number)
    expect(staff.get_by_test_id("order-via")).to_contain_text("via Mei's picks")
    staff.get_by_label("Carrier", exact=True).select_option("sf_express")
    staff.get_by_label("Tracking number").fill("SF1234567890")
    staff.get_by_role("button", name="Ship these").click()
    expect(staff.get_by_test_id("order-status")).to_have_attribute("data-fulfilment", "shipped")
    staff.get_by_role("button", name="Mark delivered").click()
    expect(staff.get_by_test_id("order-status")).to_have_attribute("data-fulfilment", "delivered")
    phone.look(staff, "desk-delivered")

    # 8. Time passes: not approved within the return window (14 days), approved after it.
    delivered = delivered_at(session, number)
    assert ledger.approve_due(session, now=delivered + timedelta(days=13)) == 0
    assert ledger.approve_due(session, now=delivered + timedelta(days=15)) == len(PIECES)
    session.commit()
    reseller.reload()
    expect(referred).to_have_attribute("data-stage", "delivered")
    expect(balance).to_have_attribute("data-pending", "0")
    expect(balance).to_have_attribute("data-approved", str(MARGIN))

    # 9. Staff pay it out with the bank's reference; the reseller sees the payout.
    staff.goto(live_server + "/admin/resellers/payouts")
    payable = staff.locator(f"[data-testid=payable-row][data-handle={HANDLE}]")
    expect(payable).to_have_attribute("data-amount", str(MARGIN))
    payable.get_by_label("Bank reference").fill(BANK_REFERENCE)
    phone.look(staff, "payouts")
    payable.get_by_role("button", name="Record payout").click()
    expect(staff.get_by_test_id("payout-row")).to_contain_text(BANK_REFERENCE)
    expect(staff.get_by_test_id("payable-row")).to_have_count(0)
    reseller.goto(live_server + "/account/window/earnings")
    payout = reseller.get_by_test_id("payout")
    expect(payout).to_have_attribute("data-amount", str(MARGIN))
    expect(payout).to_contain_text(BANK_REFERENCE)
    earnings = reseller.locator("[data-testid=balances] [data-testid=balance][data-currency=CNY]")
    expect(earnings).to_have_attribute("data-paid", str(MARGIN))
    phone.look(reseller, "earnings-paid")

    # 10. A full refund afterwards (the desk refunds through Stripe): reversal lines take
    # the commission back.
    open_order_on_desk(staff, live_server, number)
    refund_form = staff.get_by_test_id("refund-form")
    refund_form.get_by_label("Everything not yet refunded").check()
    refund_form.get_by_role("button", name="Refund").click()
    expect(staff.get_by_test_id("order-status")).to_have_attribute("data-payment", "refunded")
    reseller.reload()
    reversals = reseller.locator("[data-testid=ledger-line][data-kind=reversal]")
    expect(reversals).to_have_count(len(PIECES))
    amounts = [int(line.get_attribute("data-amount")) for line in reversals.all()]
    assert all(amount < 0 for amount in amounts) and sum(amounts) == -MARGIN
    expect(earnings).to_have_attribute("data-reversed", str(MARGIN))
    expect(earnings).to_have_attribute("data-payable", str(-MARGIN))
    phone.look(reseller, "earnings-reversed")
    # Stripe's own report of the refund reconciles to the same: nothing written twice.
    assert stripe_reports_the_refund(app, number) == "no change"
    reseller.reload()
    expect(reversals).to_have_count(len(PIECES))
    expect(earnings).to_have_attribute("data-reversed", str(MARGIN))
    assert phone.problems == []
