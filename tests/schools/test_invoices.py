"""Paying on invoice: the credit limit, issuing the invoice, recording payments, overdue
invoices, production of invoice orders, and the invoice's page and PDF."""

import re
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa

from shop.db import utcnow
from shop.exceptions import ShopError
from shop.orders.models import Order
from shop.orders.production import list_queue
from shop.schools import invoices
from shop.schools.models import InvoicePayment
from shop.schools.ordering import PurchaseOrderRequired
from tests.accounts.helpers import login, make_user
from tests.factories import make_product
from tests.helpers.pdf import pdf_strings
from tests.school_factories import add_member
from tests.schools.invoice_helpers import (
    all_invoices,
    invoice_order,
    invoice_school,
    stock,
)

SHANGHAI = ZoneInfo("Asia/Shanghai")


@pytest.fixture
def polo(session):
    """CN¥89.00 a piece, 20 on the shelf."""
    product = make_product(session, slug="polo", name="Summer polo", on_hand=20)
    return product.variants[0]


def orders(session) -> list[Order]:
    return list(session.scalars(sa.select(Order)))


# --- the credit limit --------------------------------------------------------------------


def test_an_order_above_the_remaining_credit_is_refused_and_nothing_is_written(session, polo):
    school = invoice_school(session, credit_limit_amount=10000)  # CN¥100.00
    session.commit()

    with pytest.raises(invoices.CreditLimitExceeded) as refused:
        invoice_order(session, school, polo, 2)  # CN¥178.00
    session.rollback()

    assert "CN¥100.00" in str(refused.value)
    assert "CN¥178.00" in str(refused.value)
    assert refused.value.available == 10000
    assert orders(session) == []
    assert all_invoices(session) == []
    assert stock(session, polo.id) == (20, 0)


def test_an_order_that_fits_the_credit_is_invoiced_and_awaits_payment(session, polo):
    school = invoice_school(session, credit_limit_amount=20000, invoice_terms_days=30)
    now = datetime(2026, 3, 10, 4, 0, tzinfo=UTC)

    order = invoice_order(session, school, polo, 2, now=now, po_number=" PO-77 ")
    session.commit()

    assert order.payment_status == "awaiting_invoice"
    assert order.state == "open"
    assert order.po_number == "PO-77"
    assert order.school_id == school.id
    assert order.delivery_method == "school"
    assert order.total_amount == 17800
    assert [event.kind for event in order.events] == ["placed", "awaiting_invoice"]
    [invoice] = all_invoices(session)
    assert invoice.order_id == order.id
    assert re.fullmatch(r"INV-2026-\d{6}", invoice.number)
    assert invoice.amount == 17800 and invoice.currency == "CNY"
    assert invoice.paid_amount == 0 and invoice.paid_at is None
    assert invoice.due_date == date(2026, 4, 9)
    # The school has bought the stock: it is sold, not merely held.
    assert stock(session, polo.id) == (18, 0)
    assert invoices.credit_in_use(session, school) == 17800
    assert invoices.credit_available(session, school) == 2200


def test_outstanding_invoices_count_against_the_limit_and_paid_ones_do_not(session, polo):
    school = invoice_school(session, credit_limit_amount=15000)
    staff = make_user(session, email="owner@factory.example", role="owner")
    first = invoice_order(session, school, polo, 1)  # 8,900 of 15,000
    session.commit()

    with pytest.raises(invoices.CreditLimitExceeded):
        invoice_order(session, school, polo, 1)
    session.rollback()
    assert len(orders(session)) == 1

    [invoice] = all_invoices(session)
    invoices.record_payment(
        session, invoice, amount=8900, reference="BANK-1", user=staff, now=utcnow()
    )
    session.commit()
    assert invoices.credit_in_use(session, school) == 0

    second = invoice_order(session, school, polo, 1)
    session.commit()
    assert second.payment_status == "awaiting_invoice"
    assert first.id != second.id


def test_a_cancelled_order_owes_nothing(session, polo):
    school = invoice_school(session)
    order = invoice_order(session, school, polo, 1)
    order.state = "cancelled"  # arranged directly: cancelling is the order desk's business
    session.commit()

    assert invoices.credit_in_use(session, school) == 0
    assert invoices.overdue_invoices(session, date(2099, 1, 1)) == []


@pytest.mark.parametrize(
    "fields",
    [
        {"verified": False},
        {"invoice_terms_days": 0},
    ],
    ids=["unverified", "no-terms"],
)
def test_a_school_without_approval_or_terms_cannot_pay_on_invoice(session, polo, fields):
    school = invoice_school(session, **fields)
    session.commit()

    with pytest.raises(invoices.InvoiceNotAllowed):
        invoice_order(session, school, polo, 1)
    session.rollback()

    assert orders(session) == []
    assert stock(session, polo.id) == (20, 0)


@pytest.mark.parametrize("po_number", ["", "   ", "P" * 61])
def test_paying_on_invoice_needs_a_purchase_order_number(session, polo, po_number):
    school = invoice_school(session)
    session.commit()

    with pytest.raises(PurchaseOrderRequired):
        invoice_order(session, school, polo, 1, po_number=po_number)
    session.rollback()

    assert orders(session) == []


