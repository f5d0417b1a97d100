"""The close: each participant charged once at the final price, one order each, however
many runners close the campaign at once and wherever one of them dies."""

import threading
from datetime import timedelta

import pytest
import sqlalchemy as sa

from shop.catalog.models import Variant
from shop.groupbuys.models import Participant
from shop.orders.models import Order
from shop.payments.models import Payment
from shop.payments.stripe_gateway import StripeGateway, gateway
from tests.factories import make_product
from tests.groupbuy_factories import make_campaign
from tests.groupbuys.close_helpers import (
    captured_at_stripe,
    close,
    close_in_processes,
    join,
    make_due,
)


@pytest.fixture
def app(live_app):
    return live_app


@pytest.fixture
def polo(session):
    product = make_product(
        session,
        slug="gb-polo",
        tiers=((1, 4900), (5, 4300), (10, 3700)),
        sizes=("120", "130"),
        made_to_order=True,
        lead_time_days=14,
        on_hand=0,
    )
    session.commit()
    return product


def three_in(app, session, polo, **campaign):
    """Three participants: 3 + 2 + 1 pieces (6 in all: the 4300 tier)."""
    campaign = make_campaign(session, [polo], min_pieces=5, **campaign)
    session.commit()
    small, medium = polo.variants
    people = [
        join(app, session, campaign, {small.id: 3}, 1),
        join(app, session, campaign, {medium.id: 2}, 2),
        join(app, session, campaign, {small.id: 1}, 3),
    ]
    make_due(session, campaign)
    return campaign, people


def states(session, people):
    session.expire_all()
    return [session.get(Participant, p.id).state for p in people]


def campaign_orders(session, campaign):
    return list(session.scalars(sa.select(Order).where(Order.campaign_id == campaign.id)))


def test_the_close_charges_each_participant_the_final_price_and_writes_their_order(
    app, session, polo, outbox
):
    campaign, people = three_in(app, session, polo)
    assert [p.authorised_amount for p in people] == [3 * 4900, 2 * 4300, 1 * 4300]

    report = close(app, campaign.id)

    assert report.state == "closed"
    assert set(report.outcomes.values()) == {"captured"}
    assert states(session, people) == ["captured"] * 3
    assert [captured_at_stripe(app, p.intent_id) for p in people] == [12900, 8600, 4300]
    session.refresh(campaign)
    assert [item.final_unit_amount for item in campaign.products] == [4300]
    orders = {order.id: order for order in campaign_orders(session, campaign)}
    assert len(orders) == 3
    for participant, released in zip(people, (1800, 0, 0), strict=True):
        participant = session.get(Participant, participant.id)
        order = orders[participant.order_id]
        assert (order.payment_status, order.total_amount) == ("paid", participant.captured_amount)
        assert order.paid_intent_id == participant.intent_id
        assert [line.unit_amount for line in order.lines] == [4300]
        assert order.notes == f"Group buy {campaign.code}, bag #{participant.bag_number}"
        assert (order.line1, order.recipient) == (campaign.pickup_name, participant.name)
        payment = session.scalars(sa.select(Payment).where(Payment.order_id == order.id)).one()
        assert (payment.amount, payment.released_amount) == (participant.captured_amount, released)
    subjects = sorted(message["Subject"] for message in outbox())
    assert subjects == [f"Group buy {campaign.code}: the price is set"] * 3
    bodies = [message.get_body(("plain",)).get_content() for message in outbox()]
    assert sum("You saved CN¥18.00 against buying alone." in body for body in bodies) == 1
    assert sum("You paid CN¥129.00 for 3 pieces." in body for body in bodies) == 1

    again = close(app, campaign.id)  # the job again: nothing more happens
    assert again.state == "closed" and again.outcomes == {}
    assert len(campaign_orders(session, campaign)) == 3


@pytest.mark.parametrize("copies", [2, 5])
def test_closes_running_at_once_charge_each_participant_once(app, session, polo, copies):
    campaign, people = three_in(app, session, polo)

    if app.config["DATABASE_URL"].startswith("postgresql"):
        results = close_in_processes(app, campaign.id, copies)
    else:
        results, errors = [], []
        barrier = threading.Barrier(copies)

        def run():
            try:
                barrier.wait(timeout=10)
                results.append(close(app, campaign.id).state)
            except Exception as error:  # the test must hear of it
                errors.append(error)

        threads = [threading.Thread(target=run) for _ in range(copies)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=120)
        assert not errors, errors

    assert results == ["closed"] * copies
    assert states(session, people) == ["captured"] * 3
    assert [captured_at_stripe(app, p.intent_id) for p in people] == [12900, 8600, 4300]
    assert len(campaign_orders(session, campaign)) == 3


