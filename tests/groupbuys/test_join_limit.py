"""Places taken from one address are limited (``RATE_LIMIT_GROUP_JOINS``): a flood of joins
cannot hold a campaign's capacity with places whose card never comes. Refused joins (a
form with a mistake) do not count."""

import pytest
import sqlalchemy as sa

from shop.groupbuys.models import Participant
from tests.groupbuy_factories import make_campaign
from tests.groupbuys.join_helpers import join_form, polo


@pytest.fixture
def app(make_app, stripe_settings):
    return make_app(RATE_LIMIT_GROUP_JOINS="2 per 10 minutes", **stripe_settings)


def test_the_third_place_from_one_address_waits(app, client, session):
    product = polo(session)
    campaign = make_campaign(session, [product], min_pieces=5)
    session.commit()
    variant = product.variants[0].id
    mistake = client.post(f"/g/{campaign.code}/join", data=join_form({variant: 0}, 9))
    assert mistake.status_code == 400  # nothing chosen: not counted
    for number in (1, 2):
        taken = client.post(f"/g/{campaign.code}/join", data=join_form({variant: 1}, number))
        assert taken.status_code == 303
    refused = client.post(f"/g/{campaign.code}/join", data=join_form({variant: 1}, 3))
    assert refused.status_code == 429 and refused.headers["Retry-After"]
    assert session.scalar(sa.select(sa.func.count(Participant.id))) == 2