def test_the_due_date_counts_from_the_factorys_calendar_day(session, polo):
    school = invoice_school(session, invoice_terms_days=14)
    # 17:30 UTC on 1 May is 01:30 on 2 May in the factory.
    now = datetime(2026, 5, 1, 17, 30, tzinfo=UTC)

    invoice_order(session, school, polo, 1, now=now, zone=SHANGHAI)

    [invoice] = all_invoices(session)
    assert invoice.due_date == date(2026, 5, 16)


def test_invoice_numbers_are_unique_per_invoice(session, polo):
    school = invoice_school(session)
    invoice_order(session, school, polo, 1)
    invoice_order(session, school, polo, 1)
    session.commit()

    numbers = [invoice.number for invoice in all_invoices(session)]
    assert len(set(numbers)) == 2
    assert all(re.fullmatch(r"INV-\d{4}-\d{6}", number) for number in numbers)


# --- recording payments ------------------------------------------------------------------


def test_a_partial_payment_then_the_rest_marks_the_order_paid(session, polo):
    school = invoice_school(session)
    staff = make_user(session, email="service@factory.example", role="service")
    order = invoice_order(session, school, polo, 2)  # 17,800
    session.commit()
    [invoice] = all_invoices(session)

    invoices.record_payment(
        session, invoice, amount=5000, reference="HSBC 001", user=staff, now=utcnow()
    )
    session.commit()

    assert invoice.paid_amount == 5000 and invoice.outstanding_amount == 12800
    assert invoice.paid_at is None
    assert order.payment_status == "awaiting_invoice"
    partial = order.events[-1]
    assert partial.kind == "invoice_payment"
    assert "HSBC 001" in partial.note and "CN¥50.00" in partial.note
    assert partial.actor_user_id == staff.id

    invoices.record_payment(
        session, invoice, amount=12800, reference="HSBC 002", user=staff, now=utcnow()
    )
    session.commit()

    assert invoice.paid_amount == 17800 and invoice.outstanding_amount == 0
    assert invoice.paid_at is not None
    assert order.payment_status == "paid"
    assert order.paid_at is not None
    assert [event.kind for event in order.events][-2:] == ["invoice_payment", "paid"]
    assert "HSBC 002" in order.events[-1].note
    assert [(p.amount, p.reference, p.recorded_by_id) for p in invoice.payments] == [
        (5000, "HSBC 001", staff.id),
        (12800, "HSBC 002", staff.id),
    ]


@pytest.mark.parametrize(
    ("amount", "reference", "reason"),
    [
        (17801, "BANK-9", "too_much"),
        (0, "BANK-9", "not_positive"),
        (-100, "BANK-9", "not_positive"),
        (100, "", "reference"),
        (100, "R" * 121, "reference"),
    ],
)
def test_a_wrong_payment_is_refused_and_changes_nothing(session, polo, amount, reference, reason):
    school = invoice_school(session)
    invoice_order(session, school, polo, 2)
    session.commit()
    [invoice] = all_invoices(session)

    with pytest.raises(invoices.InvalidInvoicePayment) as refused:
        invoices.record_payment(
            session, invoice, amount=amount, reference=reference, user=None, now=utcnow()
        )
    session.rollback()

    assert refused.value.reason == reason
    assert isinstance(refused.value, ShopError)
    [invoice] = all_invoices(session)
    assert invoice.paid_amount == 0
    assert invoice.order.payment_status == "awaiting_invoice"
    assert session.scalar(sa.select(sa.func.count(InvoicePayment.id))) == 0


def test_a_paid_invoice_takes_no_more_payments(session, polo):
    school = invoice_school(session)
    invoice_order(session, school, polo, 1)
    [invoice] = all_invoices(session)
    invoices.record_payment(session, invoice, amount=8900, reference="A", user=None, now=utcnow())
    session.commit()

    with pytest.raises(invoices.InvalidInvoicePayment) as refused:
        invoices.record_payment(session, invoice, amount=1, reference="B", user=None, now=utcnow())

    assert refused.value.reason == "not_payable"


# --- overdue -----------------------------------------------------------------------------


def test_overdue_invoices_are_those_owed_after_their_due_date(session, polo):
    school = invoice_school(session, invoice_terms_days=30)
    long_ago = utcnow() - timedelta(days=45)
    late = invoice_order(session, school, polo, 1, now=long_ago, po_number="LATE")
    paid = invoice_order(session, school, polo, 1, now=long_ago, po_number="PAID")
    invoice_order(session, school, polo, 1, po_number="RECENT")
    session.commit()
    by_po = {invoice.order.po_number: invoice for invoice in all_invoices(session)}
    invoices.record_payment(
        session, by_po["PAID"], amount=8900, reference="X", user=None, now=utcnow()
    )
    session.commit()
    today = utcnow().date()

    overdue = invoices.overdue_invoices(session, today)

    assert [invoice.order_id for invoice in overdue] == [late.id]
    assert invoices.count_overdue(session, today) == 1
    assert invoices.is_overdue(by_po["LATE"], today)
    assert not invoices.is_overdue(by_po["PAID"], today)
    assert not invoices.is_overdue(by_po["RECENT"], today)
    # On its due date an invoice is not yet overdue; the day after, it is.
    due = by_po["LATE"].due_date
    assert not invoices.is_overdue(by_po["LATE"], due)
    assert invoices.is_overdue(by_po["LATE"], due + timedelta(days=1))
    assert paid.payment_status == "paid"


