"""The order list: newest first, 50 a page, filters and search that each narrow it, bad
values ignored, needs-attention flags, and the CSV of exactly what is filtered."""

import csv
import io
import re
from datetime import UTC, datetime, timedelta

import pytest

from tests.helpers.queries import recording_queries
from tests.order_factories import make_order as make_paid_order


def make_order(session, *, recipient="Li Wei", **fields):
    """``tests.order_factories.make_order`` with a recipient of our choosing."""
    order = make_paid_order(session, **fields)
    order.recipient = recipient
    return order


def numbers_on(html: str) -> list[str]:
    return re.findall(r'data-testid="order-row" data-number="([^"]+)"', html)


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).astimezone(UTC)


@pytest.fixture
def orders(session):
    """Five orders that differ in one thing each (times are UTC)."""
    made = {
        "cny_paid": make_order(
            session,
            email="bursar@north-school.example",
            recipient="Li Wei",
            created_at=at("2026-03-01T02:00:00+00:00"),  # 10:00 in Shanghai
        ),
        "jpy_unpaid": make_order(
            session,
            email="hanako@example.jp",
            recipient="Tanaka Hanako",
            currency="JPY",
            lines=(("BLAZER", 1, 5000),),
            payment_status="unpaid",
            created_at=at("2026-03-01T17:30:00+00:00"),  # 01:30 on 2 March in Shanghai
        ),
        "sgd_shipped": make_order(
            session,
            email="ops@reseller.example",
            recipient="Tan Ah Kow",
            currency="SGD",
            fulfilment_status="shipped",
            created_at=at("2026-03-05T04:00:00+00:00"),
        ),
        "usd_attention": make_order(
            session,
            email="someone@example.com",
            recipient="Maria Lopez",
            currency="USD",
            needs_attention=True,
            created_at=at("2026-03-07T04:00:00+00:00"),
        ),
        "cny_cancelled": make_order(
            session,
            email="parent@example.com",
            recipient="Wang Fang",
            payment_status="refunded",
            state="cancelled",
            created_at=at("2026-03-09T04:00:00+00:00"),
        ),
    }
    session.commit()
    return {key: order.number for key, order in made.items()}


def test_the_list_is_newest_first_and_flags_orders_that_need_attention(client, sign_in, orders):
    sign_in("workshop")
    page = client.get("/admin/orders").text
    assert numbers_on(page) == [
        orders["cny_cancelled"],
        orders["usd_attention"],
        orders["sgd_shipped"],
        orders["jpy_unpaid"],
        orders["cny_paid"],
    ]
    flagged = re.findall(r'data-number="([^"]+)"[^>]*data-attention="true"', page)
    assert flagged == [orders["usd_attention"]]
    assert page.count('data-testid="attention-flag"') == 1
    assert 'data-total="5"' in page


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("payment=unpaid", ["jpy_unpaid"]),
        ("payment=refunded", ["cny_cancelled"]),
        ("fulfilment=shipped", ["sgd_shipped"]),
        ("state=cancelled", ["cny_cancelled"]),
        ("currency=CNY", ["cny_cancelled", "cny_paid"]),
        ("currency=JPY", ["jpy_unpaid"]),
        ("attention=1", ["usd_attention"]),
        ("q=LI+WEI", ["cny_paid"]),  # recipient, any case
        ("q=North-School", ["cny_paid"]),  # part of the email
        ("q=tan", ["sgd_shipped", "jpy_unpaid"]),  # Tan Ah Kow, Tanaka Hanako
        ("q=%25", []),  # a LIKE wildcard is just a character
        ("q=_", []),
        ("currency=CNY&payment=paid", ["cny_paid"]),
    ],
)
def test_each_filter_narrows_the_list(client, sign_in, orders, query, expected):
    sign_in("service")
    page = client.get(f"/admin/orders?{query}").text
    assert numbers_on(page) == [orders[key] for key in expected]


def test_search_finds_an_order_by_its_number_however_it_is_typed(client, sign_in, orders):
    sign_in("service")
    number = orders["sgd_shipped"]  # like SF-T0003-00003
    for typed in (number, number.lower(), number[3:8], number.replace("-", " ").lower()):
        assert numbers_on(client.get("/admin/orders", query_string={"q": typed}).text) == [
            number
        ], typed


