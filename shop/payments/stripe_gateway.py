"""The one module that talks to Stripe (or localstripe, its offline stand-in).

Everything else gets plain dataclasses and the errors below, never ``stripe`` objects, so
the rest of the shop does not depend on the library's shapes (which changed in v15: a
``StripeObject`` is no longer a dict). Every call that creates or confirms something
carries an idempotency key derived from our own ids.

A slow Stripe must not hold the shop: every call has ``STRIPE_TIMEOUT_SECONDS`` in all,
its retries included, and then raises ``PaymentServiceUnavailable``.
"""

import json
import threading
import time
from dataclasses import dataclass, field

import requests
import stripe
from flask import current_app

from shop.config import ConfigError
from shop.exceptions import ShopError

DEFAULT_TIMEOUT_SECONDS = 8.0
CONNECT_TIMEOUT_SECONDS = 2.0  # reaching Stripe takes milliseconds; waiting longer is futile
RETRY_NEEDS_SECONDS = 2.0  # no retry starts with less left: the back-off sleeps up to 1 s
WEBHOOK_TOLERANCE_SECONDS = 300  # Stripe's default, on either side of our clock


class PaymentServiceUnavailable(ShopError):
    message = "The card payment service did not answer. Nothing was charged; try again."


class CardDeclined(ShopError):
    """Stripe refused the card; ``message`` is Stripe's own words for the buyer."""


class InvalidWebhook(ShopError):
    message = "The webhook signature or payload is not valid."


class IntentNotUsable(ShopError):
    """The PaymentIntent cannot take another card (localstripe after a decline); start a
    new attempt."""


class RefundRefused(ShopError):
    """Stripe would not refund (already refunded, not paid, ...); the message says why."""


class CaptureFailed(ShopError):
    """Stripe would not capture a held card (the authorisation expired or was cancelled);
    the message says why."""


class UnknownIntent(ShopError):
    """Stripe has no such PaymentIntent (localstripe forgets them when restarted)."""


@dataclass(frozen=True)
class Intent:
    id: str
    status: str
    amount: int
    currency: str  # upper case, as the shop writes currencies
    client_secret: str = ""
    order_number: str = ""
    error_message: str = ""
    created: int = 0  # Unix time


@dataclass(frozen=True)
class Charge:
    id: str
    payment_intent: str
    amount: int
    amount_refunded: int
    currency: str


@dataclass(frozen=True)
class WebhookEvent:
    id: str
    type: str
    created: int
    object_id: str
    data: dict = field(default_factory=dict)


def _intent(obj) -> Intent:
    metadata = getattr(obj, "metadata", None)
    error = getattr(obj, "last_payment_error", None)
    return Intent(
        id=obj.id,
        status=obj.status,
        amount=obj.amount,
        currency=obj.currency.upper(),
        client_secret=getattr(obj, "client_secret", "") or "",
        order_number=(metadata["order_number"] if metadata and "order_number" in metadata else ""),
        error_message=(getattr(error, "message", "") or "") if error else "",
        created=int(getattr(obj, "created", 0) or 0),
    )


