"""``seed-demo`` adds three demo schools (China, Japan, Singapore; one private), their
lists, school admins and school orders, once; and adds them to a database whose demo
catalogue was loaded before schools existed."""

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import selectinload

from shop.accounts.passwords import verify_password
from shop.accounts.service import get_user_by_email
from shop.catalog.models import Product
from shop.demo.accounts import DEMO_PASSWORD, seed_demo_accounts
from shop.demo.catalogue import seed_demo_catalogue
from shop.demo.schools import seed_demo_schools
from shop.orders import production
from shop.orders.models import Order, OrderLine
from shop.schools.access import code_matches
from shop.schools.invoices import is_overdue
from shop.schools.models import (
    DeliveryRound,
    Invoice,
    InvoicePayment,
    School,
    SchoolMember,
    UniformItem,
)
from shop.storage import get_storage

SCHOOL_TABLES = (School, UniformItem, DeliveryRound, SchoolMember, Invoice, InvoicePayment)


def school_counts(session):
    counts = [session.scalar(sa.select(sa.func.count()).select_from(m)) for m in SCHOOL_TABLES]
    orders = session.scalar(sa.select(sa.func.count(Order.id)).where(Order.school_id.is_not(None)))
    return (*counts, orders)


@pytest.mark.slow
def test_seed_demo_adds_three_schools_with_lists_admins_and_orders_once(make_app, session_factory):
    app = make_app(DEMO_IMAGE_SIZE=120)
    runner = app.test_cli_runner()
    first = runner.invoke(args=["seed-demo"])
    assert first.exit_code == 0, first.output
    assert "Demo schools: 3 (added 3" in first.output
    with session_factory(app) as session:
        seeded = school_counts(session)
    second = runner.invoke(args=["seed-demo"])
    assert second.exit_code == 0, second.output
    assert "Demo schools: already there." in second.output

    with session_factory(app) as session:
        assert school_counts(session) == seeded
        schools = session.scalars(
            sa.select(School)
            .options(
                selectinload(School.items)
                .selectinload(UniformItem.product)
                .selectinload(Product.price_tiers),
                selectinload(School.rounds),
            )
            .order_by(School.id)
        ).all()
        assert sorted(school.country for school in schools) == ["CN", "JP", "SG"]
        assert {school.country: school.currency for school in schools} == {
            "CN": "CNY",
            "JP": "JPY",
            "SG": "SGD",
        }

        # Exactly one private school, and its code (only) opens it.
        private = [school for school in schools if school.private]
        assert [school.slug for school in private] == ["marina-bay-international"]
        assert code_matches(private[0], "MARINA2026")
        assert not code_matches(private[0], "MARINA2025")
        assert private[0].access_code_hash.startswith("scrypt:")

        # Every list has 5–8 items, each priced in the school's currency, across seasons.
        today = datetime.now(UTC).date()
        for school in schools:
            assert 5 <= len(school.items) <= 8, school.slug
            assert any(item.required for item in school.items)
            assert any(not item.required for item in school.items)
            assert {item.season for item in school.items} >= {"summer", "pe"}
            for item in school.items:
                currencies = {tier.currency for tier in item.product.price_tiers}
                assert school.currency in currencies, (school.slug, item.product.slug)
                assert item.product.size_chart, item.product.slug
            assert len([r for r in school.rounds if r.delivery_date > today]) >= 2
        hangzhou = schools[0]
        assert hangzhou.invoice_allowed and hangzhou.credit_limit_amount == 5_000_000
        assert {item.gender for item in hangzhou.items} == {"any", "boys", "girls"}
        assert any(item.school_price_amount for item in hangzhou.items)
        school_only = [item.product for item in hangzhou.items if item.product.school_id]
        assert [product.school_id for product in school_only] == [hangzhou.id]
        assert not schools[1].invoice_allowed  # Sakura: card only

        # The bursar is Hangzhou's school admin and signs in with the demo password.
        bursar = get_user_by_email(session, "bursar@demo.sourcefront.test")
        assert bursar.role == "school_admin"
        assert verify_password(bursar.password_hash, DEMO_PASSWORD)
        members = session.execute(sa.select(SchoolMember.school_id, SchoolMember.user_id)).all()
        assert (hangzhou.id, bursar.id) in members
        assert {school_id for school_id, _ in members} == {school.id for school in schools}

        # School orders: delivered with the school's round, a line per student per item.
        orders = session.scalars(
            sa.select(Order)
            .where(Order.school_id.is_not(None))
            .options(selectinload(Order.lines), selectinload(Order.events))
        ).all()
        assert all(order.delivery_method == "school" for order in orders)
        assert all(order.delivery_round_id and order.events and order.lines for order in orders)
        assert all(line.student_name and line.class_name for o in orders for line in o.lines)
        students = {line.student_name for o in orders for line in o.lines}
        assert "Li Ming" in students
        roster = next(o for o in orders if o.school_id == hangzhou.id and o.po_number)
        assert roster.payment_status == "awaiting_invoice"
        assert len({line.student_name for line in roster.lines}) == 20
        assert {line.class_name for line in roster.lines} == {"3A", "3B"}
        assert roster.total_amount == sum(line.line_amount for line in roster.lines)

        # Invoices: Hangzhou's is due later, Marina Bay's is overdue (part paid).
        invoices = {
            invoice.school_id: invoice for invoice in session.scalars(sa.select(Invoice)).all()
        }
        assert invoices[hangzhou.id].order_id == roster.id
        assert invoices[hangzhou.id].amount == roster.total_amount
        assert invoices[hangzhou.id].number.startswith("INV-")
        assert not is_overdue(invoices[hangzhou.id], today)
        assert is_overdue(invoices[private[0].id], today)
        assert 0 < invoices[private[0].id].paid_amount < invoices[private[0].id].amount

        # The workshop's queue shows the school's made-to-order polos under its name.
        groups = production.list_queue(session, ZoneInfo("Asia/Shanghai"))
        assert "Hangzhou Xixi Primary School" in {group.group for group in groups}


@pytest.mark.slow
def test_seed_demo_if_empty_adds_the_schools_to_an_existing_demo_catalogue(
    make_app, session_factory
):
    # Given: a database seeded before there were schools.
    app = make_app(DEMO_IMAGE_SIZE=120)
    with session_factory(app) as session:
        seed_demo_catalogue(session, get_storage(app), image_size=120)
        seed_demo_accounts(session)
        session.commit()
        products = session.scalar(sa.select(sa.func.count(Product.id)))
    runner = app.test_cli_runner()

    # When: ``make run`` seeds with --if-empty.
    result = runner.invoke(args=["seed-demo", "--if-empty"])

    # Then: the catalogue is left alone, the schools are added, and only once.
    assert result.exit_code == 0, result.output
    assert "already has products" in result.output
    assert "Demo schools: 3 (added 3" in result.output
    with session_factory(app) as session:
        seeded = school_counts(session)
        assert seeded[0] == 3
        assert session.scalar(sa.select(sa.func.count(Product.id))) == products + 1
    again = runner.invoke(args=["seed-demo", "--if-empty"])
    assert again.exit_code == 0
    assert "Demo schools" not in again.output
    with session_factory(app) as session:
        assert school_counts(session) == seeded


def test_without_the_demo_catalogue_no_school_is_added(app, session):
    report = seed_demo_schools(session, get_storage(app), image_size=120)

    assert "skipped" in report
    assert school_counts(session) == (0, 0, 0, 0, 0, 0, 0)
    assert session.scalar(sa.select(sa.func.count(OrderLine.id))) == 0
