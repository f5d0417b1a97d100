"""Locale and display-currency choice.

Order of precedence: ``?lang=`` on the URL (shareable, writes nothing), the choice saved
in the session by the preferences form, then the browser's Accept-Language.
"""

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

from flask import current_app, request, session
from flask_babel import get_timezone
from flask_babel import lazy_gettext as _l

from shop.locales import LANGUAGES
from shop.money import SUPPORTED_CURRENCIES

CURRENCY_LABELS = {
    "CNY": _l("CNY — Chinese yuan"),
    "JPY": _l("JPY — Japanese yen"),
    "SGD": _l("SGD — Singapore dollar"),
    "USD": _l("USD — US dollar"),
}


def select_locale() -> str:
    wanted = request.args.get("lang") or session.get("locale")
    if wanted in LANGUAGES:
        return wanted
    return request.accept_languages.best_match(list(LANGUAGES)) or "en"


def current_currency() -> str:
    wanted = session.get("currency")
    if wanted in SUPPORTED_CURRENCIES:
        return wanted
    return current_app.config["SHOP_DEFAULT_CURRENCY"]


def shop_zone() -> ZoneInfo:
    """The factory's time zone (``BABEL_DEFAULT_TIMEZONE``): its days are the shop's days
    for reports, due dates and filters."""
    return ZoneInfo(str(get_timezone()))


def shop_today() -> date:
    return datetime.now(UTC).astimezone(shop_zone()).date()
