"""Fraud signals for an order placed through a window, for staff on the order desk.

A signal is a reason to look twice, never a verdict: the desk shows it as a warning and
staff decide. Each is one plain rule:

- ``same_address``: ``MANY_ORDERS`` or more orders to the same window, delivered to the
  same address (country, postcode and first line, case and spaces aside), placed within
  ``WINDOW_DAYS`` days of this one (before or after);
- ``same_card``: the same, paid with the same card (brand and last four digits);
- ``own_account``: the reseller bought through their own window (their account, or a
  guest order with their account's email);
- ``refund_after_approval``: money went back within ``REFUND_AFTER_APPROVAL_DAYS`` days
  after the order's commission was approved (earned, then taken back).

A few statements for an order through a window, none for any other order.
"""

from dataclasses import dataclass
from datetime import timedelta

import sqlalchemy as sa
from sqlalchemy.orm import Session

from shop.accounts.models import User
from shop.db import as_utc
from shop.orders.models import Order
from shop.payments.models import Payment
from shop.resellers.models import CommissionLine, Reseller

MANY_ORDERS = 3
WINDOW_DAYS = 7
REFUND_AFTER_APPROVAL_DAYS = 3
KINDS = ("same_address", "same_card", "own_account", "refund_after_approval")


@dataclass(frozen=True)
class Signal:
    kind: str  # one of KINDS
    count: int = 0  # same_address, same_card: how many orders share it
    days: int = 0  # the span the rule looked at


def _fold(column):
    return sa.func.lower(sa.func.trim(column))


def _nearby_orders(order: Order):
    """The window's orders placed within ``WINDOW_DAYS`` days of ``order``."""
    placed = as_utc(order.created_at)
    span = timedelta(days=WINDOW_DAYS)
    return sa.and_(
        Order.reseller_id == order.reseller_id,
        Order.created_at >= placed - span,
        Order.created_at <= placed + span,
    )


def _same_address_count(session: Session, order: Order) -> int:
    if order.delivery_method != "courier" or not order.line1.strip():
        return 0
    return (
        session.scalar(
            sa.select(sa.func.count(Order.id)).where(
                _nearby_orders(order),
                Order.delivery_method == "courier",
                Order.country == order.country,
                _fold(Order.postcode) == order.postcode.strip().lower(),
                _fold(Order.line1) == order.line1.strip().lower(),
            )
        )
        or 0
    )


def _same_card_count(session: Session, order: Order) -> int:
    cards = {
        (payment.card_brand, payment.card_last4)
        for payment in order.payments
        if payment.card_brand and payment.card_last4
    }
    if not cards:
        return 0
    return (
        session.scalar(
            sa.select(sa.func.count(sa.distinct(Order.id)))
            .join(Payment, Payment.order_id == Order.id)
            .where(
                _nearby_orders(order),
                sa.or_(
                    *(
                        sa.and_(Payment.card_brand == brand, Payment.card_last4 == last4)
                        for brand, last4 in sorted(cards)
                    )
                ),
            )
        )
        or 0
    )


def _own_account(session: Session, order: Order) -> bool:
    owner = session.execute(
        sa.select(User.id, User.email)
        .join(Reseller, Reseller.user_id == User.id)
        .where(Reseller.id == order.reseller_id)
    ).first()
    if owner is None:
        return False
    return order.user_id == owner.id or order.email.strip().lower() == owner.email.lower()


def _refund_after_approval(session: Session, order: Order) -> bool:
    approved_at = session.scalar(
        sa.select(sa.func.min(CommissionLine.approved_at)).where(
            CommissionLine.order_id == order.id,
            CommissionLine.kind == "commission",
            CommissionLine.approved_at.is_not(None),
        )
    )
    if approved_at is None:
        return False
    start = as_utc(approved_at)
    end = start + timedelta(days=REFUND_AFTER_APPROVAL_DAYS)
    return any(
        start <= as_utc(refund.created_at) <= end
        for refund in order.refunds
        if refund.status != "failed"
    )


def order_signals(session: Session, order: Order) -> list[Signal]:
    """The signals ``order`` raises, in ``KINDS`` order; none for an order not placed
    through a window. ``order.payments`` and ``order.refunds`` are read as loaded."""
    if order.reseller_id is None:
        return []
    found = []
    same_address = _same_address_count(session, order)
    if same_address >= MANY_ORDERS:
        found.append(Signal("same_address", same_address, WINDOW_DAYS))
    same_card = _same_card_count(session, order)
    if same_card >= MANY_ORDERS:
        found.append(Signal("same_card", same_card, WINDOW_DAYS))
    if _own_account(session, order):
        found.append(Signal("own_account"))
    if _refund_after_approval(session, order):
        found.append(Signal("refund_after_approval", days=REFUND_AFTER_APPROVAL_DAYS))
    return found
