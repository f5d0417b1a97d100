"""The message thread on an order: the customer writes, the factory answers.

Plain text up to 5,000 characters, escaped when shown. Each side is emailed about a new
message: the customer at the order's address, the factory at ``SHOP_MESSAGES_EMAIL``
(else every active staff member who answers messages).
"""

import sqlalchemy as sa
from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import Session

from shop.accounts.models import User
from shop.accounts.permissions import ROLE_PERMISSIONS
from shop.db import utcnow
from shop.exceptions import ShopError
from shop.mail import send_after_commit
from shop.orders.models import Order, OrderMessage
from shop.orders.notifications import notify

MAX_LENGTH = 5000


class InvalidMessage(ShopError):
    message = "Write a message of 1 to 5,000 characters."


def _clean(body: str) -> str:
    body = (body or "").replace("\r\n", "\n").strip()
    if not body or len(body) > MAX_LENGTH:
        raise InvalidMessage()
    return body


def staff_recipients(session: Session) -> list[str]:
    configured = current_app.config.get("SHOP_MESSAGES_EMAIL")
    if configured:
        return [configured]
    roles = [role for role, perms in ROLE_PERMISSIONS.items() if "messages.manage" in perms]
    return list(
        session.scalars(
            sa.select(User.email)
            .where(User.role.in_(roles), User.active.is_(True))
            .order_by(User.id)
        )
    )


def post_customer_message(
    session: Session, order: Order, body: str, *, user_id: int | None
) -> OrderMessage:
    message = OrderMessage(body=_clean(body), from_staff=False, author_user_id=user_id)
    order.messages.append(message)
    session.flush()
    for address in staff_recipients(session):
        send_after_commit(
            session,
            address,
            _l("Customer message on order %(number)s", number=order.number),
            "staff_new_message",
            order=order,
            message=message,
        )
    return message


def post_staff_reply(session: Session, order: Order, body: str, *, staff_user_id: int):
    message = OrderMessage(
        body=_clean(body), from_staff=True, author_user_id=staff_user_id, read_at=None
    )
    order.messages.append(message)
    session.flush()
    mark_read_by_staff(session, order)
    notify(session, order, "message", distinct=str(message.id), message=message)
    return message


def mark_read_by_staff(session: Session, order: Order) -> None:
    """Staff opened the thread: the customer's messages are read."""
    now = utcnow()
    for message in order.messages:
        if not message.from_staff and message.read_at is None:
            message.read_at = now
    session.flush()


def unread_counts(session: Session) -> dict[int, int]:
    """Customer messages staff have not read yet, per order id."""
    rows = session.execute(
        sa.select(OrderMessage.order_id, sa.func.count(OrderMessage.id))
        .where(OrderMessage.from_staff.is_(False), OrderMessage.read_at.is_(None))
        .group_by(OrderMessage.order_id)
    )
    return {order_id: count for order_id, count in rows}
