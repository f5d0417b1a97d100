"""The commission ledger over the tables: pending at payment (once, however often the
payment is reported), nothing for orders that do not earn, approval after the return
window, reversals in proportion before and after approval, cancellation, and the
invariant after random refunds."""

import contextlib
import random
from datetime import timedelta

import pytest

from shop.accounts.models import User
from shop.db import utcnow
from shop.orders import lifecycle
from shop.orders.transitions import IllegalTransition
from shop.resellers import ledger
from shop.resellers.models import CategoryCommission, ResellerTerms
from shop.resellers.program import program
from tests.factories import make_product
from tests.helpers.ledger import (
    RefundingGateway,
    attributed_order,
    check_invariants,
    deliver,
    ledger_of,
    pay,
    refund_to,
)
from tests.helpers.resellers import make_reseller
from tests.order_factories import make_order


@pytest.fixture
def window(app, session):
    with app.test_request_context():  # the customer's emails are worded in a request
        yield make_reseller(session)


def amounts(lines):
    return [(line.kind, line.state, line.amount) for line in lines]


def test_a_paid_referral_order_writes_a_pending_line_per_order_line(session, window):
    order = attributed_order(
        session, window, lines=(("POLO-130", 2, 8900), ("SKIRT-120", 1, 12345), ("TIE", 1, 5))
    )
    pay(session, order)
    lines = ledger_of(session, order)
    # 10 %: 1780, 1234 (rounded down); the 5-cent tie earns nothing and writes nothing.
    assert amounts(lines) == [("commission", "pending", 1780), ("commission", "pending", 1234)]
    assert {line.key for line in lines} == {f"c:{order.lines[0].id}", f"c:{order.lines[1].id}"}
    assert all(line.currency == "CNY" and line.reseller_id == window.id for line in lines)


def test_a_reseller_price_order_earns_the_margin_in_yen(session, window):
    order = attributed_order(
        session,
        window,
        model="price",
        currency="JPY",
        lines=(("POLO-130", 3, 6500), ("CAP", 1, 2000)),
        factory_units=(5000, None),
    )
    pay(session, order)
    assert amounts(ledger_of(session, order)) == [("commission", "pending", 4500)]


def test_the_category_rate_and_the_resellers_own_rate(session, window):
    product = make_product(session)
    session.add(CategoryCommission(category_id=product.category_id, commission_bps=1500))
    order = attributed_order(session, window, lines=(("A", 1, 10000), ("B", 1, 10000)))
    order.lines[0].product_id = product.id
    pay(session, order)
    assert [line.amount for line in ledger_of(session, order)] == [1500, 1000]

    session.add(ResellerTerms(reseller_id=window.id, commission_bps=500))
    second = attributed_order(session, window, lines=(("A", 1, 10000),))
    second.lines[0].product_id = product.id
    pay(session, second)
    assert [line.amount for line in ledger_of(session, second)] == [500]


def test_the_payment_reported_twice_writes_the_commission_once(session, window):
    order = attributed_order(session, window)
    pay(session, order)
    with pytest.raises(IllegalTransition):
        lifecycle.mark_paid(session, order)
    assert ledger.record_commission(session, order) == 0
    assert len(ledger_of(session, order)) == 1


def test_orders_that_do_not_earn_write_nothing(session, window):
    unattributed = make_order(session, payment_status="unpaid")
    not_earning = attributed_order(session, window, earns=False)
    for order in (unattributed, not_earning):
        pay(session, order)
    assert ledger_of(session) == []


def test_an_order_paid_on_invoice_earns_only_when_the_factory_says_so(session, window):
    now = utcnow()

    def invoiced():
        order = attributed_order(session, window)
        lifecycle.accept_on_invoice(session, order, now=now)
        lifecycle.settle_invoice(session, order, note="PO-1", actor_user_id=None, now=now)
        session.flush()
        return order

    assert ledger_of(session, invoiced()) == []
    program(session).earn_on_invoice_orders = True
    assert len(ledger_of(session, invoiced())) == 1


def test_the_resellers_own_card_earns_nothing_and_tells_staff(session, window):
    own = make_order(session, payment_status="unpaid", user=session.get(User, window.user_id))
    pay(session, own, card=("visa", "1111"))
    order = attributed_order(session, window)
    pay(session, order, card=("visa", "1111"))
    assert ledger_of(session) == []
    session.refresh(order)
    assert order.needs_attention
    [event] = [e for e in order.events if e.kind == ledger.SELF_REFERRAL_EVENT]
    assert not event.visible_to_customer
    other = attributed_order(session, window)
    pay(session, other, card=("mastercard", "1111"))  # another card: earns
    assert len(ledger_of(session, other)) == 1


