"""Golden path for a group buy (issue 18): a leader opens a campaign for a made-to-order
polo (59.00, 52.00 from 20 pieces, 46.00 from 50; a minimum of 20) and reads its link;
three participants, each on a 360 × 800 phone with cookies of their own, fill the size
grid and hold a card (one leaves and joins again); the campaign page shows the pieces
and, once more participants joined through the same routes, the price dropping to the
20-piece tier by itself; the close runs twice at once (the periodic job and a direct
close) and captures everyone once at the final price, checked at localstripe, one order
each; the leader prints the packing list.

Set ``SHOTS_DIR`` to keep screenshots (the campaign and a participant's page at 360 and
1280 px in English, Chinese and Japanese, and the packing list) and its PDF there.
"""

import re
import threading
from collections import Counter
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa
from playwright.sync_api import expect

from shop.groupbuys.models import Campaign, Participant
from shop.jobs import periodic
from shop.orders.models import Order
from shop.payments.stripe_gateway import gateway
from tests.accounts.helpers import PASSWORD, make_user
from tests.checkout_helpers import card
from tests.factories import make_product
from tests.groupbuys.close_helpers import captured_at_stripe, close, make_due
from tests.groupbuys.join_helpers import join
from tests.helpers.browser import DESKTOP, GOOD_CARD, PHONE, Screens, fill_card

pytestmark = pytest.mark.browser

FIRST_PRICE, TIER_PRICE = 5900, 5200
MINIMUM = 20
# The page polls every 5 s and a poll's answer may be up to 5 s old: two rounds and some.
REFRESH_MS = 25_000
LEADER = "lin.hua@example.com"
# Who joins in the browser: name, email, pieces by size (navy). Anna leaves and comes back
# with other pieces.
MEI = ("Mei Chen", "mei@example.com", {"120": 1, "130": 1})
KENJI = ("Kenji Sato", "kenji@example.com", {"140": 3})
ANNA = ("Anna Lee", "anna@example.com", {"130": 1})
ANNA_AGAIN = {"120": 2}
IN_BROWSER = 2 + 3 + 2
# Joined by the test through the same routes: four of 3 pieces (19 in all: still 59.00),
# then one piece that reaches the 20-piece tier.
BY_TEST = [3, 3, 3, 3, 1]


@pytest.fixture
def class_polo(session):
    product = make_product(
        session,
        slug="class-polo",
        name="Class polo",
        name_zh="班级 POLO 衫",
        name_ja="クラスのポロシャツ",
        tiers=((1, FIRST_PRICE), (20, TIER_PRICE), (50, 4600)),
        sizes=("120", "130", "140"),
        colours=("navy",),
        made_to_order=True,
        lead_time_days=14,
        on_hand=0,
    )
    session.commit()
    return product


def closing_in_three_days() -> str:
    """The closing time as the form's field takes it, on Beijing's clock (its default)."""
    moment = datetime.now(ZoneInfo("Asia/Shanghai")) + timedelta(days=3)
    return moment.strftime("%Y-%m-%dT%H:%M")


def open_campaign(page, live_server, polo) -> str:
    """The leader signs in and opens the campaign; the link their page shows."""
    page.goto(live_server + "/account/login")
    page.locator("input[name=email]").fill(LEADER)
    page.locator("input[name=password]").fill(PASSWORD)
    page.locator("form button[type=submit]").last.click()
    expect(page).not_to_have_url(re.compile(r"/account/login"))

    page.goto(live_server + "/account/campaigns/new")
    form = page.get_by_test_id("campaign-form")
    form.get_by_label("Title").fill("Class 3B polos")
    form.locator(f"[data-testid=product-choice][data-product-id='{polo.id}'] input").check()
    expect(form.get_by_label("Currency")).to_have_value("CNY")
    form.get_by_label("Closes at").fill(closing_in_three_days())
    expect(form.get_by_label("Time zone of the closing time")).to_have_value("Asia/Shanghai")
    form.get_by_label("Minimum pieces for the group buy to go ahead").fill(str(MINIMUM))
    form.locator("input[name=delivery][value=pickup]").check()
    form.get_by_role("textbox", name="Pick-up point").fill("Li's corner shop")
    form.get_by_label("Pick-up address").fill("12 Garden Road, Guangzhou")
    form.get_by_label("Opening hours").fill("Mon–Fri 16:00–19:00")
    form.get_by_role("button", name="Open the group buy").click()

    expect(page.get_by_test_id("flash")).to_have_text("Your group buy is open: share its link.")
    expect(page.get_by_test_id("campaign-state")).to_have_attribute("data-state", "open")
    expect(page.get_by_test_id("no-participants")).to_be_visible()
    link = page.get_by_test_id("campaign-link")
    href = link.get_attribute("href")
    assert re.fullmatch(r"/g/[A-Z0-9]+", href), href
    expect(link).to_have_text(href)
    return href