class TimeBudgetClient(stripe.RequestsClient):
    """The library's ``requests`` client with one time budget per call, retries included.

    Its own timeout is per attempt, and each retry starts a fresh one (plus a back-off
    sleep). Here each attempt waits only for what is left of ``total`` seconds, and no retry
    starts with less than ``RETRY_NEEDS_SECONDS`` left. ``_timeout`` (read for every
    attempt) and ``_should_retry`` are the library's hooks for that;
    tests/payments/test_slow_stripe.py fails if an upgrade stops calling them.

    The proxy settings (``HTTPS_PROXY``, ``NO_PROXY`` …) are read once, for ``api_base``:
    ``requests`` would read the whole environment (and look for a ``.netrc``) on every
    call, a tenth of the shop's time for one. Each thread keeps its own session (and its
    connection), as the library's client does.
    """

    def __init__(self, total: float, api_base: str = stripe.DEFAULT_API_BASE):
        self._total = total
        self._deadline = threading.local()  # gthread workers: one call per thread
        found = requests.utils.get_environ_proxies(api_base)  # {} when NO_PROXY names it
        proxies = {scheme: found.get(scheme) or found.get("all") for scheme in ("http", "https")}
        proxy = stripe.HTTPClient._Proxy(http=proxies["http"] or "", https=proxies["https"] or "")
        super().__init__(timeout=total, proxy=proxy if any(proxies.values()) else None)

    def _thread_session(self) -> requests.Session:
        """This thread's session, which reads nothing from the environment (the library
        makes one per thread the same way, in ``_thread_local``, and uses it as it is)."""
        session = getattr(self._thread_local, "session", None)
        if session is None:
            session = self._thread_local.session = requests.Session()
            session.trust_env = False
        return session

    def request_with_retries(self, *args, **kwargs):
        self._thread_session()
        self._deadline.at = time.monotonic() + self._total
        try:
            return super().request_with_retries(*args, **kwargs)
        finally:
            self._deadline.at = None

    def _seconds_left(self) -> float:
        deadline = getattr(self._deadline, "at", None)
        return self._total if deadline is None else deadline - time.monotonic()

    @property
    def _timeout(self) -> tuple[float, float]:
        left = max(self._seconds_left(), 0.1)
        return min(CONNECT_TIMEOUT_SECONDS, left), left

    @_timeout.setter
    def _timeout(self, _value) -> None:
        pass  # the budget decides, attempt by attempt

    def _should_retry(self, response, api_connection_error, num_retries, max_network_retries):
        return self._seconds_left() >= RETRY_NEEDS_SECONDS and super()._should_retry(
            response, api_connection_error, num_retries, max_network_retries
        )


