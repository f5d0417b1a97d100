"""Refunds through Stripe, and reconciling what Stripe says was refunded.

Staff refund from the order desk (all or part, and optionally put the pieces back on the
shelf); a refund made in Stripe's own dashboard arrives as ``charge.refunded``. Both end
in ``apply_refunded_total``: the order's refunded amount is Stripe's running total, which
only grows, so the same news twice, or in the wrong order, changes nothing.
"""

from sqlalchemy.orm import Session

from shop.exceptions import ShopError
from shop.money import format_money
from shop.orders import transitions
from shop.orders.models import Order, Payment, Refund
from shop.orders.notifications import notify
from shop.payments.stripe_gateway import StripeGateway
from shop.stock.allocation import adjust

REFUNDABLE_STATUSES = ("paid", "partially_refunded")


class RefundNotAllowed(ShopError):
    message = "This order has nothing that can be refunded."


class RefundTooLarge(ShopError):
    def __init__(self, refundable: int, currency: str):
        super().__init__(f"at most {refundable} {currency} can be refunded")
        self.refundable = refundable
        self.currency = currency


class InvalidReturn(ShopError):
    message = "Return at most the pieces that were sold on that line."


def refunded_so_far(order: Order) -> int:
    ours = sum(refund.amount for refund in order.refunds if refund.status != "failed")
    return max(order.refunded_amount, ours)


def refundable_amount(order: Order) -> int:
    if order.payment_status not in REFUNDABLE_STATUSES:
        return 0
    return max(order.total_amount - refunded_so_far(order), 0)


def paid_payment(order: Order) -> Payment | None:
    return next((p for p in reversed(order.payments) if p.status == "succeeded"), None)


def refund(
    session: Session,
    order: Order,
    amount: int,
    *,
    gateway: StripeGateway,
    request_key: str,
    staff_user_id: int | None = None,
    note: str = "",
    returns: dict[int, int] | None = None,
) -> Refund:
    """Refund ``amount`` through Stripe. ``request_key`` (unique) makes a repeated request
    one refund; it is also Stripe's idempotency key. Raises before calling Stripe when the
    amount is more than is left to refund."""
    transitions.lock(session, order)  # two refunds at once take turns: no over-refund
    payment = paid_payment(order)
    if payment is None or order.payment_status not in REFUNDABLE_STATUSES:
        raise RefundNotAllowed()
    available = refundable_amount(order)
    if amount < 1 or amount > available:
        raise RefundTooLarge(available, order.currency)
    check_returns(order, returns or {})  # before Stripe: a bad return must not follow a refund
    row = Refund(request_key=request_key, amount=amount, note=note, staff_user_id=staff_user_id)
    order.refunds.append(row)
    session.flush()  # a second request with this key stops here (unique constraint)
    row.stripe_refund_id = gateway.refund(
        payment.intent_id, amount, idempotency_key=f"refund-{request_key}"
    )
    row.status = "succeeded"
    if returns:
        return_to_stock(session, order, returns, staff_user_id=staff_user_id)
        row.restocked = True
    apply_refunded_total(session, order, refunded_so_far(order), actor_user_id=staff_user_id)
    return row


def returnable_quantities(order: Order) -> dict[int, int]:
    """Pieces of each sold, stocked line that can still go back on the shelf."""
    return {
        line.id: line.quantity - line.returned_quantity
        for line in order.lines
        if not line.made_to_order and not line.allocated and line.variant_id is not None
    }


def check_returns(order: Order, returns: dict[int, int]) -> None:
    """``InvalidReturn`` unless every quantity is 0 or fits what can still be returned."""
    left = returnable_quantities(order)
    for line_id, quantity in returns.items():
        if quantity != 0 and (line_id not in left or quantity < 0 or quantity > left[line_id]):
            raise InvalidReturn()


def return_to_stock(
    session: Session, order: Order, returns: dict[int, int], *, staff_user_id: int | None
) -> None:
    """Put sold pieces of stocked lines back on hand, a ledger row each."""
    check_returns(order, returns)
    lines = {line.id: line for line in order.lines}
    for line_id, quantity in returns.items():
        if quantity == 0:
            continue
        line = lines[line_id]
        adjust(
            session,
            line.variant_id,
            quantity,
            reason="returned",
            staff_user_id=staff_user_id,
            note=f"order {order.number}",
            reference=order.number,
        )
        line.returned_quantity += quantity
    session.flush()


def apply_refunded_total(
    session: Session, order: Order, total: int, *, actor_user_id: int | None = None
) -> bool:
    """Record that ``total`` has been refunded in all; move the payment status to match
    and email the customer once per new total. ``False`` when this is not news."""
    if total <= order.refunded_amount and not _status_behind(order):
        return False
    order.refunded_amount = max(order.refunded_amount, total)
    if order.payment_status not in REFUNDABLE_STATUSES:
        return True  # refunded before the payment's own event arrived: applied when paid
    sync_refund_status(session, order, actor_user_id=actor_user_id)
    return True


def _status_behind(order: Order) -> bool:
    return order.payment_status == "paid" and order.refunded_amount > 0


def sync_refund_status(session: Session, order: Order, *, actor_user_id: int | None = None):
    """Make the payment status say what ``refunded_amount`` says (after payment too)."""
    if order.refunded_amount <= 0 or order.payment_status not in REFUNDABLE_STATUSES:
        return
    wanted = "refunded" if order.refunded_amount >= order.total_amount else "partially_refunded"
    if wanted == order.payment_status == "refunded":
        return
    note = format_money(order.refunded_amount, order.currency, order.locale)
    transitions.move(
        session, order, "payment_status", wanted, note=note, actor_user_id=actor_user_id
    )
    notify(session, order, "refunded", distinct=str(order.refunded_amount))
