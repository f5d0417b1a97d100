"""Joining and leaving through the service, with cards authorised at localstripe."""

import pytest
import sqlalchemy as sa

from shop.catalog.models import Variant
from shop.groupbuys import leaving, service
from shop.groupbuys.models import Campaign
from shop.payments.stripe_gateway import gateway
from tests.checkout_helpers import card
from tests.factories import make_product
from tests.groupbuy_factories import make_campaign, reserve


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


def join(app, session, campaign, quantities, number=1):
    participant = reserve(session, campaign, quantities, number)
    with app.app_context():
        service.start_card(session, campaign, participant, gateway())
        session.commit()
        result = service.card_given(session, campaign, participant, card(app), gateway())
        session.commit()
    return participant, result


def test_a_held_card_is_authorised_at_the_price_the_group_reaches(app, session, polo):
    campaign = make_campaign(session, [polo], min_pieces=5)
    session.commit()
    small, medium = polo.variants
    first, result = join(app, session, campaign, {small.id: 3})
    assert result.status == "joined" and first.state == "held"
    assert first.authorised_amount == 3 * 4900
    second, _ = join(app, session, campaign, {medium.id: 2}, number=2)
    assert second.authorised_amount == 2 * 4300  # 5 pieces in all: the second tier
    with app.app_context():
        intent = gateway().retrieve(second.intent_id)
    assert (intent.status, intent.amount) == ("requires_capture", 8600)
    session.refresh(campaign)
    assert (campaign.pieces, campaign.reserved_pieces, campaign.participant_count) == (5, 5, 2)
    assert [item.pieces for item in campaign.products] == [5]


def test_leaving_cancels_the_hold_and_gives_the_places_back(app, session, polo):
    campaign = make_campaign(session, [polo], min_pieces=5, max_pieces=6)
    session.commit()
    participant, _ = join(app, session, campaign, {polo.variants[0].id: 4})
    with pytest.raises(service.OverCapacity) as refused:
        reserve(session, campaign, {polo.variants[0].id: 3}, 2)
    session.rollback()
    assert refused.value.left == 2
    with app.app_context():
        assert leaving.leave(session, campaign, participant, gateway())
        session.commit()
        assert not leaving.leave(session, campaign, participant, gateway())
        assert gateway().retrieve(participant.intent_id).status == "canceled"
    session.refresh(campaign)
    assert (campaign.pieces, campaign.reserved_pieces) == (0, 0)


def test_stocked_pieces_are_held_while_in_and_released_on_leaving(app, session):
    shorts = make_product(session, slug="gb-shorts", tiers=((1, 3000),), on_hand=4)
    campaign = make_campaign(session, [shorts], min_pieces=2)
    session.commit()
    variant_id = shorts.variants[0].id
    participant, _ = join(app, session, campaign, {variant_id: 3})
    allocated = sa.select(Variant.allocated).where(Variant.id == variant_id)
    assert session.scalar(allocated) == 3
    with pytest.raises(service.StockShort) as short:
        reserve(session, campaign, {variant_id: 2}, 2)
    session.rollback()
    assert short.value.available == 1
    with app.app_context():
        leaving.leave(session, campaign, participant, gateway())
        session.commit()
    assert session.scalar(allocated) == 0


def test_a_closed_campaign_takes_no_one(app, session, polo):
    campaign = make_campaign(session, [polo], state="closed")
    session.commit()
    with pytest.raises(service.CampaignNotOpen):
        reserve(session, campaign, {polo.variants[0].id: 1})
    session.rollback()
    assert session.scalar(sa.select(Campaign.reserved_pieces)) == 0
