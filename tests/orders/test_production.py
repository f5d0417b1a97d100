"""The production queue's rules: the roll-up on a known set of orders, starting a batch,
finishing it."""

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa

from shop.audit.models import AuditEntry
from shop.orders import production
from shop.orders.models import Order, OrderLine, ProductionBatch
from tests.accounts.helpers import make_user
from tests.order_factories import make_order

SHANGHAI = ZoneInfo("Asia/Shanghai")


def mto(session, lines, *, lead=10, days_ago=0, **fields):
    return make_order(
        session,
        lines=lines,
        made_to_order=True,
        lead_time_days=lead,
        paid_days_ago=days_ago,
        **fields,
    )


def today() -> date:
    return datetime.now(UTC).astimezone(SHANGHAI).date()


def flat(groups):
    return [
        (g.due, row.product_name, row.size, row.colour, row.quantity, row.order_numbers)
        for g in groups
        for row in g.rows
    ]


def test_the_roll_up_sums_per_product_size_colour_by_due_date_earliest_first(session):
    # Given: two orders due in 4 days (10-day lead paid 6 days ago), one due in 10 days.
    early_a = mto(session, (("SHIRT", 3, 100), ("TIE", 1, 50)), days_ago=6)
    early_b = mto(session, (("SHIRT", 2, 100),), days_ago=6)
    late = mto(session, (("SHIRT", 5, 100),), days_ago=0)
    # A second colour of the same product on the early order, in the same due group.
    early_b.lines.append(
        OrderLine(
            sku="SHIRT",
            product_name="Product SHIRT",
            size="130",
            colour="white",
            unit_amount=100,
            quantity=4,
            line_amount=400,
            made_to_order=True,
            lead_time_days=10,
        )
    )
    session.flush()

    groups = production.list_queue(session, SHANGHAI)

    early, later = today() + timedelta(days=4), today() + timedelta(days=10)
    assert flat(groups) == [
        (early, "Product SHIRT", "130", "navy", 5, [early_a.number, early_b.number]),
        (early, "Product SHIRT", "130", "white", 4, [early_b.number]),
        (early, "Product TIE", "130", "navy", 1, [early_a.number]),
        (later, "Product SHIRT", "130", "navy", 5, [late.number]),
    ]
    assert [g.quantity for g in groups] == [10, 5]
    assert [g.group for g in groups] == ["", ""]  # no schools on orders yet


def test_the_roll_up_leaves_out_what_needs_no_making(session):
    mto(session, (("UNPAID", 1, 100),), payment_status="unpaid")
    mto(session, (("REFUNDED", 1, 100),), payment_status="refunded")
    mto(session, (("CANCELLED", 1, 100),), state="cancelled")
    mto(session, (("SHIPPED", 1, 100),), fulfilment_status="shipped")
    make_order(session, lines=(("STOCKED", 1, 100),))  # not made to order
    produced = mto(session, (("PRODUCED", 1, 100),))
    produced.lines[0].produced_at = datetime.now(UTC)
    batched = mto(session, (("BATCHED", 1, 100),))
    batch = ProductionBatch()
    session.add(batch)
    session.flush()
    batched.lines[0].production_batch_id = batch.id
    invoice = mto(session, (("INVOICE", 2, 100),), payment_status="awaiting_invoice", lead=3)
    refunded_part = mto(session, (("PART", 1, 100),), payment_status="partially_refunded")
    session.flush()

    rows = flat(production.list_queue(session, SHANGHAI))

    # On invoice: due from the order date (not yet paid).
    assert [(r[1], r[4], r[5]) for r in rows] == [
        ("Product INVOICE", 2, [invoice.number]),
        ("Product PART", 1, [refunded_part.number]),
    ]
    assert rows[0][0] == today() + timedelta(days=3)


def test_due_dates_are_days_in_the_factory_zone(session):
    # Paid at 20:00 UTC on 1 March = 04:00 on 2 March in Shanghai; 5 days' lead → 7 March.
    order = mto(session, (("A", 1, 100),), lead=5)
    order.paid_at = datetime(2026, 3, 1, 20, 0, tzinfo=UTC)
    session.flush()
    assert production.due_date(order.lines[0], order, SHANGHAI) == date(2026, 3, 7)
    assert production.due_date(order.lines[0], order, ZoneInfo("UTC")) == date(2026, 3, 6)


def test_parse_line_ids_reads_row_values_and_drops_junk():
    assert production.parse_line_ids(["3,7", "9", "x", "", "7", "-1", "1" * 30]) == [3, 7, 9]


def audits(session, action):
    return session.scalars(sa.select(AuditEntry).where(AuditEntry.action == action)).all()


def test_starting_a_batch_takes_the_lines_and_moves_unfulfilled_orders(app, session):
    user = make_user(session, email="w@factory.example", role="workshop")
    a = mto(session, (("A", 2, 100), ("B", 1, 100)))
    b = mto(session, (("A", 1, 100),), fulfilment_status="partially_shipped")
    other = mto(session, (("C", 1, 100),))
    chosen = [a.lines[0].id, a.lines[1].id, b.lines[0].id]

    with app.test_request_context():
        batch = production.start_batch(session, chosen, actor_user_id=user.id)

    assert batch.status == "open" and batch.created_by_id == user.id
    assert sorted(line.id for line in batch.lines) == chosen
    session.refresh(a)
    session.refresh(b)
    session.refresh(other)
    assert a.fulfilment_status == "in_production"
    assert a.events[-1].kind == "in_production"
    assert b.fulfilment_status == "partially_shipped"  # not moved backwards
    assert other.fulfilment_status == "unfulfilled"
    assert other.lines[0].production_batch_id is None
    [entry] = audits(session, "production.batch_started")
    assert entry.actor_user_id == user.id and entry.target_id == str(batch.id)
    assert entry.after["line_ids"] == chosen
    assert entry.after["orders"] == [a.number, b.number]
    # The queue no longer shows them.
    assert flat(production.list_queue(session, SHANGHAI))[0][5] == [other.number]


