"""How an order moves: every change to an order's statuses, in the order an order lives.

    placed → paid (card webhook, or accepted on invoice and later settled)
           → in production → ready → shipped (in parts or whole) → delivered
    and, on the way: cancelled (by the customer, staff, or an expired reservation),
    refunded (in part or whole), reinstated (paid after its reservation expired).

Each function here is one move, and each is a compare-and-set: it takes the order's row
lock (``transitions.lock``: the row lock on PostgreSQL, the write lock on SQLite), reads
the order again as it is now, and only then decides. So the second of two identical
requests — a double click, two staff, a webhook delivered twice, a retried job — finds
the move made, changes nothing, writes no event, sends no email, and moves no stock; it
raises the same refusal a late click would (``IllegalTransition``, ``CannotCancel`` …),
which the caller turns into the page the user expects.

Stock is held at placing, sold when the order is paid (or accepted on invoice), and given
back when an unpaid order is cancelled; a line's ``allocated`` flag says whether it still
holds its pieces, and it changes under the order's lock, so nothing is released or sold
twice. Calls to Stripe that only stop a payment (cancelling a PaymentIntent) happen before
the lock, so no lock waits on Stripe; refunds happen under it, keyed so a retry is one
refund. Plain functions over the session: they flush, the caller commits once.
"""

from contextlib import suppress
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING

import sqlalchemy as sa
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from shop import metrics
from shop.db import as_utc, insert_loaded, utcnow
from shop.exceptions import ShopError
from shop.money import format_money
from shop.orders import transitions
from shop.orders.carriers import CARRIERS, carrier_name, tracking_url
from shop.orders.models import Order, OrderEvent, OrderLine, Shipment, ShipmentLine
from shop.orders.notifications import notify
from shop.payments.models import Payment, Refund
from shop.payments.stripe_gateway import (
    Intent,
    PaymentServiceUnavailable,
    RefundRefused,
    StripeGateway,
    UnknownIntent,
)
from shop.resellers import ledger
from shop.schools.models import School
from shop.stock.allocation import NotEnoughStock, adjust, allocate, release, sell

if TYPE_CHECKING:
    from shop.cart.pricing import CartPricing

PAID_ENOUGH_TO_MAKE = ("paid", "partially_refunded", "awaiting_invoice")
REFUNDABLE_STATUSES = ("paid", "partially_refunded")
# A PaymentIntent in one of these took (or is taking) the buyer's money.
TAKEN_STATUSES = ("succeeded", "processing", "requires_capture")
# A PaymentIntent in one of these takes no other card: the next try is a new attempt.
# ("refunded": a second charge for an order already paid, given back.)
SPENT_STATUSES = ("declined", "canceled", "refunded")


class CannotFulfil(ShopError):
    message = "The order is not paid or no longer open."


class InvalidShipment(ShopError):
    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason  # carrier, tracking, nothing, quantity


class CannotCancel(ShopError):
    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason  # closed, in_production, shipped, paying


class StockRanOut(ShopError):
    def __init__(self, sku: str, available: int):
        super().__init__(f"only {available} of {sku} left")
        self.sku = sku
        self.available = available


class RefundNotAllowed(ShopError):
    message = "This order has nothing that can be refunded."


class RefundTooLarge(ShopError):
    def __init__(self, refundable: int, currency: str):
        super().__init__(f"at most {refundable} {currency} can be refunded")
        self.refundable = refundable
        self.currency = currency


class InvalidReturn(ShopError):
    message = "Return at most the pieces that were sold on that line."


def lock(session: Session, order: Order) -> None:
    """Take the order's lock for this transaction and read it afresh (see the module)."""
    transitions.lock(session, order)


# --- placing -----------------------------------------------------------------------------


