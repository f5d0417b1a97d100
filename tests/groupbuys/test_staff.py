"""Group buys in the back office: the list by state, a campaign with its participants'
emails and who has not paid, approving or rejecting one that waits (exactly once, however
many press at once), approving its own ladder, and the programme, each audited with its
sentence in three languages; only for ``campaigns.manage``."""

from datetime import timedelta

import pytest

from shop.db import utcnow
from shop.groupbuys.models import Campaign, CampaignTier, GroupBuyProgram
from shop.groupbuys.program import PROGRAM_ID
from tests.accounts.helpers import login, make_user
from tests.at_once import send_at_once
from tests.factories import make_product
from tests.groupbuy_factories import make_campaign
from tests.groupbuys.leader_helpers import joined
from tests.helpers.admin import audits, errors_in, fresh


@pytest.fixture
def polo(session):
    product = make_product(session, slug="gb-polo", made_to_order=True, lead_time_days=14)
    session.commit()
    return product


def test_the_list_filters_by_state(client, session, polo, sign_in):
    waiting = make_campaign(session, [polo], state="pending_approval", title="Waiting")
    opened = make_campaign(session, [polo], title="Opened")
    session.commit()
    sign_in("manager")
    everything = client.get("/admin/campaigns").text
    assert (
        f'data-code="{waiting.code}"' in everything and f'data-code="{opened.code}"' in everything
    )
    pending = client.get("/admin/campaigns?state=pending_approval").text
    assert f'data-code="{waiting.code}"' in pending and f'data-code="{opened.code}"' not in pending
    assert client.get("/admin/campaigns?state=%FF&page=-1").status_code == 200


def test_staff_see_emails_and_who_has_not_paid(client, session, polo, sign_in):
    campaign = make_campaign(session, [polo], min_pieces=1)
    session.commit()
    paid = joined(session, campaign, {polo.variants[0].id: 1}, 1, email="wang@example.com")
    unpaid = joined(session, campaign, {polo.variants[0].id: 2}, 2, email="chen@example.com")
    paid.state, unpaid.state = "captured", "payment_due"
    unpaid.payment_due_until = utcnow() + timedelta(hours=48)
    session.commit()
    sign_in("manager")
    page = client.get(f"/admin/campaigns/{campaign.code}").text
    assert "wang@example.com" in page and "chen@example.com" in page
    assert page.count('data-unpaid="1"') == 1 and 'data-testid="payment-due"' in page


@pytest.mark.parametrize("copies", [2, 5])
def test_approving_at_once_approves_once(app, client, session, polo, sign_in, copies):
    campaign = make_campaign(session, [polo], state="pending_approval")
    session.commit()
    manager = sign_in("manager")
    answers = send_at_once(app, client, copies, "POST", f"/admin/campaigns/{campaign.code}/approve")
    assert all(answer.status in (302, 409) for answer in answers)
    after = fresh(session, Campaign, campaign.id)
    assert (after.state, after.approved_by_id) == ("open", manager.id)
    assert len(audits(session, "campaign.approve")) == 1


def test_a_rejected_campaign_cannot_be_approved(client, session, polo, sign_in):
    campaign = make_campaign(session, [polo], state="pending_approval")
    session.commit()
    sign_in("owner")
    client.post(f"/admin/campaigns/{campaign.code}/reject")
    refused = client.post(f"/admin/campaigns/{campaign.code}/approve", follow_redirects=True)
    assert "no longer waits" in refused.text
    assert fresh(session, Campaign, campaign.id).state == "rejected"
    assert (
        len(audits(session, "campaign.reject")) == 1 and audits(session, "campaign.approve") == []
    )


def test_an_own_ladder_is_approved_once(client, session, polo, sign_in):
    campaign = make_campaign(session, [polo], own_ladder=True)
    campaign.tiers.append(CampaignTier(product_id=polo.id, min_quantity=1, unit_amount=4000))
    session.commit()
    manager = sign_in("manager")
    assert 'data-testid="own-ladder"' in client.get(f"/admin/campaigns/{campaign.code}").text
    client.post(f"/admin/campaigns/{campaign.code}/ladder")
    again = client.post(f"/admin/campaigns/{campaign.code}/ladder", follow_redirects=True)
    assert "no ladder waiting" in again.text
    assert fresh(session, Campaign, campaign.id).ladder_approved_by_id == manager.id
    assert len(audits(session, "campaign.ladder_approve")) == 1


