"""Refunds and cancellation from the desk, through localstripe: a part then the rest, back
to stock with a ledger row, one refund however often the form is sent, and nothing sent
to Stripe when the amount is wrong."""

import pytest
import sqlalchemy as sa

from shop.catalog.models import Variant
from shop.payments.models import Refund
from shop.payments.stripe_gateway import gateway
from shop.stock.models import StockMovement
from tests.factories import make_product
from tests.helpers.desk import card_paid_order, flashes, reload, request_key_on, snapshot
from tests.order_factories import make_order


@pytest.fixture
def polo(session):
    product = make_product(session, slug="polo", name="Summer polo", tiers=((1, 8900),), on_hand=20)
    session.commit()
    return product


@pytest.fixture
def paid(app, polo):
    """2 × ¥89.00 + ¥15.00 delivery = CN¥193.00, paid by card."""
    return card_paid_order(app, polo, quantity=2)


def stripe_refunds(app, number) -> list[int]:
    """What Stripe itself holds as refunds of the order's payment (amounts, oldest first)."""
    intent_id = reload(app, number).payments[-1].intent_id
    with app.app_context():
        listed = gateway().client.v1.refunds.list(params={"payment_intent": intent_id})
    return sorted((refund.amount for refund in listed.data), reverse=True)


def on_hand(session, variant_id) -> int:
    session.expire_all()
    return session.scalar(sa.select(Variant.on_hand).where(Variant.id == variant_id))


def returned_rows(session, variant_id) -> list[tuple[int, int | None]]:
    return session.execute(
        sa.select(StockMovement.on_hand_delta, StockMovement.staff_user_id)
        .where(StockMovement.variant_id == variant_id, StockMovement.reason == "returned")
        .order_by(StockMovement.id)
    ).all()


def refund_form(client, number, **fields) -> dict:
    page = client.get(f"/admin/orders/{number}").text
    return {"request_key": request_key_on(page), "scope": "amount", **fields}


def refund_emails(outbox) -> list:
    return [m for m in outbox() if m["Subject"].startswith("A refund for order")]


@pytest.mark.live
def test_a_partial_refund_then_the_rest(app, client, session, sign_in, polo, paid, outbox):
    service = sign_in("service")
    variant_id = polo.variants[0].id
    line_id = reload(app, paid).lines[0].id
    assert on_hand(session, variant_id) == 18

    data = refund_form(client, paid, amount="50.00", refund_reason="one polo too small")
    data[f"return-{line_id}"] = "1"
    response = client.post(f"/admin/orders/{paid}/refund", data=data)
    assert response.status_code == 303
    page = client.get(response.headers["Location"]).text
    assert flashes(page) == ["Refunded CN¥50.00."]

    order = reload(app, paid)
    [first] = order.refunds
    assert (first.amount, first.status, first.restocked, first.staff_user_id) == (
        5000,
        "succeeded",
        True,
        service.id,
    )
    assert first.stripe_refund_id.startswith("re_") and first.note == "one polo too small"
    assert (order.refunded_amount, order.payment_status) == (5000, "partially_refunded")
    assert order.lines[0].returned_quantity == 1
    assert on_hand(session, variant_id) == 19
    assert returned_rows(session, variant_id) == [(1, service.id)]
    assert stripe_refunds(app, paid) == [5000]
    assert f'data-stripe-id="{first.stripe_refund_id}"' in page
    assert len(refund_emails(outbox)) == 1

    data = refund_form(client, paid, scope="full")
    data[f"return-{line_id}"] = "1"
    response = client.post(f"/admin/orders/{paid}/refund", data=data)
    assert response.status_code == 303
    order = reload(app, paid)
    assert [(r.amount, r.status) for r in order.refunds] == [
        (5000, "succeeded"),
        (14300, "succeeded"),
    ]
    assert order.refunds[1].stripe_refund_id.startswith("re_")
    assert order.refunds[1].stripe_refund_id != first.stripe_refund_id
    assert (order.refunded_amount, order.payment_status) == (19300, "refunded")
    assert [e.kind for e in order.events if "refund" in e.kind] == [
        "partially_refunded",
        "refunded",
    ]
    assert on_hand(session, variant_id) == 20
    assert returned_rows(session, variant_id) == [(1, service.id), (1, service.id)]
    assert stripe_refunds(app, paid) == [14300, 5000]
    assert len(refund_emails(outbox)) == 2
    page = client.get(f"/admin/orders/{paid}").text
    assert 'data-testid="refund-form"' not in page  # nothing left to refund


@pytest.mark.live
def test_the_same_refund_form_sent_twice_refunds_once(app, client, sign_in, paid, outbox):
    sign_in("manager")
    data = refund_form(client, paid, amount="20")
    first = client.post(f"/admin/orders/{paid}/refund", data=data)
    second = client.post(f"/admin/orders/{paid}/refund", data=data)
    assert (first.status_code, second.status_code) == (303, 303)
    assert flashes(client.get(second.headers["Location"]).text) == [
        "Refunded CN¥20.00.",
        "That refund was already made; it was not made twice.",
    ]
    order = reload(app, paid)
    assert [refund.amount for refund in order.refunds] == [2000]
    assert order.refunded_amount == 2000
    assert stripe_refunds(app, paid) == [2000]
    assert len(refund_emails(outbox)) == 1


