"""A confirmed roster becomes one order: a line per student per item, tiers over the whole
order, school prices, delivery to the school, paid on invoice or by card."""

from datetime import timedelta

import pytest
import sqlalchemy as sa

from shop.checkout.service import NoSchoolDelivery, StockRanOut
from shop.db import utcnow
from shop.orders.models import Order
from shop.payments.models import Payment
from shop.payments.stripe_gateway import Intent, gateway
from shop.schools.ordering import RosterNotReady, UnknownPayment, place_roster_order
from shop.schools.roster import RosterProblem
from shop.stock.allocation import NotEnoughStock
from tests.accounts.helpers import make_user
from tests.factories import make_product
from tests.school_factories import add_item
from tests.schools.invoice_helpers import all_invoices, invoice_school, roster, stock


@pytest.fixture
def shirt(session):
    """CN¥89.00, or CN¥79.00 a piece from 10; sizes 130 and 140, 20 of each."""
    return make_product(
        session,
        slug="shirt",
        name="Shirt",
        sizes=("130", "140"),
        tiers=((1, 8900), (10, 7900)),
        on_hand=20,
    )


def order_roster(session, school, preview, **overrides):
    arguments = {
        "user": None,
        "payment": "invoice",
        "po_number": "PO-1",
        "locale": "en",
        "gateway": None,
        "now": utcnow(),
        "reservation_minutes": 30,
    }
    return place_roster_order(session, school, preview, **{**arguments, **overrides})


def orders(session) -> list[Order]:
    return list(session.scalars(sa.select(Order)))


def test_a_roster_order_has_a_line_per_student_per_item_priced_over_the_whole_order(session, shirt):
    school = invoice_school(
        session, delivery_line1="8 Garden Road", delivery_postcode="310000", delivery_phone="0571"
    )
    bursar = make_user(session, email="bursar@school.example", role="school_admin")
    small, large = shirt.variants
    preview = roster(
        school,
        ("Li Ming", "3A", small, 4),
        ("Wang Fang", "3A", large, 3),
        ("Zhang Wei", "3B", small, 3),
    )

    order = order_roster(session, school, preview, user=bursar)
    session.commit()

    # 10 shirts in all reach the CN¥79.00 tier, though no single student orders 10.
    assert [
        (line.student_name, line.class_name, line.size, line.quantity, line.unit_amount)
        for line in order.lines
    ] == [
        ("Li Ming", "3A", "130", 4, 7900),
        ("Wang Fang", "3A", "140", 3, 7900),
        ("Zhang Wei", "3B", "130", 3, 7900),
    ]
    assert order.total_amount == order.subtotal_amount == 79000
    assert order.shipping_amount == 0
    assert order.currency == "CNY"
    assert order.user_id == bursar.id and order.email == "bursar@school.example"
    assert order.delivery_method == "school"
    assert order.delivery_round_id == school.rounds[0].id
    assert (order.line1, order.postcode, order.phone) == ("8 Garden Road", "310000", "0571")
    assert order.school_id == school.id
    assert stock(session, small.id) == (13, 0)  # sold on invoice
    assert stock(session, large.id) == (17, 0)


def test_the_schools_own_price_is_charged(session, shirt):
    school = invoice_school(session)
    add_item(session, school, shirt, school_price_amount=6500)

    order = order_roster(session, school, roster(school, ("Li Ming", "3A", shirt.variants[0], 2)))

    assert [line.unit_amount for line in order.lines] == [6500]
    assert order.total_amount == 13000


def test_a_roster_short_of_stock_is_refused_and_nothing_is_written(session, shirt):
    school = invoice_school(session)
    small = shirt.variants[0]
    session.commit()

    with pytest.raises(StockRanOut):
        order_roster(
            session,
            school,
            roster(school, ("Li Ming", "3A", small, 15), ("Wang Fang", "3A", small, 6)),
        )
    session.rollback()

    assert orders(session) == []
    assert all_invoices(session) == []
    assert stock(session, small.id) == (20, 0)


def test_a_roster_with_problems_or_for_another_school_is_refused(session, shirt):
    school = invoice_school(session)
    other = invoice_school(session)
    preview = roster(school, ("Li Ming", "3A", shirt.variants[0], 1))
    preview.problems.append(RosterProblem(3, "shirt", "size not offered"))

    with pytest.raises(RosterNotReady):
        order_roster(session, school, preview)
    with pytest.raises(RosterNotReady):
        order_roster(session, other, roster(school, ("Li Ming", "3A", shirt.variants[0], 1)))
    with pytest.raises(UnknownPayment):
        order_roster(
            session, school, roster(school, ("A", "1", shirt.variants[0], 1)), payment="cash"
        )

    assert orders(session) == []


def test_a_school_with_no_delivery_round_ahead_cannot_order(session, shirt):
    school = invoice_school(session, rounds_in_days=())

    with pytest.raises(NoSchoolDelivery):
        order_roster(session, school, roster(school, ("Li Ming", "3A", shirt.variants[0], 1)))

    assert orders(session) == []


class RecordingGateway:
    """Stands in for Stripe where only the calls matter."""

    def __init__(self):
        self.created, self.cancelled = [], []

    def create_intent(self, *, order_number, attempt, amount, currency):
        self.created.append((order_number, amount, currency))
        return Intent(
            id=f"pi_{len(self.created)}",
            status="requires_payment_method",
            amount=amount,
            currency=currency,
        )

    def cancel(self, intent_id):
        self.cancelled.append(intent_id)
        return True


def test_a_card_order_that_cannot_be_written_cancels_its_payment_intent(
    session, shirt, monkeypatch
):
    school = invoice_school(session)
    fake = RecordingGateway()
    small = shirt.variants[0]
    preview = roster(school, ("Li Ming", "3A", small, 5))
    session.commit()

    def faster_buyer(db, variant_id, quantity, *, reference):
        # The stock goes between pricing and writing: another buyer was faster.
        raise NotEnoughStock(variant_id, 0)

    monkeypatch.setattr("shop.orders.lifecycle.allocate", faster_buyer)
    with pytest.raises(StockRanOut):
        order_roster(session, school, preview, payment="card", gateway=fake)
    session.rollback()

    assert [amount for _number, amount, _currency in fake.created] == [44500]
    assert fake.cancelled == ["pi_1"]
    assert orders(session) == []


def test_a_card_roster_order_waits_for_its_payment_intent(
    make_app, stripe_settings, session_factory
):
    app = make_app(**stripe_settings)
    now = utcnow()
    with session_factory(app) as session, app.app_context():
        shirt = make_product(session, slug="shirt", tiers=((1, 8900),), on_hand=20)
        school = invoice_school(session, verified=False, invoice_terms_days=0)
        preview = roster(
            school,
            ("Li Ming", "3A", shirt.variants[0], 2),
            ("Wang Fang", "3B", shirt.variants[0], 1),
        )

        order = order_roster(
            session, school, preview, payment="card", po_number="", gateway=gateway(), now=now
        )
        session.commit()

        [payment] = session.scalars(sa.select(Payment).where(Payment.order_id == order.id))
        intent = gateway().retrieve(payment.intent_id)
        assert all_invoices(session) == []

    assert order.payment_status == "unpaid"
    assert order.total_amount == 26700
    assert (payment.amount, payment.currency) == (26700, "CNY")
    assert (intent.amount, intent.currency, intent.order_number) == (26700, "CNY", order.number)
    assert order.reserved_until == now + timedelta(minutes=30)