def write_order(
    session: Session,
    pricing: "CartPricing",
    details,
    *,
    number: str,
    shipping_amount: int,
    user_id: int | None,
    locale: str,
    now: datetime,
    school_id: int | None = None,
    delivery_round_id: int | None = None,
    po_number: str = "",
    request_key: str | None = None,
    reserved_until: datetime | None = None,
    intent: Intent | None = None,
) -> Order:
    """Allocate the stock and write the order with a snapshot of every line, in
    ``pending payment``, and its "placed" event. Raises ``StockRanOut``.

    ``request_key`` is the placing form's one-time key, unique on the order: the same form
    sent twice at once writes one order (the second flush fails and rolls back).
    ``reserved_until``: how long an unpaid order holds its stock (written with the order).
    ``intent``: the card PaymentIntent made for it, its first payment attempt (else the
    caller adds how it is paid). The order, its lines, event and payment are a statement
    per table; the stock ledger's rows and whatever else the session holds follow in one
    flush."""
    # Stock first: the conditional UPDATEs are the race, and losing it should cost nothing.
    # One UPDATE per variant, however many children's lines share it (a roster of 2,000
    # students is a few dozen variants, not 8,000 lines), in variant order (no deadlock).
    wanted: dict[int, int] = {}
    skus: dict[int, str] = {}
    for group in pricing.groups:
        if group.made_to_order:
            continue
        for line in group.lines:
            if line.made_to_order:  # a roster chose to have it made (no stock held)
                continue
            wanted[line.variant_id] = wanted.get(line.variant_id, 0) + line.quantity
            skus[line.variant_id] = line.sku
    for variant_id in sorted(wanted):
        try:
            allocate(session, variant_id, wanted[variant_id], reference=number)
        except NotEnoughStock as error:
            raise StockRanOut(skus[variant_id], error.available) from None

    values = dict(
        number=number,
        user_id=user_id,
        currency=pricing.currency,
        locale=locale,
        subtotal_amount=pricing.total_amount,
        shipping_amount=shipping_amount,
        total_amount=pricing.total_amount + shipping_amount,
        created_at=now,
        school_id=school_id,
        delivery_round_id=delivery_round_id,
        po_number=po_number,
        request_key=request_key,
        reserved_until=reserved_until,
        **details.to_dict(),
    )
    if details.delivery_method == "pickup":
        values.update(
            dict.fromkeys(("country", "region", "city", "line1", "line2", "postcode"), "")
        )
    if details.delivery_method == "school" and school_id is not None:
        values.update(_school_address(session.get_one(School, school_id)))
    # Written with Core, a statement per table, and given back as loaded: the unit of
    # work's bookkeeping for a new order cost more than its statements. The order first,
    # before the session flushes what it holds (the stock ledger's rows, the cart's
    # emptied lines): the same form placed at the same moment fails here, on its key.
    with session.no_autoflush:
        (order,) = insert_loaded(session, Order, [values])
        lines = insert_loaded(
            session,
            OrderLine,
            [
                dict(
                    order_id=order.id,
                    variant_id=line.variant_id,
                    product_id=group.product_id,
                    sku=line.sku,
                    product_name=group.name,
                    size=line.size,
                    colour=line.colour,
                    unit_amount=line.unit_amount,
                    factory_unit_amount=line.factory_unit_amount,
                    quantity=line.quantity,
                    line_amount=line.line_amount,
                    made_to_order=group.made_to_order or line.made_to_order,
                    lead_time_days=group.lead_time_days,
                    allocated=not (group.made_to_order or line.made_to_order),
                    student_name=line.student_name,
                    class_name=line.class_name,
                )
                for group in pricing.groups
                for line in group.lines
            ],
        )
        events = insert_loaded(
            session, OrderEvent, [dict(order_id=order.id, kind="placed", created_at=now)]
        )
        payments = (
            insert_loaded(session, Payment, [dict(order_id=order.id, **_card_values(intent, 1))])
            if intent is not None
            else []
        )
    # Its lines, only event and payment are known: reading or adding to them loads nothing.
    set_committed_value(order, "lines", lines)
    set_committed_value(order, "events", events)
    set_committed_value(order, "payments", payments)
    session.flush()
    metrics.count_on_commit(session, metrics.ORDERS_PLACED)
    return order


