"""The reseller's dashboard: visits, orders, conversion, commission per currency and
state, the 30-day chart, top products and each referred order's progress — from known
rows, never a buyer's details, in a fixed number of statements."""

import re
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from shop.resellers import dashboard
from tests.accounts.helpers import login
from tests.factories import make_product
from tests.helpers.queries import recording_queries
from tests.helpers.resellers import make_reseller
from tests.helpers.window_rows import commission, visits, window_order

PAGE = "/account/window/dashboard"
BUYER = {
    "email": "secret-buyer@example.com",
    "recipient": "Zhou Mingyu",
    "phone": "+86 138 0013 8000",
    "line1": "88 Hidden Lane",
    "city": "Suzhou",
    "postcode": "215000",
    "delivery_method": "courier",
}


def shop_today(app):
    return datetime.now(ZoneInfo(app.config["BABEL_DEFAULT_TIMEZONE"])).date()


@pytest.fixture
def world(app, session):
    """Ann's window with five orders of every kind, Bo's beside it."""
    ann = make_reseller(session)
    bo = make_reseller(session, email="bo@example.com", handle="bo-shop")
    polo = make_product(session, slug="polo", name="Polo shirt", name_zh="校服Polo衫")
    skirt = make_product(session, slug="skirt", name="Pleated skirt")
    today = shop_today(app)
    paid = window_order(session, ann, products=[(polo, 3)], **BUYER)
    delivered = window_order(
        session, ann, days_ago=2, products=[(skirt, 1), (polo, 1)], fulfilment_status="delivered"
    )
    shipped = window_order(session, ann, currency="JPY", fulfilment_status="shipped")
    placed = window_order(session, ann, payment_status="unpaid")
    window_order(session, ann, payment_status="unpaid", state="cancelled")  # expired
    old = window_order(session, ann, days_ago=40, products=[(skirt, 5)])
    window_order(session, bo, products=[(polo, 9)])
    commission(session, ann, paid, 1000)
    commission(session, ann, delivered, 500, state="approved")
    commission(session, ann, delivered, 300, state="paid")
    commission(session, ann, delivered, -100, state="approved")
    commission(session, ann, shipped, 200)
    commission(session, ann, old, 50, state="paid", created_at=datetime.now(UTC) - timedelta(40))
    visits(session, ann, 40, day=today)
    visits(session, ann, 10, day=today - timedelta(days=5))
    visits(session, ann, 100, day=today - timedelta(days=31))
    visits(session, bo, 999, day=today)
    session.commit()
    return {
        "ann": ann,
        "bo": bo,
        "paid": paid,
        "delivered": delivered,
        "shipped": shipped,
        "placed": placed,
        "old": old,
    }


def figures(page: str) -> dict[str, str]:
    return dict(re.findall(r'data-testid="dashboard-(\w+)" data-value="([^"]*)"', page))


def test_the_figures_come_from_the_rows(app, session, world):
    summary = dashboard.summarise(
        session, world["ann"].id, datetime.now(UTC), ZoneInfo(app.config["BABEL_DEFAULT_TIMEZONE"])
    )
    assert (summary.visits, summary.orders, summary.conversion_percent) == (50, 4, 8.0)
    assert summary.balances == [
        dashboard.Balance("CNY", pending=1000, approved=400, paid=350),
        dashboard.Balance("JPY", pending=200),
    ]
    assert [(p.slug, p.pieces) for p in summary.top_products] == [("skirt", 6), ("polo", 4)]
    assert sum(summary.daily["CNY"]) == 1700  # the 40-day-old line is off the chart
    assert summary.daily["CNY"][-1] == 1700  # every line was written today
    assert sum(summary.daily["JPY"]) == 200


