"""A participant's own payment page after the close could not charge their card
(``/g/<code>/p/<token>/pay``): the page, the card confirmation it posts (JSON, as the
checkout's payment page does, with ``static/js/pay.js``) and the status it polls after
3-D Secure. The token in the link is the participant's secret; a wrong one is a 404."""

import re

from flask import Blueprint, abort, current_app, jsonify, render_template, request, url_for
from flask_babel import lazy_gettext as _l
from sqlalchemy.exc import IntegrityError

from shop.db import get_session, utcnow
from shop.groupbuys import closing, paying, service
from shop.groupbuys.models import Campaign, Participant
from shop.orders.models import Order
from shop.payments.stripe_gateway import PaymentServiceUnavailable, gateway

bp = Blueprint("groupbuy_pay", __name__)

TOKEN = re.compile(r"[A-Za-z0-9_-]{16,64}")
PAYMENT_METHOD_ID = re.compile(r"(pm|card|src)_[A-Za-z0-9]{1,200}")


def _found(code: str, token: str) -> tuple[Campaign, Participant]:
    campaign = service.campaign_by_code(get_session(), code)
    # Before the close there are no final prices and nothing to pay here.
    if campaign is None or campaign.state not in ("closing", "closed", "failed"):
        abort(404)
    if not TOKEN.fullmatch(token or ""):
        abort(404)
    participant = closing.participant_by_token(get_session(), campaign, token)
    if participant is None:
        abort(404)
    return campaign, participant


@bp.get("/g/<code>/p/<token>/pay")
def pay_page(code: str, token: str):
    campaign, participant = _found(code, token)
    stage = paying.stage(participant, utcnow())
    order = get_session().get(Order, participant.order_id) if participant.order_id else None
    return render_template(
        "groupbuys/pay.html",
        campaign=campaign,
        participant=participant,
        stage=stage,
        order=order,
        amount=closing.amount_due(campaign, participant),
        publishable_key=current_app.config["STRIPE_PUBLISHABLE_KEY"],
        stripe_js_url=current_app.config["STRIPE_JS_URL"],
    )


@bp.post("/g/<code>/p/<token>/pay/card")
def pay_with_card(code: str, token: str):
    """JSON in, JSON out: ``{"payment_method": "pm_…"}`` (or a token's ``card_…``)."""
    campaign, participant = _found(code, token)
    payload = request.get_json(silent=True)
    method_id = payload.get("payment_method") if isinstance(payload, dict) else None
    if not isinstance(method_id, str) or not PAYMENT_METHOD_ID.fullmatch(method_id):
        return jsonify(status="declined", message=str(_l("Enter your card details."))), 400
    page = url_for(".pay_page", code=campaign.code, token=participant.token)
    db = get_session()
    try:
        result = paying.pay_with_card(
            db, campaign, participant, method_id, gateway(), now=utcnow(), save_attempt=db.commit
        )
        db.commit()
    except (paying.NotPayable, IntegrityError):
        db.rollback()
        return jsonify(status="not_payable", next=page), 409
    except PaymentServiceUnavailable:
        db.rollback()
        message = _l(
            "The card payment service did not answer. If your card was charged, this page "
            "shows it in a moment; otherwise try again."
        )
        return jsonify(status="declined", message=str(message)), 503
    return jsonify(
        status=result.status,
        client_secret=result.client_secret,
        message=result.message,
        next=page,
    )


@bp.get("/g/<code>/p/<token>/pay/status")
def pay_status(code: str, token: str):
    _campaign, participant = _found(code, token)
    return jsonify(stage=paying.stage(participant, utcnow()))