def _school_address(school: School) -> dict[str, str]:
    """The parcel goes to the school's delivery address; who ordered stays the contact."""
    return {
        "country": school.country,
        "region": school.delivery_region,
        "city": school.delivery_city,
        "line1": school.delivery_line1,
        "line2": school.delivery_line2,
        "postcode": school.delivery_postcode,
    }


def find_placed(session: Session, request_key: str) -> Order | None:
    """The order a placing form with this one-time key already wrote, if any."""
    return session.scalars(sa.select(Order).where(Order.request_key == request_key)).first()


# --- stock the order holds ---------------------------------------------------------------


def _held_by_variant(order: Order) -> dict[int, int]:
    """The pieces the order still holds, per variant, marking its lines as no longer
    holding them. Called under the order's lock, so each piece is taken once."""
    held: dict[int, int] = {}
    for line in order.lines:
        if line.allocated and line.variant_id is not None:
            held[line.variant_id] = held.get(line.variant_id, 0) + line.quantity
            line.allocated = False
    return dict(sorted(held.items()))


def sell_stock(session: Session, order: Order) -> None:
    """The order's held stock becomes a sale (paid by card, or accepted on invoice)."""
    for variant_id, quantity in _held_by_variant(order).items():
        sell(session, variant_id, quantity, reference=order.number)
    session.flush()


def release_stock(session: Session, order: Order) -> None:
    """Give back what an unpaid order held."""
    for variant_id, quantity in _held_by_variant(order).items():
        release(session, variant_id, quantity, reference=order.number)
    session.flush()


def _hold_again(session: Session, order: Order) -> bool:
    """Allocate a cancelled order's stocked lines again (all or nothing, rolled back to a
    savepoint); ``False`` when the stock is no longer there."""
    wanted: dict[int, int] = {}
    for line in order.lines:
        if not line.made_to_order and line.variant_id is not None:
            wanted[line.variant_id] = wanted.get(line.variant_id, 0) + line.quantity
    savepoint = session.begin_nested()
    try:
        for variant_id in sorted(wanted):
            allocate(session, variant_id, wanted[variant_id], reference=order.number)
    except NotEnoughStock:
        savepoint.rollback()
        return False
    savepoint.commit()
    for line in order.lines:
        if not line.made_to_order and line.variant_id is not None:
            line.allocated = True
    session.flush()
    return True


# --- paying ------------------------------------------------------------------------------


def flag(session: Session, order: Order, kind: str, note: str) -> None:
    """Something staff must look at; the customer does not see it."""
    order.needs_attention = True
    transitions.record(session, order, kind, note=note, visible_to_customer=False)


def mark_paid(
    session: Session,
    order: Order,
    *,
    note: str = "",
    intent_id: str | None = None,
    now: datetime | None = None,
):
    """Paid: the order moves on, and its held stock becomes a sale. (Under the lock.)"""
    transitions.move(session, order, "payment_status", "paid", note=note, now=now)
    order.paid_intent_id = intent_id
    sell_stock(session, order)
    ledger.record_commission(session, order, now=now)


def card_payment_succeeded(
    session: Session,
    order: Order,
    intent: Intent,
    gateway: StripeGateway,
    *,
    now: datetime | None = None,
) -> str:
    """Stripe says ``intent`` (fetched from Stripe, never from an event's snapshot)
    succeeded for ``order``. Returns what happened, for the log.

    Once only: the intent that paid the order, reported again, changes nothing. A second
    intent that took money for an order already paid (a retried attempt whose first try
    was charged but never recorded) is refunded in full at once and staff are told. The
    amount and currency must be the order's, or staff are asked to look. Money that
    arrives for a cancelled order (its reservation expired while the buyer paid)
    reinstates it when its stock is still there, and otherwise is refunded in full at
    once, and the customer and the desk are told."""
    lock(session, order)
    payment = _payment_for(order, intent.id)
    if order.payment_status != "unpaid":
        if intent.id in _paying_intents(order):
            return "already paid"
        return _refund_duplicate(session, order, payment, intent, gateway)
    if payment is None:  # its attempt was never recorded (a request died half-way)
        payment = add_card_payment(session, order, intent)
    payment.status = "succeeded"
    if intent.amount != order.total_amount or intent.currency != order.currency:
        flag(
            session,
            order,
            "payment_mismatch",
            f"{intent.id} paid {intent.amount} {intent.currency}; "
            f"the order is {order.total_amount} {order.currency}",
        )
        return "mismatch"
    if order.state == "cancelled":
        return _paid_after_cancel(session, order, intent, gateway, now=now)
    mark_paid(session, order, note=intent.id, intent_id=intent.id, now=now)
    notify(session, order, "paid")
    sync_refund_status(session, order)  # a refund whose event came first
    return "paid"