def test_the_page_shows_them(client, world):
    assert login(client, email="reseller@example.com").status_code == 302
    page = client.get(PAGE).text
    assert figures(page) == {"visits": "50", "orders": "4", "conversion": "8.0"}
    assert "8.0%" in page
    balances = re.findall(
        r'data-testid="balance" data-currency="(\w+)" data-pending="(-?\d+)" '
        r'data-approved="(-?\d+)" data-paid="(-?\d+)"',
        page,
    )
    assert balances == [("CNY", "1000", "400", "350"), ("JPY", "200", "0", "0")]
    charts = re.findall(r'data-testid="commission-chart" data-currency="(\w+)"', page)
    assert charts == ["CNY", "JPY"]
    assert len(re.findall(r'class="window-chart__bar"', page)) == 2 * dashboard.DAYS
    top = re.findall(r'data-testid="top-product" data-slug="(\w+)" data-pieces="(\d+)"', page)
    assert top == [("skirt", "6"), ("polo", "4")]
    stages = dict(
        re.findall(r'data-testid="referred-order" data-number="([^"]+)" data-stage="(\w+)"', page)
    )
    assert stages[world["paid"].number] == "paid"
    assert stages[world["delivered"].number] == "delivered"
    assert stages[world["shipped"].number] == "shipped"
    assert stages[world["placed"].number] == "placed"
    assert stages[world["old"].number] == "paid"
    assert sorted(stages.values()).count("cancelled") == 1
    assert len(stages) == 6  # Bo's order is not Ann's


def test_the_page_never_shows_the_buyer(client, world):
    assert login(client, email="reseller@example.com").status_code == 302
    page = client.get(PAGE).text
    assert world["paid"].number in page
    for detail in (BUYER["email"], BUYER["recipient"], BUYER["phone"], BUYER["line1"], "Li Wei"):
        assert detail not in page, detail
    assert "215000" not in page and "Hidden" not in page


def test_an_empty_window_has_a_calm_page(client, session):
    make_reseller(session)
    assert login(client, email="reseller@example.com").status_code == 302
    page = client.get(PAGE).text
    assert figures(page) == {"visits": "0", "orders": "0", "conversion": ""}
    assert 'data-testid="no-earnings"' in page and 'data-testid="no-referred-orders"' in page


def test_the_statements_do_not_grow_with_the_orders(app, client, session):
    ann = make_reseller(session)
    polo = make_product(session, slug="polo")
    session.commit()
    assert login(client, email="reseller@example.com").status_code == 302

    def add_orders(count):
        for _ in range(count):
            order = window_order(session, ann, products=[(polo, 1)])
            commission(session, ann, order, 100)
        session.commit()

    add_orders(2)
    client.get(PAGE)
    with recording_queries(app) as few:
        assert client.get(PAGE).status_code == 200
    add_orders(20)
    with recording_queries(app) as many:
        assert client.get(PAGE).status_code == 200
    assert len(many) == len(few)
    assert len(few) <= 12


def test_pages_of_orders_and_bad_page_numbers(client, session):
    ann = make_reseller(session)
    for _ in range(dashboard.ORDERS_PER_PAGE + 2):
        window_order(session, ann)
    session.commit()
    assert login(client, email="reseller@example.com").status_code == 302
    first = client.get(PAGE).text
    assert first.count('data-testid="referred-order"') == dashboard.ORDERS_PER_PAGE
    assert client.get(f"{PAGE}?page=2").text.count('data-testid="referred-order"') == 2
    for page in ("-1", "abc", "9" * 500, "%00", "1e9"):
        assert client.get(f"{PAGE}?page={page}").status_code in (200, 400)  # NUL: 400


@pytest.mark.parametrize(
    ("state", "payment", "fulfilment", "stage"),
    [
        ("open", "unpaid", "unfulfilled", "placed"),
        ("open", "awaiting_invoice", "unfulfilled", "placed"),
        ("open", "paid", "in_production", "paid"),
        ("open", "partially_refunded", "partially_shipped", "shipped"),
        ("open", "paid", "delivered", "delivered"),
        ("closed", "paid", "delivered", "delivered"),
        ("open", "refunded", "unfulfilled", "refunded"),
        ("cancelled", "refunded", "unfulfilled", "cancelled"),
    ],
)
def test_order_stage(state, payment, fulfilment, stage):
    assert dashboard.order_stage(state, payment, fulfilment) == stage


def test_conversion_percent():
    assert dashboard.conversion_percent(0, 0) is None
    assert dashboard.conversion_percent(3, 0) is None
    assert dashboard.conversion_percent(1, 3) == 33.3
    assert dashboard.conversion_percent(5, 5) == 100.0


@pytest.mark.parametrize(("lang", "word"), [("zh_CN", "访问"), ("ja", "訪問")])
def test_the_dashboard_speaks_the_resellers_language(client, world, lang, word):
    assert login(client, email="reseller@example.com").status_code == 302
    assert word in client.get(f"{PAGE}?lang={lang}").text
