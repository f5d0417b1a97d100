"""The one module that talks to Stripe (or localstripe, its offline stand-in).

Everything else gets plain dataclasses and the errors below, never ``stripe`` objects, so
the rest of the shop does not depend on the library's shapes (which changed in v15: a
``StripeObject`` is no longer a dict). Every call that creates or confirms something
carries an idempotency key derived from our own ids.
"""

from dataclasses import dataclass, field

import stripe
from flask import current_app

from shop.exceptions import ShopError


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
    )


class StripeGateway:
    def __init__(
        self,
        secret_key: str,
        *,
        webhook_secret: str,
        api_base: str | None = None,
        timeout: int = 20,
    ):
        base_addresses = {"api": api_base.rstrip("/")} if api_base else {}
        self.webhook_secret = webhook_secret
        self.client = stripe.StripeClient(
            secret_key,
            base_addresses=base_addresses,
            # localstripe answers "not implemented" with a 500 that retries would repeat.
            max_network_retries=0 if api_base else 2,
            http_client=stripe.RequestsClient(timeout=timeout),
        )

    def _call(self, function, *args, **kwargs):
        try:
            return function(*args, **kwargs)
        except stripe.CardError as error:
            raise CardDeclined(error.user_message or str(error.error.message)) from None
        except (stripe.APIConnectionError, stripe.APIError, stripe.AuthenticationError) as error:
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

    def reachable(self) -> bool:
        """Does Stripe answer our key? (For ``/healthz``; one small list call.)"""
        try:
            self._call(self.client.v1.payment_intents.list, params={"limit": 1})
        except PaymentServiceUnavailable:
            return False
        return True

    def verify_event(self, payload: bytes, signature: str | None) -> WebhookEvent:
        """Check ``Stripe-Signature`` over the raw body (default 300 s tolerance)."""
        if not signature:
            raise InvalidWebhook("missing Stripe-Signature")
        try:
            event = self.client.construct_event(payload, signature, self.webhook_secret)
        except (stripe.SignatureVerificationError, ValueError) as error:
            raise InvalidWebhook(str(error)) from None
        obj = event.data.object
        return WebhookEvent(
            id=event.id,
            type=event.type,
            created=event.created,
            object_id=getattr(obj, "id", ""),
            data=obj.to_dict(),
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
        )
        current_app.extensions["stripe_gateway"] = existing
    return existing
