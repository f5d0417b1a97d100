"""The only module that changes stock columns. Two stages: allocate at checkout, then
either sell (on hand and allocated both go down) or release (allocated goes down).

Every change is one conditional ``UPDATE`` whose ``WHERE`` carries the rule, and the row
count says whether it held — never read-then-write — so concurrent buyers on SQLite and
PostgreSQL alike can never oversell. Each change also writes a ledger row.
"""

from typing import cast

import sqlalchemy as sa
from sqlalchemy.orm import Session

from shop.catalog.models import Variant
from shop.db import lock_row, rows_changed
from shop.exceptions import ShopError
from shop.stock.models import StockMovement


class NotEnoughStock(ShopError):
    def __init__(self, variant_id: int, available: int):
        super().__init__(f"only {available} left of variant {variant_id}")
        self.variant_id = variant_id
        self.available = available


class InvalidStockChange(ShopError):
    message = "That stock change would make the numbers impossible."


def _positive(quantity: int) -> None:
    if quantity < 1:
        raise InvalidStockChange(f"quantity must be positive, not {quantity}")


def _record(session: Session, variant_id: int, reason: str, **fields) -> None:
    # No flush of its own, and the stock UPDATEs do not flush it either (``_changed``):
    # the rows of all an order's stock changes go in one INSERT, with the order's rows or
    # at the next query or the commit.
    session.add(StockMovement(variant_id=variant_id, reason=reason, **fields))


_VARIANT = cast(sa.Table, Variant.__table__)
_ID, _ON_HAND, _ALLOCATED = _VARIANT.c.id, _VARIANT.c.on_hand, _VARIANT.c.allocated
_VARIANT_ID = sa.bindparam("variant_id", type_=sa.Integer)
_QUANTITY = sa.bindparam("quantity", type_=sa.Integer)


def _stock_update(*conditions, **values) -> sa.Update:
    """A conditional stock ``UPDATE`` of one variant (``variant_id``, ``quantity``), built
    once: a Core statement costs a checkout a fraction of an ORM one built per call."""
    return sa.update(_VARIANT).where(_ID == _VARIANT_ID, *conditions).values(**values)


_ALLOCATE = _stock_update(_ON_HAND - _ALLOCATED >= _QUANTITY, allocated=_ALLOCATED + _QUANTITY)
_RELEASE = _stock_update(_ALLOCATED >= _QUANTITY, allocated=_ALLOCATED - _QUANTITY)
_SELL = _stock_update(
    _ALLOCATED >= _QUANTITY,
    _ON_HAND >= _QUANTITY,
    on_hand=_ON_HAND - _QUANTITY,
    allocated=_ALLOCATED - _QUANTITY,
)
# ``quantity`` is the change here, negative or positive: on hand never below allocated.
_ADJUST = _stock_update(_ON_HAND + _QUANTITY >= _ALLOCATED, on_hand=_ON_HAND + _QUANTITY)


def _changed(session: Session, statement: sa.Update, variant_id: int, quantity: int) -> bool:
    """Run one conditional stock ``UPDATE``; whether it changed the variant's row. It
    does not flush the session first (SQLAlchemy does before any Core statement): the
    ledger rows go with the order's (``_record``), and a cart already cleared by the same
    order placed at the same moment is found at the flush that writes the order."""
    values = {"variant_id": variant_id, "quantity": quantity}
    with session.no_autoflush:
        return rows_changed(session, statement, values) == 1


def available(session: Session, variant_id: int) -> int:
    row = session.execute(
        sa.select(Variant.on_hand, Variant.allocated).where(Variant.id == variant_id)
    ).first()
    return max(row.on_hand - row.allocated, 0) if row else 0


def allocate(session: Session, variant_id: int, quantity: int, *, reference: str) -> None:
    """Hold ``quantity`` for an order, or raise ``NotEnoughStock`` (nothing changes)."""
    _positive(quantity)
    held = _changed(session, _ALLOCATE, variant_id, quantity)
    if not held:
        raise NotEnoughStock(variant_id, available(session, variant_id))
    _record(session, variant_id, "allocated", allocated_delta=quantity, reference=reference)


def release(session: Session, variant_id: int, quantity: int, *, reference: str) -> None:
    """Give back an allocation (an unpaid order expired or was cancelled)."""
    _positive(quantity)
    released = _changed(session, _RELEASE, variant_id, quantity)
    if not released:
        raise InvalidStockChange(f"variant {variant_id} has less than {quantity} allocated")
    _record(session, variant_id, "released", allocated_delta=-quantity, reference=reference)


def sell(session: Session, variant_id: int, quantity: int, *, reference: str) -> None:
    """Turn an allocation into a sale: on hand and allocated both go down."""
    _positive(quantity)
    sold = _changed(session, _SELL, variant_id, quantity)
    if not sold:
        raise InvalidStockChange(f"variant {variant_id} has less than {quantity} allocated")
    _record(
        session,
        variant_id,
        "sold",
        on_hand_delta=-quantity,
        allocated_delta=-quantity,
        reference=reference,
    )


def count(
    session: Session,
    variant_id: int,
    counted: int,
    *,
    staff_user_id: int | None = None,
    note: str = "",
) -> int:
    """A stock take: on hand becomes ``counted``. The change is worked out under the
    row's lock, so two people counting at once end on the count, not on its double.
    Returns the change (0: it already was; nothing is recorded)."""
    if counted < 0:
        raise InvalidStockChange(f"counted {counted}")
    lock_row(session, Variant.low_stock_threshold, variant_id)
    on_hand = session.scalar(sa.select(Variant.on_hand).where(Variant.id == variant_id))
    if on_hand is None:
        raise InvalidStockChange(f"no variant {variant_id}")
    delta = counted - on_hand
    if delta:
        adjust(session, variant_id, delta, reason="counted", staff_user_id=staff_user_id, note=note)
    return delta


def adjust(
    session: Session,
    variant_id: int,
    delta: int,
    *,
    reason: str,
    staff_user_id: int | None = None,
    note: str = "",
    reference: str = "",
) -> None:
    """A counted, received, damaged or returned change to on hand. Never below what is
    allocated to orders; concurrent adjustments add up (no lost update)."""
    if reason not in ("received", "counted", "damaged", "returned") or delta == 0:
        raise InvalidStockChange(f"{reason} {delta}")
    adjusted = _changed(session, _ADJUST, variant_id, delta)
    if not adjusted:
        raise InvalidStockChange(f"variant {variant_id} cannot change by {delta}")
    _record(
        session,
        variant_id,
        reason,
        on_hand_delta=delta,
        staff_user_id=staff_user_id,
        note=note,
        reference=reference,
    )
