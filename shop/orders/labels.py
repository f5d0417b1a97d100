"""Words for order statuses and timeline events, in the reader's language."""

from flask_babel import lazy_gettext as _l

from shop.orders.models import Order

PAYMENT_LABELS = {
    "unpaid": _l("Pending payment"),
    "awaiting_invoice": _l("Awaiting invoice payment"),
    "paid": _l("Paid"),
    "partially_refunded": _l("Partially refunded"),
    "refunded": _l("Refunded"),
}
FULFILMENT_LABELS = {
    "unfulfilled": _l("Not yet shipped"),
    "in_production": _l("In production"),
    "ready": _l("Ready to ship"),
    "partially_shipped": _l("Partly shipped"),
    "shipped": _l("Shipped"),
    "delivered": _l("Delivered"),
}


def order_status_label(order: Order) -> str:
    """One short phrase for a badge: the most telling of the three statuses."""
    if order.state == "cancelled":
        return str(_l("Cancelled"))
    if order.payment_status in ("unpaid", "awaiting_invoice", "refunded"):
        return str(PAYMENT_LABELS[order.payment_status])
    if order.fulfilment_status == "unfulfilled":
        return str(PAYMENT_LABELS[order.payment_status])
    return str(FULFILMENT_LABELS[order.fulfilment_status])


# The timeline in words, for the customer's page, the order desk and emails alike.
# The last three are internal (staff only); the customer's page never shows them.
EVENT_LABELS = {
    "placed": _l("Order placed"),
    "payment_failed": _l("A card payment did not go through"),
    "paid": _l("Payment received"),
    "awaiting_invoice": _l("Waiting for payment by invoice"),
    "in_production": _l("In production at the factory"),
    "ready": _l("Ready to ship"),
    "partially_shipped": _l("Part of the order shipped"),
    "shipped": _l("Shipped"),
    "delivered": _l("Delivered"),
    "partially_refunded": _l("Partly refunded"),
    "refunded": _l("Refunded"),
    "cancelled": _l("Order cancelled"),
    "closed": _l("Order closed"),
    "payment_mismatch": _l("Payment does not match the order"),
    "paid_after_cancel": _l("Paid after cancellation"),
    "note": _l("Note"),
    "invoice_payment": _l("Part of the invoice paid"),
    "production_held": _l("Made to order once the invoice is paid"),
    "reseller_self_referral": _l("Paid with a card of the window's owner: no commission"),
}