def test_an_empty_selection_is_refused(session):
    with pytest.raises(production.EmptySelection):
        production.start_batch(session, [], actor_user_id=None)
    assert session.scalar(sa.select(sa.func.count(ProductionBatch.id))) == 0


@pytest.mark.parametrize("case", ["batched", "produced", "unpaid", "stocked", "missing"])
def test_lines_that_need_no_making_are_refused(session, case):
    order = mto(session, (("A", 1, 100),), payment_status="unpaid" if case == "unpaid" else "paid")
    ok = mto(session, (("B", 1, 100),))
    line = order.lines[0]
    if case == "batched":
        production.start_batch(session, [line.id], actor_user_id=None)
    if case == "produced":
        line.produced_at = datetime.now(UTC)
    if case == "stocked":
        line.made_to_order = False
    session.commit()
    batches_before = session.scalar(sa.select(sa.func.count(ProductionBatch.id)))
    chosen = [ok.lines[0].id, 999999 if case == "missing" else line.id]

    with pytest.raises(production.LinesNotAvailable):
        production.start_batch(session, chosen, actor_user_id=None)
    session.rollback()

    assert session.scalar(sa.select(sa.func.count(ProductionBatch.id))) == batches_before
    assert session.get(OrderLine, ok.lines[0].id).production_batch_id is None
    assert session.get(Order, ok.id).fulfilment_status == "unfulfilled"
    assert len(audits(session, "production.batch_started")) == (1 if case == "batched" else 0)


def test_finishing_a_batch_makes_lines_produced_and_orders_ready(app, session):
    user = make_user(session, email="w@factory.example", role="workshop")
    whole = mto(session, (("A", 2, 100),))
    split = mto(session, (("A", 1, 100), ("B", 1, 100)))  # B goes in a later batch
    mixed = mto(session, (("A", 1, 100),))
    mixed.lines.append(
        OrderLine(
            sku="STOCKED",
            product_name="Stocked",
            unit_amount=100,
            quantity=1,
            line_amount=100,
            allocated=True,
        )
    )
    session.flush()
    with app.test_request_context():
        batch = production.start_batch(
            session,
            [whole.lines[0].id, split.lines[0].id, mixed.lines[0].id],
            actor_user_id=user.id,
        )
        session.commit()
        now = datetime(2026, 11, 26, 3, 0, tzinfo=UTC)

        production.finish_batch(session, batch.id, actor_user_id=user.id, now=now)
        session.commit()

    for order in (whole, split, mixed):
        session.refresh(order)
    assert session.get(ProductionBatch, batch.id).status == "finished"
    assert whole.lines[0].produced_at is not None
    assert whole.fulfilment_status == "ready"
    assert mixed.fulfilment_status == "ready"  # its stocked line is on the shelf
    assert split.fulfilment_status == "in_production"  # B is not made yet
    assert split.lines[1].produced_at is None
    [entry] = audits(session, "production.batch_finished")
    assert entry.before["status"] == "open" and entry.after["status"] == "finished"
    assert entry.after["ready_orders"] == [whole.number, mixed.number]

    # Finishing twice is refused and changes nothing.
    with pytest.raises(production.BatchNotOpen):
        production.finish_batch(session, batch.id, actor_user_id=user.id)
    session.rollback()
    assert len(audits(session, "production.batch_finished")) == 1


def test_the_cut_sheet_sums_a_batch_without_dates(session):
    a = mto(session, (("A", 2, 100),), lead=3)
    b = mto(session, (("A", 4, 100), ("B", 1, 100)), lead=20, days_ago=2)
    batch = production.start_batch(
        session, [a.lines[0].id, b.lines[0].id, b.lines[1].id], actor_user_id=None
    )
    session.commit()
    session.expire_all()

    rows = production.cut_sheet(production.get_batch(session, batch.id))

    assert [(r.product_name, r.size, r.colour, r.quantity, r.order_numbers) for r in rows] == [
        ("Product A", "130", "navy", 6, [a.number, b.number]),
        ("Product B", "130", "navy", 1, [b.number]),
    ]
    [summary] = production.list_batches(session)
    assert (summary.pieces, summary.line_count, summary.order_count) == (7, 3, 2)


@pytest.mark.slow
def test_the_demo_leaves_work_in_the_queue(make_app, session_factory):
    app = make_app(DEMO_IMAGE_SIZE=120)
    assert app.test_cli_runner().invoke(args=["seed-demo"]).exit_code == 0
    with session_factory(app) as db:
        groups = production.list_queue(db, SHANGHAI)
    assert sum(group.quantity for group in groups if not group.group) == 30 + 12 + 8
    # The demo school's logo polos wait under the school's name (shop.demo.schools).
    assert "Hangzhou Xixi Primary School" in {group.group for group in groups}