def _payment_for(order: Order, intent_id: str) -> Payment | None:
    return next((p for p in order.payments if p.intent_id == intent_id), None)


def _paying_intents(order: Order) -> set[str]:
    """The PaymentIntent that paid the order (orders paid before it was recorded: every
    attempt that succeeded)."""
    if order.paid_intent_id:
        return {order.paid_intent_id}
    return {p.intent_id for p in order.payments if p.status == "succeeded"}


def add_card_payment(
    session: Session, order: Order, intent: Intent, *, attempt: int | None = None
) -> Payment:
    """Record ``intent`` as one of the order's card attempts (the next one unless told)."""
    if attempt is None:
        attempt = max((p.attempt for p in order.payments), default=0) + 1
    payment = _card_attempt(intent, attempt)
    order.payments.append(payment)
    session.flush()
    return payment


def _card_values(intent: Intent, attempt: int) -> dict:
    return {
        "attempt": attempt,
        "intent_id": intent.id,
        "amount": intent.amount,
        "currency": intent.currency,
        "status": intent.status,
    }


def _card_attempt(intent: Intent, attempt: int) -> Payment:
    return Payment(**_card_values(intent, attempt))


def _refund_duplicate(session, order, payment, intent, gateway) -> str:
    """Money taken twice for one order: give the second back in full (keyed, so once)."""
    if payment is None:
        payment = add_card_payment(session, order, intent)
    if payment.status == "refunded":
        return "duplicate already refunded"
    # Refused: refunded already (from Stripe's dashboard, or this very refund before).
    with suppress(RefundRefused):
        gateway.refund(intent.id, intent.amount, idempotency_key=f"duplicate-{intent.id}")
    payment.status = "refunded"
    flag(
        session,
        order,
        "duplicate_payment",
        f"{intent.id} took {intent.amount} {intent.currency} again; refunded in full",
    )
    return "duplicate refunded"


def _paid_after_cancel(session, order, intent, gateway, *, now) -> str:
    if order.fulfilment_status == "unfulfilled" and _hold_again(session, order):
        transitions.move(
            session, order, "state", "open", note="paid after the reservation ended", now=now
        )
        mark_paid(session, order, note=intent.id, intent_id=intent.id, now=now)
        flag(session, order, "paid_after_expiry", f"{intent.id} succeeded after expiry")
        notify(session, order, "paid")
        return "reinstated"
    transitions.move(session, order, "payment_status", "paid", note=intent.id, now=now)
    order.paid_intent_id = intent.id
    refund(
        session,
        order,
        order.total_amount,
        gateway=gateway,
        request_key=f"paid-after-cancel-{order.number}",
        note="paid after cancellation; the stock was gone",
    )
    flag(session, order, "paid_after_cancel", f"{intent.id} succeeded after cancellation")
    return "refunded after cancel"


def card_payment_failed(session: Session, order: Order, intent_id: str, message: str) -> str:
    """A card was refused. The customer sees why, unless the order is paid by now (a late
    event after a success tells them nothing true)."""
    lock(session, order)
    payment = _payment_for(order, intent_id)
    if order.payment_status != "unpaid" or (payment is not None and payment.status == "succeeded"):
        return "ignored: paid"
    if payment is not None:
        payment.last_error = message
    transitions.record(session, order, "payment_failed", note=message)
    metrics.count_on_commit(session, metrics.PAYMENTS_FAILED)
    return "failed"


