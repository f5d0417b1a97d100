"""``/g/<code>/progress.json``: its shape, its cache (keyed by the campaign's version, so
never stale after a join or a leave; kept no longer than the page's refresh)."""

import pytest
import redis

from shop.groupbuys import progress
from tests.checkout_helpers import card
from tests.groupbuy_factories import make_campaign
from tests.groupbuys.join_helpers import join, polo
from tests.redis_dbs import SHARED


@pytest.fixture
def app(live_app):
    return live_app


@pytest.fixture
def shirt(session):
    return polo(session)


def test_the_json_has_the_numbers_the_page_shows(app, client, session, shirt):
    campaign = make_campaign(session, [shirt], min_pieces=20, max_pieces=50)
    session.commit()
    response = client.get(f"/g/{campaign.code}/progress.json")
    assert response.status_code == 200 and response.mimetype == "application/json"
    data = response.json
    assert {
        key: data[key]
        for key in ("state", "pieces", "min_pieces", "max_pieces", "places_left", "participants")
    } == {
        "state": "open",
        "pieces": 0,
        "min_pieces": 20,
        "max_pieces": 50,
        "places_left": 50,
        "participants": 0,
    }
    assert data["products"] == [
        {
            "id": shirt.id,
            "pieces": 0,
            "unit_amount": 4900,
            "currency": "CNY",
            "next_tier": {"pieces_needed": 5, "unit_amount": 4300},
        }
    ]
    assert data["closes_at"].startswith(str(campaign.closes_at.year)) and isinstance(
        data["version"], int
    )


def test_a_join_and_a_leave_change_it_at_once(app, client, session, shirt, monkeypatch):
    campaign = make_campaign(session, [shirt], min_pieces=2)
    session.commit()
    reads = []
    real = progress.read_progress
    monkeypatch.setattr(progress, "read_progress", lambda *a: reads.append(1) or real(*a))
    url = f"/g/{campaign.code}/progress.json"
    first = client.get(url).json
    assert client.get(url).json == first and len(reads) == 1  # the second from the cache
    token = join(client, campaign, {shirt.variants[0].id: 6}, card=card(app))
    after = client.get(url).json
    assert (after["pieces"], after["participants"]) == (6, 1)
    assert after["products"][0]["unit_amount"] == 4300 and after["version"] > first["version"]
    client.post(f"/g/{campaign.code}/p/{token}/leave", data={"confirm": "yes"})
    assert client.get(url).json["pieces"] == 0


def test_a_cached_answer_is_kept_no_longer_than_the_refresh(app, session, shirt):
    campaign = make_campaign(session, [shirt], min_pieces=2)
    session.commit()
    kept = {}

    class Store:
        def get_page(self, key):
            return None

        def put_page(self, key, text, ttl):
            kept[key] = ttl

    with app.app_context():
        text = progress.progress_json(session, campaign.code.lower(), Store(), "build")
    assert '"pieces":0' in text
    assert list(kept.values()) == [progress.REFRESH_SECONDS]
    assert progress.progress_json(session, "NOPE", Store(), "b") is None
    assert progress.progress_json(session, "x" * 100, Store(), "b") is None


def test_with_redis_the_json_is_shared_and_still_fresh(make_app, stripe_settings, session_factory):
    try:
        redis.Redis.from_url(SHARED).ping()
    except redis.RedisError:
        pytest.skip(f"no Redis at {SHARED}")
    app = make_app(REDIS_URL=SHARED, **stripe_settings)
    other = make_app(REDIS_URL=SHARED, **stripe_settings)
    with session_factory(app) as session:
        shirt = polo(session)
        campaign = make_campaign(session, [shirt], min_pieces=2)
        session.commit()
        url = f"/g/{campaign.code}/progress.json"
        assert app.test_client().get(url).json["pieces"] == 0
        join(app.test_client(), campaign, {shirt.variants[0].id: 3}, card=card(app))
        assert other.test_client().get(url).json["pieces"] == 3


@pytest.mark.parametrize("code", ["NOPE", "%00", "a%00b", "%FF%FE", "x" * 5000, "-1"])
def test_bad_codes_are_not_found_never_an_error(client, code):
    assert client.get(f"/g/{code}/progress.json").status_code in (400, 404)
    assert client.get(f"/g/{code}").status_code in (400, 404)
    assert client.get(f"/g/{code}/qr.svg").status_code in (400, 404)
