"""Places whose card never came are let go by ``expire-campaign-places``; the close and
the expiry run as commands (and periodic jobs) too; Stripe's news about a group buy's
money changes nothing it should not."""

from datetime import timedelta

import pytest
import sqlalchemy as sa

from shop.catalog.models import Variant
from shop.db import utcnow
from shop.groupbuys.models import Campaign, Participant
from shop.orders.models import Order
from shop.payments.stripe_gateway import gateway
from tests.factories import make_product
from tests.groupbuy_factories import make_campaign, reserve
from tests.groupbuys.close_helpers import join, make_due
from tests.helpers.stripe_events import charge_refunded, deliver


@pytest.fixture
def app(live_app):
    return live_app


@pytest.fixture
def shorts(session):
    product = make_product(session, slug="gb-shorts", tiers=((1, 3000), (4, 2500)), on_hand=10)
    session.commit()
    return product


def test_a_place_whose_card_never_came_is_let_go(app, session, shorts):
    campaign = make_campaign(session, [shorts], min_pieces=4)
    session.commit()
    variant_id = shorts.variants[0].id
    stale = reserve(session, campaign, {variant_id: 3}, 1)
    fresh = reserve(session, campaign, {variant_id: 2}, 2)
    stale.created_at = utcnow() - timedelta(minutes=31)
    session.commit()

    result = app.test_cli_runner().invoke(args=["expire-campaign-places"])
    again = app.test_cli_runner().invoke(args=["expire-campaign-places"])

    assert result.exit_code == 0, result.output
    assert "Let go of 1 place(s) never paid for." in result.output
    assert "Let go of 0 place(s) never paid for." in again.output
    session.expire_all()
    assert session.get(Participant, stale.id).state == "left"
    assert session.get(Participant, fresh.id).state == "pending"
    assert session.scalar(sa.select(Variant.allocated).where(Variant.id == variant_id)) == 2
    assert session.get(Campaign, campaign.id).reserved_pieces == 2


def test_the_close_command_closes_what_is_due(app, session, shorts):
    campaign = make_campaign(session, [shorts], min_pieces=4)
    later = make_campaign(session, [shorts], min_pieces=1)
    session.commit()
    variant_id = shorts.variants[0].id
    people = [join(app, session, campaign, {variant_id: 2}, n) for n in (1, 2)]
    make_due(session, campaign)

    result = app.test_cli_runner().invoke(args=["close-campaigns"])

    assert result.exit_code == 0, result.output
    assert f"{campaign.code}: closed" in result.output
    assert later.code not in result.output
    session.expire_all()
    assert [session.get(Participant, p.id).state for p in people] == ["captured"] * 2
    again = app.test_cli_runner().invoke(args=["close-campaigns"])
    assert "Closed 0 group buy(s)." in again.output


def test_the_release_of_a_hold_is_not_a_refund_of_the_order(app, session, shorts, client):
    campaign = make_campaign(session, [shorts], min_pieces=3)
    session.commit()
    variant_id = shorts.variants[0].id
    first = join(app, session, campaign, {variant_id: 2}, 1)  # held at 2 × 3000
    join(app, session, campaign, {variant_id: 2}, 2)
    make_due(session, campaign)
    assert app.test_cli_runner().invoke(args=["close-campaigns"]).exit_code == 0
    session.expire_all()
    order = session.get(Order, session.get(Participant, first.id).order_id)
    assert (order.total_amount, order.payments[0].released_amount) == (5000, 1000)
    with app.app_context():
        charge = gateway().charge_of(first.intent_id)
    assert charge.amount_refunded == 1000  # localstripe counts the released rest

    answer = deliver(client, charge_refunded("evt_gb_release", charge.id))

    assert answer.get_json()["outcome"] == "no change"
    session.expire_all()
    order = session.get(Order, order.id)
    assert (order.payment_status, order.refunded_amount) == ("paid", 0)
    with app.app_context():
        gateway().refund(first.intent_id, 500, idempotency_key="gb-test-refund")
    answer = deliver(client, charge_refunded("evt_gb_refund", charge.id))
    assert answer.get_json()["outcome"] == "refunded"
    session.expire_all()
    order = session.get(Order, order.id)
    assert (order.payment_status, order.refunded_amount) == ("partially_refunded", 500)
