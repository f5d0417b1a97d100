"""What happens next to an order, as its page tells the buyer after checkout.

Pick-up: where to collect it and from which day. Delivery to school: the school's
delivery round, when it is taken to the school. Courier: the day it should leave the
factory. The days are estimates from the day the order was paid (or, not paid yet, from
today): items from stock are packed within ``DISPATCH_WORKING_DAYS`` working days;
made-to-order items take their lead time. Plain functions, no request.
"""

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from shop.db import as_utc
from shop.orders.models import Order
from shop.schools.models import School

# Items from stock leave the factory (or are ready to collect) within this many working
# days (Monday to Friday) of payment.
DISPATCH_WORKING_DAYS = 2
# Orders past these need no forecast: the page shows the parcels or the outcome.
DONE_FULFILMENT = ("shipped", "delivered")


@dataclass(frozen=True)
class NextSteps:
    """``method``: courier, pickup or school. ``day``: ready to collect (pick-up), the
    delivery round's day (school) or the expected dispatch (courier). ``paid``: whether
    the day counts from the payment (False: from today, the order is not paid yet).
    ``ready``: the factory has marked it ready (to collect, or to go)."""

    method: str
    day: date | None
    paid: bool
    ready: bool = False
    school: School | None = None


def add_working_days(start: date, days: int) -> date:
    """``days`` working days (Monday–Friday) after ``start``."""
    day = start
    while days > 0:
        day += timedelta(days=1)
        if day.weekday() < 5:
            days -= 1
    return day


def ready_day(order: Order, start: date) -> date:
    """When every line can leave the factory: stock lines after the dispatch allowance,
    made-to-order lines after their lead time, counted from ``start``."""
    day = add_working_days(start, DISPATCH_WORKING_DAYS)
    for line in order.lines:
        if line.made_to_order and line.lead_time_days:
            day = max(day, start + timedelta(days=line.lead_time_days))
    return day


def next_steps(order: Order, *, now: datetime, zone: ZoneInfo) -> NextSteps | None:
    """What the buyer should expect next; ``None`` for a cancelled or closed order, or
    one already shipped or delivered."""
    if order.state != "open" or order.fulfilment_status in DONE_FULFILMENT:
        return None
    paid = order.paid_at is not None
    ready = order.fulfilment_status == "ready"
    start = as_utc(order.paid_at if order.paid_at is not None else now).astimezone(zone).date()
    if order.delivery_method == "school":
        delivery_round = order.delivery_round
        day = delivery_round.delivery_date if delivery_round is not None else None
        return NextSteps("school", day, paid, ready, order.school)
    method = "pickup" if order.delivery_method == "pickup" else "courier"
    return NextSteps(method, ready_day(order, start), paid, ready)
