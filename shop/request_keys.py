"""One-time keys: every form that creates something (an order, a refund, a shipment, a
message, a note) carries a random key made when the form is shown. The action claims
the key in the same transaction as its effect, so the same form sent twice — a double
click, a reload, two requests at the same moment — does its work once: a repeat finds
the key used (``claim`` is ``False``), and two at the same moment collide on the primary
key (the loser's transaction fails with ``IntegrityError`` and is rolled back whole).

Orders and refunds keep their key on their own row (``Order.request_key``,
``Refund.request_key``), where the first result is looked up again.
"""

import re
import secrets
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, Session, mapped_column
from wtforms import HiddenField
from wtforms.validators import DataRequired, Optional, Regexp

from shop.db import Base, utcnow

# ``secrets.token_urlsafe(24)`` is 32 characters; allow some room, nothing else.
REQUEST_KEY_PATTERN = r"^[A-Za-z0-9_-]{16,43}$"


class UsedRequestKey(Base):
    __tablename__ = "used_request_key"

    key: Mapped[str] = mapped_column(sa.String(120), primary_key=True)
    used_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), default=utcnow)


def new_request_key() -> str:
    return secrets.token_urlsafe(24)


def request_key_field(*, required: bool = True) -> HiddenField:
    """The hidden field. ``required=False`` for forms older pages posted without one."""
    presence = DataRequired() if required else Optional()
    return HiddenField(validators=[presence, Regexp(REQUEST_KEY_PATTERN)])


def posted(value: str | None) -> str | None:
    """A key posted outside a WTForms form, if it looks like one; else no key."""
    return value if value and re.fullmatch(REQUEST_KEY_PATTERN, value) else None


def claim(session: Session, scope: str, key: str | None) -> bool:
    """Use ``key`` for ``scope`` (e.g. ``"note:<order number>"``) in this transaction.
    ``False`` when it was used before; no key (an old page) claims nothing and is ``True``."""
    if not key:
        return True
    name = f"{scope}:{key}"[:120]
    if session.get(UsedRequestKey, name) is not None:
        return False
    session.add(UsedRequestKey(key=name))
    session.flush()  # the same key at the same moment fails here (primary key)
    return True
