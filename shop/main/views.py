"""Site-wide endpoints: health, language and currency preferences, uploaded media."""

import sqlalchemy as sa
from flask import Blueprint, current_app, flash, jsonify, redirect, session
from flask_babel import gettext as _

from shop.assets import send_media
from shop.db import get_session
from shop.main.forms import PreferencesForm
from shop.payments.stripe_gateway import gateway
from shop.urls import safe_next_path

bp = Blueprint("main", __name__)


@bp.get("/healthz")
def healthz():
    checks = {"app": "ok", "database": "ok"}
    try:
        get_session().execute(sa.text("SELECT 1"))
    except sa.exc.SQLAlchemyError as error:
        current_app.logger.warning("healthz: database unreachable: %s", error)
        checks["database"] = "error"
    healthy = all(value == "ok" for value in checks.values())
    # Stripe down means no card payments, but browsing and carts still work: report it
    # without asking the load balancer to take the shop out of service.
    checks["stripe"] = "ok" if gateway().reachable() else "error"
    status = "ok" if healthy and checks["stripe"] == "ok" else "degraded"
    return jsonify(status=status, **checks), 200 if healthy else 503


@bp.post("/preferences")
def preferences_submit():
    form = PreferencesForm()
    target = safe_next_path(form.next.data)
    if form.validate_on_submit():
        session["locale"] = form.locale.data
        session["currency"] = form.currency.data
    else:
        flash(_("That language or currency is not available."), "error")
    return redirect(target)


@bp.get("/media/<path:filename>")
def media(filename: str):
    response = send_media(filename)
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response
