"""Joining, changing and leaving through the pages, with cards at localstripe."""

import time

import pytest
import requests
import sqlalchemy as sa

from shop.catalog.models import Variant
from shop.groupbuys.models import Participant
from shop.payments.stripe_gateway import gateway
from tests.at_once import send_at_once
from tests.checkout_helpers import card
from tests.groupbuy_factories import make_campaign
from tests.groupbuys.join_helpers import (
    counters,
    join,
    join_form,
    participant,
    polo,
    post_card,
    token_of,
)


@pytest.fixture
def app(live_app):
    return live_app


@pytest.fixture
def shirt(session):
    return polo(session)


def test_joining_holds_the_card_at_the_price_reached_and_emails_the_link(
    app, client, session, shirt, outbox
):
    campaign = make_campaign(session, [shirt], min_pieces=5)
    session.commit()
    small, medium = shirt.variants
    first = join(client, campaign, {small.id: 3}, 1, card=card(app))
    page = client.get(f"/g/{campaign.code}/p/{first}")
    assert 'data-testid="participant-state" data-state="held"' in page.text
    assert "is held on your card, not charged" in page.text
    second = join(client, campaign, {medium.id: 2}, 2, card=card(app))
    assert participant(session, second).authorised_amount == 2 * 4300
    with app.app_context():
        intent = gateway().retrieve(participant(session, second).intent_id)
    assert (intent.status, intent.amount) == ("requires_capture", 8600)
    assert counters(session, campaign)[:3] == (5, 5, 2)
    emails = outbox()
    assert [m["To"] for m in emails] == ["parent1@example.com", "parent2@example.com"]
    assert f"/g/{campaign.code}/p/{first}" in emails[0].get_body(("plain",)).get_content()


def test_the_page_shows_the_price_dropping_as_participants_join(app, client, session, shirt):
    campaign = make_campaign(session, [shirt], min_pieces=10)
    session.commit()
    seen = []
    for number, pieces in enumerate((1, 4, 5), start=1):
        join(client, campaign, {shirt.variants[0].id: pieces}, number, card=card(app))
        html = client.get(f"/g/{campaign.code}").text
        seen.append(
            int(
                html.split('data-testid="campaign-price"')[1]
                .split('data-amount="')[1]
                .split('"')[0]
            )
        )
    assert seen == [4900, 4300, 3700]


def test_a_join_beyond_the_maximum_is_refused_with_the_number_left(app, client, session, shirt):
    campaign = make_campaign(session, [shirt], min_pieces=2, max_pieces=6)
    session.commit()
    join(client, campaign, {shirt.variants[0].id: 4}, 1, card=card(app))
    form = join_form({shirt.variants[0].id: 3}, 2, recipient="Wang Fang")
    response = client.post(f"/g/{campaign.code}/join", data=form)
    assert response.status_code == 409
    assert "Only 2 more pieces fit in this group buy." in response.text
    assert 'value="Wang Fang"' in response.text and 'value="3"' in response.text  # kept
    assert counters(session, campaign)[:3] == (4, 4, 1)


def test_stock_short_names_the_item_size_and_colour(app, client, session):
    shorts = polo(
        session,
        slug="gb-shorts",
        name="Summer shorts",
        made_to_order=False,
        on_hand=2,
        sizes=("140",),
    )
    campaign = make_campaign(session, [shorts], min_pieces=2)
    session.commit()
    response = client.post(f"/g/{campaign.code}/join", data=join_form({shorts.variants[0].id: 3}))
    assert response.status_code == 409
    assert "Only 2 left of Summer shorts, size 140" in response.text
    assert session.scalar(sa.select(Variant.allocated)) == 0


@pytest.mark.parametrize(
    ("pieces", "message"),
    [({}, "Choose at least one piece."), ({"x": "abc"}, "Enter a whole number of pieces")],
)
def test_nothing_or_nonsense_chosen_is_the_form_again(app, client, session, shirt, pieces, message):
    campaign = make_campaign(session, [shirt])
    session.commit()
    form = join_form({}) | ({f"qty-{shirt.variants[0].id}": pieces["x"]} if pieces else {})
    response = client.post(f"/g/{campaign.code}/join", data=form)
    assert response.status_code == 400 and message in response.text
    assert session.scalar(sa.select(sa.func.count()).select_from(Participant)) == 0


def test_a_closed_campaign_refuses_the_join_form(app, client, session, shirt):
    campaign = make_campaign(session, [shirt])
    session.commit()
    form = join_form({shirt.variants[0].id: 1})
    campaign.state = "closed"
    session.commit()
    response = client.post(f"/g/{campaign.code}/join", data=form)
    assert (
        response.status_code == 200
        and 'data-testid="join-form"' not in response.text
        or response.status_code == 409
    )


