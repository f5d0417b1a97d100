"""School invoices in the factory admin: the list and its filters, recording payments (who
may, what is refused), the audit trail, and the overdue count on the dashboard."""

import re
from datetime import timedelta

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session

from shop.audit.models import AuditEntry
from shop.db import utcnow
from shop.schools.models import Invoice
from tests.accounts.helpers import login, make_user
from tests.factories import make_product
from tests.helpers.desk import flashes
from tests.schools.invoice_helpers import invoice_order, invoice_school


@pytest.fixture
def three_invoices(session):
    """``late`` (overdue), ``recent`` (not yet due), ``settled`` (overdue once, now paid)."""
    polo = make_product(session, slug="polo", on_hand=50).variants[0]
    school = invoice_school(session, name="North School", invoice_terms_days=30)
    long_ago = utcnow() - timedelta(days=45)
    numbers = {}
    for po, when in (("LATE", long_ago), ("RECENT", utcnow()), ("SETTLED", long_ago)):
        order = invoice_order(session, school, polo, 2, now=when, po_number=po)  # CN¥178.00
        numbers[po] = order.number
    settled = invoice_of(session, numbers["SETTLED"])
    settled.paid_amount = settled.amount  # arranged directly; recording is tested below
    settled.order.payment_status = "paid"
    session.commit()
    return {po: invoice_of(session, number).number for po, number in numbers.items()}


def invoice_of(session, order_number: str) -> Invoice:
    from shop.orders.models import Order

    return session.scalars(
        sa.select(Invoice)
        .join(Order, Order.id == Invoice.order_id)
        .where(Order.number == order_number)
    ).one()


def fresh(app, number: str) -> tuple:
    with Session(app.extensions["sa_engine"]) as session:
        invoice = session.scalars(sa.select(Invoice).where(Invoice.number == number)).one()
        return (
            invoice.paid_amount,
            invoice.paid_at is not None,
            invoice.order.payment_status,
            [(p.amount, p.reference) for p in invoice.payments],
            [event.kind for event in invoice.order.events],
        )


def rows(page: str) -> dict[str, str]:
    """``{invoice number: data-overdue}`` for the rows of the list."""
    return dict(
        re.findall(r'data-testid="invoice-row" data-number="([^"]+)" data-overdue="(\w+)"', page)
    )


# --- the list ----------------------------------------------------------------------------


def test_the_list_flags_overdue_invoices_and_filters_them(client, sign_in, three_invoices):
    sign_in("warehouse")  # orders.view is enough to look
    late, recent, settled = (three_invoices[k] for k in ("LATE", "RECENT", "SETTLED"))

    everything = client.get("/admin/invoices")
    assert everything.status_code == 200
    assert rows(everything.text) == {late: "true", recent: "false", settled: "false"}
    assert 'data-testid="overdue-flag"' in everything.text

    assert rows(client.get("/admin/invoices?status=overdue").text) == {late: "true"}
    assert rows(client.get("/admin/invoices?status=outstanding").text) == {
        late: "true",
        recent: "false",
    }
    # An unknown filter shows everything rather than failing.
    assert len(rows(client.get("/admin/invoices?status=bogus&page=x").text)) == 3


def test_the_list_is_paginated(client, sign_in, session, monkeypatch):
    monkeypatch.setattr("shop.admin.invoices.PER_PAGE", 2)
    polo = make_product(session, on_hand=50).variants[0]
    school = invoice_school(session)
    for _ in range(3):
        invoice_order(session, school, polo, 1)
    session.commit()
    sign_in("owner")

    first = client.get("/admin/invoices").text
    second = client.get("/admin/invoices?page=2").text

    assert len(rows(first)) == 2 and len(rows(second)) == 1
    assert 'rel="next" href="/admin/invoices?page=2"' in first
    assert set(rows(first)).isdisjoint(rows(second))


def test_customers_and_school_admins_are_kept_out(client, session, three_invoices):
    make_user(session, email="bursar@school.example", role="school_admin")
    assert login(client, email="bursar@school.example").status_code == 302

    assert client.get("/admin/invoices").status_code == 403
    assert client.get(f"/admin/invoices/{three_invoices['LATE']}").status_code == 403


def test_the_invoice_page_offers_the_form_only_to_those_who_may_record(
    client, sign_in, three_invoices
):
    late = three_invoices["LATE"]
    sign_in("warehouse")
    page = client.get(f"/admin/invoices/{late}").text
    assert 'data-testid="record-payment-form"' not in page
    assert 'data-testid="overdue-flag"' in page

    sign_in("service")
    page = client.get(f"/admin/invoices/{late}").text
    assert 'data-testid="record-payment-form"' in page
    assert 'data-testid="po-number">LATE<' in page
    assert client.get("/admin/invoices/INV-1999-000000").status_code == 404


# --- recording payments ------------------------------------------------------------------


