"""What a leader earns when the campaign goes ahead: a credit per piece captured (written
once, however often the close runs), or a commission through the reseller ledger on every
participant's order when the leader has a window; nothing when the campaign fails."""

import pytest
import sqlalchemy as sa

from shop.groupbuys.models import GroupBuyProgram, LeaderCredit
from shop.orders.models import Order
from shop.resellers.models import CommissionLine
from tests.factories import make_product
from tests.groupbuy_factories import make_campaign
from tests.groupbuys.close_helpers import close, join, make_due
from tests.helpers.resellers import make_reseller


@pytest.fixture
def app(live_app):
    return live_app


@pytest.fixture
def polo(session):
    product = make_product(
        session,
        slug="gb-polo",
        tiers=((1, 4900), (5, 4300)),
        made_to_order=True,
        lead_time_days=14,
        on_hand=0,
    )
    session.commit()
    return product


def five_in(app, session, campaign, polo):
    variant = polo.variants[0].id
    join(app, session, campaign, {variant: 3}, 1)
    join(app, session, campaign, {variant: 2}, 2)
    make_due(session, campaign)


def test_a_credit_per_piece_is_written_once(app, session, polo):
    session.add(
        GroupBuyProgram(id=1, leader_reward="credit", credit_per_piece={"CNY": 150, "JPY": 30})
    )
    campaign = make_campaign(session, [polo], min_pieces=5, leader_reward="credit")
    session.commit()
    five_in(app, session, campaign, polo)
    assert close(app, campaign.id).state == "closed"
    close(app, campaign.id)  # again: nothing more
    credits = session.scalars(sa.select(LeaderCredit)).all()
    assert [(c.campaign_id, c.currency, c.pieces, c.amount) for c in credits] == [
        (campaign.id, "CNY", 5, 750)
    ]
    assert credits[0].leader_id == campaign.leader_id


def test_a_failed_campaign_earns_its_leader_nothing(app, session, polo):
    session.add(GroupBuyProgram(id=1, leader_reward="credit", credit_per_piece={"CNY": 150}))
    campaign = make_campaign(session, [polo], min_pieces=50, leader_reward="credit")
    session.commit()
    five_in(app, session, campaign, polo)
    assert close(app, campaign.id).state == "failed"
    assert session.scalar(sa.select(sa.func.count(LeaderCredit.campaign_id))) == 0


def test_a_leader_with_a_window_earns_commission_on_every_order(app, session, polo):
    reseller = make_reseller(session, email="leader@example.com")
    campaign = make_campaign(
        session, [polo], min_pieces=5, leader_reward="commission", reseller_id=reseller.id
    )
    campaign.leader_id = reseller.user_id
    session.commit()
    five_in(app, session, campaign, polo)
    assert close(app, campaign.id).state == "closed"
    session.expire_all()
    orders = session.scalars(sa.select(Order).where(Order.campaign_id == campaign.id)).all()
    assert len(orders) == 2
    assert {(order.reseller_id, order.reseller_earns) for order in orders} == {(reseller.id, True)}
    lines = session.scalars(
        sa.select(CommissionLine).where(CommissionLine.reseller_id == reseller.id)
    ).all()
    assert {line.order_id for line in lines} == {order.id for order in orders}
    assert {line.state for line in lines} == {"pending"}
    assert all(line.amount > 0 for line in lines)
