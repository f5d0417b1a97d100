"""Locale and display-currency choice.

Order of precedence: ``?lang=`` on the URL (shareable, writes nothing), the choice saved
in the session by the preferences form, then the browser's Accept-Language.

English also follows the browser's region for dates (``select_format_locale``, the
locale Flask-Babel formats and translates with): ``en-GB``, ``en-SG``, ``en-AU`` write
"5 Dec 2026", ``en-US`` (and English with no region) "Dec 5, 2026". Chinese and Japanese
write their own ("2026年12月5日"). Prices do not change with the region (``shop.money``
reads only the language).
"""

import re
from datetime import UTC, date, datetime
from functools import lru_cache
from zoneinfo import ZoneInfo

from babel import Locale, UnknownLocaleError, support
from flask import current_app, request, session
from flask_babel import get_babel, get_locale, get_timezone
from flask_babel import lazy_gettext as _l
from werkzeug.datastructures import LanguageAccept
from werkzeug.http import parse_accept_header
from wtforms.i18n import messages_path

from shop.locales import LANGUAGES
from shop.money import SUPPORTED_CURRENCIES

CURRENCY_LABELS = {
    "CNY": _l("CNY — Chinese yuan"),
    "JPY": _l("JPY — Japanese yen"),
    "SGD": _l("SGD — Singapore dollar"),
    "USD": _l("USD — US dollar"),
}


# How a zone is named beside a time; zones not named here show their offset (GMT+08:00).
ZONE_LABELS = {
    "Asia/Shanghai": _l("CST"),
    "Asia/Tokyo": _l("JST"),
    "Asia/Singapore": _l("SGT"),
    "UTC": _l("UTC"),
}


def select_locale() -> str:
    return language_for(request, session)


def language_for(a_request, a_session) -> str:
    """The language of a request: ``?lang=``, the one kept in the session by the
    preferences form, then the browser's Accept-Language. (Given the request and session,
    so the page cache's fast path, which runs before Flask's contexts, asks the same.)"""
    args = a_request.args
    # ``in`` first: a MultiDict's ``get`` of a missing key raises (and catches) an exception.
    wanted = (args.get("lang") if "lang" in args else None) or a_session.get("locale")
    if isinstance(wanted, str) and wanted in LANGUAGES:
        return wanted
    return browser_language(accept_language(a_request))


# Accept-Language headers longer than this are parsed every time, not kept.
KEPT_HEADER_LENGTH = 200


def accept_language(a_request) -> str:
    """The request's ``Accept-Language`` header as sent (``""`` without one)."""
    return a_request.environ.get("HTTP_ACCEPT_LANGUAGE", "")


def browser_language(header: str) -> str:
    """The shop's language that an ``Accept-Language`` header prefers most, else
    ``"en"``: worked out once per process for each header (a browser sends the same one
    on every request)."""
    kept = len(header) <= KEPT_HEADER_LENGTH
    return (_kept_browser_language if kept else _browser_language)(header)


def _browser_language(header: str) -> str:
    accepted = parse_accept_header(header or None, LanguageAccept)
    return accepted.best_match(list(LANGUAGES)) or "en"


_kept_browser_language = lru_cache(maxsize=256)(_browser_language)


# An English language tag with a region: "en-GB", "en_SG", "en-150", "en-Latn-AU".
ENGLISH_REGION = re.compile(r"en(?:[-_][A-Za-z]{4})?[-_]([A-Za-z]{2}|[0-9]{3})(?:[-_]|$)")


def select_format_locale() -> str:
    """Flask-Babel's locale: the language (``select_locale``), and for English the region
    of the browser's first English language tag (``"en_GB"``), where Babel knows it."""
    return format_locale_for(request, session)


def format_locale_for(a_request, a_session) -> str:
    """``select_format_locale`` for a given request and session."""
    language = language_for(a_request, a_session)
    if language != "en":
        return language
    header = accept_language(a_request)
    kept = len(header) <= KEPT_HEADER_LENGTH  # as ``browser_language`` keeps its answers
    return (_kept_browser_english_locale if kept else _browser_english_locale)(header)


def _browser_english_locale(header: str) -> str:
    """``english_locale`` of an ``Accept-Language`` header's tags, in its order."""
    accepted = parse_accept_header(header or None, LanguageAccept)
    return english_locale([value for value, _quality in accepted])


_kept_browser_english_locale = lru_cache(maxsize=256)(_browser_english_locale)


@lru_cache(maxsize=64)
def parsed_locale(identifier: str) -> Locale:
    return Locale.parse(identifier)


def babel_locale() -> Locale:
    """Flask-Babel's locale selector: ``select_format_locale``'s choice as a ``Locale``,
    parsed once per identifier (Flask-Babel would parse the string on every request)."""
    return parsed_locale(select_format_locale())


def english_locale(accepted: list[str]) -> str:
    """``["fr", "en-GB", "en"]`` → ``"en_GB"``: the first English tag, in the order of the
    browser's preference; its region if it has one Babel knows, else plain ``"en"``."""
    for value in accepted:
        if not value.lower().startswith("en"):
            continue
        match = ENGLISH_REGION.match(value[:20])
        if match is None:
            if value.lower() == "en":
                return "en"
            continue
        try:
            return str(Locale("en", territory=match.group(1).upper()))
        except (UnknownLocaleError, ValueError):
            return "en"
    return "en"


def current_currency() -> str:
    return currency_for(session, current_app.config["SHOP_DEFAULT_CURRENCY"])


def currency_for(a_session, default: str) -> str:
    """The currency kept in the session by the preferences form, else the shop's."""
    wanted = a_session.get("currency")
    if isinstance(wanted, str) and wanted in SUPPORTED_CURRENCIES:
        return wanted
    return default


def shop_zone() -> ZoneInfo:
    """The factory's time zone (``BABEL_DEFAULT_TIMEZONE``): its days are the shop's days
    for reports, due dates and filters."""
    return ZoneInfo(str(get_timezone()))


def app_zone(app) -> ZoneInfo:
    """``shop_zone()`` outside a request (the page cache's fast path): the shop has no
    time zone selector, so every request's zone is the app's default."""
    return ZoneInfo(get_babel(app).default_timezone)


def order_zone_default() -> str:
    """Where an order has neither a school nor a delivery country with a known zone:
    ``ORDER_DEFAULT_TIME_ZONE``."""
    return current_app.config["ORDER_DEFAULT_TIME_ZONE"]


def shop_today() -> date:
    return datetime.now(UTC).astimezone(shop_zone()).date()


@lru_cache(maxsize=16)
def wtforms_catalog(locale: str) -> support.NullTranslations:
    """WTForms' own messages ("This field is required.") in ``locale``, read once."""
    return support.Translations.load(messages_path(), [locale], domain="wtforms")


class WTFormsTranslations:
    """WTForms' messages in the language of the moment (``force_locale`` included), each
    language's read from disk once per process. Flask-WTF reads them anew on every
    request that makes a form (a tenth of the review page's time) unless the request
    already holds them in ``wtforms_translations``: ``shop.ShopRequest`` holds this one."""

    def ugettext(self, string: str) -> str:
        return wtforms_catalog(str(get_locale())).ugettext(string)

    def ungettext(self, singular: str, plural: str, n: int) -> str:
        return wtforms_catalog(str(get_locale())).ungettext(singular, plural, n)