WRONG_AMOUNTS = [
    ("193.01", "At most CN¥193.00 can be refunded."),
    ("1e20", "At most CN¥193.00 can be refunded."),
    ("0", "Enter an amount more than zero."),
    ("-5", "Enter an amount more than zero."),
    ("abc", "Enter the amount as a number, like 12.50."),
    ("", "Enter the amount as a number, like 12.50."),
    ("NaN", "Enter the amount as a number, like 12.50."),
    ("Infinity", "Enter the amount as a number, like 12.50."),
    ("1,000", "Enter the amount as a number, like 12.50."),
    ("1.234", "That amount has more decimals than the currency has."),
]


@pytest.mark.live
def test_a_wrong_amount_is_refused_before_stripe_is_called(app, client, sign_in, paid, outbox):
    sign_in("owner")
    before, mails = snapshot(app, paid), len(outbox())
    for amount, message in WRONG_AMOUNTS:
        data = refund_form(client, paid, amount=amount)
        response = client.post(f"/admin/orders/{paid}/refund", data=data)
        assert response.status_code == 400, amount
        assert flashes(response.text) == [message], amount
        assert request_key_on(response.text) == data["request_key"]  # a retry stays one refund
    assert snapshot(app, paid) == before
    assert stripe_refunds(app, paid) == []
    assert len(outbox()) == mails


@pytest.mark.live
def test_returning_more_pieces_than_were_sold_refunds_nothing(app, client, sign_in, paid):
    sign_in("owner")
    line_id = reload(app, paid).lines[0].id
    before = snapshot(app, paid)
    data = refund_form(client, paid, amount="10")
    data[f"return-{line_id}"] = "3"
    response = client.post(f"/admin/orders/{paid}/refund", data=data)
    assert response.status_code == 400
    assert flashes(response.text) == [
        "Return at most the pieces that were sold on each line and not returned yet."
    ]
    assert snapshot(app, paid) == before
    assert stripe_refunds(app, paid) == []


@pytest.mark.live
def test_cancelling_a_paid_order_refunds_it_in_full_and_restocks(
    app, client, session, sign_in, polo, paid, outbox
):
    service = sign_in("service")
    response = client.post(f"/admin/orders/{paid}/cancel", data={"cancel_reason": "school closed"})
    assert response.status_code == 400  # the box was not ticked
    assert reload(app, paid).state == "open" and stripe_refunds(app, paid) == []

    data = {"confirm": "y", "cancel_reason": "school closed"}
    response = client.post(f"/admin/orders/{paid}/cancel", data=data)
    assert response.status_code == 303
    assert flashes(client.get(response.headers["Location"]).text) == [
        "The order is cancelled and CN¥193.00 was refunded."
    ]
    order = reload(app, paid)
    assert (order.state, order.payment_status, order.refunded_amount) == (
        "cancelled",
        "refunded",
        19300,
    )
    assert [(e.note, e.actor_user_id) for e in order.events if e.kind == "cancelled"] == [
        ("school closed", service.id)
    ]
    [refund] = order.refunds
    assert (refund.request_key, refund.amount) == (f"cancel-{paid}", 19300)
    assert refund.stripe_refund_id.startswith("re_")
    assert stripe_refunds(app, paid) == [19300]
    assert on_hand(session, polo.variants[0].id) == 20
    assert returned_rows(session, polo.variants[0].id) == [(2, service.id)]
    assert [m["Subject"] for m in outbox()] == [
        f"Order {paid} is paid",
        f"A refund for order {paid}",
        f"Order {paid} is cancelled",
    ]

    # A second click changes nothing and lands on the same page, saying what is true.
    again = client.post(f"/admin/orders/{paid}/cancel", data={"confirm": "y"})
    assert again.status_code == 303
    assert flashes(client.get(again.headers["Location"]).text) == ["This order is cancelled."]
    assert stripe_refunds(app, paid) == [19300]


@pytest.mark.live
def test_a_refund_stripe_refuses_is_reported_and_nothing_changes(app, client, session, sign_in):
    # The payment row says succeeded, but Stripe never heard of this PaymentIntent.
    order = make_order(session)
    session.commit()
    sign_in("owner")
    before = snapshot(app, order.number)
    response = client.post(
        f"/admin/orders/{order.number}/refund", data=refund_form(client, order.number, amount="5")
    )
    assert response.status_code == 400
    [message] = flashes(response.text)
    assert message.startswith("Stripe refused the refund: ")
    assert snapshot(app, order.number) == before
    assert session.scalars(sa.select(Refund)).all() == []


def test_when_stripe_does_not_answer_the_refund_can_be_retried_with_the_same_key(
    make_app, stripe_keys, session_factory
):
    app = make_app(**stripe_keys, STRIPE_API_BASE="http://127.0.0.1:9")
    from tests.accounts.helpers import login, make_user

    with session_factory(app) as session:
        make_user(session, email="boss@factory.example", role="owner")
        order = make_order(session)
        session.commit()
    client = app.test_client()
    login(client, email="boss@factory.example")
    data = refund_form(client, order.number, amount="5")
    response = client.post(f"/admin/orders/{order.number}/refund", data=data)
    assert response.status_code == 400
    assert flashes(response.text) == [
        "The card payment service did not answer. Try again: the same request is never "
        "refunded twice."
    ]
    assert request_key_on(response.text) == data["request_key"]
    assert reload(app, order.number).refunds == []
