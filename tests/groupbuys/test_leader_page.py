"""The leader's page of one campaign: progress and participants' first names and pieces,
never their emails, phones or addresses; only the leader (and staff who manage campaigns)
may open it; "Close now" once the minimum is reached, exactly once."""

import pytest

from shop.groupbuys.models import Campaign
from tests.accounts.helpers import login, make_user
from tests.at_once import send_at_once
from tests.factories import make_product
from tests.groupbuy_factories import make_campaign
from tests.groupbuys.leader_helpers import joined
from tests.helpers.admin import fresh


@pytest.fixture
def polo(session):
    product = make_product(
        session,
        slug="gb-polo",
        tiers=((1, 4900), (5, 4300)),
        sizes=("120", "130"),
        made_to_order=True,
        lead_time_days=14,
        on_hand=0,
    )
    session.commit()
    return product


@pytest.fixture
def campaign(session, polo):
    leader = make_user(session, email="li@example.com", name="Li Na")
    campaign = make_campaign(session, [polo], leader=leader, min_pieces=5)
    session.commit()
    return campaign


def test_the_leader_sees_first_names_and_pieces_only(client, session, polo, campaign):
    small, medium = polo.variants
    joined(session, campaign, {small.id: 2}, 1, name="Wang Fang", phone="+86 139 1111 2222")
    joined(session, campaign, {medium.id: 3}, 2, name="Chen Jie", email="chen@example.com")
    login(client, email="li@example.com")
    page = client.get(f"/account/campaigns/{campaign.code}").text
    assert "Wang" in page and "Chen" in page
    for secret in ("Fang", "Jie", "parent1@example.com", "chen@example.com", "139 1111", "pi_"):
        assert secret not in page
    assert 'data-testid="participant" data-bag="1"' in page
    assert 'data-pieces="5"' in page  # the campaign's pieces
    assert 'data-amount="4300"' in page  # five pieces: the second tier
    assert 'data-testid="close-now-form"' in page


@pytest.mark.parametrize("path", ["", "/packing"])
def test_another_customer_gets_a_404(client, session, campaign, path):
    make_user(session, email="nosy@example.com")
    login(client, email="nosy@example.com")
    assert client.get(f"/account/campaigns/{campaign.code}{path}").status_code == 404
    assert client.post(f"/account/campaigns/{campaign.code}/close").status_code == 404
    assert client.get(f"/account/campaigns/NOSUCHCODE{path}").status_code == 404


def test_anonymous_visitors_are_sent_to_sign_in(client, campaign):
    response = client.get(f"/account/campaigns/{campaign.code}")
    assert response.status_code == 302 and "/account/login" in response.headers["Location"]


def test_staff_who_manage_campaigns_open_the_leader_page(client, campaign, sign_in):
    sign_in("manager")
    assert client.get(f"/account/campaigns/{campaign.code}").status_code == 200
    sign_in("warehouse")  # packs, but does not manage campaigns
    assert client.get(f"/account/campaigns/{campaign.code}").status_code == 404
    assert client.get(f"/account/campaigns/{campaign.code}/packing").status_code == 200


def test_close_now_is_refused_below_the_minimum(client, session, polo, campaign):
    joined(session, campaign, {polo.variants[0].id: 4}, 1)
    login(client, email="li@example.com")
    assert (
        'data-testid="close-now-form"' not in client.get(f"/account/campaigns/{campaign.code}").text
    )
    before = fresh(session, Campaign, campaign.id).closes_at
    response = client.post(f"/account/campaigns/{campaign.code}/close", follow_redirects=True)
    assert "once it reaches its minimum" in response.text
    after = fresh(session, Campaign, campaign.id)
    assert (after.closes_at, after.closed_early, after.version) == (before, False, campaign.version)


@pytest.mark.parametrize("copies", [2, 5])
def test_close_now_pressed_at_once_closes_once(app, client, session, polo, campaign, copies):
    joined(session, campaign, {polo.variants[0].id: 5}, 1)
    version = fresh(session, Campaign, campaign.id).version
    login(client, email="li@example.com")
    answers = send_at_once(app, client, copies, "POST", f"/account/campaigns/{campaign.code}/close")
    assert all(answer.status == 302 for answer in answers)
    closing = [a for a in answers if any("closes within a minute" in m for m in a.messages)]
    assert len(closing) == 1
    after = fresh(session, Campaign, campaign.id)
    assert after.closed_early and after.version > version
    # The close job, queued once after the commit (in-process here), took it from there.
    assert after.state in ("closing", "closed")
