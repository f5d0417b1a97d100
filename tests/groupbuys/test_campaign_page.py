"""The campaign page ``/g/<code>``: what it shows, to anyone, without JavaScript."""

import re

import pytest

from tests.accounts.helpers import make_user
from tests.groupbuy_factories import make_campaign
from tests.groupbuys.join_helpers import polo


@pytest.fixture
def shirt(session):
    return polo(session)


def test_the_page_shows_the_campaign_its_products_and_progress(client, session, shirt):
    leader = make_user(session, email="lin@example.com", name="Lin Mei")
    campaign = make_campaign(
        session, [shirt], leader=leader, min_pieces=20, max_pieces=50, note="For class 3B"
    )
    session.commit()
    response = client.get(f"/g/{campaign.code}")
    assert response.status_code == 200
    html = response.text
    assert "Class 3B polos" in html and "For class 3B" in html and "Lin" in html
    assert "lin@example.com" not in html
    assert 'data-testid="campaign-pieces" data-pieces="0"' in html
    assert re.search(
        r'data-testid="campaign-price" data-product="\d+" data-amount="4900" data-currency="CNY"',
        html,
    )
    assert 'data-testid="campaign-next-tier"' in html and 'data-needed="5"' in html
    assert 'data-testid="campaign-minimum" data-min="20" data-reached="false"' in html
    assert 'data-places="50"' in html
    assert 'data-testid="campaign-time-left"' in html
    assert 'data-testid="join-form"' in html
    assert f'name="qty-{shirt.variants[0].id}"' in html
    assert "Li&#39;s corner shop" in html or "Li's corner shop" in html
    assert 'name="line1"' not in html  # pick-up: no address asked
    assert 'property="og:title" content="Class 3B polos"' in html
    assert f"/g/{campaign.code}/qr.svg" in html


def test_delivery_to_each_asks_for_the_address(client, session, shirt):
    campaign = make_campaign(session, [shirt], delivery="each")
    session.commit()
    html = client.get(f"/g/{campaign.code}").text
    assert 'name="line1"' in html and 'name="postcode"' in html
    assert "pick-up point" not in html


@pytest.mark.parametrize(
    ("state", "words"),
    [
        ("closed", "has closed"),
        ("failed", "did not reach its minimum"),
        ("pending_approval", "waiting for the factory"),
        ("closing", "takes no more orders"),
    ],
)
def test_a_campaign_not_taking_joins_says_why_instead_of_the_form(
    client, session, shirt, state, words
):
    campaign = make_campaign(session, [shirt], state=state)
    session.commit()
    response = client.get(f"/g/{campaign.code}")
    assert response.status_code == 200
    assert 'data-testid="join-form"' not in response.text
    assert words in response.text


def test_unknown_and_rejected_campaigns_are_not_found(client, session, shirt):
    campaign = make_campaign(session, [shirt], state="rejected")
    session.commit()
    assert client.get(f"/g/{campaign.code}").status_code == 404
    assert client.get("/g/NOPE").status_code == 404
    assert client.get("/g/" + "A" * 300).status_code == 404
    assert client.get("/g/%C3%A9").status_code == 404


def test_the_qr_code_encodes_the_share_link(client, session, shirt):
    make_campaign(session, [shirt], code="QRTEST")
    session.commit()
    response = client.get("/g/qrtest/qr.svg")
    assert response.status_code == 200 and response.mimetype == "image/svg+xml"
    assert b"/g/QRTEST" in response.data
