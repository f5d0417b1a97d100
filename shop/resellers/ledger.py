"""The commission ledger and payouts, over the tables (the arithmetic is
``shop.resellers.ledger_rules``).

A ledger line is written once and its amount never changes: each one has a unique key
(``c:<order line>`` for a commission, ``r:<order>:<order line>:<refunded total or
"cancel">`` for a reversal) and goes in with ``INSERT … ON CONFLICT DO NOTHING``, so a
webhook delivered twice, a retried job or two requests at once write it once. Its state
only moves forward (pending → approved → paid), each move one conditional ``UPDATE``.

- ``record_commission``: at payment (``lifecycle.mark_paid`` and ``settle_invoice``),
  a pending line per order line of an attributed order that earns.
- ``reverse_commission``: after a refund (``lifecycle.sync_refund_status``) or a
  cancellation, negative lines in proportion to what was refunded (cumulative, so the
  reversals together never exceed what was earned).
- ``approve_due``: pending lines of delivered orders past the return window (and of
  cancelled orders, which net to nothing) become approved (the periodic job).
- ``pay_out``: one payout moves exactly the approved lines of one window and currency.

The ``lifecycle`` hooks run under the order's lock, so the reversals of one order are
computed one at a time. Plain functions over the session: they flush, never commit.
"""

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from shop.audit.service import record as audit
from shop.catalog.models import Product
from shop.db import lock_row, rows_changed, utcnow
from shop.exceptions import ShopError
from shop.orders import transitions
from shop.orders.models import Order, OrderEvent, OrderLine
from shop.payments.models import Payment
from shop.resellers.ledger_rules import (
    Balance,
    approval_cutoff,
    balances_from,
    line_commission,
    may_pay,
    reversal_due,
    reversal_state,
)
from shop.resellers.models import CommissionLine, Reseller, ResellerPayout
from shop.resellers.program import (
    DEFAULT_PAYOUT_MINIMUMS,
    category_rates,
    commission_rate,
    program,
    read_program,
    window_terms,
)

SELF_REFERRAL_EVENT = "reseller_self_referral"


class NothingToPay(ShopError):
    message = "There is no approved balance to pay out."


class BalanceChanged(ShopError):
    def __init__(self, amount: int):
        super().__init__(f"the approved balance is {amount} now")
        self.amount = amount


class PayoutAlreadyRecorded(ShopError):
    message = "This payout form was sent already."


class MissingReference(ShopError):
    message = "A payout needs the bank's reference."


def _insert(session: Session):
    dialect = session.get_bind().dialect.name
    return (sqlite.insert if dialect == "sqlite" else postgresql.insert)(CommissionLine)


def _write_lines(session: Session, rows: list[dict]) -> int:
    """Insert ledger lines; a key written before is skipped. Returns how many went in."""
    if not rows:
        return 0
    statement = _insert(session).values(rows).on_conflict_do_nothing(index_elements=["key"])
    return len(session.execute(statement.returning(CommissionLine.id)).all())


# --- earning -----------------------------------------------------------------------------


def _paid_on_invoice(order: Order) -> bool:
    return any(event.kind == "awaiting_invoice" for event in order.events)


def _paying_card(order: Order) -> Payment | None:
    return next(
        (p for p in reversed(order.payments) if p.status == "succeeded" and p.card_last4), None
    )


def _paid_with_resellers_card(session: Session, order: Order, reseller: Reseller) -> bool:
    """The card that paid ``order`` also paid one of the reseller's own orders."""
    card = _paying_card(order)
    if card is None:
        return False
    match = session.scalar(
        sa.select(Payment.id)
        .join(Order, Payment.order_id == Order.id)
        .where(
            Order.user_id == reseller.user_id,
            Order.id != order.id,
            Payment.status == "succeeded",
            Payment.card_brand == card.card_brand,
            Payment.card_last4 == card.card_last4,
        )
        .limit(1)
    )
    return match is not None


