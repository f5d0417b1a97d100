"""Order transitions: the allowed moves as data, and the one function that makes them.

An order has three statuses that move independently: its state, its payment status and
its fulfilment status. ``move`` refuses anything not listed here with
``IllegalTransition`` (nothing changes) and appends a timeline event for every move, so
the history of an order is always complete. Events arriving late (a failed payment after
a success, say) therefore cannot move an order backwards.

Every move happens under the order's lock (``lock``), taken by ``shop.orders.lifecycle``
before it decides anything; ``move`` takes it itself when a caller has not, and then
checks the order as it is after the lock. Two requests making the same move therefore
make it once: the second finds it made and raises ``IllegalTransition``.
"""

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Session

from shop import metrics
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
        # Paid after its reservation expired, with the stock still there (lifecycle only).
        "cancelled": ("open",),
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
    ("state", "open"): "reinstated",
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


LOCKED = "shop.orders.locked"  # session.info: ids of the orders locked in this transaction


def lock(session: Session, order: Order) -> None:
    """Serialise changes to one order until the transaction ends, then read it afresh.

    Two requests acting on the same order at once take turns (``lock_row``), and the
    second sees what the first committed. Taking it again in the same transaction costs
    nothing; what was changed before it is flushed first, so nothing is lost. An order not
    yet in the database has nothing to lock."""
    if order.id is None:
        return
    locked = session.info.setdefault(LOCKED, set())
    if order.id in locked:
        return
    session.flush()
    lock_row(session, Order.needs_attention, order.id)
    session.expire(order)
    locked.add(order.id)


@sa.event.listens_for(Session, "after_transaction_end")
def _forget_locks(session: Session, transaction) -> None:
    if transaction.parent is None:  # the outermost transaction: its locks are gone
        session.info.pop(LOCKED, None)


def can_move(order: Order, field: str, to: str) -> bool:
    """Money may still come and go on a cancelled order; making and shipping may not."""
    if field == "fulfilment_status" and order.state == "cancelled":
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
    lock(session, order)
    if not can_move(order, field, to):
        raise IllegalTransition(field, getattr(order, field), to)
    now = now or utcnow()
    setattr(order, field, to)
    if (field, to) == ("payment_status", "paid"):
        order.paid_at = now
        order.reserved_until = None
        metrics.count_on_commit(session, metrics.ORDERS_PAID)
    if (field, to) == ("state", "cancelled"):
        order.cancelled_at = now
        order.reserved_until = None
    if (field, to) == ("state", "open"):
        order.cancelled_at = None
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
