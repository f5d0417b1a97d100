"""A cached page is kept per English region too: a school's shop read from en-GB says
"5 Dec 2099", from en-US "Dec 5, 2099", each in the school's own time zone, and neither
is served the other's page."""

from datetime import UTC, date, datetime

import pytest

from shop.schools.models import DeliveryRound
from tests.helpers.pagecache import behind_the_cache, mark_school
from tests.school_factories import make_school

SHOP = "/schools/sakura"


@pytest.fixture
def school(session):
    """A Tokyo school (its zone from its country) with one round, far ahead."""
    school = make_school(session, slug="sakura", country="JP", currency="JPY", rounds_in_days=())
    school.rounds.append(
        DeliveryRound(
            delivery_date=date(2099, 12, 8), cutoff_at=datetime(2099, 12, 5, 8, 41, tzinfo=UTC)
        )
    )
    session.commit()
    return school


def browser(app, accept: str):
    client = app.test_client()
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = accept
    return client


def test_each_english_region_gets_its_own_cached_page(app, school):
    british, american = browser(app, "en-GB,en;q=0.9"), browser(app, "en-US,en;q=0.9")
    british_page = behind_the_cache(app, british, [SHOP], mark_school("sakura"))[SHOP]
    american_page = behind_the_cache(app, american, [SHOP], mark_school("sakura"))[SHOP]
    assert "5 Dec 2099, 17:41 JST" in british_page
    assert "Dec 5, 2099" not in british_page
    assert "Dec 5, 2099, 17:41 JST" in american_page
    assert "5 Dec 2099" not in american_page
    # Both stay cached side by side.
    assert "5 Dec 2099, 17:41 JST" in british.get(SHOP).text
    assert "Dec 5, 2099, 17:41 JST" in american.get(SHOP).text


def test_chinese_and_japanese_readers_get_their_own_words(app, school):
    chinese = browser(app, "zh-CN,zh;q=0.9").get(SHOP).text
    japanese = browser(app, "ja").get(SHOP).text
    assert "2099年12月5日 17:41 日本时间" in chinese
    assert "2099年12月5日 17:41 日本時間" in japanese