def test_approval_waits_for_delivery_and_the_return_window(session, window):
    order = attributed_order(session, window)
    pay(session, order)
    delivered_at = utcnow() - timedelta(days=20)
    assert ledger.approve_due(session, utcnow()) == 0  # not delivered yet
    deliver(session, order, delivered_at)
    assert ledger.approve_due(session, delivered_at + timedelta(days=13)) == 0
    assert ledger.approve_due(session, delivered_at + timedelta(days=14)) == 1
    assert amounts(ledger_of(session, order)) == [("commission", "approved", 1780)]
    assert ledger.approve_due(session, utcnow()) == 0  # once


def test_a_refund_before_approval_reverses_in_proportion_as_pending(session, window):
    order = attributed_order(session, window, lines=(("A", 1, 10000), ("B", 1, 5000)))
    pay(session, order)
    refund_to(session, order, 3000)  # a fifth of 15000
    refund_to(session, order, 3000)  # the same total again: nothing new
    assert amounts(ledger_of(session, order)) == [
        ("commission", "pending", 1000),
        ("commission", "pending", 500),
        ("reversal", "pending", -200),
        ("reversal", "pending", -100),
    ]
    deliver(session, order, utcnow() - timedelta(days=30))
    ledger.approve_due(session, utcnow())
    assert {line.state for line in ledger_of(session, order)} == {"approved"}
    assert ledger.balances(session, window.id)["CNY"].payable == 1200


def test_a_refund_after_approval_writes_an_approved_negative_line(session, window):
    order = attributed_order(session, window, lines=(("A", 1, 10000),))
    pay(session, order)
    deliver(session, order, utcnow() - timedelta(days=30))
    ledger.approve_due(session, utcnow())
    ledger.pay_out(session, window.id, "CNY", reference="B-1", request_key=None, actor_id=None)
    refund_to(session, order, 10000)
    assert amounts(ledger_of(session, order)) == [
        ("commission", "paid", 1000),
        ("reversal", "approved", -1000),
    ]
    balance = ledger.balances(session, window.id)["CNY"]
    assert (balance.paid, balance.reversed, balance.payable, balance.total) == (
        1000,
        1000,
        -1000,
        0,
    )
    with pytest.raises(ledger.NothingToPay):  # a negative balance is never paid out
        ledger.pay_out(session, window.id, "CNY", reference="B-2", request_key=None, actor_id=None)


def test_cancelling_a_paid_order_reverses_all_of_it_once(session, window):
    order = attributed_order(session, window, lines=(("A", 3, 3333),))
    pay(session, order)
    lifecycle.cancel(session, order, gateway=RefundingGateway())
    session.flush()
    lines = ledger_of(session, order)
    assert sum(line.amount for line in lines) == 0
    assert [line.kind for line in lines] == ["commission", "reversal"]
    assert ledger.reverse_commission(session, order) == 0  # nothing more to take back
    assert ledger.approve_due(session, utcnow()) == 2  # cancelled: it nets to nothing


def test_the_invariant_holds_after_random_refunds(session, window):
    rng = random.Random(17)
    orders = []
    for number in range(6):
        lines = tuple((f"S{i}", rng.randint(1, 4), rng.randint(1, 20000)) for i in range(3))
        order = attributed_order(session, window, lines=lines, currency=rng.choice(["CNY", "JPY"]))
        pay(session, order)
        if number % 2:
            deliver(session, order, utcnow() - timedelta(days=30))
        orders.append(order)
    ledger.approve_due(session, utcnow())
    for _ in range(25):
        order = rng.choice(orders)
        step = rng.randint(1, order.total_amount)
        refund_to(session, order, min(order.refunded_amount + step, order.total_amount))
        if rng.random() < 0.3:
            with contextlib.suppress(ledger.NothingToPay):
                ledger.pay_out(
                    session,
                    window.id,
                    rng.choice(["CNY", "JPY"]),
                    reference="X",
                    request_key=None,
                    actor_id=None,
                )
        check_invariants(session, window.id)
    for order in orders:
        lines = ledger_of(session, order)
        earned = [line.amount for line in lines if line.kind == "commission"]
        taken = -sum(line.amount for line in lines if line.kind == "reversal")
        expected = sum(amount * order.refunded_amount // order.total_amount for amount in earned)
        assert taken == expected <= sum(earned)


def test_the_approve_commissions_command_approves_what_is_due(app, session, window):
    order = attributed_order(session, window)
    pay(session, order)
    deliver(session, order, utcnow() - timedelta(days=15))
    fresh = attributed_order(session, window)
    pay(session, fresh)
    deliver(session, fresh, utcnow() - timedelta(days=2))
    session.commit()
    result = app.test_cli_runner().invoke(args=["approve-commissions"])
    assert result.exit_code == 0, result.output
    assert "Approved 1 commission line(s)." in result.output
    assert [line.state for line in ledger_of(session)] == ["approved", "pending"]
    again = app.test_cli_runner().invoke(args=["approve-commissions"])
    assert "Approved 0 commission line(s)." in again.output
