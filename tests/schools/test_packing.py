"""Per-class totals and packing lists from the school's paid and invoiced orders."""

from shop.schools.packing import PackingRow, by_student, class_totals, packing_list
from tests.order_factories import make_order
from tests.school_factories import make_school


def school_order(session, school, children, **fields):
    """An order for ``school`` with a line per ``(student, class, sku, quantity, unit)``."""
    order = make_order(
        session,
        lines=[(sku, quantity, unit) for _student, _class, sku, quantity, unit in children],
        school_id=school.id,
        **fields,
    )
    for line, (student, class_name, _sku, _q, _u) in zip(order.lines, children, strict=True):
        line.student_name = student
        line.class_name = class_name
        line.product_name = f"Item {line.sku}"
    session.flush()
    return order


def test_class_totals_count_paid_and_invoiced_open_orders_only(session):
    school = make_school(session)
    other = make_school(session)
    paid = school_order(
        session,
        school,
        [
            ("Ann", "1A", "POLO", 2, 8900),
            ("Bo", "1A", "POLO", 1, 8900),
            ("Cy", "2B", "HAT", 1, 500),
        ],
    )
    school_order(
        session, school, [("Di", "1A", "POLO", 3, 8900)], payment_status="awaiting_invoice"
    )
    # not counted: unpaid, cancelled, another school's
    school_order(session, school, [("Ed", "1A", "POLO", 5, 8900)], payment_status="unpaid")
    school_order(
        session,
        school,
        [("Fi", "1A", "POLO", 5, 8900)],
        payment_status="refunded",
        state="cancelled",
    )
    school_order(session, other, [("Gu", "1A", "POLO", 7, 8900)])
    paid.lines[1].returned_quantity = 1  # Bo's polo went back on the shelf
    session.commit()

    totals = class_totals(session, school)

    assert [(t.class_name, t.students, t.pieces, t.amount) for t in totals] == [
        ("1A", 2, 5, 2 * 8900 + 3 * 8900),
        ("2B", 1, 1, 500),
    ]


def test_a_packing_list_has_a_row_per_student_and_item(session):
    school = make_school(session)
    first = school_order(
        session,
        school,
        [("Bo", "1A", "POLO", 2, 8900), ("Ann", "1A", "HAT", 1, 500), ("Cy", "2B", "HAT", 1, 500)],
    )
    second = school_order(
        session, school, [("Ann", "1A", "POLO", 1, 8900)], payment_status="awaiting_invoice"
    )
    school_order(session, school, [("Ann", "1A", "SOCKS", 9, 100)], payment_status="unpaid")
    session.commit()

    rows = packing_list(session, school, "1A")

    assert rows == [
        PackingRow("Ann", "1A", "Item HAT", "130", "navy", 1, first.number),
        PackingRow("Ann", "1A", "Item POLO", "130", "navy", 1, second.number),
        PackingRow("Bo", "1A", "Item POLO", "130", "navy", 2, first.number),
    ]
    assert [(student, len(group)) for student, group in by_student(rows)] == [
        ("Ann", 2),
        ("Bo", 1),
    ]
    assert packing_list(session, school, "3C") == []
