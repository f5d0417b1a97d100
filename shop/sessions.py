"""The session cookie, signed exactly as Flask signs it, without rebuilding the signer on
every request.

Flask's ``SecureCookieSessionInterface`` builds a new ``URLSafeTimedSerializer`` on every
open and every save, and its signer derives the signing key from ``SECRET_KEY`` (an HMAC)
on every sign and verify. ``SessionInterface`` keeps one serializer per set of keys
(``SECRET_KEY`` and ``SECRET_KEY_FALLBACKS``: a changed key gets a new one), whose signer
derives each key once, and the HMAC runs in OpenSSL. Salt, digest (SHA-1), key
derivation, payload serializer and cookie flags are Flask's own, so a cookie made by either
interface is read by the other.
"""

import hashlib

from flask import Flask
from flask.sessions import SecureCookieSessionInterface
from itsdangerous import Signer, TimestampSigner, URLSafeTimedSerializer
from itsdangerous.encoding import want_bytes


class KeyCachingSigner(TimestampSigner):
    """A ``TimestampSigner`` that derives each secret key's signing key once."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._derived: dict[bytes, bytes] = {}

    def derive_key(self, secret_key: str | bytes | None = None) -> bytes:
        key = self.secret_keys[-1] if secret_key is None else want_bytes(secret_key)
        derived = self._derived.get(key)
        if derived is None:
            derived = self._derived[key] = super().derive_key(key)
        return derived


class KeepsSigners:
    """For an itsdangerous serializer: make its signer once per salt and keep it (the
    serializer builds one for every ``dumps`` and ``loads`` otherwise)."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._signers: dict[bytes | str | None, Signer] = {}

    def make_signer(self, salt: str | bytes | None = None):
        signer = self._signers.get(salt)
        if signer is None:
            signer = self._signers[salt] = super().make_signer(salt)  # type: ignore[misc]
        return signer


class ReusingSerializer(KeepsSigners, URLSafeTimedSerializer):
    """A ``URLSafeTimedSerializer`` that makes its signer once per salt and keeps it, the
    signer deriving each key once."""

    default_signer = KeyCachingSigner


class SessionInterface(SecureCookieSessionInterface):
    """Flask's signed-cookie session with its serializer kept between requests."""

    # Flask's HMAC-SHA1, handed to ``hmac`` as OpenSSL's own constructor: Flask's
    # ``_lazy_sha1`` is a Python function, which sends ``hmac`` down its pure-Python path.
    digest_method = staticmethod(hashlib.sha1)

    def __init__(self) -> None:
        self._serializers: dict[tuple, URLSafeTimedSerializer] = {}

    def get_signing_serializer(self, app: Flask) -> URLSafeTimedSerializer | None:
        if not app.secret_key:
            return None
        # Flask's order: the fallbacks, then the current key (itsdangerous signs with the last).
        keys = (*(app.config["SECRET_KEY_FALLBACKS"] or ()), app.secret_key)
        serializer = self._serializers.get(keys)
        if serializer is None:
            serializer = ReusingSerializer(
                list(keys),
                salt=self.salt,
                serializer=self.serializer,
                signer_kwargs={
                    "key_derivation": self.key_derivation,
                    "digest_method": self.digest_method,
                },
            )
            self._serializers = {keys: serializer}  # only the keys in use now are kept
        return serializer


def init_app(app: Flask) -> None:
    app.session_interface = SessionInterface()
