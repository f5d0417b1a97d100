"""The payment page (card entry, then "processing", then the confirmation), the card
confirmation the page posts to, and Stripe's webhook."""

import re

import sqlalchemy as sa
from flask import (
    Blueprint,
    abort,
    current_app,
    jsonify,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy.exc import IntegrityError

from shop.checkout.next_steps import next_steps
from shop.db import get_session, utcnow
from shop.extensions import csrf
from shop.i18n import shop_zone
from shop.orders import access
from shop.orders.models import Order
from shop.payments import service, webhooks
from shop.payments.stripe_gateway import (
    InvalidWebhook,
    PaymentServiceUnavailable,
    gateway,
)
from shop.templating import factory_text

bp = Blueprint("payments", __name__)

RETRY_STATUSES = ("declined", "requires_payment_method")  # show why the last card failed
PAYMENT_METHOD_ID = re.compile(r"(pm|card|src)_[A-Za-z0-9]{1,200}")


def _visible_order(number: str) -> Order:
    order = get_session().scalars(sa.select(Order).where(Order.number == number)).first()
    token = request.args.get("t")
    secret = current_app.config["SECRET_KEY"]
    if order is None or not access.can_view(
        order, user=current_user, flask_session=session, secret_key=secret, token=token
    ):
        abort(404)
    if token and access.token_grants(secret, order, token):
        access.remember_in_session(session, order)  # the page's own requests carry no token
    return order


def payment_stage(order: Order, latest_status: str | None) -> str:
    """What the buyer sees: ``pay``, ``processing``, ``paid`` or ``cancelled``."""
    if order.state == "cancelled":
        return "cancelled"
    if order.payment_status != "unpaid":
        return "paid"
    if latest_status in service.TAKEN_STATUSES:
        return "processing"
    return "pay"


def latest_status(order: Order) -> tuple[str | None, str]:
    """The latest attempt's status and the error to show, asking Stripe (read-only) how a
    3-D Secure challenge ended."""
    latest = service.latest_payment(order)
    if latest is None:
        return None, ""
    intent = service.challenge_outcome(order, gateway())
    if intent is not None:
        return intent.status, intent.error_message
    error = latest.last_error if latest.status in RETRY_STATUSES else ""
    return latest.status, error


@bp.get("/checkout/pay/<number>")
def pay_page(number: str):
    order = _visible_order(number)
    status, last_error = latest_status(order)
    stage = payment_stage(order, status)
    return render_template(
        "checkout/pay.html",
        order=order,
        stage=stage,
        next_steps=next_steps(order, now=utcnow(), zone=shop_zone()) if stage == "paid" else None,
        pickup_address=factory_text("FACTORY_PICKUP_ADDRESS"),
        last_error=last_error,
        publishable_key=current_app.config["STRIPE_PUBLISHABLE_KEY"],
        stripe_js_url=current_app.config["STRIPE_JS_URL"],
    )


@bp.post("/checkout/pay/<number>/card")
def pay_with_card(number: str):
    """JSON in, JSON out: ``{"payment_method": "pm_…"}`` (or a token's ``card_…``)."""
    order = _visible_order(number)
    payload = request.get_json(silent=True)
    method_id = payload.get("payment_method") if isinstance(payload, dict) else None
    if not isinstance(method_id, str) or not PAYMENT_METHOD_ID.fullmatch(method_id):
        return jsonify(status="declined", message=str(_l("Enter your card details."))), 400
    db = get_session()
    try:
        result = service.pay_with_card(db, order, method_id, gateway(), save_attempt=db.commit)
        db.commit()  # a declined attempt is remembered even though the answer is not a success
    except IntegrityError:
        # Another click started the same new attempt a moment earlier: that one goes on;
        # this page reloads and shows how it is going.
        db.rollback()
        return jsonify(status="in_progress", next=url_for(".pay_page", number=number)), 409
    except service.OrderNotPayable:
        db.rollback()
        return jsonify(status="not_payable", next=url_for(".pay_page", number=number)), 409
    except PaymentServiceUnavailable:
        db.rollback()
        # A confirmation that timed out may still have charged the card: say so truthfully.
        message = _l(
            "The card payment service did not answer. If your card was charged, this page "
            "shows it in a moment; otherwise try again."
        )
        return jsonify(status="declined", message=str(message)), 503
    return jsonify(
        status=result.status,
        client_secret=result.client_secret,
        message=result.message,
        next=url_for(".pay_page", number=number),
    )


@bp.get("/checkout/pay/<number>/status")
def payment_status(number: str):
    order = _visible_order(number)
    status, _error = latest_status(order)
    return jsonify(
        stage=payment_stage(order, status),
        payment=order.payment_status,
        fulfilment=order.fulfilment_status,
    )


@bp.post("/stripe/webhook")
@csrf.exempt
def stripe_webhook():
    stripe_gateway = gateway()
    try:
        event = stripe_gateway.verify_event(
            request.get_data(), request.headers.get("Stripe-Signature")
        )
    except InvalidWebhook as error:
        current_app.logger.warning("Refused a Stripe webhook: %s", error)
        return jsonify(error="invalid signature"), 400
    db = get_session()
    try:
        outcome = webhooks.handle_event(db, event, stripe_gateway)
        db.commit()
    except IntegrityError:
        db.rollback()  # the same event, delivered twice at once: the other one won
        outcome = "duplicate"
    except PaymentServiceUnavailable:
        db.rollback()
        return jsonify(error="stripe unavailable; deliver again"), 503
    current_app.logger.info("Stripe %s %s: %s", event.type, event.id, outcome)
    return jsonify(received=True, outcome=outcome)
