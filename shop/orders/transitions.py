"""Order transitions: the allowed moves as data, and the one function that makes them.

An order has three statuses that move independently: its state, its payment status and
its fulfilment status. ``move`` refuses anything not listed here with
``IllegalTransition`` (nothing changes) and appends a timeline event for every move, so
the history of an order is always complete. Events arriving late (a failed payment after
a success, say) therefore cannot move an order backwards.
"""

from datetime import datetime

from sqlalchemy.orm import Session

from shop.db import lock_row, utcnow
from shop.exceptions import ShopError
from shop.orders.models import Order, OrderEvent

STATES = ("open", "cancelled", "closed")
PAYMENT_STATUSES = ("unpaid", "awaiting_invoice", "paid", "partially_refunded", "refunded")
FULFILMENT_STATUSES = (
    "unfulfilled",
    "in_production",
    "ready",
    "partially_shipped",
    "shipped",
    "delivered",
)

ALLOWED_MOVES: dict[str, dict[str, tuple[str, ...]]] = {
    "state": {
        "open": ("cancelled", "closed"),
    },
    "payment_status": {
        "unpaid": ("paid", "awaiting_invoice"),
        "awaiting_invoice": ("paid",),
        "paid": ("partially_refunded", "refunded"),
        "partially_refunded": ("partially_refunded", "refunded"),
    },
    "fulfilment_status": {
        "unfulfilled": ("in_production", "ready", "partially_shipped", "shipped"),
        "in_production": ("ready", "partially_shipped", "shipped"),
        "ready": ("partially_shipped", "shipped"),
        "partially_shipped": ("partially_shipped", "shipped"),
        "shipped": ("delivered",),
    },
}

# The timeline event each move writes: (field, new value) → event kind.
EVENT_KINDS = {
    ("state", "cancelled"): "cancelled",
    ("state", "closed"): "closed",
    ("payment_status", "paid"): "paid",
    ("payment_status", "awaiting_invoice"): "awaiting_invoice",
    ("payment_status", "partially_refunded"): "partially_refunded",
    ("payment_status", "refunded"): "refunded",
    ("fulfilment_status", "in_production"): "in_production",
    ("fulfilment_status", "ready"): "ready",
    ("fulfilment_status", "partially_shipped"): "partially_shipped",
    ("fulfilment_status", "shipped"): "shipped",
    ("fulfilment_status", "delivered"): "delivered",
}


class IllegalTransition(ShopError):
    def __init__(self, field: str, current: str, wanted: str):
        super().__init__(f"an order cannot go from {field} {current!r} to {wanted!r}")
        self.field = field
        self.current = current
        self.wanted = wanted


def lock(session: Session, order: Order) -> None:
    """Serialise changes to one order until the transaction ends, then read it afresh.

    Two staff shipping or refunding the same order at once take turns (``lock_row``),
    and the second sees what the first committed (what is left to ship or to refund)."""
    lock_row(session, Order.needs_attention, order.id)
    session.expire(order)


def can_move(order: Order, field: str, to: str) -> bool:
    if field != "state" and order.state == "cancelled":
        return False
    return to in ALLOWED_MOVES.get(field, {}).get(getattr(order, field), ())


def move(
    session: Session,
    order: Order,
    field: str,
    to: str,
    *,
    actor_user_id: int | None = None,
    note: str = "",
    visible_to_customer: bool = True,
    now: datetime | None = None,
) -> OrderEvent:
    """Move one status of ``order`` to ``to`` and record it, or raise (nothing changes)."""
    if not can_move(order, field, to):
        raise IllegalTransition(field, getattr(order, field), to)
    now = now or utcnow()
    setattr(order, field, to)
    if (field, to) == ("payment_status", "paid"):
        order.paid_at = now
        order.reserved_until = None
    if (field, to) == ("state", "cancelled"):
        order.cancelled_at = now
        order.reserved_until = None
    return record(
        session,
        order,
        EVENT_KINDS[(field, to)],
        note=note,
        actor_user_id=actor_user_id,
        visible_to_customer=visible_to_customer,
        now=now,
    )


def record(
    session: Session,
    order: Order,
    kind: str,
    *,
    note: str = "",
    actor_user_id: int | None = None,
    visible_to_customer: bool = True,
    now: datetime | None = None,
) -> OrderEvent:
    """Append a timeline event that is not a status move (a failed card, a flag)."""
    event = OrderEvent(
        kind=kind,
        note=note,
        actor_user_id=actor_user_id,
        visible_to_customer=visible_to_customer,
        created_at=now or utcnow(),
    )
    order.events.append(event)
    session.flush()
    return event
