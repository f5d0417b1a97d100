"""An order's times are shown in its own zone, named: its school's, else its delivery
country's, else the shop's ``ORDER_DEFAULT_TIME_ZONE`` — on the customer's pages and the
order desk alike."""

import re
from datetime import UTC, datetime

import pytest

from tests.accounts.helpers import login, make_user
from tests.order_factories import make_order
from tests.school_factories import make_school

PLACED = datetime(2026, 12, 5, 8, 41, tzinfo=UTC)


def placed_line(page: str) -> str:
    found = re.search(r"Placed ([^<]+?)\s*<", page)
    assert found, page
    return found.group(1).strip()


@pytest.fixture
def customer(client, session):
    user = make_user(session)
    session.commit()
    login(client)
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en-GB,en;q=0.8"
    return user


@pytest.mark.parametrize(
    ("country", "expected"),
    [
        ("JP", "5 Dec 2026, 17:41 JST"),
        ("SG", "5 Dec 2026, 16:41 SGT"),
        ("CN", "5 Dec 2026, 16:41 CST"),
        ("DE", "5 Dec 2026, 08:41 UTC"),
    ],
)
def test_an_order_is_shown_in_its_delivery_countrys_zone(
    client, session, customer, country, expected
):
    order = make_order(session, user=customer, country=country, created_at=PLACED)
    session.commit()
    page = client.get(f"/orders/{order.number}").text
    assert placed_line(page) == expected
    listing = client.get("/orders").text
    assert expected in listing


def test_a_school_order_is_shown_in_the_schools_zone(client, session, customer):
    school = make_school(session, country="SG", currency="SGD", time_zone="Asia/Singapore")
    order = make_order(
        session, user=customer, country="JP", school_id=school.id, currency="SGD", created_at=PLACED
    )
    session.commit()
    assert placed_line(client.get(f"/orders/{order.number}").text) == "5 Dec 2026, 16:41 SGT"


def test_an_american_reader_gets_month_first_and_chinese_their_own(client, session, customer):
    order = make_order(session, user=customer, country="JP", created_at=PLACED)
    session.commit()
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en-US"
    assert placed_line(client.get(f"/orders/{order.number}").text) == "Dec 5, 2026, 17:41 JST"
    chinese = client.get(f"/orders/{order.number}?lang=zh_CN").text
    assert "2026年12月5日 17:41 日本时间" in chinese


def test_the_order_desk_shows_the_order_in_its_own_zone(client, session, sign_in):
    order = make_order(session, country="JP", created_at=PLACED)
    session.commit()
    sign_in("manager")
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en-GB"
    page = client.get(f"/admin/orders/{order.number}").text
    assert "5 Dec 2026, 17:41 JST" in page


def test_the_default_zone_is_a_setting(make_app, session_factory):
    app = make_app(ORDER_DEFAULT_TIME_ZONE="Asia/Tokyo")
    with session_factory(app) as session:
        user = make_user(session)
        order = make_order(session, user=user, country="", created_at=PLACED)
        session.commit()
        number = order.number
    client = app.test_client()
    login(client)
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en-GB"
    assert placed_line(client.get(f"/orders/{number}").text) == "5 Dec 2026, 17:41 JST"