class StripeGateway:
    def __init__(
        self,
        secret_key: str,
        *,
        webhook_secret: str,
        api_base: str | None = None,
        timeout: float = DEFAULT_TIMEOUT_SECONDS,
    ):
        self.webhook_secret = webhook_secret
        self.client = stripe.StripeClient(
            secret_key,
            base_addresses={"api": api_base.rstrip("/")} if api_base else {},
            # localstripe answers "not implemented" with a 500 that retries would repeat.
            # Real Stripe: retries reuse the idempotency key, so a retry never charges twice.
            max_network_retries=0 if api_base else 2,
            http_client=TimeBudgetClient(timeout, api_base or stripe.DEFAULT_API_BASE),
        )

    def _call(self, function, *args, **kwargs):
        try:
            return function(*args, **kwargs)
        except stripe.CardError as error:
            message = error.error.message if error.error else None
            raise CardDeclined(error.user_message or str(message)) from None
        except (
            stripe.APIConnectionError,
            stripe.APIError,
            stripe.AuthenticationError,
            stripe.RateLimitError,  # not an APIError: a 429 after stripe-python's retries
        ) as error:
            current_app.logger.warning("Stripe unavailable: %s", error)
            raise PaymentServiceUnavailable() from None

    def create_intent(
        self, *, order_number: str, attempt: int, amount: int, currency: str
    ) -> Intent:
        obj = self._call(
            self.client.v1.payment_intents.create,
            params={
                "amount": amount,
                "currency": currency.lower(),
                "payment_method_types": ["card"],
                "metadata": {"order_number": order_number, "attempt": str(attempt)},
            },
            options={"idempotency_key": f"order-{order_number}-pi-{attempt}"},
        )
        return _intent(obj)

    def create_group_intent(
        self,
        *,
        campaign: str,
        participant_id: int,
        attempt: int,
        amount: int,
        currency: str,
        manual_capture: bool,
    ) -> Intent:
        """A group-buy participant's PaymentIntent: with ``manual_capture`` the card is
        only authorised at joining and charged (captured) at the close."""
        params = {
            "amount": amount,
            "currency": currency.lower(),
            "payment_method_types": ["card"],
            "metadata": {
                "campaign": campaign,
                "participant": str(participant_id),
                "attempt": str(attempt),
            },
        }
        if manual_capture:
            params["capture_method"] = "manual"
        obj = self._call(
            self.client.v1.payment_intents.create,
            params=params,
            options={"idempotency_key": f"campaign-{campaign}-{participant_id}-pi-{attempt}"},
        )
        return _intent(obj)

    def capture(self, intent_id: str, amount: int, *, idempotency_key: str) -> Intent:
        """Charge ``amount`` of a held card; the rest of the hold is released. Raises
        ``CaptureFailed`` when Stripe refuses (expired, cancelled, already captured)."""
        try:
            obj = self._call(
                self.client.v1.payment_intents.capture,
                intent_id,
                params={"amount_to_capture": amount},
                options={"idempotency_key": idempotency_key},
            )
        except (stripe.InvalidRequestError, CardDeclined) as error:
            raise CaptureFailed(str(getattr(error, "user_message", None) or error)) from None
        return _intent(obj)

    def attach_and_confirm(self, intent_id: str, payment_method_id: str) -> Intent:
        """Attach the card the browser tokenised and confirm. Returns the intent
        (``succeeded``, ``processing`` or ``requires_action`` for 3-D Secure); raises
        ``CardDeclined`` with Stripe's message, or ``IntentNotUsable``."""
        try:
            self._call(
                self.client.v1.payment_intents.update,
                intent_id,
                params={"payment_method": payment_method_id},
            )
            obj = self._call(
                self.client.v1.payment_intents.confirm,
                intent_id,
                options={"idempotency_key": f"{intent_id}-confirm-{payment_method_id}"},
            )
        except stripe.InvalidRequestError as error:
            raise IntentNotUsable(str(error.user_message or error)) from None
        return _intent(obj)

    def card_of(self, payment_method_id: str) -> tuple[str, str]:
        """``(brand, last4)`` of a PaymentMethod's card, or empty strings when Stripe does
        not say (a token's card on localstripe, or Stripe not answering)."""
        try:
            method = self._call(self.client.v1.payment_methods.retrieve, payment_method_id)
        except (stripe.StripeError, PaymentServiceUnavailable, CardDeclined):
            return "", ""
        card = getattr(method, "card", None)
        if card is None:
            return "", ""
        return str(getattr(card, "brand", "") or "")[:20], str(getattr(card, "last4", "") or "")[:4]

    def retrieve(self, intent_id: str) -> Intent:
        try:
            return _intent(self._call(self.client.v1.payment_intents.retrieve, intent_id))
        except stripe.InvalidRequestError:
            raise UnknownIntent(intent_id) from None

    def cancel(self, intent_id: str) -> bool:
        """Cancel an unpaid intent; ``False`` when Stripe says it cannot be cancelled."""
        try:
            self._call(self.client.v1.payment_intents.cancel, intent_id)
        except stripe.InvalidRequestError:
            return False
        return True

    def refund(self, intent_id: str, amount: int, *, idempotency_key: str) -> str:
        """Refund ``amount`` (minor units) of a paid PaymentIntent; returns the refund id."""
        try:
            obj = self._call(
                self.client.v1.refunds.create,
                params={"payment_intent": intent_id, "amount": amount},
                options={"idempotency_key": idempotency_key},
            )
        except stripe.InvalidRequestError as error:
            raise RefundRefused(str(error.user_message or error)) from None
        return obj.id

    def retrieve_charge(self, charge_id: str) -> Charge:
        try:
            obj = self._call(self.client.v1.charges.retrieve, charge_id)
        except stripe.InvalidRequestError:
            raise UnknownIntent(charge_id) from None
        intent = obj.payment_intent
        return Charge(
            id=obj.id,
            payment_intent=intent if isinstance(intent, str) else getattr(intent, "id", ""),
            amount=obj.amount,
            amount_refunded=obj.amount_refunded,
            currency=obj.currency.upper(),
        )

    def charge_of(self, intent_id: str) -> Charge | None:
        """The PaymentIntent's latest charge (what it took, what was refunded of it), or
        ``None`` when it has none. Raises ``UnknownIntent``."""
        try:
            obj = self._call(self.client.v1.payment_intents.retrieve, intent_id)
        except stripe.InvalidRequestError:
            raise UnknownIntent(intent_id) from None
        charge = getattr(obj, "latest_charge", None)
        if not charge:
            return None
        return self.retrieve_charge(charge if isinstance(charge, str) else charge.id)

    def recent_intents(self, since: int) -> list[Intent]:
        """PaymentIntents created since ``since`` (Unix time), for reconciliation.
        (localstripe takes no date filter: then every page is read and filtered here.)"""
        found: list[Intent] = []
        params: dict = {"limit": 100, "created": {"gte": since}}
        while True:
            try:
                page = self._call(self.client.v1.payment_intents.list, params=params)
            except stripe.InvalidRequestError:
                if "created" not in params:
                    raise
                params.pop("created")
                continue
            intents = [_intent(obj) for obj in page.data]
            found.extend(intent for intent in intents if intent.created >= since)
            if not page.has_more or not intents:
                return found
            params["starting_after"] = intents[-1].id

    def verify_event(self, payload: bytes, signature: str | None) -> WebhookEvent:
        """Check ``Stripe-Signature`` over the raw body, dated within the tolerance on
        either side of now (the library only refuses old ones), then the event's shape.
        Anything wrong is ``InvalidWebhook`` (a 400), never a crash."""
        if not signature:
            raise InvalidWebhook("missing Stripe-Signature")
        try:
            stripe.WebhookSignature.verify_header(
                payload, signature, self.webhook_secret, WEBHOOK_TOLERANCE_SECONDS
            )
        except (stripe.SignatureVerificationError, ValueError) as error:
            raise InvalidWebhook(str(error)) from None
        if _signed_at(signature) > time.time() + WEBHOOK_TOLERANCE_SECONDS:
            raise InvalidWebhook("the signature is dated in the future")
        return _webhook_event(payload)


