"""Opening a group buy from the account page: the form's rules (a form error, never a
500), the code, the payment mode, approval, the leader's reward and window, exactly once
however often the form is sent; and a school admin choosing from the school's list."""

import re
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from shop.groupbuys import leader, rules
from shop.groupbuys.models import GroupBuyProgram
from shop.groupbuys.program import PROGRAM_ID
from tests.accounts.helpers import login, make_user
from tests.at_once import send_at_once
from tests.factories import make_product
from tests.groupbuy_factories import make_campaign
from tests.groupbuys.leader_helpers import campaign_data, campaigns, local
from tests.helpers.admin import errors_in
from tests.helpers.resellers import make_reseller
from tests.school_factories import add_item, add_member, make_school

NEW = "/account/campaigns/new"


@pytest.fixture
def polo(session):
    product = make_product(
        session,
        slug="gb-polo",
        tiers=((1, 4900), (30, 4300)),
        made_to_order=True,
        lead_time_days=14,
        on_hand=0,
    )
    session.commit()
    return product


@pytest.fixture
def leader_user(client, session):
    user = make_user(session, email="li@example.com", name="Li Na")
    assert login(client, email="li@example.com").status_code == 302
    return user


def test_a_customer_opens_a_campaign(client, session, polo, leader_user):
    page = client.get(NEW).text
    assert f'data-product-id="{polo.id}"' in page and 'data-testid="payment-mode-note"' in page
    closes = (datetime.now(UTC) + timedelta(days=3)).replace(second=0, microsecond=0)
    tokyo = closes.astimezone(ZoneInfo("Asia/Tokyo")).strftime("%Y-%m-%dT%H:%M")
    data = campaign_data(polo, closes_local=tokyo, time_zone="Asia/Tokyo")
    response = client.post(NEW, data=data)
    assert response.status_code == 302
    [campaign] = campaigns(session)
    assert response.headers["Location"] == f"/account/campaigns/{campaign.code}"
    assert re.fullmatch(f"[{leader.CODE_ALPHABET}]{{8}}", campaign.code)
    assert (campaign.state, campaign.payment_mode, campaign.leader_id) == (
        "open",
        "hold",
        leader_user.id,
    )
    assert campaign.closes_at.replace(tzinfo=UTC) == closes  # Tokyo's clock, stored in UTC
    assert (campaign.min_pieces, campaign.max_pieces, campaign.currency) == (20, None, "CNY")
    assert [item.product_id for item in campaign.products] == [polo.id]
    assert (campaign.leader_reward, campaign.reseller_id, campaign.own_ladder) == (
        "none",
        None,
        False,
    )
    listing = client.get("/account/campaigns").text
    assert f'data-code="{campaign.code}"' in listing and f"/g/{campaign.code}" in listing
    assert 'data-testid="campaigns-link"' in client.get("/account").text


def test_a_long_campaign_charges_at_joining(client, session, polo, leader_user):
    data = campaign_data(polo, closes_local=local(timedelta(days=20)))
    assert client.post(NEW, data=data).status_code == 302
    [campaign] = campaigns(session)
    assert campaign.payment_mode == "charge"


@pytest.mark.parametrize(
    ("changes", "field", "reason"),
    [
        ({"closes_local": local(-timedelta(hours=1))}, "closes_local", "in the future"),
        ({"closes_local": local(timedelta(days=61))}, "closes_local", "at most 60 days"),
        ({"closes_local": "next tuesday"}, "closes_local", ""),
        ({"min_pieces": "30", "max_pieces": "20"}, "max_pieces", "below the minimum"),
        ({"min_pieces": "0"}, "min_pieces", "from 1 to 100000"),
        ({"min_pieces": str(2**63)}, "min_pieces", "from 1 to 100000"),
        ({"max_pieces": "9" * 5000}, "max_pieces", ""),
        ({"products": []}, "products", "at least one product"),
        ({"products": ["abc"]}, "products", ""),
        ({"products": [str(2**31)]}, "products", "cannot be sold"),
        ({"currency": "JPY"}, "products", "no price in the chosen currency: Product"),
        ({"currency": "EUR"}, "currency", ""),
        ({"pickup_hours": ""}, "pickup_hours", "Needed for a pick-up point"),
        ({"title": ""}, "title", "title"),
        ({"title": "x" * 100_000}, "title", ""),
        ({"note": "n" * 501}, "note", ""),
        ({"ladder": "polo 5"}, "ladder", "Line 1"),
        ({"ladder": "gb-polo 10 40.00"}, "ladder", "first step is for 1 piece"),
        ({"ladder": "gb-polo 1 40.00\ngb-polo 10 45.00"}, "ladder", "cannot cost more"),
        ({"ladder": "gb-polo 1 40.001"}, "ladder", "Line 1"),
        ({"ladder": "l" * 5000}, "ladder", ""),
        ({"time_zone": "Mars/Olympus"}, "time_zone", ""),
        ({"delivery": "drone"}, "delivery", ""),
    ],
)
def test_a_form_with_mistakes_is_shown_again(
    client, session, polo, leader_user, changes, field, reason
):
    response = client.post(NEW, data=campaign_data(polo, **changes))
    assert response.status_code == 400
    assert f'id="{field}-error"' in response.text
    assert reason in errors_in(response.text)
    assert campaigns(session) == []