def record_commission(session: Session, order: Order, *, now: datetime | None = None) -> int:
    """The order was paid: a pending commission line per order line that earns (nothing
    for an order the window does not earn on). Returns the lines written (0 when they
    were written before). The caller holds the order's lock."""
    if order.reseller_id is None or not order.reseller_earns:
        return 0
    reseller = session.get(Reseller, order.reseller_id)
    if reseller is None or order.user_id == reseller.user_id:
        return 0
    if _paid_on_invoice(order) and not program(session).earn_on_invoice_orders:
        return 0
    if _paid_with_resellers_card(session, order, reseller):
        order.needs_attention = True
        transitions.record(
            session,
            order,
            SELF_REFERRAL_EVENT,
            note=f"paid with a card of the window {reseller.handle}: no commission",
            visible_to_customer=False,
        )
        return 0
    window = window_terms(session, reseller.id)
    model = order.reseller_model or window.money_model
    product_ids = {line.product_id for line in order.lines if line.product_id is not None}
    categories = dict(
        session.execute(
            sa.select(Product.id, Product.category_id).where(Product.id.in_(product_ids))
        ).all()
    )
    rates = category_rates(session, categories.values())
    now = now or utcnow()
    rows = []
    for line in order.lines:
        category = categories.get(line.product_id) if line.product_id is not None else None
        amount = line_commission(
            model=model,
            unit_amount=line.unit_amount,
            quantity=line.quantity,
            line_amount=line.line_amount,
            factory_unit_amount=line.factory_unit_amount,
            rate_bps=commission_rate(window, rates.get(category) if category else None),
        )
        if amount > 0:
            rows.append(
                {
                    "key": f"c:{line.id}",
                    "reseller_id": reseller.id,
                    "order_id": order.id,
                    "order_line_id": line.id,
                    "currency": order.currency,
                    "amount": amount,
                    "kind": "commission",
                    "state": "pending",
                    "note": "",
                    "created_at": now,
                }
            )
    return _write_lines(session, rows)


def reverse_commission(session: Session, order: Order, *, now: datetime | None = None) -> int:
    """Take back commission in proportion to what has been refunded of the order so far
    (all of it once the order is cancelled). Returns the reversal lines written. The
    caller holds the order's lock, so the totals read here are the latest."""
    cancelled = order.state == "cancelled"
    if order.reseller_id is None or (order.refunded_amount <= 0 and not cancelled):
        return 0
    commissions = session.scalars(
        sa.select(CommissionLine)
        .where(CommissionLine.order_id == order.id, CommissionLine.kind == "commission")
        .order_by(CommissionLine.id)
    ).all()
    if not commissions:
        return 0
    reversed_so_far = dict(
        session.execute(
            sa.select(CommissionLine.order_line_id, sa.func.sum(CommissionLine.amount))
            .where(CommissionLine.order_id == order.id, CommissionLine.kind == "reversal")
            .group_by(CommissionLine.order_line_id)
        ).all()
    )
    stage = "cancel" if cancelled else str(order.refunded_amount)
    now = now or utcnow()
    rows = []
    for line in commissions:
        due = reversal_due(
            line.amount,
            order.refunded_amount,
            order.total_amount,
            -int(reversed_so_far.get(line.order_line_id) or 0),
            cancelled=cancelled,
        )
        if due > 0:
            rows.append(
                {
                    "key": f"r:{order.id}:{line.order_line_id}:{stage}",
                    "reseller_id": line.reseller_id,
                    "order_id": order.id,
                    "order_line_id": line.order_line_id,
                    "currency": line.currency,
                    "amount": -due,
                    "kind": "reversal",
                    "state": reversal_state(line.state),
                    "note": "cancelled" if cancelled else f"refunded {order.refunded_amount}",
                    "created_at": now,
                    "approved_at": None if line.state == "pending" else now,
                }
            )
    return _write_lines(session, rows)


# --- approving ---------------------------------------------------------------------------


def approve_due(session: Session, now: datetime | None = None) -> int:
    """Pending lines of orders delivered at least the return window ago — and of
    cancelled orders, whose reversals cancel them out — become approved. One conditional
    ``UPDATE``: safe to run anywhere, at once, as often as wanted. Returns the lines moved."""
    now = now or utcnow()
    cutoff = approval_cutoff(program(session).return_window_days, now)
    delivered_long_enough = (
        sa.select(OrderEvent.id)
        .where(
            OrderEvent.order_id == Order.id,
            OrderEvent.kind == "delivered",
            OrderEvent.created_at <= cutoff,
        )
        .exists()
    )
    due_orders = sa.select(Order.id).where(
        sa.or_(
            sa.and_(Order.fulfilment_status == "delivered", delivered_long_enough),
            Order.state == "cancelled",
        )
    )
    return rows_changed(
        session,
        sa.update(CommissionLine)
        .where(CommissionLine.state == "pending", CommissionLine.order_id.in_(due_orders))
        .values(state="approved", approved_at=now)
        .execution_options(synchronize_session=False),
    )


