"""The dashboard (``/admin/``): the figures on a known set of orders, the chart, the work
waiting, low stock, and the admin each role sees."""

import re
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from shop.accounts import permissions
from shop.admin import dashboard
from shop.admin.blueprint import nav_items
from shop.admin.chart import bar_chart, nice_step
from shop.orders.messages import post_customer_message
from tests.accounts.helpers import login, make_user
from tests.factories import make_product
from tests.helpers.admin import STAFF_ROLES
from tests.order_factories import make_order

SHANGHAI = ZoneInfo("Asia/Shanghai")
NOW = datetime(2026, 11, 26, 10, 0, tzinfo=UTC)  # 18:00 in the factory


def paid(session, amount, paid_at, currency="CNY", **fields):
    order = make_order(session, lines=(("A", 1, amount),), currency=currency, **fields)
    order.paid_at = paid_at
    session.flush()
    return order


def known_orders(session):
    paid(session, 10000, datetime(2026, 11, 26, 1, 0, tzinfo=UTC))  # today 09:00
    # 01:00 today in Shanghai, still yesterday in UTC: counts as today
    paid(
        session,
        5000,
        datetime(2026, 11, 25, 17, 0, tzinfo=UTC),
        payment_status="partially_refunded",
        refunded_amount=2000,
    )
    paid(
        session,
        4000,
        datetime(2026, 11, 26, 2, 0, tzinfo=UTC),
        payment_status="refunded",
        refunded_amount=4000,
    )
    paid(session, 3000, datetime(2026, 11, 25, 15, 0, tzinfo=UTC))  # yesterday 23:00
    paid(session, 8000, datetime(2026, 11, 20, 12, 0, tzinfo=UTC), currency="JPY")  # 6 days
    paid(session, 1000, datetime(2026, 11, 19, 12, 0, tzinfo=UTC), currency="JPY")  # 7 days
    paid(session, 700, datetime(2026, 10, 28, 2, 0, tzinfo=UTC))  # 29 days: the first bar
    paid(session, 999, datetime(2026, 10, 27, 12, 0, tzinfo=UTC))  # 30 days: out
    make_order(session, lines=(("A", 1, 555),), payment_status="unpaid")
    make_order(session, lines=(("A", 1, 666),), payment_status="awaiting_invoice")
    session.commit()


def test_sales_per_period_and_currency_in_the_factorys_days(session):
    known_orders(session)

    sales = dashboard.sales(session, NOW, SHANGHAI)

    assert sales.today.isoformat() == "2026-11-26"
    assert [(p.days, p.orders, p.revenue) for p in sales.periods] == [
        (1, {"CNY": 3}, {"CNY": 13000}),
        (7, {"CNY": 4, "JPY": 1}, {"CNY": 16000, "JPY": 8000}),
        (30, {"CNY": 5, "JPY": 2}, {"CNY": 16700, "JPY": 9000}),
    ]
    assert sales.currencies == ["CNY", "JPY"]
    cny, jpy = sales.daily["CNY"], sales.daily["JPY"]
    assert len(cny) == len(jpy) == 30
    assert (cny[0], cny[28], cny[29], sum(cny)) == (700, 3000, 13000, 16700)
    assert (jpy[22], jpy[23], sum(jpy)) == (1000, 8000, 9000)
    assert sales.days[0].isoformat() == "2026-10-28"
    assert sales.days[-1].isoformat() == "2026-11-26"


def test_no_sales_is_no_currencies(session):
    assert dashboard.sales(session, NOW, SHANGHAI).currencies == []


def test_bar_chart_geometry():
    sales_days = dashboard.Sales(today=NOW.date(), periods=[], daily={}).days
    amounts = [0] * 29 + [500]
    amounts[0] = 250
    chart = bar_chart("CNY", sales_days, amounts)

    assert len(chart.bars) == 30
    assert chart.peak == 500 and chart.total == 750
    tallest, half, empty = chart.bars[29], chart.bars[0], chart.bars[1]
    assert tallest.y + tallest.height == chart.baseline == half.y + half.height
    assert half.height == tallest.height / 2
    assert empty.height == 0
    assert chart.bars[1].x > chart.bars[0].x + chart.bars[0].width


def test_bar_chart_of_nothing_and_of_a_net_refund_draws_no_bars():
    days = dashboard.Sales(today=NOW.date(), periods=[], daily={}).days
    assert {bar.height for bar in bar_chart("CNY", days, [0] * 30).bars} == {0}
    assert {bar.height for bar in bar_chart("CNY", days, [-100] + [0] * 29).bars} == {0}


def test_work_waiting_counts_open_orders_by_next_step(session):
    make_order(session)  # paid, unfulfilled
    make_order(session)
    make_order(session, fulfilment_status="in_production")
    make_order(session, state="cancelled")  # paid, cancelled: not waiting
    make_order(session, fulfilment_status="ready")
    make_order(session, payment_status="awaiting_invoice")
    make_order(session, payment_status="unpaid", needs_attention=True)
    session.commit()

    assert dashboard.waiting(session) == dashboard.Waiting(
        paid_not_in_production=2, ready_to_ship=1, awaiting_invoice=1, needs_attention=1
    )


