"""Moving an order along: production, ready, shipping (whole or in parts), delivery,
cancellation, and staff notes. Plain functions over the session; each move goes through
``shop.orders.transitions`` (so it is allowed, and on the timeline) and emails the
customer once where the customer wants to know.
"""

from datetime import date, datetime, timedelta

from sqlalchemy.orm import Session

from shop.exceptions import ShopError
from shop.orders import transitions
from shop.orders.carriers import CARRIERS, carrier_name, tracking_url
from shop.orders.models import Order, OrderLine, Shipment, ShipmentLine
from shop.orders.notifications import notify
from shop.payments import refunds
from shop.payments.service import SPENT_STATUSES, release_stock
from shop.payments.stripe_gateway import StripeGateway

PAID_ENOUGH_TO_MAKE = ("paid", "partially_refunded", "awaiting_invoice")


class CannotFulfil(ShopError):
    message = "The order is not paid or no longer open."


class InvalidShipment(ShopError):
    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason  # carrier, tracking, nothing, quantity


class CannotCancel(ShopError):
    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason  # closed, in_production, shipped


def _require_payable_open(order: Order) -> None:
    if order.state != "open" or order.payment_status not in PAID_ENOUGH_TO_MAKE:
        raise CannotFulfil()


def start_production(session: Session, order: Order, *, actor_user_id: int | None = None):
    _require_payable_open(order)
    transitions.move(
        session, order, "fulfilment_status", "in_production", actor_user_id=actor_user_id
    )
    if order.user is not None and order.user.production_updates:
        notify(session, order, "in_production")


def mark_ready(session: Session, order: Order, *, actor_user_id: int | None = None):
    _require_payable_open(order)
    transitions.move(session, order, "fulfilment_status", "ready", actor_user_id=actor_user_id)


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
    transitions.lock(session, order)
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
    transitions.move(session, order, "fulfilment_status", "delivered", actor_user_id=actor_user_id)
    notify(session, order, "delivered")


def can_customer_cancel(order: Order) -> bool:
    return order.state == "open" and order.fulfilment_status == "unfulfilled"


def cancel(
    session: Session,
    order: Order,
    *,
    gateway: StripeGateway,
    actor_user_id: int | None = None,
    by_customer: bool = False,
    note: str = "",
) -> None:
    """Cancel an order: a paid one is refunded in full through Stripe and its stock goes
    back on the shelf; an unpaid one releases what it held. A customer may cancel only
    until production starts; staff until something has shipped."""
    if order.state != "open":
        raise CannotCancel("closed")
    if by_customer and order.fulfilment_status != "unfulfilled":
        raise CannotCancel("in_production")
    if order.fulfilment_status in ("partially_shipped", "shipped", "delivered"):
        raise CannotCancel("shipped")
    if refunds.refundable_amount(order):
        returns = {
            line.id: line.quantity - line.returned_quantity
            for line in order.lines
            if not line.made_to_order and not line.allocated and line.variant_id is not None
        }
        refunds.refund(
            session,
            order,
            refunds.refundable_amount(order),
            gateway=gateway,
            request_key=f"cancel-{order.number}",
            staff_user_id=actor_user_id,
            note=note or "cancelled",
            returns={i: q for i, q in returns.items() if q > 0},
        )
    for payment in order.payments:
        if payment.status not in (*SPENT_STATUSES, "succeeded") and gateway.cancel(
            payment.intent_id
        ):
            payment.status = "canceled"
    release_stock(session, order)
    transitions.move(
        session,
        order,
        "state",
        "cancelled",
        note=note or ("by the customer" if by_customer else ""),
        actor_user_id=actor_user_id,
    )
    notify(session, order, "cancelled")


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


def estimated_ship_date(line: OrderLine, order: Order) -> date | None:
    """Made-to-order lines ship about ``lead_time_days`` after the order was paid."""
    if not line.made_to_order or not line.lead_time_days or order.paid_at is None:
        return None
    return (order.paid_at + timedelta(days=line.lead_time_days)).date()
