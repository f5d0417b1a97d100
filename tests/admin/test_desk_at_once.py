"""Every action of the order desk, pressed 2 and 5 times at the same moment by the same
staff member (tests/at_once.py: threads on SQLite, processes on PostgreSQL): one effect —
one timeline event, one email, one parcel, one refund, one note, one answer — and every
copy lands back on the order's page, never a 500."""

import re
from collections import Counter

import pytest
import sqlalchemy as sa

from shop.audit.models import AuditEntry
from shop.orders import messages
from shop.orders.models import OrderMessage
from shop.payments.stripe_gateway import gateway
from tests.accounts.helpers import make_user
from tests.at_once import send_at_once
from tests.factories import make_product
from tests.helpers.desk import card_paid_order, reload
from tests.order_factories import make_order

COPIES = [2, 5]


@pytest.fixture
def order(session):
    """Paid, one stocked line, for a customer who wants production news."""
    customer = make_user(session, email="parent@example.com", production_updates=True)
    made = make_order(session, user=customer, email=customer.email)
    session.commit()
    return made


def subjects(outbox) -> list[str]:
    return [message["Subject"] for message in outbox()]


def kinds(app, number: str) -> list[str]:
    return [event.kind for event in reload(app, number).events]


def audited(session, number: str) -> list[str]:
    return list(
        session.scalars(
            sa.select(AuditEntry.action)
            .where(AuditEntry.target_id == number)
            .order_by(AuditEntry.id)
        )
    )


def back_on_the_order(answers, number: str) -> None:
    assert {(a.status, a.location) for a in answers} == {(303, f"/admin/orders/{number}")}


def key_of(page: str, form: str) -> str:
    return re.search(
        rf'id="{form}-request-key" name="request_key" type="hidden" value="([^"]+)"', page
    ).group(1)


@pytest.mark.parametrize("copies", COPIES)
@pytest.mark.parametrize(
    ("action", "status", "kind", "done", "email"),
    [
        ("production", "in_production", "in_production", "The order is in production.", True),
        ("ready", "ready", "ready", "The order is ready to ship.", False),
    ],
)
def test_moving_an_order_at_once_moves_it_once(
    app, client, session, sign_in, order, outbox, copies, action, status, kind, done, email
):
    sign_in("owner")

    answers = send_at_once(app, client, copies, "POST", f"/admin/orders/{order.number}/{action}")

    back_on_the_order(answers, order.number)
    assert Counter(a.messages for a in answers)[(done,)] == 1
    assert reload(app, order.number).fulfilment_status == status
    assert kinds(app, order.number).count(kind) == 1
    assert audited(session, order.number) == [f"order.{action}"]
    if email:
        assert subjects(outbox) == [f"Order {order.number} is being made"]


@pytest.mark.parametrize("copies", COPIES)
def test_delivering_at_once_delivers_once(app, client, session, sign_in, outbox, copies):
    shipped = make_order(session, fulfilment_status="shipped")
    session.commit()
    sign_in("warehouse")

    answers = send_at_once(app, client, copies, "POST", f"/admin/orders/{shipped.number}/delivered")

    back_on_the_order(answers, shipped.number)
    assert kinds(app, shipped.number).count("delivered") == 1
    assert subjects(outbox) == [f"Order {shipped.number} was delivered"]


@pytest.mark.parametrize("copies", COPIES)
def test_shipping_the_same_form_at_once_makes_one_parcel(
    app, client, session, sign_in, order, outbox, copies
):
    sign_in("warehouse")
    key = key_of(client.get(f"/admin/orders/{order.number}").text, "ship")
    line_id = order.lines[0].id
    data = {
        "carrier": "dhl",
        "tracking_number": "DHL123",
        f"qty-{line_id}": "1",
        "request_key": key,
    }

    answers = send_at_once(app, client, copies, "POST", f"/admin/orders/{order.number}/ship", data)

    back_on_the_order(answers, order.number)
    shipped = reload(app, order.number)
    assert [[item.quantity for item in s.lines] for s in shipped.shipments] == [[1]]
    assert kinds(app, order.number).count("partially_shipped") == 1
    assert subjects(outbox) == [f"Order {order.number} is on its way"]
    assert audited(session, order.number) == ["order.ship"]