def expect_progress(page, pieces: int, amount: int) -> None:
    expect(page.get_by_test_id("campaign-pieces")).to_have_attribute(
        "data-pieces", str(pieces), timeout=REFRESH_MS
    )
    expect(page.get_by_test_id("campaign-price")).to_have_attribute(
        "data-amount", str(amount), timeout=REFRESH_MS
    )


def join_in_browser(page, campaign_url: str, name: str, email: str, sizes: dict) -> None:
    """From the campaign page: the grid, who, join; then the card on their own page, until
    they are in."""
    page.goto(campaign_url)
    form = page.get_by_test_id("join-form")
    for size, quantity in sizes.items():
        form.get_by_label(f"Quantity of size {size}, Navy").fill(str(quantity))
    form.get_by_label("Email").fill(email)
    form.get_by_label("Your name").fill(name)
    form.get_by_role("button", name="Join and hold my card").click()

    expect(page).to_have_url(re.compile(r"/g/[A-Z0-9]+/p/[A-Za-z0-9_-]+$"))
    state = page.get_by_test_id("participant-state")
    expect(state).to_have_attribute("data-state", "pending")
    pieces = sum(sizes.values())
    expect(page.get_by_test_id("pay")).to_have_text(
        f"Hold CN¥{FIRST_PRICE * pieces // 100:,}.00 on my card"
    )
    fill_card(page, GOOD_CARD)
    page.get_by_test_id("pay").click()
    expect(state).to_have_attribute("data-state", "held")
    expect(state).to_contain_text("You are in.")
    lines = page.get_by_test_id("participant-line")
    expect(lines).to_have_count(len(sizes))
    expect(page.get_by_test_id("payment-form")).to_have_count(0)


def leave(page) -> None:
    page.get_by_test_id("leave-confirm").check()
    page.get_by_test_id("leave").click()
    expect(page.get_by_test_id("flash")).to_have_text(
        "You left the group buy. The hold on your card is released."
    )
    expect(page.get_by_test_id("participant-state")).to_have_attribute("data-state", "left")
    expect(page.get_by_test_id("leave-form")).to_have_count(0)


