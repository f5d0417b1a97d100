"""Site-wide endpoints: language and currency preferences, uploaded media. (Health:
``shop.health``.)"""

from flask import Blueprint, flash, redirect, session
from flask_babel import gettext as _

from shop.assets import send_media
from shop.main.forms import PreferencesForm
from shop.urls import safe_next_path

bp = Blueprint("main", __name__)


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
