"""Signed, expiring, single-use links (password reset, email confirmation).

A token carries the user id and a fingerprint of what it may change (the password hash
for a reset, the current email for an email change). Once that changes, the token no
longer matches: single use without a table of spent tokens.
"""

import hashlib

from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

RESET_MAX_AGE = 3600  # one hour
CONFIRM_MAX_AGE = 3 * 24 * 3600


class InvalidToken(Exception):
    """The link is tampered with, expired, for something else, or already used."""


def fingerprint(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()[:16]


def _serializer(secret_key: str, purpose: str) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(secret_key, salt=f"sourcefront.{purpose}")


def make_token(secret_key: str, purpose: str, user_id: int, bound_to: str, **extra) -> str:
    payload = {"u": user_id, "f": fingerprint(bound_to), **extra}
    return _serializer(secret_key, purpose).dumps(payload)


def read_token(secret_key: str, purpose: str, token: str, max_age: int) -> dict:
    try:
        payload = _serializer(secret_key, purpose).loads(token, max_age=max_age)
    except (SignatureExpired, BadSignature) as error:
        raise InvalidToken(str(error)) from None
    if not isinstance(payload, dict) or not isinstance(payload.get("u"), int):
        raise InvalidToken("malformed")
    return payload


def check_binding(payload: dict, bound_to: str) -> None:
    if payload.get("f") != fingerprint(bound_to):
        raise InvalidToken("already used")