# --- production --------------------------------------------------------------------------


@pytest.fixture
def blazer(session):
    product = make_product(
        session, slug="blazer", name="Blazer", made_to_order=True, lead_time_days=10
    )
    return product.variants[0]


def test_invoice_orders_go_into_production_when_the_factory_allows_it(session, blazer):
    school = invoice_school(session)
    order = invoice_order(session, school, blazer, 3, invoice_production=True)
    session.commit()

    [group] = list_queue(session, SHANGHAI)
    assert [(row.quantity, row.order_numbers) for row in group.rows] == [(3, [order.number])]


def test_invoice_orders_wait_for_payment_when_the_factory_says_so(session, blazer):
    school = invoice_school(session)
    order = invoice_order(session, school, blazer, 3, invoice_production=False)
    session.commit()

    assert list_queue(session, SHANGHAI) == []
    held = order.events[-1]
    assert held.kind == "production_held" and not held.visible_to_customer

    [invoice] = all_invoices(session)
    invoices.record_payment(
        session, invoice, amount=invoice.amount, reference="PAID", user=None, now=utcnow()
    )
    session.commit()

    [group] = list_queue(session, SHANGHAI)
    assert group.rows[0].order_numbers == [order.number]


# --- the invoice's page and PDF ----------------------------------------------------------


@pytest.fixture
def invoiced(app, session, polo):
    """An overdue invoice of school ``north`` with its own admin; a second school's admin."""
    school = invoice_school(session, slug="north", name="North School", invoice_terms_days=30)
    other = invoice_school(session, slug="south", name="South School")
    admin = make_user(session, email="bursar@north.example", role="school_admin")
    add_member(session, school, admin)
    other_admin = make_user(session, email="bursar@south.example", role="school_admin")
    add_member(session, other, other_admin)
    make_user(session, email="parent@example.com")
    make_user(session, email="warehouse@factory.example", role="warehouse")
    invoice_order(session, school, polo, 2, now=utcnow() - timedelta(days=40), po_number="PO-9")
    session.commit()
    [invoice] = all_invoices(session)
    return invoice


def page_of(invoice) -> str:
    return f"/schools/north/admin/invoices/{invoice.number}"


def test_the_invoice_page_shows_what_the_school_must_pay_and_where(app, client, invoiced):
    app.config["FACTORY_BANK_DETAILS"] = "Bank of Foshan\nAccount 123-456-789"
    assert login(client, email="bursar@north.example").status_code == 302

    response = client.get(page_of(invoiced))

    assert response.status_code == 200
    page = response.text
    assert f'data-testid="invoice-number">{invoiced.number}<' in page
    assert "Bank of Foshan\nAccount 123-456-789" in page
    assert f'data-testid="invoice-due" data-date="{invoiced.due_date.isoformat()}"' in page
    assert 'data-testid="po-number">PO-9<' in page
    assert 'data-testid="invoice-overdue"' in page
    assert 'data-testid="invoice-outstanding" data-amount="17800"' in page
    assert 'data-testid="invoice-student" data-student="Li Ming" data-class="3A"' in page
    assert 'data-size="130"' in page
    assert "Sourcefront服装厂" in page  # in the school's language: North School is in China
    assert 'media="print"' in page


def test_the_invoice_pdf_carries_the_invoice_number(app, client, session, invoiced):
    invoiced.school.country = "SG"  # English papers: the PDF's text can be read back
    session.commit()
    assert login(client, email="bursar@north.example").status_code == 302

    response = client.get(page_of(invoiced) + ".pdf")

    assert response.status_code == 200
    assert response.mimetype == "application/pdf"
    assert response.data.startswith(b"%PDF-")
    text = pdf_strings(response.data)
    assert invoiced.number in text
    assert "PO-9" in text
    assert "Overdue" in text
    assert any("ICBKCNBJGDG" in piece for piece in text)  # the default bank details


@pytest.mark.parametrize(
    ("email", "status"),
    [
        ("bursar@north.example", 200),
        ("warehouse@factory.example", 200),  # staff who see orders
        ("bursar@south.example", 404),  # another school's admin
        ("parent@example.com", 404),
        (None, 404),
    ],
)
def test_who_may_see_an_invoice(app, client, invoiced, email, status):
    if email:
        assert login(client, email=email).status_code == 302

    assert client.get(page_of(invoiced)).status_code == status
    assert client.get(page_of(invoiced) + ".pdf").status_code == status


def test_an_invoice_is_found_only_under_its_own_school(app, client, invoiced):
    assert login(client, email="warehouse@factory.example").status_code == 302

    assert client.get(f"/schools/south/admin/invoices/{invoiced.number}").status_code == 404
    assert client.get("/schools/north/admin/invoices/INV-2026-999999").status_code == 404