def test_dates_are_whole_days_in_the_factorys_time_zone(client, sign_in, orders):
    sign_in("service")
    # 17:30 UTC on 1 March is already 2 March in Shanghai.
    page = client.get("/admin/orders?from=2026-03-02&to=2026-03-02").text
    assert numbers_on(page) == [orders["jpy_unpaid"]]
    page = client.get("/admin/orders?to=2026-03-01").text
    assert numbers_on(page) == [orders["cny_paid"]]
    page = client.get("/admin/orders?from=2026-03-05&to=2026-03-07").text
    assert numbers_on(page) == [orders["usd_attention"], orders["sgd_shipped"]]


@pytest.mark.parametrize(
    "query",
    [
        "payment=bogus",
        "fulfilment=%3Cscript%3E",
        "currency=EUR",
        "state=open%27--",
        "from=2026-13-45",
        "to=yesterday",
        "from=0001-01-01&to=9999-12-31",
        "page=-1",
        "page=abc",
        "page=99999999999",
        "attention=yes",
        "q=" + "x" * 5000,
    ],
)
def test_bad_filter_values_are_ignored_not_an_error(client, sign_in, orders, query):
    sign_in("service")
    response = client.get(f"/admin/orders?{query}")
    assert response.status_code == 200
    if not query.startswith("q="):
        assert len(numbers_on(response.text)) == 5, query


def test_fifty_orders_a_page_newest_first(client, session, sign_in):
    start = datetime(2026, 1, 1, tzinfo=UTC)
    numbers = [
        make_order(session, created_at=start + timedelta(hours=hour)).number for hour in range(51)
    ]
    session.commit()
    sign_in("warehouse")
    first = client.get("/admin/orders").text
    assert numbers_on(first) == numbers[::-1][:50]
    assert 'rel="next"' in first
    second = client.get("/admin/orders?page=2").text
    assert numbers_on(second) == [numbers[0]]
    assert numbers_on(client.get("/admin/orders?page=7").text) == [numbers[0]]  # the last


def test_the_list_takes_the_same_few_queries_for_few_or_many_orders(app, client, session, sign_in):
    sign_in("service")
    make_order(session)
    session.commit()
    with recording_queries(app) as few:
        client.get("/admin/orders")
    for _ in range(30):
        make_order(session)
    session.commit()
    with recording_queries(app) as many:
        client.get("/admin/orders")
    assert len(many) == len(few) <= 6


def read_csv(response) -> list[list[str]]:
    body = response.data.decode("utf-8")
    assert body.startswith("\ufeff")
    return list(csv.reader(io.StringIO(body[1:])))


def test_the_csv_has_a_bom_a_header_and_the_filtered_orders(client, sign_in, orders):
    sign_in("manager")
    response = client.get("/admin/orders.csv?currency=CNY")
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    assert response.headers["Content-Disposition"].startswith('attachment; filename="orders-')
    rows = read_csv(response)
    assert rows[0] == [
        "number",
        "created",
        "email",
        "recipient",
        "currency",
        "total",
        "payment_status",
        "fulfilment_status",
        "state",
    ]
    assert rows[1:] == [
        [
            orders["cny_cancelled"],
            "2026-03-09T12:00:00+08:00",
            "parent@example.com",
            "Wang Fang",
            "CNY",
            "178.00",
            "refunded",
            "unfulfilled",
            "cancelled",
        ],
        [
            orders["cny_paid"],
            "2026-03-01T10:00:00+08:00",
            "bursar@north-school.example",
            "Li Wei",
            "CNY",
            "178.00",
            "paid",
            "unfulfilled",
            "open",
        ],
    ]
    jpy = read_csv(client.get("/admin/orders.csv?currency=JPY"))
    assert [row[5] for row in jpy[1:]] == ["5000"]  # yen have no minor unit


def test_the_csv_holds_every_page_and_keeps_chinese_names(client, session, sign_in):
    for _ in range(55):
        make_order(session, recipient="张伟")
    session.commit()
    sign_in("owner")
    rows = read_csv(client.get("/admin/orders.csv"))
    assert len(rows) == 1 + 55
    assert {row[3] for row in rows[1:]} == {"张伟"}


def test_the_csv_does_not_let_a_name_run_as_a_spreadsheet_formula(client, session, sign_in):
    make_order(session, recipient='=HYPERLINK("http://evil.example","click")')
    session.commit()
    sign_in("owner")
    [_header, row] = read_csv(client.get("/admin/orders.csv"))
    assert row[3] == '\'=HYPERLINK("http://evil.example","click")'
