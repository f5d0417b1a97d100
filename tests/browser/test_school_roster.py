"""A bursar pastes a roster that is short of one colour, chooses another colour for the
students who cannot have it, and confirms: the button says it is working and cannot be
pressed twice, and one order is placed on invoice."""

import pytest
import sqlalchemy as sa
from playwright.sync_api import expect

from shop.orders.models import Order
from tests.accounts.helpers import PASSWORD, make_user
from tests.factories import make_product
from tests.school_factories import add_item, add_member, make_school

pytestmark = pytest.mark.browser

ROSTER = "学生,班级,性别,polo\n王小明,1班,男,130/白色\n李娜,1班,女,130/白色\n张伟,2班,男,130/白色\n"


@pytest.fixture
def hillside(session):
    school = make_school(
        session,
        slug="hillside",
        grades=(),
        verified=True,
        invoice_terms_days=30,
        credit_limit_amount=1_000_000,
    )
    polo = make_product(
        session,
        slug="polo",
        name="Summer polo",
        sizes=("130",),
        colours=("white", "navy"),
        on_hand=10,
        tiers=((1, 8900),),
    )
    polo.variants[0].on_hand = 1  # one white left
    add_item(session, school, polo)
    bursar = make_user(session, email="bursar@hillside.example", role="school_admin")
    add_member(session, school, bursar)
    session.commit()
    return school


def test_a_short_roster_is_fixed_by_a_choice_and_confirmed_once(
    live_server, watched, session, hillside
):
    page, posted, problems = watched
    page.goto(live_server + "/account/login")
    page.get_by_label("Email").fill("bursar@hillside.example")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()

    page.goto(live_server + "/schools/hillside/admin/roster")
    page.get_by_label("Paste the roster").fill(ROSTER)
    page.get_by_test_id("roster-preview-button").click()
    shortage = page.get_by_test_id("roster-shortage")
    expect(shortage).to_have_attribute("data-short", "2")
    expect(shortage).to_contain_text("Summer polo · size 130 · White")
    expect(shortage).to_contain_text("李娜 (1班), 张伟 (2班)")
    expect(page.get_by_test_id("roster-confirm-form")).to_have_count(0)

    page.get_by_test_id("roster-choice-colour").check()
    page.get_by_test_id("roster-stock-apply").click()
    expect(page.get_by_test_id("roster-preview")).to_have_attribute("data-ok", "yes")
    page.get_by_label("Purchase-order number").fill("PO-2026-5")

    confirms = []
    page.on("request", lambda r: confirms.append(r) if r.url.endswith("/roster/confirm") else None)
    # Hold the first submission in the page (as a slow network would) to see the button.
    page.evaluate(
        """() => {
        const form = document.querySelector('[data-testid=roster-confirm-form]');
        window.holdSubmit = (event) => event.preventDefault();
        form.addEventListener('submit', window.holdSubmit);
    }"""
    )
    button = page.get_by_test_id("roster-confirm")
    button.click()
    expect(button).to_have_text("Placing order…")
    expect(button).to_be_disabled()
    button.click(force=True)  # a second press does nothing: the button is disabled
    page.evaluate(
        """() => {
        const form = document.querySelector('[data-testid=roster-confirm-form]');
        form.removeEventListener('submit', window.holdSubmit);
        form.submit();
    }"""
    )

    expect(page.get_by_test_id("flash").first).to_contain_text("placed on invoice")
    session.expire_all()
    [order] = session.scalars(sa.select(Order)).all()
    assert sorted(line.colour for line in order.lines) == ["navy", "navy", "white"]
    assert order.po_number == "PO-2026-5"
    assert len(confirms) == 1
    # (the first preview answers 422, which the console reports; nothing else)
    assert [p for p in problems if "status of 422" not in p] == []
