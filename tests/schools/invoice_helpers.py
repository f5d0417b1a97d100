"""Roster previews built directly, and school orders placed through the real service."""

import sqlalchemy as sa

from shop.catalog.models import Variant
from shop.db import utcnow
from shop.schools.models import Invoice
from shop.schools.ordering import place_roster_order
from shop.schools.roster import RosterLine, RosterPreview, RosterStudent
from tests.school_factories import make_school


def invoice_school(session, **fields):
    """A verified school with 30 days' terms and CN¥1,000.00 of credit."""
    fields.setdefault("verified", True)
    fields.setdefault("invoice_terms_days", 30)
    fields.setdefault("credit_limit_amount", 100000)
    return make_school(session, **fields)


def roster(school, *rows) -> RosterPreview:
    """``rows`` of ``(student, class, variant, quantity)`` as a clean preview."""
    students: dict[tuple[str, str], RosterStudent] = {}
    for number, (name, class_name, variant, quantity) in enumerate(rows, start=2):
        student = students.setdefault(
            (name, class_name), RosterStudent(number, name, class_name, "", "any", None)
        )
        student.lines.append(
            RosterLine(
                item_id=0,
                product_id=variant.product_id,
                product_slug=variant.product.slug,
                product_name=variant.product.name,
                variant_id=variant.id,
                sku=variant.sku,
                size=variant.size,
                colour=variant.colour,
                quantity=quantity,
            )
        )
    return RosterPreview(
        school_id=school.id, currency=school.currency, students=list(students.values())
    )


def invoice_order(
    session, school, variant, quantity=1, *, now=None, po_number="PO-2026-17", user=None, **kw
):
    """One student's ``quantity`` of ``variant``, ordered on invoice."""
    return place_roster_order(
        session,
        school,
        roster(school, ("Li Ming", "3A", variant, quantity)),
        user=user,
        payment="invoice",
        po_number=po_number,
        locale="en",
        gateway=None,
        now=now or utcnow(),
        reservation_minutes=30,
        **kw,
    )


def stock(session, variant_id) -> tuple[int, int]:
    session.expire_all()
    variant = session.get(Variant, variant_id)
    return variant.on_hand, variant.allocated


def all_invoices(session) -> list[Invoice]:
    return list(session.scalars(sa.select(Invoice).order_by(Invoice.id)))