@pytest.mark.parametrize("copies", COPIES)
def test_a_note_sent_at_once_is_added_once(app, client, session, sign_in, order, copies):
    sign_in("service")
    key = key_of(client.get(f"/admin/orders/{order.number}").text, "note")

    answers = send_at_once(
        app,
        client,
        copies,
        "POST",
        f"/admin/orders/{order.number}/note",
        {"note": "Mother called: size 140 instead.", "request_key": key},
    )

    back_on_the_order(answers, order.number)
    assert kinds(app, order.number).count("note") == 1
    assert audited(session, order.number) == ["order.note"]


@pytest.mark.parametrize("copies", COPIES)
def test_an_answer_sent_at_once_is_sent_once(app, client, session, sign_in, order, outbox, copies):
    sign_in("service")
    key = key_of(client.get(f"/admin/orders/{order.number}").text, "reply")

    answers = send_at_once(
        app,
        client,
        copies,
        "POST",
        f"/admin/orders/{order.number}/reply",
        {"body": "It leaves on Friday.", "request_key": key},
    )

    back_on_the_order(answers, order.number)
    staff_messages = session.scalars(sa.select(OrderMessage.body)).all()
    assert staff_messages == ["It leaves on Friday."]
    assert subjects(outbox) == [f"A new message about order {order.number}"]


@pytest.mark.parametrize("copies", COPIES)
def test_marking_messages_read_at_once_marks_them_once(
    app, client, session, sign_in, order, copies
):
    with app.test_request_context():
        messages.post_customer_message(session, order, "Before Monday?", user_id=None)
        session.commit()
    sign_in("service")

    answers = send_at_once(
        app, client, copies, "POST", f"/admin/orders/{order.number}/messages/read"
    )

    back_on_the_order(answers, order.number)
    assert messages.unread_counts(session) == {}


@pytest.mark.live
@pytest.mark.parametrize("copies", COPIES)
def test_cancelling_a_paid_order_at_once_refunds_it_once(
    app, client, session, sign_in, outbox, copies
):
    product = make_product(session, slug="polo", on_hand=10)
    session.commit()
    number = card_paid_order(app, product, quantity=2)
    sign_in("manager")

    answers = send_at_once(
        app, client, copies, "POST", f"/admin/orders/{number}/cancel", {"confirm": "y"}
    )

    back_on_the_order(answers, number)
    order = reload(app, number)
    assert (order.state, order.payment_status) == ("cancelled", "refunded")
    assert [refund.amount for refund in order.refunds] == [order.total_amount]
    with app.app_context():
        at_stripe = gateway().client.v1.refunds.list(
            params={"payment_intent": order.payments[-1].intent_id}
        )
    assert [refund.amount for refund in at_stripe.data] == [order.total_amount]
    assert kinds(app, number).count("cancelled") == 1
    assert subjects(outbox).count(f"Order {number} is cancelled") == 1
    assert audited(session, number) == ["order.cancel"]


@pytest.mark.live
@pytest.mark.parametrize("copies", COPIES)
def test_the_same_refund_at_once_refunds_once(app, client, session, sign_in, outbox, copies):
    product = make_product(session, slug="polo", on_hand=10)
    session.commit()
    number = card_paid_order(app, product, quantity=2)
    sign_in("manager")
    key = key_of(client.get(f"/admin/orders/{number}").text, "refund")

    answers = send_at_once(
        app,
        client,
        copies,
        "POST",
        f"/admin/orders/{number}/refund",
        {"scope": "amount", "amount": "10.00", "request_key": key},
    )

    back_on_the_order(answers, number)
    order = reload(app, number)
    assert [refund.amount for refund in order.refunds] == [1000]
    assert order.refunded_amount == 1000
    with app.app_context():
        at_stripe = gateway().client.v1.refunds.list(
            params={"payment_intent": order.payments[-1].intent_id}
        )
    assert [refund.amount for refund in at_stripe.data] == [1000]
    assert subjects(outbox).count(f"A refund for order {number}") == 1
    assert audited(session, number) == ["order.refund"]
