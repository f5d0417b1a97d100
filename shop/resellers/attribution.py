"""Attribution: which window a visitor came through, and which window an order belongs to.

A visit to an approved window (``/w/<handle>``, its collections) or to any shop page with
``?via=<handle>`` *marks* the visitor: the window's id and the moment, in a cookie of its
own (``VIA_COOKIE``) signed with the app's secret, so it cannot be forged or moved to
another window. The mark lasts the programme's ``attribution_days``; a later click on
another window replaces it (last click wins). Each new or changed mark counts one visit
(``shop.resellers.visits``: in Redis, folded into ``reseller_visit`` by a job).

When the visitor places an order while the mark holds and the window is still approved,
the order belongs to the window (``attribute_order``): ``reseller_id``, the money model
the window had then, and whether it earns on it — not on its own orders (the reseller's
account, email or an address of theirs: ``is_self_referral``), nor on a school's order
unless the programme says so. School roster orders never come through here.

Plain functions; the request hook that reads and writes the cookie is
``shop.resellers.marking``.
"""

import functools
import hashlib
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
from itsdangerous import BadSignature, Serializer, URLSafeSerializer
from itsdangerous.encoding import base64_encode
from sqlalchemy.orm import Session

from shop.accounts.models import Address, User
from shop.orders.models import Order
from shop.resellers.models import Reseller
from shop.resellers.program import program, window_terms
from shop.sessions import KeepsSigners

VIA_COOKIE = "sf_via"
VIA_PARAMETER = "via"
SALT = "sourcefront-window-mark"
# The endpoints of a window's own pages: a visit marks the visitor for that window.
WINDOW_ENDPOINTS = frozenset({"resellers.window", "resellers.window_collection"})


@dataclass(frozen=True)
class Mark:
    """The window a visitor came through, and when (aware, UTC)."""

    reseller_id: int
    marked_at: datetime


class _MarkSerializer(KeepsSigners, URLSafeSerializer):
    """itsdangerous' ``URLSafeSerializer`` for a mark, its signer kept, and its payload
    never compressed: a mark is two numbers, whose JSON zlib does not shorten (it would
    for a long run of one digit only; either form reads back), and zlib's attempt cost
    more than all the rest of the signing."""

    def dump_payload(self, obj) -> bytes:
        return base64_encode(Serializer.dump_payload(self, obj))


@functools.lru_cache(maxsize=4)  # one secret per app; made on every window visit
def _serializer(secret_key: str) -> URLSafeSerializer:
    # itsdangerous' own HMAC-SHA1, handed to ``hmac`` as OpenSSL's constructor (its
    # default is a Python function, which sends ``hmac`` down its pure-Python path).
    return _MarkSerializer(secret_key, salt=SALT, signer_kwargs={"digest_method": hashlib.sha1})


def sign_mark(mark: Mark, secret_key: str) -> str:
    """The cookie's value for ``mark``."""
    return _serializer(secret_key).dumps([mark.reseller_id, int(mark.marked_at.timestamp())])


def read_mark(value: str | None, secret_key: str) -> Mark | None:
    """The mark in a cookie's value; ``None`` for no cookie, a forged or a malformed one."""
    if not value or len(value) > 200:
        return None
    try:
        loaded = _serializer(secret_key).loads(value)
    except BadSignature:
        return None
    if not isinstance(loaded, list) or len(loaded) != 2:
        return None
    reseller_id, stamp = loaded
    if not all(type(number) is int and 0 < number < 2**40 for number in (reseller_id, stamp)):
        return None
    return Mark(reseller_id, datetime.fromtimestamp(stamp, UTC))


def is_current(mark: Mark, attribution_days: int, now: datetime) -> bool:
    """Whether ``mark`` still holds at ``now`` (a mark from the future does not)."""
    return mark.marked_at <= now < mark.marked_at + timedelta(days=attribution_days)


def counts_as_new(previous: Mark | None, reseller_id: int) -> bool:
    """A click on a window counts a visit unless the visitor is marked for it already."""
    return previous is None or previous.reseller_id != reseller_id


def approved_window(session: Session, reseller_id: int) -> Reseller | None:
    reseller = session.get(Reseller, reseller_id)
    return reseller if reseller is not None and reseller.status == "approved" else None


def live_mark(session: Session, mark: Mark | None, now: datetime) -> Reseller | None:
    """The approved window of a mark that still holds, else ``None``."""
    if mark is None or not is_current(mark, program(session).attribution_days, now):
        return None
    return approved_window(session, mark.reseller_id)


# --- orders ------------------------------------------------------------------------------


def _folded(text: str | None) -> str:
    return " ".join((text or "").split()).casefold()


def address_key(line1: str | None, postcode: str | None, country: str | None) -> tuple | None:
    """An address as compared for self-referral (case and spacing aside); ``None`` for
    none (a pick-up order)."""
    if not _folded(line1):
        return None
    return (_folded(line1), _folded(postcode).replace(" ", ""), _folded(country))


def is_self_referral(session: Session, order: Order, reseller: Reseller) -> bool:
    """The reseller ordering through their own window: their account, their email, or
    the delivery address of one of their own orders or of their address book."""
    if order.user_id is not None and order.user_id == reseller.user_id:
        return True
    account = session.get(User, reseller.user_id)
    if account is not None and _folded(account.email) == _folded(order.email):
        return True
    key = address_key(order.line1, order.postcode, order.country)
    if key is None:
        return False
    orders = sa.select(Order.line1, Order.postcode, Order.country).where(
        Order.user_id == reseller.user_id, Order.id != order.id
    )
    book = sa.select(Address.line1, Address.postcode, Address.country).where(
        Address.user_id == reseller.user_id
    )
    theirs = session.execute(sa.union_all(orders, book))
    return any(address_key(*row) == key for row in theirs)


def earns_on(session: Session, order: Order, reseller: Reseller) -> bool:
    if order.school_id is not None and not program(session).earn_on_school_orders:
        return False
    return not is_self_referral(session, order, reseller)


def attribute_order(session: Session, order: Order, reseller_id: int | None) -> None:
    """Give a newly placed order to the window the buyer was marked for, if it is still
    approved (the mark's age was checked when it was read)."""
    reseller = approved_window(session, reseller_id) if reseller_id is not None else None
    if reseller is None:
        return
    order.reseller_id = reseller.id
    order.reseller_model = window_terms(session, reseller.id).money_model
    order.reseller_earns = earns_on(session, order, reseller)
    session.flush()


@dataclass(frozen=True)
class OrderWindow:
    """What an order's page says of the window it came through."""

    id: int
    handle: str
    display_name: str


def order_window(session: Session, order: Order) -> OrderWindow | None:
    if order.reseller_id is None:
        return None
    reseller = session.get(Reseller, order.reseller_id)
    if reseller is None:
        return None
    return OrderWindow(reseller.id, reseller.handle, reseller.display_name)
