"""Demo orders in every status (``data/orders.json``), so a new user sees a lived-in
``/orders`` and order desk.

Built directly (no Stripe calls, no stock moves): their card payments carry made-up
``pi_demo_…`` ids. Idempotent: nothing is added once demo orders exist.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from shop.accounts.models import User
from shop.accounts.service import get_user_by_email
from shop.catalog.models import PriceTier, Product, Variant
from shop.db import utcnow
from shop.demo.accounts import demo_email
from shop.demo.files import read_json
from shop.orders.models import (
    Order,
    OrderEvent,
    OrderLine,
    OrderMessage,
    Shipment,
    ShipmentLine,
)
from shop.orders.numbers import new_order_number
from shop.payments.models import Payment, Refund


@dataclass(frozen=True)
class DemoOrder:
    days_ago: int
    payment: str
    fulfilment: str
    state: str = "open"
    guest: bool = False
    pieces: int = 3
    shipped_part: bool = False
    refunded: int = 0  # percent of the total
    message: str = ""


_DATA = read_json("orders.json")
DEMO_GUEST: str = _DATA["guest"]["email"]
GUEST_NAME: str = _DATA["guest"]["recipient"]
DELIVERY: dict[str, str] = _DATA["delivery"]  # where the demo customer's orders go
SHIPPING_AMOUNT: int = _DATA["shipping_amount"]
DEMO_ORDERS = tuple(DemoOrder(**order) for order in _DATA["orders"])
# Paid orders of made-to-order products, waiting in the workshop's production queue.
DEMO_PRODUCTION_ORDERS = tuple(DemoOrder(**order) for order in _DATA["production_queue"])

# The timeline each fulfilment status implies.
FULFILMENT_STEPS = {
    "unfulfilled": (),
    "in_production": ("in_production",),
    "ready": ("in_production", "ready"),
    "partially_shipped": ("in_production", "ready", "partially_shipped"),
    "shipped": ("in_production", "ready", "shipped"),
    "delivered": ("in_production", "ready", "shipped", "delivered"),
}


def seed_demo_orders(session: Session) -> str:
    if session.scalar(sa.select(sa.func.count(Order.id)).where(Order.email.like("%@demo.%"))):
        return "Demo orders: already there."
    customer = get_user_by_email(session, demo_email("customer"))
    variants = _priced_variants(session)
    if customer is None or not variants:
        return "Demo orders: skipped (load the demo catalogue and accounts first)."
    for index, spec in enumerate(DEMO_ORDERS):
        session.add(build_demo_order(spec, variants[index % len(variants)], customer))
    made_to_order = [(v, amount) for v, amount in variants if v.product.made_to_order]
    waiting = DEMO_PRODUCTION_ORDERS if made_to_order else ()
    for index, spec in enumerate(waiting):
        session.add(build_demo_order(spec, made_to_order[index % len(made_to_order)], customer))
    session.flush()
    return (
        f"Demo orders: {len(DEMO_ORDERS)} in every status,"
        f" {len(waiting)} waiting in the production queue."
    )


def _priced_variants(session: Session) -> list[tuple[Variant, int]]:
    rows = session.execute(
        sa.select(Variant, PriceTier.unit_amount)
        .join(Product, Product.id == Variant.product_id)
        .join(PriceTier, (PriceTier.product_id == Product.id) & (PriceTier.currency == "CNY"))
        .where(Product.active.is_(True), PriceTier.min_quantity == 1)
        .order_by(Product.id, Variant.position)
    ).all()
    seen: set[int] = set()
    picked: list[tuple[Variant, int]] = []
    for variant, amount in rows:
        if variant.product_id not in seen:
            seen.add(variant.product_id)
            picked.append((variant, amount))
    return picked


def demo_line(priced: tuple[Variant, int], quantity: int, **fields: Any) -> OrderLine:
    """A snapshot line of ``quantity`` of the variant at ``unit`` (``fields``: e.g. the
    student's name and class)."""
    variant, unit = priced
    return OrderLine(
        variant_id=variant.id,
        product_id=variant.product_id,
        sku=variant.sku,
        product_name=variant.product.name,
        size=variant.size,
        colour=variant.colour,
        unit_amount=unit,
        quantity=quantity,
        line_amount=unit * quantity,
        made_to_order=variant.product.made_to_order,
        lead_time_days=variant.product.lead_time_days,
        **fields,
    )


def build_demo_order(
    spec: DemoOrder,
    priced: tuple[Variant, int],
    customer: User,
    *,
    lines: list[OrderLine] | None = None,
    currency: str = "CNY",
    **fields: Any,
) -> Order:
    """An order in ``spec``'s state with its payment, timeline and shipments. ``lines``
    replace the one line of ``spec.pieces`` of ``priced``; ``fields`` override the
    order's columns (delivery, school)."""
    lines = lines or [demo_line(priced, spec.pieces)]
    subtotal = sum(each.line_amount for each in lines)
    shipping = fields.pop("shipping_amount", SHIPPING_AMOUNT)
    created = utcnow() - timedelta(days=spec.days_ago, hours=3)
    paid = spec.payment not in ("unpaid", "awaiting_invoice")
    order_fields = dict(
        number=new_order_number(),
        user_id=None if spec.guest else customer.id,
        email=DEMO_GUEST if spec.guest else customer.email,
        currency=currency,
        subtotal_amount=subtotal,
        shipping_amount=shipping,
        total_amount=subtotal + shipping,
        delivery_method="courier",
        recipient=GUEST_NAME if spec.guest else customer.name,
        **DELIVERY,
        state=spec.state,
        payment_status=spec.payment,
        fulfilment_status=spec.fulfilment,
        created_at=created,
        paid_at=created + timedelta(minutes=4) if paid else None,
        reserved_until=created + timedelta(minutes=30) if spec.payment == "unpaid" else None,
        cancelled_at=created + timedelta(days=1) if spec.state == "cancelled" else None,
        lines=lines,
    )
    order = Order(**(order_fields | fields))
    order.refunded_amount = order.total_amount * spec.refunded // 100
    events = _payment_events(spec, order, created)
    moment = order.paid_at or created
    for step in FULFILMENT_STEPS[spec.fulfilment]:
        moment += timedelta(days=1)
        events.append((step, moment))
    if spec.fulfilment in ("partially_shipped", "shipped", "delivered"):
        order.shipments.append(_shipment(spec, order, lines, moment))
    if order.refunded_amount:
        order.refunds.append(
            Refund(
                request_key=f"demo-{order.number}",
                amount=order.refunded_amount,
                stripe_refund_id=f"re_demo_{order.number}",
                status="succeeded",
                note="demo",
            )
        )
        events.append((spec.payment, moment + timedelta(hours=2)))
    if order.cancelled_at is not None:
        events.append(("cancelled", order.cancelled_at))
    order.events = [OrderEvent(kind=kind, created_at=when, note="") for kind, when in events]
    if spec.message:
        order.messages.append(OrderMessage(body=spec.message, created_at=created))
    return order


def _payment_events(spec: DemoOrder, order: Order, created: datetime) -> list[tuple[str, datetime]]:
    """The order's first events (placed, then paid or awaiting the invoice), adding the
    card payment of a paid order."""
    events = [("placed", created)]
    if order.paid_at is not None:
        order.payments.append(
            Payment(
                attempt=1,
                intent_id=f"pi_demo_{order.number}",
                amount=order.total_amount,
                currency=order.currency,
                status="succeeded",
            )
        )
        events.append(("paid", order.paid_at))
    elif spec.payment == "awaiting_invoice":
        events.append(("awaiting_invoice", created + timedelta(minutes=4)))
    return events


def _shipment(spec: DemoOrder, order: Order, lines: list[OrderLine], moment: datetime) -> Shipment:
    """The shipment of all the lines (or half the first line's pieces, when only part of
    the order was shipped)."""
    shipped = max(spec.pieces // 2, 1) if spec.shipped_part else spec.pieces
    return Shipment(
        carrier="sf_express",
        tracking_number=f"SF{order.number[-5:]}0001",
        shipped_at=moment,
        lines=[ShipmentLine(order_line=lines[0], quantity=shipped)]
        + [ShipmentLine(order_line=more, quantity=more.quantity) for more in lines[1:]],
    )