def test_low_stock_is_available_below_the_variants_own_threshold(session):
    product = make_product(session, sizes=("120", "130", "140", "150"), on_hand=10)
    low, at, never, allocated = product.variants
    low.on_hand, low.low_stock_threshold = 2, 5
    at.on_hand, at.low_stock_threshold = 5, 5  # not below
    never.on_hand, never.low_stock_threshold = 0, 0  # threshold 0: never warns
    allocated.on_hand, allocated.allocated, allocated.low_stock_threshold = 10, 7, 4
    session.commit()

    rows, total = dashboard.low_stock(session)

    assert total == 2
    assert [(row.sku, row.available, row.threshold) for row in rows] == [
        (low.sku, 2, 5),
        (allocated.sku, 3, 4),
    ]


# --- the page ----------------------------------------------------------------------------


def test_the_page_shows_the_figures_the_chart_and_links_to_the_waiting_orders(
    client, session, sign_in
):
    make_order(session, lines=(("A", 1, 1000),))  # paid just now: today
    make_order(session, lines=(("A", 2, 500),), currency="JPY", fulfilment_status="ready")
    make_order(session, payment_status="awaiting_invoice")
    session.commit()
    sign_in("owner")

    page = client.get("/admin/").text

    assert re.search(
        r'data-testid="sales-orders" data-period="1" data-currency="CNY" data-count="1"', page
    )
    assert 'data-period="30" data-currency="JPY" data-amount="1000"' in page
    assert 'data-period="7" data-currency="CNY" data-amount="1000"' in page
    assert page.count('data-testid="revenue-chart"') == 2
    svgs = re.findall(r"<svg\b[^>]*admin-chart__svg.*?</svg>", page, re.S)
    assert len(svgs) == 2
    assert all(svg.count('class="admin-chart__bar"') == 30 for svg in svgs)
    assert "<script" not in "".join(svgs) and "style" not in "".join(svgs)
    assert (
        'href="/admin/orders?payment=paid&amp;fulfilment=unfulfilled&amp;state=open" '
        'data-testid="waiting-paid" data-count="1"'
    ) in page
    assert (
        'href="/admin/orders?fulfilment=ready&amp;state=open" data-testid="waiting-ready" '
        'data-count="1"' in page
    )
    assert (
        'href="/admin/orders?payment=awaiting_invoice&amp;state=open" '
        'data-testid="waiting-invoice" data-count="1"'
    ) in page


def test_the_waiting_links_list_exactly_the_counted_orders(client, session, sign_in):
    counted = make_order(session)
    make_order(session, fulfilment_status="in_production")
    make_order(session, state="cancelled")
    session.commit()
    sign_in("manager")
    page = client.get("/admin/").text
    link = re.search(r'href="([^"]+)" data-testid="waiting-paid"', page).group(1)

    listing = client.get(link.replace("&amp;", "&")).text

    assert re.findall(r'data-number="([^"]+)"', listing) == [counted.number]


def test_unread_messages_link_for_those_who_answer(app, client, session, sign_in):
    order = make_order(session)
    session.commit()
    with app.test_request_context():
        post_customer_message(session, order, "Where is it?", user_id=None)
        session.commit()
    sign_in("service")

    page = client.get("/admin/").text

    assert 'href="/admin/orders?unread=1" data-testid="unread-link" data-count="1"' in page
    assert 'data-testid="unread-messages" data-count="1" data-orders="1"' in page


def test_low_stock_on_the_page(client, session, sign_in):
    product = make_product(session, on_hand=1)
    product.variants[0].low_stock_threshold = 3
    session.commit()
    sign_in("warehouse")

    page = client.get("/admin/").text

    assert 'data-testid="low-stock-total" data-count="1"' in page
    assert '<a href="/admin/stock?low=1" data-testid="low-stock-link">' in page
    stock_list = client.get("/admin/stock?low=1").text
    assert f'data-sku="{product.variants[0].sku}"' in stock_list


def test_low_stock_is_a_count_and_a_link_not_a_list(client, session, sign_in):
    """289 low variants used to be listed in a third of the page's width."""
    for _number in range(12):
        make_product(session, on_hand=0).variants[0].low_stock_threshold = 2
    session.commit()
    sign_in("manager")
    page = client.get("/admin/").text
    assert 'data-testid="low-stock-total" data-count="12"' in page
    assert 'data-testid="low-stock"' not in page and "admin-low-stock" not in page
    assert 'data-testid="low-stock-link"' in page