def _signed_at(signature: str) -> int:
    """The ``t=`` of a header ``verify_header`` accepted, read as the library reads it."""
    items = [item.split("=", 2) for item in signature.split(",")]
    return int([item[1] for item in items if item[0] == "t"][0])


def _webhook_event(payload: bytes) -> WebhookEvent:
    """The parts of a signed event the shop relies on, checked: ``InvalidWebhook`` if one
    is missing or of the wrong kind."""
    try:
        event = json.loads(payload)
    except ValueError:
        raise InvalidWebhook("the body is not JSON") from None
    data = event.get("data") if isinstance(event, dict) else None
    obj = data.get("object") if isinstance(data, dict) else None
    created = event.get("created") if isinstance(event, dict) else None
    if not (
        isinstance(obj, dict)
        and isinstance(event.get("id"), str)
        and event["id"]
        and isinstance(event.get("type"), str)
        and event["type"]
        and isinstance(created, int)
        and not isinstance(created, bool)
        and isinstance(obj.get("id", ""), str)
    ):
        raise InvalidWebhook("the event lacks its id, type, created or data.object")
    return WebhookEvent(
        id=event["id"], type=event["type"], created=created, object_id=obj.get("id", ""), data=obj
    )


def gateway() -> StripeGateway:
    """The app's gateway, built once from ``STRIPE_*`` settings."""
    existing = current_app.extensions.get("stripe_gateway")
    if existing is None:
        config = current_app.config
        existing = StripeGateway(
            config["STRIPE_SECRET_KEY"],
            webhook_secret=config["STRIPE_WEBHOOK_SECRET"],
            api_base=config.get("STRIPE_API_BASE"),
            timeout=timeout_seconds(config.get("STRIPE_TIMEOUT_SECONDS")),
        )
        current_app.extensions["stripe_gateway"] = existing
    return existing


def timeout_seconds(value) -> float:
    """``STRIPE_TIMEOUT_SECONDS`` as a number (``8``, ``"2.5"``); unset is the default."""
    if value in (None, ""):
        return DEFAULT_TIMEOUT_SECONDS
    try:
        seconds = float(value)
    except (TypeError, ValueError):
        seconds = 0.0
    if not 0 < seconds <= 120:
        raise ConfigError("STRIPE_TIMEOUT_SECONDS must be a number of seconds, like 8.")
    return seconds
