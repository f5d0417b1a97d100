"""The reseller's dashboard: what their window brought in, from the rows other parts write
(``ResellerVisit``, ``Order.reseller_id``, the ``CommissionLine`` ledger). Plain reads over
the session, a fixed number of statements however many orders the window has.

Privacy is a rule here, not a template's courtesy: the referred orders are read column by
column — number, dates, statuses, the window's own commission — and never the buyer's
name, email, phone or address, so no page built on these functions can show them.

"Orders" are those placed through the window in the last ``DAYS`` days that count: paid
(whatever happened after), or still open and waiting for payment; an unpaid order that
expired or was cancelled never was a sale. Conversion is those orders per visit over the
same days. Days are the factory's calendar days (the caller passes the zone).
"""

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlalchemy.orm import Session

from shop.catalog.models import Product
from shop.db import as_utc
from shop.orders.models import Order, OrderLine
from shop.pagination import Page, count_rows, paginate
from shop.resellers.models import LEDGER_STATES, CommissionLine, ResellerVisit

DAYS = 30
TOP_PRODUCTS = 5
ORDERS_PER_PAGE = 25
PAID_STATUSES = ("paid", "partially_refunded", "refunded")
# What a reseller reads for each referred order, furthest first.
STAGES = ("placed", "paid", "shipped", "delivered", "refunded", "cancelled")


def _day_start(day: date, zone: ZoneInfo) -> datetime:
    return datetime.combine(day, time.min, tzinfo=zone).astimezone(UTC)


def _counted_orders(reseller_id: int, since: datetime):
    """The window's orders placed since ``since`` that count as sales (module docstring)."""
    return sa.and_(
        Order.reseller_id == reseller_id,
        Order.created_at >= since,
        sa.or_(Order.paid_at.is_not(None), Order.state == "open"),
    )


@dataclass(frozen=True)
class Balance:
    """Commission in one currency, by ledger state (reversals already netted in)."""

    currency: str
    pending: int = 0
    approved: int = 0
    paid: int = 0


@dataclass(frozen=True)
class TopProduct:
    id: int
    slug: str
    name: str
    name_zh: str | None
    name_ja: str | None
    pieces: int


@dataclass(frozen=True)
class Summary:
    today: date
    visits: int
    orders: int
    # Orders per 100 visits, to one decimal (``None``: no visits to divide by).
    conversion_percent: float | None
    balances: list[Balance]
    daily: dict[str, list[int]]  # currency → commission per day, oldest first, DAYS long
    top_products: list[TopProduct]

    @property
    def days(self) -> list[date]:
        return [self.today - timedelta(days=DAYS - 1 - n) for n in range(DAYS)]


def conversion_percent(orders: int, visits: int) -> float | None:
    """``orders ÷ visits`` as a percentage to one decimal; ``None`` without visits."""
    if visits <= 0:
        return None
    return round(100 * orders / visits, 1)


def summarise(session: Session, reseller_id: int, now: datetime, zone: ZoneInfo) -> Summary:
    """The dashboard's figures: five statements, whatever the window's size."""
    today = now.astimezone(zone).date()
    first_day = today - timedelta(days=DAYS - 1)
    since = _day_start(first_day, zone)
    visits = session.scalar(
        sa.select(sa.func.coalesce(sa.func.sum(ResellerVisit.visits), 0)).where(
            ResellerVisit.reseller_id == reseller_id, ResellerVisit.day >= first_day
        )
    )
    orders = session.scalar(
        sa.select(sa.func.count(Order.id)).where(_counted_orders(reseller_id, since))
    )
    return Summary(
        today=today,
        visits=int(visits or 0),
        orders=int(orders or 0),
        conversion_percent=conversion_percent(int(orders or 0), int(visits or 0)),
        balances=balances(session, reseller_id),
        daily=_daily_commission(session, reseller_id, today, zone),
        top_products=top_products(session, reseller_id),
    )


def balances(session: Session, reseller_id: int) -> list[Balance]:
    """Pending, approved and paid commission per currency (currencies in name order)."""
    rows = session.execute(
        sa.select(CommissionLine.currency, CommissionLine.state, sa.func.sum(CommissionLine.amount))
        .where(CommissionLine.reseller_id == reseller_id)
        .group_by(CommissionLine.currency, CommissionLine.state)
    ).all()
    sums: dict[str, dict[str, int]] = {}
    for currency, state, amount in rows:
        if state in LEDGER_STATES:
            sums.setdefault(currency, {})[state] = int(amount or 0)
    return [Balance(currency, **sums[currency]) for currency in sorted(sums)]