# --- balances ----------------------------------------------------------------------------


def _balance_rows(session: Session, *conditions):
    return session.execute(
        sa.select(
            CommissionLine.currency,
            CommissionLine.kind,
            CommissionLine.state,
            sa.func.sum(CommissionLine.amount),
            sa.func.count(),
        )
        .where(*conditions)
        .group_by(CommissionLine.currency, CommissionLine.kind, CommissionLine.state)
    ).all()


def balances(session: Session, reseller_id: int) -> dict[str, Balance]:
    """``{currency: Balance}`` of one window (``ledger_rules`` defines the buckets)."""
    return balances_from(_balance_rows(session, CommissionLine.reseller_id == reseller_id))


def balances_by_window(
    session: Session, reseller_ids: Iterable[int]
) -> dict[int, dict[str, Balance]]:
    """``{reseller_id: {currency: Balance}}`` for a page of windows, in one query (the
    staff's list of windows shows what each has earned)."""
    ids = list(reseller_ids)
    if not ids:
        return {}
    rows = session.execute(
        sa.select(
            CommissionLine.reseller_id,
            CommissionLine.currency,
            CommissionLine.kind,
            CommissionLine.state,
            sa.func.sum(CommissionLine.amount),
            sa.func.count(),
        )
        .where(CommissionLine.reseller_id.in_(ids))
        .group_by(
            CommissionLine.reseller_id,
            CommissionLine.currency,
            CommissionLine.kind,
            CommissionLine.state,
        )
    ).all()
    grouped: dict[int, list] = {}
    for reseller_id, *rest in rows:
        grouped.setdefault(reseller_id, []).append(rest)
    return {reseller_id: balances_from(found) for reseller_id, found in grouped.items()}


def payout_minimums(session: Session) -> dict[str, int]:
    """The smallest payout per currency, read without writing (GET pages read it)."""
    return dict(read_program(session).payout_minimums or DEFAULT_PAYOUT_MINIMUMS)


@dataclass(frozen=True)
class PayableBalance:
    reseller_id: int
    handle: str
    display_name: str
    currency: str
    amount: int
    line_count: int


def payable(session: Session) -> list[PayableBalance]:
    """Each window's approved balance per currency that may be paid out now (positive
    and at least the currency's minimum), by handle."""
    minimums = payout_minimums(session)
    rows = session.execute(
        sa.select(
            Reseller.id,
            Reseller.handle,
            Reseller.display_name,
            CommissionLine.currency,
            sa.func.sum(CommissionLine.amount),
            sa.func.count(),
        )
        .join(Reseller, Reseller.id == CommissionLine.reseller_id)
        .where(CommissionLine.state == "approved")
        .group_by(Reseller.id, Reseller.handle, Reseller.display_name, CommissionLine.currency)
        .order_by(Reseller.handle, CommissionLine.currency)
    ).all()
    return [
        PayableBalance(reseller_id, handle, name, currency, int(amount), int(count))
        for reseller_id, handle, name, currency, amount, count in rows
        if may_pay(int(amount), minimums.get(currency))
    ]


# --- paying out --------------------------------------------------------------------------


