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