def test_catalogue_staff_without_the_stock_list_get_the_low_stock_products(
    client, session, sign_in, monkeypatch
):
    make_product(session, on_hand=0).variants[0].low_stock_threshold = 2
    session.commit()
    sign_in("manager")
    real = permissions.has_permission  # a role with catalog.manage but not stock.manage
    monkeypatch.setattr(
        "shop.admin.views.has_permission",
        lambda user, name: name != "stock.manage" and real(user, name),
    )
    page = client.get("/admin/").text
    assert '<a href="/admin/products?low=1" data-testid="low-stock-link">' in page


def test_the_revenue_chart_has_a_labelled_value_axis(client, session, sign_in):
    make_order(session, lines=(("A", 3, 41000),))  # 1,230.00 today
    session.commit()
    sign_in("owner")
    page = client.get("/admin/").text
    [svg] = re.findall(r"<svg\b[^>]*admin-chart__svg.*?</svg>", page, re.S)
    ticks = re.findall(r'data-testid="chart-tick" data-amount="(\d+)">([^<]+)<', svg)
    assert [int(amount) for amount, _label in ticks] == [0, 50000, 100000, 150000]
    assert "1,500.00" in ticks[-1][1] and "500.00" in ticks[1][1]
    assert page.count('data-testid="admin-nav"') == 1  # the one admin tab bar


def test_value_axis_steps_are_round():
    steps = [nice_step(n) for n in (0, 1, 4, 5, 999, 123000, 123001)]
    assert steps == [0, 1, 1, 2, 500, 50000, 50000]


# --- each role's admin -------------------------------------------------------------------

SECTIONS = ("sales", "waiting", "stock", "messages")
SEES = {
    "owner": {"sales", "waiting", "stock", "messages"},
    "manager": {"sales", "waiting", "stock", "messages"},
    "warehouse": {"waiting", "stock"},
    "service": {"waiting", "messages"},
    "workshop": {"waiting"},
}
NAV = {
    "owner": {
        "Dashboard",
        "Orders",
        "Invoices",
        "Products",
        "Categories",
        "Search synonyms",
        "Stock",
        "Production",
        "Schools",
        "Resellers",
        "Group buys",
        "Staff",
        "Audit log",
    },
    "manager": {
        "Dashboard",
        "Orders",
        "Invoices",
        "Products",
        "Categories",
        "Search synonyms",
        "Stock",
        "Production",
        "Schools",
        "Resellers",
        "Group buys",
    },
    "warehouse": {"Dashboard", "Orders", "Invoices", "Stock"},
    "service": {"Dashboard", "Orders", "Invoices"},
    "workshop": {"Dashboard", "Orders", "Invoices", "Production"},
}


@pytest.mark.parametrize("role", STAFF_ROLES)
def test_each_role_sees_its_own_admin(role, client, session, sign_in):
    product = make_product(session, on_hand=0)
    product.variants[0].low_stock_threshold = 1
    make_order(session)
    session.commit()
    sign_in(role)

    response = client.get("/admin/")

    assert response.status_code == 200
    shown = {name for name in SECTIONS if f'data-testid="section-{name}"' in response.text}
    assert shown == SEES[role]
    assert ("admin-chart__svg" in response.text) == ("sales" in SEES[role])
    nav = re.search(r'data-testid="admin-nav">(.*?)</nav>', response.text, re.S).group(1)
    labels = set(re.findall(r'data-endpoint="[^"]+"[^>]*>([^<]+)</a>', nav))
    # CSV is linked once its page exists (catalog.manage); the rest are built.
    assert labels - {"CSV"} == NAV[role]
    assert "CSV" not in labels or role in ("owner", "manager")


@pytest.mark.parametrize("who", ["customer", "anonymous"])
def test_the_dashboard_is_for_staff_only(who, client, session):
    if who == "customer":
        make_user(session, email="c@example.com")
        login(client, email="c@example.com")
        assert client.get("/admin/").status_code == 403
    else:
        response = client.get("/admin/")
        assert response.status_code == 302
        assert response.headers["Location"].startswith("/account/login")


def test_every_nav_link_is_a_real_page_and_follows_the_role(app):
    from shop.admin.blueprint import NAV

    assert all(endpoint in app.view_functions for endpoint, _label, _perm in NAV)

    class Workshop:
        is_authenticated = is_active = True
        role = "workshop"

    items = [endpoint for endpoint, _label in nav_items(Workshop())]
    assert items == [
        "admin.dashboard",
        "admin.order_list",
        "admin.invoice_list",
        "admin.production_queue",
    ]


def test_the_page_runs_the_same_queries_however_many_orders_there_are(
    app, client, session, sign_in
):
    from tests.helpers.queries import recording_queries

    sign_in("owner")
    make_order(session)
    session.commit()
    with recording_queries(app) as few:
        client.get("/admin/")
    for _ in range(15):
        make_order(session)
        make_product(session, on_hand=0).variants[0].low_stock_threshold = 2
    session.commit()
    with recording_queries(app) as many:
        assert 'data-testid="low-stock-total" data-count="15"' in client.get("/admin/").text

    assert len(many) == len(few) <= 12