def pay_out(
    session: Session,
    reseller_id: int,
    currency: str,
    *,
    reference: str,
    request_key: str | None,
    actor_id: int | None,
    expected_amount: int | None = None,
    now: datetime | None = None,
) -> ResellerPayout:
    """Record money sent to a window: one payout that moves exactly the approved lines of
    ``reseller_id`` in ``currency`` at this moment to ``paid``.

    Payouts of one window take turns (the window's row lock), and only a payout moves a
    line out of ``approved``: so the lines read under the lock are the lines moved, and a
    second staff member paying at the same time finds nothing left. Raises
    ``PayoutAlreadyRecorded`` for a used ``request_key``, ``NothingToPay`` when the
    approved lines add up to nothing or less, ``BalanceChanged`` when they do not add up
    to ``expected_amount`` (what the staff member saw and sent); nothing is written then."""
    reference = reference.strip()
    if not reference:
        raise MissingReference()
    lock_row(session, Reseller.status, reseller_id)
    if request_key is not None and session.scalar(
        sa.select(ResellerPayout.id).where(ResellerPayout.request_key == request_key)
    ):
        raise PayoutAlreadyRecorded()
    approved = session.execute(
        sa.select(CommissionLine.id, CommissionLine.amount).where(
            CommissionLine.reseller_id == reseller_id,
            CommissionLine.currency == currency,
            CommissionLine.state == "approved",
        )
    ).all()
    amount = sum(line_amount for _id, line_amount in approved)
    if not approved or amount <= 0:
        raise NothingToPay()
    if expected_amount is not None and amount != expected_amount:
        raise BalanceChanged(amount)
    payout = ResellerPayout(
        reseller_id=reseller_id,
        currency=currency,
        amount=amount,
        line_count=len(approved),
        reference=reference,
        request_key=request_key,
        created_by_id=actor_id,
        created_at=now or utcnow(),
    )
    session.add(payout)
    session.flush()
    moved = rows_changed(
        session,
        sa.update(CommissionLine)
        .where(
            CommissionLine.id.in_([line_id for line_id, _amount in approved]),
            CommissionLine.state == "approved",
        )
        .values(state="paid", payout_id=payout.id)
        .execution_options(synchronize_session=False),
    )
    if moved != len(approved):  # only a payout leaves "approved", and payouts take turns
        raise RuntimeError(f"payout {payout.id}: moved {moved} of {len(approved)} lines")
    audit(
        session,
        actor_user_id=actor_id,
        action="reseller.payout",
        target_type="reseller",
        target_id=reseller_id,
        after={
            "payout": payout.id,
            "currency": currency,
            "amount": amount,
            "lines": moved,
            "reference": reference,
        },
    )
    return payout


# --- reading -----------------------------------------------------------------------------


@dataclass(frozen=True)
class LedgerRow:
    """One ledger line as the window sees it: no buyer detail, only the order's number
    and what was bought."""

    created_at: datetime
    order_number: str
    product_name: str
    kind: str
    state: str
    currency: str
    amount: int
    size: str = ""
    colour: str = ""


def list_lines(
    session: Session,
    reseller_id: int,
    *,
    start: datetime | None = None,
    end: datetime | None = None,
    limit: int | None = None,
) -> list[LedgerRow]:
    """The window's ledger lines, newest first (``start`` ≤ written < ``end``)."""
    query = (
        sa.select(
            CommissionLine.created_at,
            Order.number,
            sa.func.coalesce(OrderLine.product_name, ""),
            CommissionLine.kind,
            CommissionLine.state,
            CommissionLine.currency,
            CommissionLine.amount,
            sa.func.coalesce(OrderLine.size, ""),
            sa.func.coalesce(OrderLine.colour, ""),
        )
        .join(Order, Order.id == CommissionLine.order_id)
        .outerjoin(OrderLine, OrderLine.id == CommissionLine.order_line_id)
        .where(CommissionLine.reseller_id == reseller_id)
        .order_by(CommissionLine.created_at.desc(), CommissionLine.id.desc())
    )
    if start is not None:
        query = query.where(CommissionLine.created_at >= start)
    if end is not None:
        query = query.where(CommissionLine.created_at < end)
    if limit is not None:
        query = query.limit(limit)
    return [LedgerRow(*row) for row in session.execute(query).all()]


@dataclass(frozen=True)
class PayoutRow:
    payout: ResellerPayout
    handle: str
    display_name: str


def list_payouts(
    session: Session,
    *,
    reseller_id: int | None = None,
    start: datetime | None = None,
    end: datetime | None = None,
    limit: int | None = 50,
) -> list[PayoutRow]:
    """Payouts, newest first: one window's, or everyone's (staff)."""
    query = (
        sa.select(ResellerPayout, Reseller.handle, Reseller.display_name)
        .join(Reseller, Reseller.id == ResellerPayout.reseller_id)
        .order_by(ResellerPayout.created_at.desc(), ResellerPayout.id.desc())
        .limit(limit)
    )
    if reseller_id is not None:
        query = query.where(ResellerPayout.reseller_id == reseller_id)
    if start is not None:
        query = query.where(ResellerPayout.created_at >= start)
    if end is not None:
        query = query.where(ResellerPayout.created_at < end)
    return [PayoutRow(*row) for row in session.execute(query).all()]
