"""A capture Stripe refuses at the close: the participant has 48 hours to pay on their own
page; the others keep the price; after the 48 hours their place lapses."""

import json
from datetime import timedelta

import pytest
import sqlalchemy as sa

from shop.catalog.models import Variant
from shop.db import as_utc, utcnow
from shop.groupbuys import closing
from shop.groupbuys.models import Campaign, Participant
from shop.orders.models import Order
from shop.payments.stripe_gateway import gateway
from tests.at_once import send_at_once
from tests.checkout_helpers import card
from tests.factories import make_product
from tests.groupbuy_factories import make_campaign
from tests.groupbuys.close_helpers import captured_at_stripe, close, join, make_due


@pytest.fixture
def app(live_app):
    return live_app


@pytest.fixture
def shorts(session):
    product = make_product(
        session, slug="gb-shorts", tiers=((1, 3000), (4, 2500)), sizes=("S", "M"), on_hand=10
    )
    session.commit()
    return product


def one_card_cancelled(app, session, shorts, outbox=None):
    """Three participants (2 + 2 + 1 pieces: the 2500 tier); the second one's hold is
    gone before the close (expired, or cancelled at the bank)."""
    campaign = make_campaign(session, [shorts], min_pieces=4)
    session.commit()
    small, medium = shorts.variants
    people = [
        join(app, session, campaign, {small.id: 2}, 1),
        join(app, session, campaign, {medium.id: 2}, 2),
        join(app, session, campaign, {small.id: 1}, 3),
    ]
    with app.app_context():
        assert gateway().cancel(people[1].intent_id)
    make_due(session, campaign)
    close(app, campaign.id)
    session.expire_all()
    return campaign, [session.get(Participant, p.id) for p in people]


def pay_url(campaign, participant):
    return f"/g/{campaign.code}/p/{participant.token}/pay"


def post_card(client, campaign, participant, method):
    return client.post(
        pay_url(campaign, participant) + "/card",
        data=json.dumps({"payment_method": method}),
        content_type="application/json",
    )


def test_a_failed_capture_leaves_the_others_at_the_price_and_asks_for_payment(
    app, session, shorts, outbox
):
    campaign, people = one_card_cancelled(app, session, shorts)

    assert [p.state for p in people] == ["captured", "payment_due", "captured"]
    assert [p.captured_amount for p in people] == [5000, None, 2500]
    assert [captured_at_stripe(app, p.intent_id) for p in (people[0], people[2])] == [5000, 2500]
    due = people[1]
    assert due.intent_id is None
    assert abs((as_utc(due.payment_due_until) - utcnow()) - timedelta(hours=48)) < timedelta(
        minutes=1
    )
    assert campaign.state == "closed"  # nobody holds a place any more
    unpaid = closing.unpaid_participants(session)
    assert [(u.participant_id, u.amount, u.pieces) for u in unpaid] == [(due.id, 5000, 2)]
    (message,) = [m for m in outbox() if m["To"] == due.email]
    assert message["Subject"] == f"Group buy {campaign.code}: please pay within 48 hours"
    assert pay_url(campaign, due) in message.get_body(("plain",)).get_content()


def test_the_pay_page_takes_a_card_and_makes_the_order(app, session, shorts):
    campaign, people = one_card_cancelled(app, session, shorts)
    due = people[1]
    client = app.test_client()

    page = client.get(pay_url(campaign, due))
    assert page.status_code == 200
    assert 'data-testid="payment-form"' in page.get_data(as_text=True)
    assert 'data-amount="5000"' in page.get_data(as_text=True)
    answer = post_card(client, campaign, due, card(app))

    assert answer.status_code == 200 and answer.get_json()["status"] == "paid"
    session.expire_all()
    due = session.get(Participant, due.id)
    assert (due.state, due.captured_amount) == ("captured", 5000)
    order = session.get(Order, due.order_id)
    assert (order.payment_status, order.total_amount, order.campaign_id) == (
        "paid",
        5000,
        campaign.id,
    )
    assert order.payments[0].released_amount == 0
    with app.app_context():
        intent = gateway().retrieve(due.intent_id)
    assert (intent.status, intent.amount) == ("succeeded", 5000)
    assert closing.unpaid_participants(session) == []
    assert 'data-testid="groupbuy-paid"' in client.get(pay_url(campaign, due)).get_data(
        as_text=True
    )
    again = post_card(client, campaign, due, card(app))  # nothing is charged again
    assert again.get_json()["status"] == "paid"
    assert len(list(session.scalars(sa.select(Order).where(Order.campaign_id == campaign.id)))) == 3


@pytest.mark.parametrize("copies", [2, 5])
def test_paying_at_once_makes_one_order(app, session, shorts, copies):
    campaign, people = one_card_cancelled(app, session, shorts)
    due = people[1]
    client = app.test_client()
    method = card(app)

    answers = send_at_once(
        app,
        client,
        copies,
        "POST",
        pay_url(campaign, due) + "/card",
        json={"payment_method": method},
    )

    assert all(answer.status in (200, 409) for answer in answers), answers
    session.expire_all()
    due = session.get(Participant, due.id)
    assert due.state == "captured"
    orders = list(session.scalars(sa.select(Order).where(Order.campaign_id == campaign.id)))
    assert len(orders) == 3
    assert captured_at_stripe(app, due.intent_id) == 5000


def test_a_wrong_token_or_code_is_not_found(app, session, shorts):
    campaign, people = one_card_cancelled(app, session, shorts)
    client = app.test_client()
    assert client.get(f"/g/{campaign.code}/p/{'x' * 32}/pay").status_code == 404
    assert client.get(f"/g/NOPE/p/{people[1].token}/pay").status_code == 404
    assert client.get(f"/g/{campaign.code}/p/a%00b/pay").status_code in (400, 404)
    bad = client.post(pay_url(campaign, people[1]) + "/card", json={"payment_method": ["x"]})
    assert bad.status_code == 400
    # someone who was charged has nothing to pay
    page = client.get(pay_url(campaign, people[0])).get_data(as_text=True)
    assert 'data-testid="groupbuy-paid"' in page


def test_after_48_hours_the_place_lapses_and_the_stock_comes_back(app, session, shorts):
    campaign, people = one_card_cancelled(app, session, shorts)
    due = people[1]
    medium = shorts.variants[1].id
    allocated = sa.select(Variant.allocated).where(Variant.id == medium)
    assert session.scalar(allocated) == 2
    client = app.test_client()
    client.get(pay_url(campaign, due))  # the page made nothing (a GET writes nothing)

    assert closing.lapsed_ids(session, utcnow()) == []
    later = utcnow() + timedelta(hours=49)
    with app.app_context():
        assert closing.lapsed_ids(session, later) == [due.id]
        assert closing.lapse(session, due.id, gateway(), later) == "lapsed"
        session.commit()
        assert closing.lapse(session, due.id, gateway(), later) == "nothing to do"
    session.expire_all()
    assert session.get(Participant, due.id).state == "lapsed"
    assert session.scalar(allocated) == 0
    campaign = session.get(Campaign, campaign.id)
    assert (campaign.pieces, campaign.reserved_pieces) == (3, 3)
    assert closing.unpaid_participants(session) == []
    assert post_card(client, campaign, due, card(app)).status_code == 409