@pytest.mark.parametrize("copies", [2, 5])
def test_an_own_ladder_approved_at_once_is_approved_once(
    app, client, session, polo, sign_in, copies
):
    campaign = make_campaign(session, [polo], own_ladder=True)
    campaign.tiers.append(CampaignTier(product_id=polo.id, min_quantity=1, unit_amount=4000))
    session.commit()
    manager = sign_in("manager")
    answers = send_at_once(app, client, copies, "POST", f"/admin/campaigns/{campaign.code}/ladder")
    assert all(answer.status in (302, 409) for answer in answers)
    assert fresh(session, Campaign, campaign.id).ladder_approved_by_id == manager.id
    assert len(audits(session, "campaign.ladder_approve")) == 1


PROGRAMME = {
    "require_approval": "y",
    "leader_reward": "credit",
    "credit_CNY": "1.50",
    "credit_JPY": "30",
    "credit_SGD": "",
    "credit_USD": "",
    "request_key": "programme-key-0123456789",
}


@pytest.mark.parametrize("copies", [2, 5])
def test_the_same_programme_form_at_once_saves_once(app, client, session, sign_in, copies):
    sign_in("owner")
    answers = send_at_once(app, client, copies, "POST", "/admin/campaigns/program", PROGRAMME)
    assert [answer.status for answer in answers] == [302] * copies
    row = fresh(session, GroupBuyProgram, PROGRAM_ID)
    assert (row.require_approval, row.credit_per_piece) == (True, {"CNY": 150, "JPY": 30})
    assert len(audits(session, "groupbuy_program.update")) == 1


def test_the_programme_is_saved_and_audited(client, session, sign_in):
    manager = sign_in("owner")  # the audit log is the owner's
    assert client.get("/admin/campaigns/program").status_code == 200
    assert client.post("/admin/campaigns/program", data=PROGRAMME).status_code == 302
    again = client.post("/admin/campaigns/program", data=PROGRAMME)
    assert again.status_code == 302  # sent again: saved once
    row = fresh(session, GroupBuyProgram, PROGRAM_ID)
    assert (row.require_approval, row.leader_reward) == (True, "credit")
    assert row.credit_per_piece == {"CNY": 150, "JPY": 30} and row.updated_by_id == manager.id
    [entry] = audits(session, "groupbuy_program.update")
    assert entry.after["leader_reward"] == "credit"
    sentences = {
        "en": "changed the group-buy programme",
        "zh_CN": "团购",
        "ja": "共同購入",
    }
    for lang, words in sentences.items():
        page = client.get(f"/admin/audit?lang={lang}").text
        assert words in page, lang


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("credit_CNY", "1.505"),
        ("credit_JPY", "abc"),
        ("leader_reward", "cash"),
        ("credit_USD", "9" * 5000),
    ],
)
def test_a_programme_with_mistakes_is_shown_again(client, session, sign_in, field, value):
    sign_in("manager")
    data = {"leader_reward": "none", "request_key": "programme-key-0123456789", field: value}
    response = client.post("/admin/campaigns/program", data=data)
    assert response.status_code == 400 and (
        errors_in(response.text) or "Not a valid choice" in response.text
    )
    assert fresh(session, GroupBuyProgram, PROGRAM_ID) is None


def test_approvals_read_as_sentences(client, session, polo, sign_in):
    campaign = make_campaign(
        session, [polo], state="pending_approval", code="ABCD2345", title="Polos"
    )
    session.commit()
    sign_in("owner")
    client.post(f"/admin/campaigns/{campaign.code}/approve")
    assert "approved the group buy ABCD2345 · Polos" in client.get("/admin/audit?lang=en").text


@pytest.mark.parametrize("role", ["service", "workshop", "warehouse", "customer"])
def test_other_roles_are_refused(client, session, polo, sign_in, role):
    campaign = make_campaign(session, [polo], state="pending_approval")
    session.commit()
    if role == "customer":
        make_user(session, email="c@example.com")
        login(client, email="c@example.com")
    else:
        sign_in(role)
    for path in (
        "/admin/campaigns",
        f"/admin/campaigns/{campaign.code}",
        "/admin/campaigns/program",
    ):
        assert client.get(path).status_code == 403, path
    assert client.post(f"/admin/campaigns/{campaign.code}/approve").status_code == 403
    assert fresh(session, Campaign, campaign.id).state == "pending_approval"


@pytest.mark.parametrize("copies", [2, 5])
def test_rejecting_at_once_rejects_once(app, client, session, polo, sign_in, copies):
    campaign = make_campaign(session, [polo], state="pending_approval")
    session.commit()
    sign_in("manager")
    answers = send_at_once(app, client, copies, "POST", f"/admin/campaigns/{campaign.code}/reject")
    assert all(answer.status in (302, 409) for answer in answers)
    assert fresh(session, Campaign, campaign.id).state == "rejected"
    assert len(audits(session, "campaign.reject")) == 1