def test_a_nul_byte_is_refused_before_the_form(client, session, polo, leader_user):
    response = client.post(NEW, data=campaign_data(polo, title="a\x00b"))
    assert response.status_code == 400
    assert campaigns(session) == []


def test_each_participant_delivery_needs_no_pickup_point(client, session, polo, leader_user):
    data = campaign_data(polo, delivery="each", pickup_name="", pickup_address="", pickup_hours="")
    assert client.post(NEW, data=data).status_code == 302
    [campaign] = campaigns(session)
    assert (campaign.delivery, campaign.pickup_name) == ("each", "")


def test_the_programme_decides_approval_and_reward(client, session, polo, leader_user):
    session.add(GroupBuyProgram(id=PROGRAM_ID, require_approval=True, leader_reward="credit"))
    session.commit()
    assert 'data-testid="needs-approval"' in client.get(NEW).text
    assert client.post(NEW, data=campaign_data(polo)).status_code == 302
    [campaign] = campaigns(session)
    assert (campaign.state, campaign.leader_reward) == ("pending_approval", "credit")


def test_a_reseller_leads_through_their_window(client, session, polo):
    reseller = make_reseller(session, email="shop@example.com")
    login(client, email="shop@example.com")
    assert client.post(NEW, data=campaign_data(polo)).status_code == 302
    [campaign] = campaigns(session)
    assert campaign.reseller_id == reseller.id


def test_an_own_ladder_is_kept_but_waits_for_staff(client, session, polo, leader_user):
    ladder = "gb-polo 1 45.00\nGB-POLO 10 39.50"
    assert client.post(NEW, data=campaign_data(polo, ladder=ladder)).status_code == 302
    [campaign] = campaigns(session)
    assert campaign.own_ladder and campaign.ladder_approved_by_id is None
    assert [(t.min_quantity, t.unit_amount) for t in campaign.tiers] == [(1, 4500), (10, 3950)]


def test_the_same_form_sent_twice_opens_one_campaign(client, session, polo, leader_user):
    first = client.post(NEW, data=campaign_data(polo))
    again = client.post(NEW, data=campaign_data(polo))
    assert first.status_code == again.status_code == 302
    assert again.headers["Location"] == "/account/campaigns"
    assert len(campaigns(session)) == 1


@pytest.mark.parametrize("copies", [2, 5])
def test_the_same_form_sent_at_once_opens_one_campaign(
    app, client, session, polo, leader_user, copies
):
    answers = send_at_once(app, client, copies, "POST", NEW, data=campaign_data(polo))
    assert all(answer.status in (302, 409) for answer in answers), answers
    assert len(campaigns(session)) == 1


def test_a_code_that_is_taken_is_drawn_again(session, polo, monkeypatch):
    make_campaign(session, [polo], code="AAAAAAAA")
    someone = make_user(session, email="x@example.com")
    codes = iter(["AAAAAAAA", "BBBBBBBB"])
    monkeypatch.setattr(leader, "new_code", lambda: next(codes))
    draft = leader.Draft(
        title="Polos",
        currency="CNY",
        closes_at=datetime.now(UTC) + timedelta(days=2),
        min_pieces=5,
        product_ids=(polo.id,),
        delivery="each",
    )
    campaign = leader.create_campaign(session, someone, draft)
    session.commit()
    assert campaign.code == "BBBBBBBB"
    assert rules.payment_mode(campaign.opens_at, campaign.closes_at) == campaign.payment_mode


def test_a_school_admin_chooses_from_the_school_list(client, session, polo):
    school = make_school(session, name="Xixi Primary")
    blazer = make_product(session, slug="xixi-blazer", name="Xixi blazer", school_id=school.id)
    add_item(session, school, blazer)
    bursar = make_user(session, email="bursar@example.com", role="school_admin")
    add_member(session, school, bursar)
    make_user(session, email="other@example.com")
    session.commit()

    login(client, email="bursar@example.com")
    page = client.get(NEW).text
    assert f'data-product-id="{blazer.id}"' in page and 'data-school="Xixi Primary"' in page
    assert client.post(NEW, data=campaign_data(blazer, polo)).status_code == 302
    [campaign] = campaigns(session)
    assert campaign.school_id == school.id

    client.post("/account/logout")
    login(client, email="other@example.com")
    assert f'data-product-id="{blazer.id}"' not in client.get(NEW).text
    refused = client.post(NEW, data=campaign_data(blazer, request_key="another-key-0123456789"))
    assert refused.status_code == 400 and "cannot be sold" in errors_in(refused.text)
    assert len(campaigns(session)) == 1


def test_anonymous_visitors_are_sent_to_sign_in(client):
    response = client.get(NEW)
    assert response.status_code == 302 and "/account/login" in response.headers["Location"]


def test_the_products_listed_have_tiers(client, session, leader_user):
    bare = make_product(session, slug="no-tiers", tiers=())
    hidden = make_product(session, slug="off-sale", active=False)
    shown = make_product(session, slug="on-sale")
    session.commit()
    page = client.get(NEW).text
    assert f'data-product-id="{shown.id}"' in page
    assert f'data-product-id="{bare.id}"' not in page
    assert f'data-product-id="{hidden.id}"' not in page
    found = client.get(NEW + "?q=on-s").text
    assert f'data-product-id="{shown.id}"' in found and "no-tiers" not in found
