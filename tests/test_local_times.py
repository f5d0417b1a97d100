"""Dates and times in each market's own words: every school and every order in its own
time zone, named (JST, SGT, CST / 北京时间, UTC); English dates in the order of the
browser's region; the same filter everywhere a moment is shown."""

from datetime import UTC, datetime

import pytest

from shop.i18n import english_locale, select_format_locale
from shop.locales import order_zone, zone_for_country
from shop.orders.models import Order
from shop.schools.models import School
from shop.templating import local_datetime_filter, time_zone_filter

# 08:41 UTC: 17:41 in Tokyo, 16:41 in Singapore and Shanghai; a day that reads differently
# in month-day and day-month order.
MOMENT = datetime(2026, 12, 5, 8, 41, tzinfo=UTC)


def rendered(app, value, zone, *, lang=None, accept="en"):
    query = f"/?lang={lang}" if lang else "/"
    with app.test_request_context(query, headers={"Accept-Language": accept}):
        return local_datetime_filter(value, zone)


@pytest.mark.parametrize(
    ("accepted", "expected"),
    [
        (["en-GB"], "en_GB"),
        (["en-SG", "en"], "en_SG"),
        (["en-AU"], "en_AU"),
        (["en-US"], "en_US"),
        (["fr-FR", "en-gb"], "en_GB"),
        (["en", "en-GB"], "en"),  # the browser prefers English without a region
        (["en-XX"], "en"),  # a region Babel does not know
        (["en-Latn-GB"], "en_GB"),
        (["english", "zh-CN"], "en"),
        ([], "en"),
        (["en-" + "G" * 5000], "en"),
    ],
)
def test_english_follows_the_browsers_first_english_region(accepted, expected):
    assert english_locale(accepted) == expected


@pytest.mark.parametrize(
    ("query", "accept", "expected"),
    [
        ("/", "en-GB,en;q=0.9", "en_GB"),
        ("/", "en-US,en;q=0.9", "en_US"),
        ("/?lang=en", "zh-CN,zh;q=0.9,en-SG;q=0.5", "en_SG"),
        ("/?lang=ja", "en-GB", "ja"),
        ("/", "zh-CN,en-GB;q=0.5", "zh_CN"),
    ],
)
def test_the_format_locale_is_the_language_plus_the_english_region(app, query, accept, expected):
    with app.test_request_context(query, headers={"Accept-Language": accept}):
        assert select_format_locale() == expected


@pytest.mark.parametrize(
    ("accept", "lang", "zone", "expected"),
    [
        ("en-GB", None, "Asia/Tokyo", "5 Dec 2026, 17:41 JST"),
        ("en-SG", None, "Asia/Singapore", "5 Dec 2026, 16:41 SGT"),
        ("en-AU", None, "UTC", "5 Dec 2026, 08:41 UTC"),
        ("en-US", None, "Asia/Tokyo", "Dec 5, 2026, 17:41 JST"),
        ("en-US", None, "Asia/Shanghai", "Dec 5, 2026, 16:41 CST"),
        ("zh-CN", "zh_CN", "Asia/Shanghai", "2026年12月5日 16:41 北京时间"),
        ("ja", "ja", "Asia/Tokyo", "2026年12月5日 17:41 日本時間"),
        ("ja", "ja", "Asia/Singapore", "2026年12月5日 16:41 シンガポール時間"),
    ],
)
def test_a_moment_is_shown_in_the_zone_given_and_names_it(app, accept, lang, zone, expected):
    assert rendered(app, MOMENT, zone, lang=lang, accept=accept) == expected


def test_the_zone_shown_is_the_zone_given_not_the_factorys(app):
    tokyo = rendered(app, MOMENT, "Asia/Tokyo", accept="en-GB")
    factory = rendered(app, MOMENT, None, accept="en-GB")
    assert tokyo != factory
    assert factory == "5 Dec 2026, 16:41 CST"  # BABEL_DEFAULT_TIMEZONE: the factory's clock


def test_a_zone_without_a_name_shows_its_offset_and_a_broken_one_falls_back_to_utc(app):
    assert rendered(app, MOMENT, "Asia/Kolkata", accept="en-GB").endswith("14:11 GMT+05:30")
    assert rendered(app, MOMENT, "Mars/Olympus", accept="en-GB") == "5 Dec 2026, 08:41 UTC"
    assert rendered(app, None, "Asia/Tokyo") == ""


def test_a_naive_utc_moment_from_sqlite_is_read_as_utc(app):
    naive = MOMENT.replace(tzinfo=None)
    assert rendered(app, naive, "Asia/Tokyo", accept="en-GB") == "5 Dec 2026, 17:41 JST"


@pytest.mark.parametrize(
    ("country", "zone"),
    [("JP", "Asia/Tokyo"), ("SG", "Asia/Singapore"), ("CN", "Asia/Shanghai"), ("US", "UTC")],
)
def test_a_countrys_zone(country, zone):
    assert zone_for_country(country) == zone


def test_an_orders_zone_is_its_schools_else_its_countrys_else_the_default():
    assert order_zone("Asia/Singapore", "JP", "UTC") == "Asia/Singapore"
    assert order_zone(None, "JP", "UTC") == "Asia/Tokyo"
    assert order_zone(None, "sg", "UTC") == "Asia/Singapore"
    assert order_zone(None, "DE", "Europe/Berlin") == "Europe/Berlin"
    assert order_zone(None, "", "UTC") == "UTC"


def test_time_zone_filter_reads_schools_and_orders(make_app):
    app = make_app(ORDER_DEFAULT_TIME_ZONE="Europe/London")
    school = School(country="SG", time_zone="Asia/Singapore")
    with app.test_request_context("/"):
        assert time_zone_filter(school) == "Asia/Singapore"
        assert time_zone_filter(Order(country="JP")) == "Asia/Tokyo"
        assert time_zone_filter(Order(country="DE")) == "Europe/London"
        school_order = Order(country="JP", school_id=1)
        school_order.school = school
        assert time_zone_filter(school_order) == "Asia/Singapore"


def test_an_unknown_default_order_zone_is_refused_at_start_up(make_app):
    from shop.config import ConfigError

    with pytest.raises(ConfigError, match="ORDER_DEFAULT_TIME_ZONE"):
        make_app(ORDER_DEFAULT_TIME_ZONE="Nowhere/Atlantis")