def _daily_commission(
    session: Session, reseller_id: int, today: date, zone: ZoneInfo
) -> dict[str, list[int]]:
    """Commission written per day (reversals subtract), per currency, for the chart."""
    first_day = today - timedelta(days=DAYS - 1)
    rows = session.execute(
        sa.select(CommissionLine.created_at, CommissionLine.currency, CommissionLine.amount).where(
            CommissionLine.reseller_id == reseller_id,
            CommissionLine.created_at >= _day_start(first_day, zone),
            CommissionLine.created_at < _day_start(today + timedelta(days=1), zone),
        )
    ).all()
    daily: dict[str, list[int]] = {}
    for created_at, currency, amount in rows:
        index = (as_utc(created_at).astimezone(zone).date() - first_day).days
        if 0 <= index < DAYS:
            daily.setdefault(currency, [0] * DAYS)[index] += amount
    return dict(sorted(daily.items()))


def top_products(session: Session, reseller_id: int, limit: int = TOP_PRODUCTS) -> list[TopProduct]:
    """The products that sold most pieces through the window (paid orders, less the
    pieces returned), most first."""
    pieces = sa.func.sum(OrderLine.quantity - OrderLine.returned_quantity)
    rows = session.execute(
        sa.select(Product.id, Product.slug, Product.name, Product.name_zh, Product.name_ja, pieces)
        .join(OrderLine, OrderLine.product_id == Product.id)
        .join(Order, Order.id == OrderLine.order_id)
        .where(Order.reseller_id == reseller_id, Order.paid_at.is_not(None))
        .group_by(Product.id, Product.slug, Product.name, Product.name_zh, Product.name_ja)
        .having(pieces > 0)
        .order_by(pieces.desc(), Product.id)
        .limit(limit)
    ).all()
    return [TopProduct(*row[:5], pieces=int(row[5])) for row in rows]


def order_stage(state: str, payment_status: str, fulfilment_status: str) -> str:
    """One word of ``STAGES`` for a referred order: how far it has come."""
    if state == "cancelled":
        return "cancelled"
    if payment_status == "refunded":
        return "refunded"
    if fulfilment_status == "delivered":
        return "delivered"
    if fulfilment_status in ("shipped", "partially_shipped"):
        return "shipped"
    if payment_status in PAID_STATUSES:
        return "paid"
    return "placed"


@dataclass(frozen=True)
class ReferredOrder:
    """What a reseller may know of an order placed through their window."""

    number: str
    created_at: datetime
    stage: str
    currency: str
    commission: int  # the window's ledger for this order, reversals netted in


# The only columns of an order a reseller's page reads (no buyer detail among them).
REFERRED_COLUMNS = (
    Order.number,
    Order.created_at,
    Order.state,
    Order.payment_status,
    Order.fulfilment_status,
    Order.currency,
)


def list_referred_orders(
    session: Session, reseller_id: int, page: int, per_page: int = ORDERS_PER_PAGE
) -> tuple[Page, list[ReferredOrder]]:
    """The window's orders, newest first, a page at a time (two statements)."""
    commission = (
        sa.select(CommissionLine.order_id, sa.func.sum(CommissionLine.amount).label("amount"))
        .where(CommissionLine.reseller_id == reseller_id)
        .group_by(CommissionLine.order_id)
        .subquery()
    )
    query = (
        sa.select(*REFERRED_COLUMNS, sa.func.coalesce(commission.c.amount, 0))
        .outerjoin(commission, commission.c.order_id == Order.id)
        .where(Order.reseller_id == reseller_id)
        .order_by(Order.created_at.desc(), Order.id.desc())
    )
    shown = paginate(count_rows(session, query), page, per_page)
    rows = session.execute(query.offset(shown.offset).limit(per_page)).all()
    return shown, [
        ReferredOrder(
            number=number,
            created_at=created_at,
            stage=order_stage(state, payment_status, fulfilment_status),
            currency=currency,
            commission=int(amount or 0),
        )
        for number, created_at, state, payment_status, fulfilment_status, currency, amount in rows
    ]