def test_staff_record_a_partial_payment_then_the_rest(
    app, client, sign_in, session, three_invoices
):
    late = three_invoices["LATE"]
    staff = sign_in("service")

    response = client.post(
        f"/admin/invoices/{late}/payments", data={"amount": "78.00", "reference": "ICBC 0042"}
    )

    assert response.status_code == 303
    assert response.headers["Location"].endswith(f"/admin/invoices/{late}")
    assert fresh(app, late)[:4] == (7800, False, "awaiting_invoice", [(7800, "ICBC 0042")])
    page = client.get(f"/admin/invoices/{late}").text
    assert any("Recorded CN¥78.00" in message for message in flashes(page))
    [entry] = session.scalars(sa.select(AuditEntry).where(AuditEntry.action == "invoice.payment"))
    assert (entry.actor_user_id, entry.target_type, entry.target_id) == (staff.id, "invoice", late)
    assert entry.before == {"paid_amount": 0, "payment_status": "awaiting_invoice"}
    assert entry.after["paid_amount"] == 7800 and entry.after["reference"] == "ICBC 0042"

    response = client.post(
        f"/admin/invoices/{late}/payments", data={"amount": "100", "reference": "ICBC 0043"}
    )

    assert response.status_code == 303
    paid_amount, paid, status, payments, events = fresh(app, late)
    assert (paid_amount, paid, status) == (17800, True, "paid")
    assert payments == [(7800, "ICBC 0042"), (10000, "ICBC 0043")]
    assert events[-2:] == ["invoice_payment", "paid"]
    assert rows(client.get("/admin/invoices?status=overdue").text) == {}


@pytest.mark.parametrize(
    ("form", "message"),
    [
        ({"amount": "178.01", "reference": "X"}, "At most CN¥178.00 is outstanding"),
        ({"amount": "0", "reference": "X"}, "Enter an amount more than zero."),
        ({"amount": "abc", "reference": "X"}, "Enter the amount as a number"),
        ({"amount": "1.005", "reference": "X"}, "more decimals than the currency has"),
        ({"amount": "9" * 19, "reference": "X"}, "At most CN¥178.00 is outstanding"),
        ({"amount": "10", "reference": ""}, "No payment was recorded: check the form."),
        ({"amount": "10", "reference": "R" * 121}, "No payment was recorded: check the form."),
    ],
)
def test_a_wrong_payment_is_refused_and_nothing_changes(
    app, client, sign_in, three_invoices, form, message
):
    late = three_invoices["LATE"]
    before = fresh(app, late)
    sign_in("owner")

    response = client.post(f"/admin/invoices/{late}/payments", data=form)

    assert response.status_code == 400
    assert any(message in text for text in flashes(response.text)), flashes(response.text)
    assert fresh(app, late) == before


def test_the_warehouse_may_not_record_payments(app, client, sign_in, session, three_invoices):
    late = three_invoices["LATE"]
    before = fresh(app, late)
    sign_in("warehouse")

    response = client.post(
        f"/admin/invoices/{late}/payments", data={"amount": "10", "reference": "X"}
    )

    assert response.status_code == 403
    assert fresh(app, late) == before
    assert session.scalar(sa.select(sa.func.count(AuditEntry.id))) == 0


def test_recording_a_payment_without_a_csrf_token_is_refused(make_app, session_factory):
    app = make_app(WTF_CSRF_ENABLED=True)
    with session_factory(app) as session:
        polo = make_product(session, on_hand=5).variants[0]
        order = invoice_order(session, invoice_school(session), polo, 1)
        session.commit()
        number = invoice_of(session, order.number).number
        make_user(session, email="owner@factory.example", role="owner")
    client = app.test_client()
    token = re.search(
        r'name="csrf_token" value="([^"]+)"', client.get("/account/login").text
    ).group(1)
    assert login(client, email="owner@factory.example", csrf_token=token).status_code == 302

    response = client.post(
        f"/admin/invoices/{number}/payments", data={"amount": "10", "reference": "X"}
    )

    assert response.status_code == 400
    assert fresh(app, number)[0] == 0


# --- the dashboard and the order desk ----------------------------------------------------


def test_the_dashboard_counts_overdue_invoices(client, sign_in, three_invoices):
    sign_in("service")

    page = client.get("/admin/").text

    assert re.search(
        r'href="/admin/invoices\?status=overdue" data-testid="overdue-invoices" data-count="1"',
        page,
    )
    assert "Overdue invoices: 1" in page


def test_the_admin_nav_links_the_invoices(client, sign_in):
    sign_in("workshop")

    assert 'data-endpoint="admin.invoice_list"' in client.get("/admin/").text


def test_the_order_desk_links_an_invoiced_order_to_its_invoice(client, sign_in, three_invoices):
    sign_in("warehouse")
    invoice_page = client.get(f"/admin/invoices/{three_invoices['LATE']}").text
    order_number = re.search(r'data-testid="order-link">([^<]+)<', invoice_page).group(1)

    page = client.get(f"/admin/orders/{order_number}").text

    assert f'data-testid="invoice-link">{three_invoices["LATE"]}<' in page


@pytest.mark.parametrize("copies", [2, 5])
def test_the_same_payment_recorded_at_once_is_recorded_once(
    app, client, sign_in, session, three_invoices, copies
):
    from tests.at_once import send_at_once

    late = three_invoices["LATE"]
    sign_in("service")
    page = client.get(f"/admin/invoices/{late}").text
    key = re.search(r'name="request_key" type="hidden" value="([^"]+)"', page).group(1)
    form = {"amount": "50.00", "reference": "ICBC 0042", "request_key": key}

    answers = send_at_once(app, client, copies, "POST", f"/admin/invoices/{late}/payments", form)

    assert {(a.status, a.location) for a in answers} == {(303, f"/admin/invoices/{late}")}
    assert fresh(app, late)[:4] == (5000, False, "awaiting_invoice", [(5000, "ICBC 0042")])
    audited = session.scalars(
        sa.select(AuditEntry.id).where(AuditEntry.action == "invoice.payment")
    ).all()
    assert len(audited) == 1
