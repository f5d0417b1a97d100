"""The production queue: what the workshop must make, batches of it, and finishing them.

Plain functions over the session (no ``flask``); the view commits.

- ``list_queue`` rolls up the made-to-order lines that still need making: lines of open
  orders that are paid (or accepted on invoice), not produced and not in a batch, summed
  per product × size × colour and grouped by due date and by group key (earliest first).
- ``start_batch`` puts chosen lines into a new ``ProductionBatch`` and moves their
  unfulfilled orders to "in production".
- ``finish_batch`` marks the batch's lines produced and moves every order whose
  made-to-order lines are now all produced from "in production" to "ready".

Due dates are calendar days in the zone passed in (the views pass the factory's zone,
``BABEL_DEFAULT_TIMEZONE``): the day the order was paid there, plus the line's lead time.
An order accepted on invoice has no payment date yet; its order date counts instead. A
line without a lead time is due the day it was paid.

Grouping: ``group_key(order, school_names, campaign_names)`` names the group an order's
lines are made for: a group buy's "<code> · <title>" for its participants' orders (one
group per campaign, whatever school it is for), the school's name for a school order,
``""`` for any other; ``group_kind`` says which of these it is. ``list_queue`` reads the
names of the queue's schools and campaigns in one query each; the cut sheet passes none
and sums across.
"""

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlalchemy.orm import Session, selectinload

from shop.audit.service import record
from shop.db import as_utc, rows_changed, utcnow
from shop.exceptions import ShopError
from shop.groupbuys.models import Campaign
from shop.inputs import parse_id
from shop.locales import localized
from shop.orders import lifecycle
from shop.orders.models import Order, OrderEvent, OrderLine, ProductionBatch
from shop.schools.models import School

GROUP_KINDS = ("", "school", "campaign")

# Orders whose made-to-order lines the workshop may make.
MAKEABLE_PAYMENT = lifecycle.PAID_ENOUGH_TO_MAKE
# Fulfilment statuses after which nothing more is made for the order.
DONE_FULFILMENT = ("shipped", "delivered")


class EmptySelection(ShopError):
    message = "Choose at least one row to make."


class LinesNotAvailable(ShopError):
    """Some chosen lines are batched or produced already, or no longer to be made."""

    message = "Some of the chosen lines are already in a batch or no longer need making."


class BatchNotOpen(ShopError):
    message = "This batch is already finished."


def group_key(
    order: Order,
    school_names: Mapping[int, str] | None = None,
    campaign_names: Mapping[int, str] | None = None,
) -> str:
    """The group an order's lines are made for: its group buy's name (from
    ``campaign_names``, campaign id → "<code> · <title>"), else its school's name (from
    ``school_names``, school id → name), or ``""`` for an order that is neither."""
    return group_kind_and_name(order, school_names, campaign_names)[1]


def group_kind_and_name(
    order: Order,
    school_names: Mapping[int, str] | None = None,
    campaign_names: Mapping[int, str] | None = None,
) -> tuple[str, str]:
    """``("campaign", name)``, ``("school", name)`` or ``("", "")``."""
    if order.campaign_id is not None and campaign_names and order.campaign_id in campaign_names:
        return "campaign", campaign_names[order.campaign_id]
    if order.school_id is not None and school_names and order.school_id in school_names:
        return "school", school_names[order.school_id]
    return "", ""


def due_date(line: OrderLine, order: Order, zone: ZoneInfo) -> date:
    """The day ``line`` should be made by: paid (or ordered, on invoice) + lead time."""
    start = order.paid_at or order.created_at
    return as_utc(start).astimezone(zone).date() + timedelta(days=line.lead_time_days or 0)


# An order accepted on invoice while the factory makes invoice orders only once paid
# (``INVOICE_ORDERS_TO_PRODUCTION`` off) carries this internal timeline event.
HELD_UNTIL_PAID = "production_held"


def _makeable_lines() -> sa.Select:
    held = sa.exists().where(OrderEvent.order_id == Order.id, OrderEvent.kind == HELD_UNTIL_PAID)
    return (
        sa.select(OrderLine)
        .join(Order, OrderLine.order_id == Order.id)
        .where(
            OrderLine.made_to_order.is_(True),
            OrderLine.produced_at.is_(None),
            OrderLine.production_batch_id.is_(None),
            Order.state == "open",
            Order.payment_status.in_(MAKEABLE_PAYMENT),
            Order.fulfilment_status.not_in(DONE_FULFILMENT),
            sa.or_(Order.payment_status != "awaiting_invoice", ~held),
        )
    )


