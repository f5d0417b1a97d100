"""What a school's classes ordered, for its admins: totals per class and per-class
packing lists (a row per student and item). Plain functions over a ``Session``.

Counted: lines of the school's open orders that are paid (also when partly refunded) or
awaiting invoice payment; pieces already put back on the shelf (``returned_quantity``) are
left out. Lines without a class are totalled under ``""`` (the pages say "no class").
"""

from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.orm import Session

from shop.catalog.translations import product_names
from shop.locales import column_language
from shop.orders.models import Order, OrderLine
from shop.schools.models import School

COUNTED_PAYMENT = ("paid", "partially_refunded", "awaiting_invoice")


@dataclass(frozen=True)
class ClassTotal:
    class_name: str
    students: int
    pieces: int
    amount: int  # the lines' amounts, in the school's currency


@dataclass(frozen=True)
class PackingRow:
    student: str
    class_name: str
    item: str
    size: str
    colour: str
    quantity: int
    order_number: str


def _counted(school: School):
    return (
        Order.school_id == school.id,
        Order.state == "open",
        Order.payment_status.in_(COUNTED_PAYMENT),
        OrderLine.quantity > OrderLine.returned_quantity,
    )


def class_totals(session: Session, school: School) -> list[ClassTotal]:
    """Pieces, students and amount per class, by class name: one query."""
    pieces = sa.func.sum(OrderLine.quantity - OrderLine.returned_quantity)
    rows = session.execute(
        sa.select(
            OrderLine.class_name,
            sa.func.count(sa.distinct(OrderLine.student_name)),
            pieces,
            sa.func.sum(OrderLine.line_amount),
        )
        .join(Order, Order.id == OrderLine.order_id)
        .where(*_counted(school))
        .group_by(OrderLine.class_name)
        .order_by(OrderLine.class_name)
    ).all()
    return [
        ClassTotal(class_name=name, students=students, pieces=int(count), amount=int(amount))
        for name, students, count, amount in rows
    ]


def packing_list(session: Session, school: School, class_name: str) -> list[PackingRow]:
    """Every piece to pack for ``class_name``, by student, then item, each item named in
    the school's language (``School.locale``; ``shop.catalog.translations.line_names``'s
    rule), whoever prints the list: two queries."""
    rows = session.execute(
        sa.select(
            OrderLine.student_name,
            OrderLine.class_name,
            OrderLine.product_name,
            OrderLine.size,
            OrderLine.colour,
            OrderLine.quantity - OrderLine.returned_quantity,
            Order.number,
            OrderLine.product_id,
            Order.locale,
        )
        .join(Order, Order.id == OrderLine.order_id)
        .where(*_counted(school), OrderLine.class_name == class_name)
    ).all()
    language = column_language(school.locale)
    foreign = [row for row in rows if column_language(row.locale) != language]
    names = product_names(session, (row.product_id for row in foreign), school.locale)
    found = []
    for student, class_, item, size, colour, quantity, number, product_id, locale in rows:
        if column_language(locale) != language:
            item = (names.get(product_id) if product_id is not None else None) or item
        found.append(PackingRow(student, class_, item, size, colour, quantity, number))
    return sorted(found, key=lambda r: (r.student, r.item, r.size, r.order_number))


def by_student(rows: list[PackingRow]) -> list[tuple[str, list[PackingRow]]]:
    """``packing_list`` rows grouped per student (one printed block each), in order."""
    groups: list[tuple[str, list[PackingRow]]] = []
    for row in rows:
        if groups and groups[-1][0] == row.student:
            groups[-1][1].append(row)
        else:
            groups.append((row.student, [row]))
    return groups