class DiesAfterTwoCaptures(StripeGateway):
    """A run killed right after Stripe took the second participant's money."""

    captures = 0

    def capture(self, intent_id, amount, *, idempotency_key):
        intent = super().capture(intent_id, amount, idempotency_key=idempotency_key)
        self.captures += 1
        if self.captures == 2:
            raise RuntimeError("killed")
        return intent


def test_a_close_killed_half_way_carries_on_without_charging_anyone_twice(app, session, polo):
    campaign, people = three_in(app, session, polo)
    config = app.config
    dying = DiesAfterTwoCaptures(
        config["STRIPE_SECRET_KEY"],
        webhook_secret=config["STRIPE_WEBHOOK_SECRET"],
        api_base=config["STRIPE_API_BASE"],
    )
    with pytest.raises(RuntimeError):
        close(app, campaign.id, stripe=dying)
    assert states(session, people) == ["captured", "held", "held"]
    with app.app_context():
        assert gateway().retrieve(people[1].intent_id).status == "succeeded"

    report = close(app, campaign.id)

    assert report.state == "closed"
    assert states(session, people) == ["captured"] * 3
    assert [captured_at_stripe(app, p.intent_id) for p in people] == [12900, 8600, 4300]
    assert len(campaign_orders(session, campaign)) == 3


def test_below_the_minimum_every_card_is_let_go_and_the_stock_comes_back(app, session, outbox):
    shorts = make_product(session, slug="gb-shorts", tiers=((1, 3000), (10, 2500)), on_hand=8)
    campaign = make_campaign(session, [shorts], min_pieces=10)
    session.commit()
    variant_id = shorts.variants[0].id
    people = [join(app, session, campaign, {variant_id: 3}, n) for n in (1, 2)]
    make_due(session, campaign)

    report = close(app, campaign.id)

    assert report.state == "failed"
    assert states(session, people) == ["released", "released"]
    with app.app_context():
        assert [gateway().retrieve(p.intent_id).status for p in people] == ["canceled"] * 2
    assert session.scalar(sa.select(Variant.allocated).where(Variant.id == variant_id)) == 0
    session.refresh(campaign)
    assert (campaign.pieces, campaign.reserved_pieces) == (0, 0)
    assert campaign_orders(session, campaign) == []
    assert {m["Subject"] for m in outbox()} == {f"Group buy {campaign.code} did not go ahead"}
    body = outbox()[0].get_body(("plain",)).get_content()
    assert "Nothing was charged" in body


def test_stocked_pieces_go_from_the_campaign_to_the_order_and_are_sold(app, session):
    shorts = make_product(session, slug="gb-shorts2", tiers=((1, 3000), (4, 2500)), on_hand=8)
    campaign = make_campaign(session, [shorts], min_pieces=4)
    session.commit()
    variant_id = shorts.variants[0].id
    people = [join(app, session, campaign, {variant_id: 2}, n) for n in (1, 2)]
    make_due(session, campaign)

    close(app, campaign.id)

    session.expire_all()
    variant = session.get(Variant, variant_id)
    assert (variant.on_hand, variant.allocated) == (4, 0)
    assert [captured_at_stripe(app, p.intent_id) for p in people] == [5000, 5000]


def test_a_long_campaign_refunds_the_difference_at_the_close(app, session, polo):
    campaign, people = three_in(app, session, polo, closes_in=timedelta(days=10))
    assert campaign.payment_mode == "charge"
    assert states(session, people) == ["charged"] * 3
    assert [captured_at_stripe(app, p.intent_id) for p in people] == [14700, 8600, 4300]

    report = close(app, campaign.id)
    again = close(app, campaign.id)

    assert (report.state, again.state) == ("closed", "closed")
    assert [captured_at_stripe(app, p.intent_id) for p in people] == [12900, 8600, 4300]
    assert states(session, people) == ["captured"] * 3
    first = session.get(Participant, people[0].id)
    order = session.get(Order, first.order_id)
    assert (order.total_amount, order.payments[0].released_amount) == (12900, 1800)
