"""Every demo school can be walked end to end: a parent orders a child's kit from the
school's page, and each demo roster (whole classes, as the school admin orders them)
previews without a problem and is placed on invoice through the school admin's pages."""

import csv
import io
import secrets

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session, selectinload

from shop.cart.models import CartLine
from shop.catalog.models import Variant
from shop.demo.accounts import DEMO_PASSWORD
from shop.demo.schools import SCHOOLS, DemoSchool, SchoolOrder, student_variant
from shop.orders.models import Order, OrderLine
from shop.schools.models import Invoice, School, UniformItem
from shop.schools.roster import build_preview
from tests.accounts.helpers import login


@pytest.fixture
def demo(make_app, session_factory):
    """The app with the whole demo seeded (small pictures), and a session on it."""
    app = make_app(DEMO_IMAGE_SIZE=64)
    result = app.test_cli_runner().invoke(args=["seed-demo"])
    assert result.exit_code == 0, result.output
    with session_factory(app) as session:
        yield app, session


def load_school(session: Session, slug: str) -> School:
    return session.scalars(
        sa.select(School)
        .where(School.slug == slug)
        .options(selectinload(School.items).selectinload(UniformItem.product))
    ).one()


def needed(school: School, student) -> list[UniformItem]:
    """The required items the demo gives this child (as ``shop.demo.schools`` does)."""
    return [
        item
        for item in school.items
        if item.required and item.applies_to(student.grade, student.gender)
    ]


def roster_text(school: School, order: SchoolOrder) -> str:
    """The demo roster as a school admin would paste it: each child's size of each
    required item, in the colour the demo picks."""
    items = [item for item in school.items if item.required]
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["student", "class", "grade", "gender", *(i.product.slug for i in items)])
    for student in order.students:
        chosen = {
            item.id: student_variant(item.product, student) for item in needed(school, student)
        }
        cells = [
            f"{chosen[item.id].size}/{chosen[item.id].colour}" if item.id in chosen else ""
            for item in items
        ]
        writer.writerow([student.name, student.class_name, student.grade, student.gender, *cells])
    return out.getvalue()


def rosters() -> list[tuple[DemoSchool, SchoolOrder]]:
    return [(spec, order) for spec in SCHOOLS for order in spec.orders if order.roster]


def test_the_demo_has_rosters_to_walk():
    assert {spec.slug for spec, _ in rosters()} == {
        "hangzhou-xixi-primary",
        "marina-bay-international",
    }


@pytest.mark.parametrize(("spec", "order"), rosters(), ids=lambda value: getattr(value, "slug", ""))
def test_a_demo_roster_previews_clean_and_is_placed_on_invoice(demo, spec, order):
    app, session = demo
    school = load_school(session, spec.slug)
    text = roster_text(school, order)

    preview = build_preview(session, school, text)

    assert [(p.row, p.column, p.message) for p in preview.problems] == []
    assert len(preview.students) == len(order.students)
    assert all(student.lines for student in preview.students)
    session.rollback()  # nothing held while the app places the order

    client = app.test_client()
    assert login(client, email=spec.admin[0], password=DEMO_PASSWORD).status_code == 302
    orders_before = session.scalar(sa.select(sa.func.count(Order.id)))
    response = client.post(
        f"/schools/{spec.slug}/admin/roster/confirm",
        data={
            "request_key": secrets.token_urlsafe(24),
            "roster": text,
            "payment": "invoice",
            "po_number": "DEMO-WALK-1",
        },
    )
    assert response.status_code == 303, response.text
    progress = client.get(response.headers["Location"])

    assert progress.status_code == 303
    assert f"/schools/{spec.slug}/admin/invoices/INV-" in progress.headers["Location"]
    assert session.scalar(sa.select(sa.func.count(Order.id))) == orders_before + 1
    placed = session.scalars(sa.select(Order).where(Order.po_number == "DEMO-WALK-1")).one()
    assert (placed.school_id, placed.payment_status) == (school.id, "awaiting_invoice")
    assert session.scalars(sa.select(Invoice).where(Invoice.order_id == placed.id)).one()
    students = session.scalars(
        sa.select(OrderLine.student_name).where(OrderLine.order_id == placed.id)
    ).all()
    assert set(students) == {student.name for student in order.students}


def in_stock_variant(item: UniformItem, student) -> Variant:
    """The child's size as the demo picks it; where that colour is sold out in that size,
    another colour of the size, as a parent would choose."""
    picked = student_variant(item.product, student)
    same_size = [v for v in item.product.variants if v.size == picked.size and v is not picked]
    return next(v for v in [picked, *same_size] if item.product.made_to_order or v.available > 0)


@pytest.mark.parametrize("spec", SCHOOLS, ids=lambda spec: spec.slug)
def test_a_parent_orders_a_demo_childs_kit_from_the_school_page(demo, spec):
    app, session = demo
    school = load_school(session, spec.slug)
    student = next(o for o in spec.orders if not o.roster).students[0]
    form = {
        "student_name": student.name,
        "class_name": student.class_name,
        "grade": student.grade,
        "gender": student.gender,
    }
    for item in needed(school, student):
        form[f"variant-{item.id}"] = str(in_stock_variant(item, student).id)
        form[f"qty-{item.id}"] = str(item.quantity_per_child)
    client = app.test_client()
    if spec.access_code:
        typed = f" {spec.access_code.lower()} "  # as a parent types it on a phone
        unlocked = client.post(f"/schools/{spec.slug}/unlock", data={"code": typed})
        assert unlocked.status_code == 303

    response = client.post(f"/schools/{spec.slug}/kit", data=form)

    assert response.status_code == 303, response.text
    assert response.headers["Location"].endswith(f"/schools/{spec.slug}?added=1")
    lines = session.execute(
        sa.select(CartLine.student_name, CartLine.school_id, CartLine.quantity)
    ).all()
    assert {(name, school_id) for name, school_id, _ in lines} == {(student.name, school.id)}
    assert sum(quantity for *_, quantity in lines) == sum(
        item.quantity_per_child for item in needed(school, student)
    )
