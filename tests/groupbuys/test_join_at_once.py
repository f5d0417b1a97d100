"""Fifty people joining at once (threads on SQLite, worker processes on PostgreSQL),
through the join form and the card endpoint: pieces, participants and the tier exact,
no stock oversold, the maximum never passed."""

import json

import pytest
import sqlalchemy as sa

from shop.catalog.models import Variant
from shop.groupbuys.models import CampaignProduct, Participant
from tests.at_once import send_each_at_once
from tests.checkout_helpers import card
from tests.groupbuy_factories import make_campaign
from tests.groupbuys.join_helpers import counters, join_form, polo, token_of

PEOPLE = 50


@pytest.fixture
def app(live_app):
    """On SQLite the copies are threads of this one app: each request may hold two
    connections at once (its own, and the email job run in-process after its commit), so
    the pool gets room for every thread (gunicorn's threads never outnumber it)."""
    engine = live_app.extensions["sa_engine"]
    if engine.dialect.name == "sqlite":
        engine.pool._max_overflow = 3 * PEOPLE  # noqa: SLF001 - a test's own pool
    return live_app


def test_fifty_join_at_once_and_every_count_is_exact(app, client, session):
    shirt = polo(session, tiers=((1, 4900), (5, 4300), (10, 3700), (40, 3300)))
    shorts = polo(
        session,
        slug="gb-shorts",
        made_to_order=False,
        on_hand=20,
        sizes=("140",),
        tiers=((1, 3000),),
    )
    campaign = make_campaign(session, [shirt, shorts], min_pieces=20, max_pieces=66)
    session.commit()
    shirt_id, shorts_id = shirt.variants[0].id, shorts.variants[0].id
    forms = []
    for number in range(PEOPLE):
        pieces = {shirt_id: 1, shorts_id: 1} if number % 2 == 0 else {shirt_id: 1}
        forms.append(("POST", f"/g/{campaign.code}/join", join_form(pieces, number), None, None))
    answers = send_each_at_once(app, client, forms)
    joined = [answer for answer in answers if answer.status == 303]
    short = [answer for answer in answers if answer.status != 303]
    # 25 asked for shorts, 20 were in stock: 5 refused, nothing oversold.
    assert (len(joined), len(short), {answer.status for answer in short}) == (45, 5, {409})
    assert session.scalar(sa.select(Variant.allocated).where(Variant.id == shorts_id)) == 20
    assert counters(session, campaign)[:3] == (0, 65, 0)  # reserved; no card yet

    tokens = [token_of(answer.location) for answer in joined]
    cards = [
        ("POST", f"/g/{campaign.code}/p/{token}/card", None, {"payment_method": card(app)}, None)
        for token in tokens
    ]
    answers = send_each_at_once(app, client, cards)
    assert {answer.status for answer in answers} == {200}
    pieces, reserved, people, _version = counters(session, campaign)
    assert (pieces, reserved, people) == (65, 65, 45)
    per_product = dict(
        session.execute(
            sa.select(CampaignProduct.product_id, CampaignProduct.pieces).where(
                CampaignProduct.campaign_id == campaign.id
            )
        ).all()
    )
    assert per_product == {shirt.id: 45, shorts.id: 20}
    progress = client.get(f"/g/{campaign.code}/progress.json").json
    units = {item["id"]: item["unit_amount"] for item in progress["products"]}
    assert units == {shirt.id: 3300, shorts.id: 3000}  # the 40-piece tier reached
    assert (progress["pieces"], progress["participants"], progress["places_left"]) == (65, 45, 1)
    # One more person for three pieces: refused with the number left.
    refused = client.post(f"/g/{campaign.code}/join", data=join_form({shirt_id: 3}, 99))
    assert refused.status_code == 409 and "Only 1 more piece fits" in refused.text
    assert counters(session, campaign)[:2] == (65, 65)


def test_the_last_places_go_to_exactly_as_many_as_fit(app, client, session):
    shirt = polo(session)
    campaign = make_campaign(session, [shirt], min_pieces=2, max_pieces=10)
    session.commit()
    forms = [
        ("POST", f"/g/{campaign.code}/join", join_form({shirt.variants[0].id: 1}, n), None, None)
        for n in range(15)
    ]
    answers = send_each_at_once(app, client, forms)
    assert sorted(answer.status for answer in answers) == [303] * 10 + [409] * 5
    assert counters(session, campaign)[1] == 10
    assert session.scalar(sa.select(sa.func.count()).select_from(Participant)) == 10


def test_the_card_endpoint_takes_only_its_json_shape(app, client, session):
    shirt = polo(session)
    campaign = make_campaign(session, [shirt], min_pieces=2)
    session.commit()
    response = client.post(f"/g/{campaign.code}/join", data=join_form({shirt.variants[0].id: 1}))
    token = token_of(response.headers["Location"])
    for body in (
        "[]",
        '"pm_x"',
        "42",
        "null",
        '{"payment_method": ["pm_x"]}',
        "{not json",
        json.dumps({"payment_method": "x" * 5000}),
    ):
        answer = client.post(
            f"/g/{campaign.code}/p/{token}/card", data=body, content_type="application/json"
        )
        assert answer.status_code == 400, body
