"""Orders built directly in the database, for tests of what happens after payment."""

import itertools
from datetime import timedelta

from shop.db import utcnow
from shop.orders.models import Order, OrderLine
from shop.payments.models import Payment

_numbers = itertools.count(1)


def make_order(
    session,
    *,
    lines=(("POLO-130", 2, 8900),),
    email="buyer@example.com",
    user=None,
    payment_status="paid",
    fulfilment_status="unfulfilled",
    state="open",
    currency="CNY",
    made_to_order=False,
    lead_time_days=None,
    paid_days_ago=0,
    **fields,
) -> Order:
    """An order with ``lines`` of ``(sku, quantity, unit_amount)``, already paid unless
    told otherwise. Lines have no variant (no stock moves) unless ``fields`` say so."""
    number = next(_numbers)
    order_lines = [
        OrderLine(
            sku=sku,
            product_name=f"Product {sku}",
            size="130",
            colour="navy",
            unit_amount=unit,
            quantity=quantity,
            line_amount=unit * quantity,
            made_to_order=made_to_order,
            lead_time_days=lead_time_days,
        )
        for sku, quantity, unit in lines
    ]
    subtotal = sum(line.line_amount for line in order_lines)
    paid = payment_status not in ("unpaid", "awaiting_invoice")
    order = Order(
        number=f"SF-T{number:04d}-{number:05d}",
        email=email,
        user_id=user.id if user else None,
        currency=currency,
        subtotal_amount=subtotal,
        total_amount=subtotal,
        delivery_method="pickup",
        recipient="Li Wei",
        state=state,
        payment_status=payment_status,
        fulfilment_status=fulfilment_status,
        paid_at=utcnow() - timedelta(days=paid_days_ago) if paid else None,
        lines=order_lines,
        **fields,
    )
    if paid:
        order.payments.append(
            Payment(
                attempt=1,
                intent_id=f"pi_test_{number}",
                amount=subtotal,
                currency=currency,
                status="succeeded",
            )
        )
    session.add(order)
    session.flush()
    return order