def close_twice_at_once(app, campaign_id: int) -> dict[str, object]:
    """The periodic job and a direct close (as the leader's "Close now" queues it), started
    at the same instant, each with its own session; what each reported."""
    barrier = threading.Barrier(2)
    results: dict[str, object] = {}
    errors: list[BaseException] = []

    def by_job():
        with app.app_context():
            barrier.wait(timeout=10)
            results["job"] = periodic.close_campaigns().closed

    def by_close():
        barrier.wait(timeout=10)
        results["close"] = close(app, campaign_id).state

    def run(step):
        try:
            step()
        except BaseException as error:  # the test must hear of it
            errors.append(error)

    threads = [threading.Thread(target=run, args=(step,)) for step in (by_job, by_close)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not errors, errors
    return results


def participants_of(session, campaign_id: int) -> list[Participant]:
    session.expire_all()
    return list(
        session.scalars(
            sa.select(Participant)
            .where(Participant.campaign_id == campaign_id)
            .order_by(Participant.id)
        )
    )


def look_in_languages(screens, live_server, path: str, name: str) -> None:
    """The page in English, Chinese and Japanese on a phone and a desktop."""
    for lang in ("en", "zh_CN", "ja"):
        for label, viewport in (("360", PHONE), ("1280", DESKTOP)):
            page = screens.new_page(viewport=viewport)
            page.goto(f"{live_server}{path}?lang={lang}")
            expect(page.locator("html")).to_have_attribute("lang", lang.replace("_", "-"))
            screens.look(page, f"{name}-{lang[:2]}-{label}")
            page.context.close()


def test_a_group_buy_from_opening_to_the_printed_packing_list(
    app, live_server, browser, session, class_polo, tmp_path
):
    screens = Screens(browser)
    make_user(session, email=LEADER, name="Lin Hua")

    # 1. The leader opens the campaign and reads its link.
    leader = screens.new_page(viewport=DESKTOP)
    path = open_campaign(leader, live_server, class_polo)
    code = path.rsplit("/", 1)[-1]
    campaign_url = live_server + path
    campaign_id = session.scalar(sa.select(Campaign.id).where(Campaign.code == code))

    # 2. Three participants on phones join; the page counts them as they do.
    mei = screens.new_page()
    join_in_browser(mei, campaign_url, *MEI)
    screens.look(mei, "participant-held")
    mei.get_by_role("link", name="The group buy’s page").click()
    expect(mei).to_have_url(campaign_url)
    expect_progress(mei, 2, FIRST_PRICE)
    expect(mei.get_by_test_id("campaign-next-tier")).to_have_attribute("data-needed", "18")
    mei.evaluate("window.notReloaded = true")  # Mei's page stays open from here on

    kenji = screens.new_page()
    join_in_browser(kenji, campaign_url, *KENJI)
    expect_progress(mei, 5, FIRST_PRICE)  # by the page's own refresh

    anna = screens.new_page()
    join_in_browser(anna, campaign_url, *ANNA)
    expect_progress(mei, 6, FIRST_PRICE)
    leave(anna)
    expect_progress(mei, 5, FIRST_PRICE)
    anna.get_by_role("link", name="The group buy’s page").click()
    expect_progress(anna, 5, FIRST_PRICE)
    join_in_browser(anna, campaign_url, ANNA[0], ANNA[1], ANNA_AGAIN)
    expect_progress(mei, IN_BROWSER, FIRST_PRICE)

    # 3. More participants join through the same routes; the 20th piece reaches 52.00.
    client = app.test_client()
    campaign = session.get_one(Campaign, campaign_id)
    small = next(variant for variant in class_polo.variants if variant.size == "120")
    pieces = IN_BROWSER
    for number, count in enumerate(BY_TEST, start=1):
        join(client, campaign, {small.id: count}, number, card=card(app))
        pieces += count
        if pieces < MINIMUM:
            kenji.goto(campaign_url)  # a reload shows the same as the refresh
            expect_progress(kenji, pieces, FIRST_PRICE)
            expect(kenji.get_by_test_id("campaign-next-tier")).to_have_attribute(
                "data-needed", str(MINIMUM - pieces)
            )
    assert pieces == MINIMUM
    expect_progress(mei, MINIMUM, TIER_PRICE)
    expect(mei.get_by_test_id("campaign-price")).to_have_text("CN¥52.00")
    expect(mei.get_by_test_id("campaign-minimum")).to_have_attribute("data-reached", "true")
    expect(mei.get_by_test_id("campaign-next-tier")).to_have_attribute("data-needed", "30")
    assert mei.evaluate("window.notReloaded === true"), "the price changed by a reload"
    kenji.reload()
    expect_progress(kenji, MINIMUM, TIER_PRICE)
    screens.look(mei, "campaign-tier-reached")
    look_in_languages(screens, live_server, path, "campaign")
    look_in_languages(screens, live_server, anna.url.removeprefix(live_server), "participant")

    # 4. The close is due and runs twice at once: everyone is captured once, at 52.00.
    make_due(session, campaign)
    results = close_twice_at_once(app, campaign_id)
    assert results["close"] == "closed"
    # The job finds the campaign due (or closed already, when the other run finished first).
    assert results["job"] in ([f"{code}: closed"], []), results
    people = participants_of(session, campaign_id)
    captured = [person for person in people if person.state == "captured"]
    [gone] = [person for person in people if person.state == "left"]
    assert len(people) == 3 + 1 + len(BY_TEST)
    assert len(captured) == 3 + len(BY_TEST)
    assert sum(person.pieces for person in captured) == MINIMUM
    for person in captured:
        assert captured_at_stripe(app, person.intent_id) == TIER_PRICE * person.pieces
        assert person.captured_amount == TIER_PRICE * person.pieces
    assert gone.email == ANNA[1] and gone.order_id is None
    with app.app_context():
        assert gateway().retrieve(gone.intent_id).status == "canceled"  # Anna's first hold
    orders = list(session.scalars(sa.select(Order).where(Order.campaign_id == campaign_id)))
    assert sorted(order.id for order in orders) == sorted(p.order_id for p in captured)
    assert Counter(order.email for order in orders) == Counter(p.email for p in captured)
    assert max(Counter(order.email for order in orders).values()) == 1
    for person in captured:
        [order] = [order for order in orders if order.id == person.order_id]
        assert order.total_amount == TIER_PRICE * person.pieces
    assert close(app, campaign_id).outcomes == {}  # once more: nothing left to do

    # Mei's open page sees the close and reloads to say so; Kenji's own page says paid.
    expect(mei.get_by_test_id("campaign-progress")).to_have_attribute(
        "data-state", "closed", timeout=REFRESH_MS
    )
    expect(mei.get_by_test_id("join-form")).to_have_count(0)
    [kenji_in] = [person for person in captured if person.name == KENJI[0]]
    # A tab of its own: Kenji's campaign page may be reloading itself to the closed state.
    kenji_own = kenji.context.new_page()
    kenji_own.goto(live_server + f"/g/{code}/p/{kenji_in.token}")
    expect(kenji_own.get_by_test_id("participant-state")).to_have_attribute(
        "data-state", "captured"
    )

    # 5. The leader opens the packing list and prints it.
    leader.goto(f"{live_server}/account/campaigns/{code}")
    leader.get_by_test_id("packing-link").click()
    bags = leader.get_by_test_id("packing-bag")
    expect(bags).to_have_count(len(captured))
    for name, _email, sizes in (MEI, KENJI, (ANNA[0], ANNA[1], ANNA_AGAIN)):
        first_name = name.split()[0]
        [person] = [p for p in captured if p.name == name]
        bag = leader.locator(f"[data-testid=packing-bag][data-bag='{person.bag_number}']")
        expect(bag.get_by_role("heading")).to_have_text(f"#{person.bag_number} {first_name}")
        rows = bag.get_by_test_id("packing-row")
        expect(rows).to_have_count(len(sizes))
        for row, (size, quantity) in zip(rows.all(), sorted(sizes.items()), strict=True):
            expect(row.locator("td")).to_have_text(["Class polo", size, "Navy", str(quantity), "☐"])
    page_text = leader.get_by_test_id("packing-doc").inner_text()
    assert "@" not in page_text  # no emails on the list
    hint = leader.locator(".no-print")
    expect(hint).to_be_visible()
    leader.emulate_media(media="print")
    expect(hint).to_be_hidden()
    expect(leader.locator(".site-header")).to_be_hidden()
    expect(leader.get_by_test_id("packing-doc")).to_be_visible()
    kept = screens.shots or tmp_path
    kept.mkdir(parents=True, exist_ok=True)
    assert leader.pdf(path=str(kept / "packing.pdf")).startswith(b"%PDF")
    leader.screenshot(path=str(kept / "packing-print.png"), full_page=True)
    assert screens.problems == []