def accept_on_invoice(session: Session, order: Order, *, now: datetime) -> None:
    """A school's order on invoice: it awaits payment and its held stock is sold."""
    lock(session, order)
    transitions.move(
        session, order, "payment_status", "awaiting_invoice", note=order.po_number, now=now
    )
    sell_stock(session, order)


def settle_invoice(
    session: Session, order: Order, *, note: str, actor_user_id: int | None, now: datetime
) -> None:
    """The school paid the last of its invoice (the caller holds the order's lock)."""
    transitions.move(
        session, order, "payment_status", "paid", actor_user_id=actor_user_id, note=note, now=now
    )
    ledger.record_commission(session, order, now=now)


# --- making ------------------------------------------------------------------------------


def _payable_open(order: Order) -> bool:
    """Open and paid enough for the factory to make and ship it."""
    return order.state == "open" and order.payment_status in PAID_ENOUGH_TO_MAKE


def _require_payable_open(order: Order) -> None:
    if not _payable_open(order):
        raise CannotFulfil()


def start_production(session: Session, order: Order, *, actor_user_id: int | None = None):
    lock(session, order)
    _require_payable_open(order)
    transitions.move(
        session, order, "fulfilment_status", "in_production", actor_user_id=actor_user_id
    )
    if order.user is not None and order.user.production_updates:
        notify(session, order, "in_production")


def mark_ready(session: Session, order: Order, *, actor_user_id: int | None = None):
    lock(session, order)
    _require_payable_open(order)
    transitions.move(session, order, "fulfilment_status", "ready", actor_user_id=actor_user_id)


def estimated_ship_date(line: OrderLine, order: Order) -> date | None:
    """Made-to-order lines ship about ``lead_time_days`` after the order was paid."""
    if not line.made_to_order or not line.lead_time_days or order.paid_at is None:
        return None
    return (order.paid_at + timedelta(days=line.lead_time_days)).date()


# --- shipping ----------------------------------------------------------------------------


def shipped_quantities(order: Order) -> dict[int, int]:
    shipped = {line.id: 0 for line in order.lines}
    for shipment in order.shipments:
        for item in shipment.lines:
            shipped[item.order_line_id] = shipped.get(item.order_line_id, 0) + item.quantity
    return shipped


def unshipped_quantities(order: Order) -> dict[int, int]:
    shipped = shipped_quantities(order)
    return {line.id: line.quantity - shipped.get(line.id, 0) for line in order.lines}


def ship(
    session: Session,
    order: Order,
    quantities: dict[int, int],
    *,
    carrier: str,
    tracking_number: str,
    custom_carrier: str = "",
    actor_user_id: int | None = None,
    now: datetime | None = None,
) -> Shipment:
    """Ship some quantities of some lines (a partial shipment is fine)."""
    lock(session, order)
    _require_payable_open(order)
    tracking_number = tracking_number.strip()
    if carrier not in CARRIERS or (carrier == "other" and not custom_carrier.strip()):
        raise InvalidShipment("carrier")
    if carrier != "other" and not tracking_number:
        raise InvalidShipment("tracking")
    remaining = unshipped_quantities(order)
    chosen = {line_id: quantity for line_id, quantity in quantities.items() if quantity}
    if not chosen:
        raise InvalidShipment("nothing")
    for line_id, quantity in chosen.items():
        if line_id not in remaining or quantity < 0 or quantity > remaining[line_id]:
            raise InvalidShipment("quantity")
    shipment = Shipment(
        carrier=carrier,
        carrier_name=custom_carrier.strip(),
        tracking_number=tracking_number,
        staff_user_id=actor_user_id,
        lines=[ShipmentLine(order_line_id=i, quantity=q) for i, q in chosen.items()],
    )
    if now is not None:
        shipment.shipped_at = now
    order.shipments.append(shipment)
    session.flush()
    complete = all(remaining[i] == chosen.get(i, 0) for i in remaining)
    transitions.move(
        session,
        order,
        "fulfilment_status",
        "shipped" if complete else "partially_shipped",
        note=f"{carrier_name(carrier, shipment.carrier_name)} {tracking_number}".strip(),
        actor_user_id=actor_user_id,
        now=now,
    )
    notify(
        session,
        order,
        "shipped",
        distinct=str(shipment.id),
        shipment=shipment,
        carrier=carrier_name(carrier, shipment.carrier_name),
        tracking_link=tracking_url(carrier, tracking_number),
    )
    return shipment