@dataclass
class QueueRow:
    """One thing to make: a product in a size and colour, with how many and for whom."""

    due: date
    group: str
    product_id: int | None
    product_name: str
    size: str
    colour: str
    quantity: int = 0
    kind: str = ""  # GROUP_KINDS: what ``group`` names
    line_ids: list[int] = field(default_factory=list)
    order_numbers: list[str] = field(default_factory=list)

    @property
    def key(self) -> str:
        """The row's value in the form: the ids of the lines it sums."""
        return ",".join(str(line_id) for line_id in self.line_ids)


@dataclass
class QueueGroup:
    due: date
    group: str
    rows: list[QueueRow] = field(default_factory=list)
    kind: str = ""  # GROUP_KINDS: a school's name, a group buy's, or none

    @property
    def quantity(self) -> int:
        return sum(row.quantity for row in self.rows)


def _product_key(line: OrderLine):
    # Lines of one product share its id; lines without one (a deleted product) its name.
    return ("id", line.product_id) if line.product_id is not None else ("name", line.product_name)


def roll_up(
    lines: Iterable[OrderLine],
    zone: ZoneInfo | None = None,
    *,
    with_due=True,
    school_names: Mapping[int, str] | None = None,
    campaign_names: Mapping[int, str] | None = None,
):
    """Sum ``lines`` per (due date, group, product, size, colour), earliest first."""
    zone = zone or ZoneInfo("UTC")
    rows: dict[tuple, QueueRow] = {}
    for line in sorted(lines, key=lambda line: line.id):
        order = line.order
        due = due_date(line, order, zone) if with_due else date.min
        kind, group = group_kind_and_name(order, school_names, campaign_names)
        key = (due, kind, group, _product_key(line), line.size, line.colour)
        row = rows.get(key)
        if row is None:
            row = rows[key] = QueueRow(
                due=due,
                group=group,
                product_id=line.product_id,
                product_name=line.product_name,
                size=line.size,
                colour=line.colour,
                kind=kind,
            )
        row.quantity += line.quantity
        row.line_ids.append(line.id)
        if order.number not in row.order_numbers:
            row.order_numbers.append(order.number)
    return sorted(
        rows.values(),
        key=lambda r: (
            r.due,
            GROUP_KINDS.index(r.kind),
            r.group,
            r.product_name,
            str(r.product_id),
            r.size,
            r.colour,
        ),
    )


def list_queue(session: Session, zone: ZoneInfo, locale: str = "en") -> list[QueueGroup]:
    """What must still be made, grouped by due date and group (a group buy, or a school
    named in ``locale``'s language), earliest first."""
    lines = session.scalars(_makeable_lines().options(selectinload(OrderLine.order))).all()
    school_ids = {line.order.school_id for line in lines if line.order.school_id is not None}
    school_names = _school_names(session, school_ids, locale)
    campaign_ids = {line.order.campaign_id for line in lines if line.order.campaign_id is not None}
    campaign_names = _campaign_names(session, campaign_ids)
    groups: dict[tuple[date, str, str], QueueGroup] = {}
    for row in roll_up(lines, zone, school_names=school_names, campaign_names=campaign_names):
        group = groups.setdefault(
            (row.due, row.kind, row.group), QueueGroup(row.due, row.group, kind=row.kind)
        )
        group.rows.append(row)
    return list(groups.values())


def _campaign_names(session: Session, campaign_ids: set[int]) -> dict[int, str]:
    """Campaign id → "<code> · <title>", in one query (the queue heading says "Group buy")."""
    if not campaign_ids:
        return {}
    rows = session.execute(
        sa.select(Campaign.id, Campaign.code, Campaign.title).where(Campaign.id.in_(campaign_ids))
    )
    return {row.id: f"{row.code} · {row.title}" for row in rows}


def _school_names(session: Session, school_ids: set[int], locale: str = "en") -> dict[int, str]:
    """School id → name in ``locale``'s language, in one query. (Orders cannot hold a
    relationship to ``School``: the schools' models import the orders'.)"""
    if not school_ids:
        return {}
    rows = session.execute(
        sa.select(School.id, School.name, School.name_zh, School.name_ja).where(
            School.id.in_(school_ids)
        )
    )
    return {row.id: localized(row, "name", locale) for row in rows}


def parse_line_ids(values: Iterable[str]) -> list[int]:
    """The line ids in posted row values (``"3,7,9"``); anything no line could have is
    dropped."""
    ids = {parse_id(part) for value in values for part in (value or "").split(",")}
    return sorted(line_id for line_id in ids if line_id is not None)


