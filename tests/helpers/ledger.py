"""Attributed orders and their money, for the ledger's and payouts' tests: orders made by
``tests.order_factories``, with the window fields the attribution sets at placing, paid,
delivered and refunded through ``shop.orders.lifecycle``."""

from datetime import datetime, timedelta

import sqlalchemy as sa

from shop.db import utcnow
from shop.orders import lifecycle, transitions
from shop.orders.models import Order
from shop.payments.models import Payment
from shop.resellers import ledger
from shop.resellers.models import CommissionLine, ResellerPayout
from tests.order_factories import make_order


def attributed_order(
    session,
    reseller,
    *,
    model="referral",
    lines=(("POLO-130", 2, 8900),),
    factory_units=(),
    currency="CNY",
    user=None,
    earns=True,
    **fields,
) -> Order:
    """An unpaid order placed through ``reseller``'s window."""
    order = make_order(
        session, lines=lines, payment_status="unpaid", currency=currency, user=user, **fields
    )
    order.reseller_id = reseller.id
    order.reseller_model = model
    order.reseller_earns = earns
    for line, factory_unit in zip(order.lines, factory_units, strict=False):
        line.factory_unit_amount = factory_unit
    session.flush()
    return order


def pay(session, order: Order, *, card=("visa", "4242"), now: datetime | None = None) -> None:
    """The card payment succeeded (what the webhook does, without Stripe)."""
    order.payments.append(
        Payment(
            attempt=len(order.payments) + 1,
            intent_id=f"pi_ledger_{order.number}_{len(order.payments) + 1}",
            amount=order.total_amount,
            currency=order.currency,
            status="succeeded",
            card_brand=card[0],
            card_last4=card[1],
        )
    )
    session.flush()
    lifecycle.lock(session, order)
    lifecycle.mark_paid(session, order, now=now)
    session.flush()


def deliver(session, order: Order, when: datetime) -> None:
    transitions.move(session, order, "fulfilment_status", "shipped", now=when)
    transitions.move(session, order, "fulfilment_status", "delivered", now=when)
    session.flush()


def refund_to(session, order: Order, total: int) -> None:
    """Stripe says ``total`` has been refunded in all (``charge.refunded``)."""
    lifecycle.charge_refunded(session, order, total)
    session.flush()


class RefundingGateway:
    """Stands in for Stripe where a refund is all that is asked."""

    def refund(self, intent_id, amount, *, idempotency_key):
        return f"re_{idempotency_key}"[:60]

    def cancel(self, intent_id):
        return True


def ledger_of(session, order: Order | None = None) -> list[CommissionLine]:
    session.expire_all()
    query = sa.select(CommissionLine).order_by(CommissionLine.id)
    if order is not None:
        query = query.where(CommissionLine.order_id == order.id)
    return list(session.scalars(query))


def long_ago(days: int) -> datetime:
    return utcnow() - timedelta(days=days)


def check_invariants(session, reseller_id: int) -> None:
    """Per currency: the sum of the ledger == pending + approved + paid − reversed; the
    payouts add up to the paid lines and never to more than was earned."""
    session.expire_all()
    for currency, balance in ledger.balances(session, reseller_id).items():
        lines = session.scalars(
            sa.select(CommissionLine).where(
                CommissionLine.reseller_id == reseller_id, CommissionLine.currency == currency
            )
        ).all()
        assert sum(line.amount for line in lines) == balance.total
        assert balance.total == balance.pending + balance.approved + balance.paid - balance.reversed
        paid_out = session.scalar(
            sa.select(sa.func.coalesce(sa.func.sum(ResellerPayout.amount), 0)).where(
                ResellerPayout.reseller_id == reseller_id, ResellerPayout.currency == currency
            )
        )
        assert paid_out == sum(line.amount for line in lines if line.state == "paid")
        assert paid_out <= balance.pending + balance.approved + balance.paid
        assert all(line.payout_id is not None for line in lines if line.state == "paid")