def mark_delivered(session: Session, order: Order, *, actor_user_id: int | None = None):
    lock(session, order)
    transitions.move(session, order, "fulfilment_status", "delivered", actor_user_id=actor_user_id)
    notify(session, order, "delivered")


# --- cancelling --------------------------------------------------------------------------


SHIPPED_STATUSES = ("partially_shipped", "shipped", "delivered")


def _cancel_problem(order: Order, *, by_customer: bool) -> str | None:
    """Why ``order`` cannot be cancelled (``CannotCancel``'s reason), or ``None``."""
    if order.state != "open":
        return "closed"
    if by_customer and order.fulfilment_status != "unfulfilled":
        return "in_production"
    if order.fulfilment_status in SHIPPED_STATUSES:
        return "shipped"
    return None


def can_customer_cancel(order: Order) -> bool:
    return _cancel_problem(order, by_customer=True) is None


def _check_cancellable(order: Order, *, by_customer: bool) -> None:
    problem = _cancel_problem(order, by_customer=by_customer)
    if problem is not None:
        raise CannotCancel(problem)


def _stop_card_payments(session: Session, order: Order, gateway: StripeGateway) -> Intent | None:
    """Before cancelling an unpaid order, make sure no card payment can still go through:
    cancel each live PaymentIntent at Stripe. Returns an intent Stripe says has already
    succeeded (the webhook is on its way); raises ``CannotCancel("paying")`` while one is
    still being processed. Raises ``PaymentServiceUnavailable`` when Stripe does not
    answer (then nothing is cancelled)."""
    for payment in order.payments:
        if payment.status in SPENT_STATUSES:
            continue
        if gateway.cancel(payment.intent_id):
            payment.status = "canceled"
            continue
        try:
            intent = gateway.retrieve(payment.intent_id)
        except UnknownIntent:
            continue
        if intent.status == "succeeded":
            return intent
        if intent.status in TAKEN_STATUSES:
            raise CannotCancel("paying")
        payment.status = intent.status
    session.flush()
    return None


def cancel(
    session: Session,
    order: Order,
    *,
    gateway: StripeGateway,
    actor_user_id: int | None = None,
    by_customer: bool = False,
    note: str = "",
) -> int:
    """Cancel an order; returns the amount refunded by this cancellation.

    An unpaid order: its live PaymentIntents are cancelled at Stripe first, so no card is
    charged afterwards; one Stripe says already succeeded makes this a paid order, and the
    cancellation refunds it. A paid order is refunded in full and its stocked pieces go
    back on the shelf; what an unpaid order held is released. A customer may cancel only
    until production starts; staff until something has shipped."""
    _check_cancellable(order, by_customer=by_customer)
    succeeded = None
    if order.payment_status == "unpaid":
        succeeded = _stop_card_payments(session, order, gateway)
    lock(session, order)
    _check_cancellable(order, by_customer=by_customer)
    if succeeded is not None and order.payment_status == "unpaid":
        card_payment_succeeded(session, order, succeeded, gateway)
    refunded_before = refunded_so_far(order)
    if refundable_amount(order):
        refund(
            session,
            order,
            refundable_amount(order),
            gateway=gateway,
            request_key=f"cancel-{order.number}",
            staff_user_id=actor_user_id,
            note=note or "cancelled",
            returns={i: q for i, q in returnable_quantities(order).items() if q > 0},
        )
    release_stock(session, order)
    transitions.move(
        session,
        order,
        "state",
        "cancelled",
        note=note or ("by the customer" if by_customer else ""),
        actor_user_id=actor_user_id,
    )
    ledger.reverse_commission(session, order)
    notify(session, order, "cancelled")
    return refunded_so_far(order) - refunded_before