def test_a_declined_card_is_said_on_the_page_and_another_card_works(app, client, session, shirt):
    campaign = make_campaign(session, [shirt], min_pieces=2)
    session.commit()
    token = join(client, campaign, {shirt.variants[0].id: 1})
    answer = post_card(client, campaign.code, token, card(app, "4000000000000341"))
    assert answer.json["status"] == "declined" and "declined" in answer.json["message"]
    assert participant(session, token).state == "pending"
    answer = post_card(client, campaign.code, token, card(app))
    assert answer.json["status"] == "joined", (answer.json, participant(session, token).last_error)
    assert counters(session, campaign)[:3] == (1, 1, 1)


@pytest.mark.parametrize("copies", [2, 5])
def test_the_same_join_form_sent_at_once_is_one_participant(app, client, session, shirt, copies):
    campaign = make_campaign(session, [shirt], min_pieces=2)
    session.commit()
    form = join_form({shirt.variants[0].id: 2})
    answers = send_at_once(app, client, copies, "POST", f"/g/{campaign.code}/join", data=form)
    assert {answer.status for answer in answers} == {303}
    assert len({token_of(answer.location) for answer in answers}) == 1
    assert session.scalar(sa.select(sa.func.count()).select_from(Participant)) == 1
    assert counters(session, campaign)[1] == 2  # reserved once


def test_leaving_twice_at_once_leaves_once(app, client, session, shirt):
    campaign = make_campaign(session, [shirt], min_pieces=2)
    session.commit()
    token = join(client, campaign, {shirt.variants[0].id: 3}, card=card(app))
    answers = send_at_once(
        app, client, 2, "POST", f"/g/{campaign.code}/p/{token}/leave", data={"confirm": "yes"}
    )
    assert [answer.status for answer in answers] == [303, 303]
    left = [m for answer in answers for m in answer.messages if "You left" in m]
    assert len(left) == 1
    gone = participant(session, token)
    assert gone.state == "left"
    with app.app_context():
        assert gateway().retrieve(gone.intent_id).status == "canceled"
    pieces, reserved, joined, _version = counters(session, campaign)
    assert (pieces, reserved, joined) == (0, 0, 0)


def test_leaving_needs_the_box_ticked_and_is_refused_after_the_close(app, client, session, shirt):
    campaign = make_campaign(session, [shirt], min_pieces=2)
    session.commit()
    token = join(client, campaign, {shirt.variants[0].id: 1}, card=card(app))
    client.post(f"/g/{campaign.code}/p/{token}/leave", data={})
    assert participant(session, token).state == "held"
    campaign.state = "closing"
    session.commit()
    response = client.post(
        f"/g/{campaign.code}/p/{token}/leave", data={"confirm": "yes"}, follow_redirects=True
    )
    assert "can no longer be changed" in response.text
    assert participant(session, token).state == "held"


def test_changing_pieces_replaces_the_old_hold_once_the_new_card_is_in(app, client, session, shirt):
    campaign = make_campaign(session, [shirt], min_pieces=2)
    session.commit()
    small, medium = shirt.variants
    old = join(client, campaign, {small.id: 2}, card=card(app))
    page = client.get(f"/g/{campaign.code}/p/{old}").text
    assert 'data-testid="change-form"' in page and f'name="qty-{small.id}"' in page
    response = client.post(
        f"/g/{campaign.code}/p/{old}/change", data=join_form({small.id: 1, medium.id: 4})
    )
    assert response.status_code == 303
    new = token_of(response.headers["Location"])
    assert new != old and participant(session, old).state == "held"  # kept until the new card
    answer = post_card(client, campaign.code, new, card(app))
    assert answer.json["status"] == "joined"
    before, after = participant(session, old), participant(session, new)
    assert (before.state, after.state, after.replaces_id) == ("left", "held", before.id)
    with app.app_context():
        assert gateway().retrieve(before.intent_id).status == "canceled"
    assert counters(session, campaign)[:3] == (5, 5, 1)
    assert 'data-testid="successor-link"' in client.get(f"/g/{campaign.code}/p/{old}").text


@pytest.mark.parametrize("copies", [2, 5])
def test_the_same_change_sent_at_once_makes_one_new_place(app, client, session, shirt, copies):
    campaign = make_campaign(session, [shirt], min_pieces=2)
    session.commit()
    small, medium = shirt.variants
    old = join(client, campaign, {small.id: 2}, card=card(app))
    form = join_form({small.id: 1, medium.id: 4})
    path = f"/g/{campaign.code}/p/{old}/change"
    answers = send_at_once(app, client, copies, "POST", path, data=form)
    assert {answer.status for answer in answers} == {303}
    new_tokens = {token_of(answer.location) for answer in answers}
    assert len(new_tokens) == 1 and old not in new_tokens
    successors = session.scalars(
        sa.select(Participant).where(Participant.replaces_id == participant(session, old).id)
    ).all()
    assert len(successors) == 1
    assert counters(session, campaign)[1] == 2 + 5  # the old place and the new, once each