def start_batch(
    session: Session, line_ids: Iterable[int], *, actor_user_id: int | None, note: str = ""
) -> ProductionBatch:
    """Put the chosen lines into a new batch and move their unfulfilled orders to "in
    production". Every chosen line must still need making and be in no batch; otherwise
    (or with nothing chosen) this raises and the caller rolls back."""
    ids = sorted(set(line_ids))
    if not ids:
        raise EmptySelection()
    makeable = set(
        session.scalars(
            _makeable_lines().with_only_columns(OrderLine.id).where(OrderLine.id.in_(ids))
        ).all()
    )
    if not set(ids) <= makeable:
        raise LinesNotAvailable()
    batch = ProductionBatch(created_by_id=actor_user_id, note=note.strip())
    session.add(batch)
    session.flush()
    # Conditional: two people batching the same lines at once cannot both take them.
    taken = rows_changed(
        session,
        sa.update(OrderLine)
        .where(
            OrderLine.id.in_(ids),
            OrderLine.production_batch_id.is_(None),
            OrderLine.produced_at.is_(None),
        )
        .values(production_batch_id=batch.id)
        .execution_options(synchronize_session=False),
    )
    if taken != len(ids):
        raise LinesNotAvailable()
    session.expire_all()
    orders = session.scalars(
        sa.select(Order)
        .where(Order.id.in_(sa.select(OrderLine.order_id).where(OrderLine.id.in_(ids))))
        .order_by(Order.id)
    ).all()
    for order in orders:
        if order.fulfilment_status == "unfulfilled":
            lifecycle.start_production(session, order, actor_user_id=actor_user_id)
    record(
        session,
        actor_user_id=actor_user_id,
        action="production.batch_started",
        target_type="production_batch",
        target_id=batch.id,
        after={
            "status": "open",
            "line_ids": ids,
            "orders": [order.number for order in orders],
        },
    )
    return batch


def _all_made(order: Order) -> bool:
    """Every made-to-order line produced. Stocked lines need nothing: their stock was held
    for the order at checkout."""
    return all(line.produced_at is not None for line in order.lines if line.made_to_order)


def finish_batch(
    session: Session,
    batch_id: int,
    *,
    actor_user_id: int | None,
    now: datetime | None = None,
) -> ProductionBatch:
    """Mark a batch finished and its lines produced; move each of its orders whose
    made-to-order lines are all produced from "in production" to "ready"."""
    now = now or utcnow()
    # Conditional: finishing twice (a double click, two people) finishes once.
    finished = rows_changed(
        session,
        sa.update(ProductionBatch)
        .where(ProductionBatch.id == batch_id, ProductionBatch.status == "open")
        .values(status="finished", finished_at=now)
        .execution_options(synchronize_session=False),
    )
    if not finished:
        raise BatchNotOpen()
    session.execute(
        sa.update(OrderLine)
        .where(OrderLine.production_batch_id == batch_id, OrderLine.produced_at.is_(None))
        .values(produced_at=now)
        .execution_options(synchronize_session=False)
    )
    session.expire_all()
    batch = session.get_one(ProductionBatch, batch_id)
    orders = session.scalars(
        sa.select(Order)
        .where(
            Order.id.in_(
                sa.select(OrderLine.order_id).where(OrderLine.production_batch_id == batch_id)
            )
        )
        .options(selectinload(Order.lines))
        .order_by(Order.id)
    ).all()
    ready = []
    for order in orders:
        if (
            order.fulfilment_status == "in_production"
            and order.state == "open"
            and order.payment_status in MAKEABLE_PAYMENT
            and _all_made(order)
        ):
            lifecycle.mark_ready(session, order, actor_user_id=actor_user_id)
            ready.append(order.number)
    record(
        session,
        actor_user_id=actor_user_id,
        action="production.batch_finished",
        target_type="production_batch",
        target_id=batch_id,
        before={"status": "open", "finished_at": None},
        after={"status": "finished", "finished_at": now.isoformat(), "ready_orders": ready},
    )
    return batch


def get_batch(session: Session, batch_id: int) -> ProductionBatch | None:
    """One batch with its lines and their orders (for the cut sheet)."""
    return session.scalars(
        sa.select(ProductionBatch)
        .where(ProductionBatch.id == batch_id)
        .options(selectinload(ProductionBatch.lines).selectinload(OrderLine.order))
    ).first()


def cut_sheet(batch: ProductionBatch) -> list[QueueRow]:
    """A batch's lines summed per product × size × colour (no dates, no prices)."""
    return roll_up(batch.lines, with_due=False)


@dataclass
class BatchSummary:
    batch: ProductionBatch
    pieces: int
    line_count: int
    order_count: int


def list_batches(session: Session) -> list[BatchSummary]:
    """Every batch, open ones first, newest first within each."""
    batches = session.scalars(
        sa.select(ProductionBatch)
        .options(selectinload(ProductionBatch.lines))
        .order_by(
            sa.case((ProductionBatch.status == "open", 0), else_=1),
            ProductionBatch.created_at.desc(),
            ProductionBatch.id.desc(),
        )
    ).all()
    return [
        BatchSummary(
            batch=batch,
            pieces=sum(line.quantity for line in batch.lines),
            line_count=len(batch.lines),
            order_count=len({line.order_id for line in batch.lines}),
        )
        for batch in batches
    ]
