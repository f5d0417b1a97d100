"""Emails about an order, each sent once per event.

Every email has a key (order, kind, and what makes this one distinct: a shipment, a
refunded total, a message). The key is stored in ``sent_notification`` (unique) in the
transaction that made the change, and the email goes out when that transaction commits
(never for a change that was rolled back); processing the same webhook or click twice
therefore sends nothing the second time.
"""

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import Session

from shop.links import external_url
from shop.mail import send_after_commit
from shop.orders import access
from shop.orders.models import Order, SentNotification

SUBJECTS = {
    "paid": lambda number: _l("Order %(number)s is paid", number=number),
    "in_production": lambda number: _l("Order %(number)s is being made", number=number),
    "shipped": lambda number: _l("Order %(number)s is on its way", number=number),
    "delivered": lambda number: _l("Order %(number)s was delivered", number=number),
    "cancelled": lambda number: _l("Order %(number)s is cancelled", number=number),
    "refunded": lambda number: _l("A refund for order %(number)s", number=number),
    "message": lambda number: _l("A new message about order %(number)s", number=number),
}


def order_link(order: Order) -> str:
    """The order's page, signed so that it opens without signing in (for emails)."""
    token = access.link_token(current_app.config["SECRET_KEY"], order)
    return external_url("orders.order_detail", number=order.number, t=token)


def already_sent(session: Session, key: str) -> bool:
    return session.query(SentNotification.id).filter_by(key=key).first() is not None


def notify(session: Session, order: Order, kind: str, *, distinct: str = "", **context) -> bool:
    """Email the customer about ``kind`` unless this exact email went out before."""
    key = f"{order.id}:{kind}" + (f":{distinct}" if distinct else "")
    if already_sent(session, key):
        return False
    session.add(SentNotification(order_id=order.id, key=key))
    session.flush()
    send_after_commit(
        session,
        order.email,
        SUBJECTS[kind](order.number),
        f"order_{kind}",
        locale=order.locale,
        order=order,
        link=order_link(order),
        **context,
    )
    return True
