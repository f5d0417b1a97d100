"""Who may see an order: its owner, staff with the permission, the browser that placed it,
or anyone holding the signed link from the order's emails. Everyone else gets a 404, so
an order number alone reveals nothing."""

from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

from shop.accounts.permissions import has_permission
from shop.accounts.tokens import fingerprint
from shop.orders.models import Order

LINK_MAX_AGE = 365 * 24 * 3600  # order links in emails work for a year
SESSION_KEY = "orders"  # order numbers this browser placed
SESSION_LIMIT = 20


def _serializer(secret_key: str) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(secret_key, salt="sourcefront.order-link")


def link_token(secret_key: str, order: Order) -> str:
    return _serializer(secret_key).dumps({"o": order.number, "f": fingerprint(order.email)})


def token_grants(secret_key: str, order: Order, token: str | None) -> bool:
    if not token:
        return False
    try:
        payload = _serializer(secret_key).loads(token, max_age=LINK_MAX_AGE)
    except (BadSignature, SignatureExpired):
        return False
    return (
        isinstance(payload, dict)
        and payload.get("o") == order.number
        and payload.get("f") == fingerprint(order.email)
    )


def remember_in_session(flask_session, order: Order) -> None:
    numbers = [n for n in flask_session.get(SESSION_KEY, []) if n != order.number]
    flask_session[SESSION_KEY] = [*numbers, order.number][-SESSION_LIMIT:]


def can_view(order: Order, *, user, flask_session, secret_key: str, token: str | None) -> bool:
    if user.is_authenticated and (order.user_id == user.id or has_permission(user, "orders.view")):
        return True
    if order.number in flask_session.get(SESSION_KEY, []):
        return True
    return token_grants(secret_key, order, token)
