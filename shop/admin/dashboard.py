"""The dashboard's figures: plain functions over the session, no request in sight.

Sales are counted by the day an order was paid, in the factory's time zone (the caller
passes it in, ``BABEL_DEFAULT_TIMEZONE``): "today" is the factory's calendar day, "last 7
days" is today and the six days before it. A paid order is one with ``paid_at`` set and a
payment status of paid, partially refunded or refunded; its revenue is what the customer
paid less what was given back (``total_amount - refunded_amount``), in its own currency.
Currencies are never added together.
"""

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlalchemy.orm import Session

from shop.catalog.models import Product, Variant
from shop.db import as_utc
from shop.locales import localized
from shop.orders.models import Order
from shop.schools.invoices import count_overdue
from shop.stock.levels import available_column, variant_is_low

PAID_STATUSES = ("paid", "partially_refunded", "refunded")
PERIODS = (1, 7, 30)  # today, last 7 days, last 30 days
CHART_DAYS = 30
LOW_STOCK_SHOWN = 10


def day_start(day: date, zone: ZoneInfo) -> datetime:
    """Midnight at the start of ``day`` in ``zone``, as a UTC datetime."""
    return datetime.combine(day, time.min, tzinfo=zone).astimezone(UTC)


@dataclass
class Period:
    days: int
    orders: dict[str, int] = field(default_factory=dict)  # currency → paid orders
    revenue: dict[str, int] = field(default_factory=dict)  # currency → minor units


@dataclass
class Sales:
    today: date
    periods: list[Period]
    # currency → one revenue figure per day, oldest first, CHART_DAYS long
    daily: dict[str, list[int]]

    @property
    def currencies(self) -> list[str]:
        return list(self.daily)

    @property
    def days(self) -> list[date]:
        return [self.today - timedelta(days=CHART_DAYS - 1 - n) for n in range(CHART_DAYS)]


def sales(session: Session, now: datetime, zone: ZoneInfo) -> Sales:
    """Orders and revenue per currency for today, 7 and 30 days, and the chart's daily
    revenue — all from one query over the last 30 days' paid orders."""
    today = now.astimezone(zone).date()
    first_day = today - timedelta(days=CHART_DAYS - 1)
    rows = session.execute(
        sa.select(Order.paid_at, Order.currency, Order.total_amount, Order.refunded_amount)
        .where(
            Order.paid_at.is_not(None),
            Order.payment_status.in_(PAID_STATUSES),
            Order.paid_at >= day_start(first_day, zone),
            Order.paid_at < day_start(today + timedelta(days=1), zone),
        )
        .order_by(Order.paid_at)
    ).all()
    periods = [Period(days) for days in PERIODS]
    daily: dict[str, list[int]] = {}
    for paid_at, currency, total, refunded in rows:
        if paid_at is None:  # the query excludes them; this tells the type checker
            continue
        day = as_utc(paid_at).astimezone(zone).date()
        age = (today - day).days
        if not 0 <= age < CHART_DAYS:
            continue
        revenue = total - (refunded or 0)
        for period in periods:
            if age < period.days:
                period.orders[currency] = period.orders.get(currency, 0) + 1
                period.revenue[currency] = period.revenue.get(currency, 0) + revenue
        bars = daily.setdefault(currency, [0] * CHART_DAYS)
        bars[CHART_DAYS - 1 - age] += revenue
    return Sales(today=today, periods=periods, daily=dict(sorted(daily.items())))


@dataclass(frozen=True)
class Waiting:
    paid_not_in_production: int
    ready_to_ship: int
    awaiting_invoice: int
    needs_attention: int
    overdue_invoices: int = 0


# The order desk's query parameters that list exactly the orders each count counts.
WAITING_FILTERS = {
    "paid_not_in_production": {"payment": "paid", "fulfilment": "unfulfilled", "state": "open"},
    "ready_to_ship": {"fulfilment": "ready", "state": "open"},
    "awaiting_invoice": {"payment": "awaiting_invoice", "state": "open"},
    "needs_attention": {"attention": "1"},
}


def waiting(session: Session, today: date | None = None) -> Waiting:
    """Open orders waiting for their next step, counted in one query; with ``today`` (the
    factory's calendar day), also the school invoices overdue on that day."""

    def count(*conditions):
        # A sum over no rows is NULL; coalesce makes it 0.
        return sa.func.coalesce(sa.func.sum(sa.case((sa.and_(*conditions), 1), else_=0)), 0)

    is_open = Order.state == "open"
    row = session.execute(
        sa.select(
            count(
                is_open, Order.payment_status == "paid", Order.fulfilment_status == "unfulfilled"
            ),
            count(is_open, Order.fulfilment_status == "ready"),
            count(is_open, Order.payment_status == "awaiting_invoice"),
            count(Order.needs_attention.is_(True)),
        )
    ).one()
    overdue = count_overdue(session, today) if today is not None else 0
    paid, ready, awaiting_invoice, needs_attention = (int(value) for value in row)
    return Waiting(paid, ready, awaiting_invoice, needs_attention, overdue_invoices=overdue)


@dataclass(frozen=True)
class LowStock:
    variant_id: int
    product_id: int
    product_name: str
    sku: str
    size: str
    colour: str
    available: int
    threshold: int


def count_low_stock(session: Session) -> int:
    """How many variants are below their own low-stock threshold (the dashboard's card
    counts them and links to the list)."""
    return session.scalar(sa.select(sa.func.count(Variant.id)).where(variant_is_low())) or 0


def low_stock(
    session: Session, limit: int = LOW_STOCK_SHOWN, locale: str = "en"
) -> tuple[list[LowStock], int]:
    """Variants whose available stock (on hand less allocated) is below their own
    threshold (a threshold of 0 never warns), fewest available first, each product named
    in ``locale``'s language; and how many there are in all."""
    available = available_column()
    condition = variant_is_low()
    total = session.scalar(sa.select(sa.func.count(Variant.id)).where(condition)) or 0
    rows = session.execute(
        sa.select(
            Variant.id,
            Variant.product_id,
            Product.name,
            Product.name_zh,
            Product.name_ja,
            Variant.sku,
            Variant.size,
            Variant.colour,
            available.label("available"),
            Variant.low_stock_threshold,
        )
        .join(Product, Product.id == Variant.product_id)
        .where(condition)
        .order_by(available, Variant.sku)
        .limit(limit)
    ).all()
    found = [
        LowStock(
            variant_id=row.id,
            product_id=row.product_id,
            product_name=localized(row, "name", locale),
            sku=row.sku,
            size=row.size,
            colour=row.colour,
            available=row.available,
            threshold=row.low_stock_threshold,
        )
        for row in rows
    ]
    return found, total