def expired_order_ids(session: Session, now: datetime) -> list[int]:
    return list(
        session.scalars(
            sa.select(Order.id)
            .where(
                Order.state == "open",
                Order.payment_status == "unpaid",
                Order.reserved_until < now,
            )
            .order_by(Order.id)
        )
    )


def expire_reservation(
    session: Session, order: Order, gateway: StripeGateway, *, now: datetime | None = None
) -> bool:
    """Cancel an unpaid order whose reservation ran out: cancel its PaymentIntents at
    Stripe, release its stock. An order Stripe says was paid is marked paid, as the webhook
    would; one whose payment is still processing, or that Stripe cannot tell us about now,
    is left for the next run. ``True`` when the order was cancelled."""
    now = now or utcnow()
    try:
        succeeded = _stop_card_payments(session, order, gateway)
    except (CannotCancel, PaymentServiceUnavailable):
        return False
    if succeeded is not None:  # paid after all: apply it as the webhook would
        card_payment_succeeded(session, order, succeeded, gateway, now=now)
        return False
    lock(session, order)
    reserved_until = order.reserved_until
    if order.state != "open" or order.payment_status != "unpaid" or reserved_until is None:
        return False
    if as_utc(reserved_until) >= now:
        return False
    release_stock(session, order)
    transitions.move(session, order, "state", "cancelled", note="reservation expired", now=now)
    return True


# --- refunding ---------------------------------------------------------------------------


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
    lock(session, order)  # two refunds at once take turns: no over-refund
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
        line = lines[line_id]
        if quantity == 0 or line.variant_id is None:  # check_returns refused the latter
            continue
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


def charge_refunded(session: Session, order: Order, total: int) -> bool:
    """Stripe's running refunded total for the order's charge (``charge.refunded``)."""
    lock(session, order)
    return apply_refunded_total(session, order, total)


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
    ledger.reverse_commission(session, order)
    wanted = "refunded" if order.refunded_amount >= order.total_amount else "partially_refunded"
    if wanted == order.payment_status == "refunded":
        return
    note = format_money(order.refunded_amount, order.currency, order.locale)
    transitions.move(
        session, order, "payment_status", wanted, note=note, actor_user_id=actor_user_id
    )
    notify(session, order, "refunded", distinct=str(order.refunded_amount))


# --- notes -------------------------------------------------------------------------------


def add_note(session: Session, order: Order, note: str, *, actor_user_id: int | None) -> None:
    """An internal note on the timeline (the customer does not see it)."""
    transitions.record(
        session,
        order,
        "note",
        note=note.strip(),
        actor_user_id=actor_user_id,
        visible_to_customer=False,
    )


@dataclass(frozen=True)
class CancelPreview:
    """What cancelling would do, for the confirmation page."""

    refund_amount: int
    card_brand: str
    card_last4: str


def cancel_preview(order: Order) -> CancelPreview:
    payment = paid_payment(order)
    return CancelPreview(
        refund_amount=refundable_amount(order),
        card_brand=(payment.card_brand if payment else "") or "",
        card_last4=(payment.card_last4 if payment else "") or "",
    )


def possible_actions(order: Order) -> dict[str, bool]:
    """Which of the order desk's actions the order's statuses leave open (who may press
    them is the permissions' business; the actions still check again when pressed)."""
    payable_open = _payable_open(order)
    left = unshipped_quantities(order)
    return {
        "production": payable_open
        and transitions.can_move(order, "fulfilment_status", "in_production"),
        "ready": payable_open and transitions.can_move(order, "fulfilment_status", "ready"),
        "ship": payable_open and any(quantity > 0 for quantity in left.values()),
        "delivered": transitions.can_move(order, "fulfilment_status", "delivered"),
        "cancel": _cancel_problem(order, by_customer=False) is None,
        "refund": refundable_amount(order) > 0 and paid_payment(order) is not None,
        "note": True,
        "reply": True,
    }