def test_after_3d_secure_the_check_settles_the_card(app, client, session, shirt, localstripe):
    campaign = make_campaign(session, [shirt], min_pieces=2)
    session.commit()
    token = join(client, campaign, {shirt.variants[0].id: 2})
    answer = post_card(client, campaign.code, token, card(app, "4000002500003155"))
    assert answer.json["status"] == "requires_action"
    assert client.get(f"/g/{campaign.code}/p/{token}/status").json["stage"] == "pay"
    intent_id = answer.json["client_secret"].split("_secret_")[0]
    requests.post(  # what Stripe.js's confirmCardPayment does when the challenge passes
        f"{localstripe}/v1/payment_intents/{intent_id}/_authenticate?success=true",
        json={"key": "pk_test_sourcefront", "client_secret": answer.json["client_secret"]},
        timeout=5,
    ).raise_for_status()
    checked = client.post(f"/g/{campaign.code}/p/{token}/check")
    assert checked.json["status"] == "joined"
    assert client.get(f"/g/{campaign.code}/p/{token}/status").json["stage"] == "held"
    assert counters(session, campaign)[:3] == (2, 2, 1)


@pytest.mark.parametrize("copies", [2, 5])
def test_the_check_sent_at_once_settles_the_card_once(
    app, client, session, shirt, localstripe, copies
):
    campaign = make_campaign(session, [shirt], min_pieces=2)
    session.commit()
    token = join(client, campaign, {shirt.variants[0].id: 2})
    answer = post_card(client, campaign.code, token, card(app, "4000002500003155"))
    intent_id = answer.json["client_secret"].split("_secret_")[0]
    requests.post(
        f"{localstripe}/v1/payment_intents/{intent_id}/_authenticate?success=true",
        json={"key": "pk_test_sourcefront", "client_secret": answer.json["client_secret"]},
        timeout=5,
    ).raise_for_status()
    path = f"/g/{campaign.code}/p/{token}/check"
    answers = send_at_once(app, client, copies, "POST", path)
    assert {answer.status for answer in answers} == {200}
    assert counters(session, campaign)[:3] == (2, 2, 1)  # the pieces counted once


def test_payment_due_links_to_the_pay_page(app, client, session, shirt):
    campaign = make_campaign(session, [shirt], min_pieces=2)
    session.commit()
    token = join(client, campaign, {shirt.variants[0].id: 2}, card=card(app))
    session.execute(sa.update(Participant).values(state="payment_due"))
    session.commit()
    html = client.get(f"/g/{campaign.code}/p/{token}").text
    assert f'href="/g/{campaign.code}/p/{token}/pay"' in html


def test_a_token_of_another_campaign_is_not_found(app, client, session, shirt):
    one = make_campaign(session, [shirt], min_pieces=2)
    other = make_campaign(session, [shirt], min_pieces=2)
    session.commit()
    token = join(client, one, {shirt.variants[0].id: 1})
    assert client.get(f"/g/{other.code}/p/{token}").status_code == 404
    assert client.get(f"/g/{one.code}/p/not-a-token").status_code == 404
    assert post_card(client, other.code, token, "pm_x").status_code == 404
    assert (
        client.post(
            f"/g/{one.code}/p/{token}/card", data="[]", content_type="application/json"
        ).status_code
        == 400
    )


@pytest.mark.parametrize("copies", [2, 5])
def test_the_same_card_sent_at_once_holds_the_card_once(app, client, session, shirt, copies):
    campaign = make_campaign(session, [shirt], min_pieces=2)
    session.commit()
    token = join(client, campaign, {shirt.variants[0].id: 3})
    method = card(app)
    started = int(time.time()) - 60
    held_before = holds_since(app, started)
    answers = send_at_once(
        app,
        client,
        copies,
        "POST",
        f"/g/{campaign.code}/p/{token}/card",
        json={"payment_method": method},
    )
    assert all(answer.status in (200, 409) for answer in answers), answers
    joined = participant(session, token)
    assert joined.state == "held"
    pieces, reserved, count, _version = counters(session, campaign)
    assert (pieces, reserved, count) == (3, 3, 1)
    # One new hold at Stripe, and it is the one recorded.
    assert holds_since(app, started) - held_before == {joined.intent_id}


def holds_since(app, started: int) -> set[str]:
    with app.app_context():
        intents = gateway().recent_intents(started)
    return {intent.id for intent in intents if intent.status == "requires_capture"}


def test_leaving_five_times_at_once_leaves_once(app, client, session, shirt):
    campaign = make_campaign(session, [shirt], min_pieces=2)
    session.commit()
    token = join(client, campaign, {shirt.variants[0].id: 3}, card=card(app))
    answers = send_at_once(
        app, client, 5, "POST", f"/g/{campaign.code}/p/{token}/leave", data={"confirm": "yes"}
    )
    assert {answer.status for answer in answers} == {303}
    assert len([m for answer in answers for m in answer.messages if "You left" in m]) == 1
    assert participant(session, token).state == "left"
    assert counters(session, campaign)[:3] == (0, 0, 0)
