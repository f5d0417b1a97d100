"""A closed pick-up campaign ships as one parcel: every participant's order gets the same
carrier and tracking number, once, however often staff press the button."""

import pytest
import sqlalchemy as sa

from shop.groupbuys.models import Campaign
from shop.orders.models import Order, Shipment
from tests.at_once import send_at_once
from tests.factories import make_product
from tests.groupbuy_factories import make_campaign
from tests.groupbuys.close_helpers import close, join, make_due


@pytest.fixture
def app(live_app):
    return live_app


@pytest.fixture
def closed(app, session):
    shorts = make_product(session, slug="gb-shorts", tiers=((1, 3000), (4, 2500)), on_hand=20)
    campaign = make_campaign(session, [shorts], min_pieces=4)
    session.commit()
    variant = shorts.variants[0]
    for number, pieces in enumerate((2, 1, 2), start=1):
        join(app, session, campaign, {variant.id: pieces}, number)
    make_due(session, campaign)
    close(app, campaign.id)
    session.expire_all()
    assert session.get_one(Campaign, campaign.id).state == "closed"
    return campaign


def orders(session, campaign):
    session.expire_all()
    return session.scalars(
        sa.select(Order).where(Order.campaign_id == campaign.id).order_by(Order.id)
    ).all()


def ship_form(client, campaign):
    page = client.get(f"/admin/campaigns/{campaign.code}")
    assert page.status_code == 200 and 'data-testid="campaign-ship"' in page.text
    return {"carrier": "sf_express", "tracking_number": "SF1234567890"}


@pytest.mark.parametrize("copies", [1, 2, 5])
def test_every_order_ships_once_with_one_tracking_number(
    app, client, session, sign_in, closed, copies
):
    sign_in("owner")
    form = ship_form(client, closed)
    answers = send_at_once(
        app, client, copies, "POST", f"/admin/campaigns/{closed.code}/ship", form
    )
    assert all(answer.status == 302 for answer in answers)
    placed = orders(session, closed)
    assert len(placed) == 3
    assert {order.fulfilment_status for order in placed} == {"shipped"}
    shipments = session.scalars(
        sa.select(Shipment).where(Shipment.order_id.in_([order.id for order in placed]))
    ).all()
    assert len(shipments) == 3  # one each, never a second
    assert {(s.carrier, s.tracking_number) for s in shipments} == {("sf_express", "SF1234567890")}
    assert 'data-testid="campaign-ship"' not in client.get(f"/admin/campaigns/{closed.code}").text


def test_a_missing_tracking_number_ships_nothing(app, client, session, sign_in, closed):
    sign_in("owner")
    form = ship_form(client, closed) | {"tracking_number": ""}
    response = client.post(f"/admin/campaigns/{closed.code}/ship", data=form, follow_redirects=True)
    assert "tracking number" in response.text
    assert {order.fulfilment_status for order in orders(session, closed)} == {"unfulfilled"}


def test_an_open_campaign_does_not_ship_and_staff_without_orders_cannot(
    app, client, session, sign_in, closed
):
    sign_in("warehouse")
    refused = client.post(f"/admin/campaigns/{closed.code}/ship", data={"carrier": "sf_express"})
    assert refused.status_code == 403
    open_one = make_campaign(session, [], min_pieces=1)
    session.commit()
    sign_in("owner")
    response = client.post(
        f"/admin/campaigns/{open_one.code}/ship",
        data={"carrier": "sf_express", "tracking_number": "SF1"},
        follow_redirects=True,
    )
    assert "ships as one parcel" in response.text
