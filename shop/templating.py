"""Jinja filters and globals. They format; they never decide."""

from babel.dates import format_skeleton, get_timezone_gmt
from flask import Flask, request, session
from flask_babel import get_locale, get_timezone

from shop.catalog.colours import colour_name
from shop.catalog.size_chart import heading_label
from shop.db import as_utc
from shop.i18n import CURRENCY_LABELS, current_currency, select_locale
from shop.locales import LANGUAGES, localized
from shop.money import SUPPORTED_CURRENCIES, format_money
from shop.orders.labels import order_status_label


def money_filter(amount: int | None, currency: str) -> str:
    if amount is None:
        return ""
    return format_money(amount, currency, str(get_locale()))


def localized_filter(obj, field: str) -> str:
    return localized(obj, field, str(get_locale()))


def datetime_short_filter(value) -> str:
    """``Nov 26, 2026 17:41 (+0800)`` / ``2026年11月26日 17:41 (+0800)``: unambiguous in
    every locale, in the shop's time zone, with the zone shown."""
    if not value:
        return ""
    value = as_utc(value)
    locale, tz = get_locale(), get_timezone()
    day = format_skeleton("yMMMd", value, tzinfo=tz, locale=locale)
    time = format_skeleton("Hm", value, tzinfo=tz, locale=locale)
    return f"{day} {time} ({get_timezone_gmt(value.astimezone(tz), 'short', locale=locale)})"


def date_filter(value) -> str:
    """A calendar date (a delivery day, an invoice's due date) in the visitor's words."""
    if not value:
        return ""
    return format_skeleton("yMMMEd", value, locale=get_locale())


def without_none(attributes: dict) -> dict:
    """HTML attributes minus the unset ones (WTForms would write ``type="None"``)."""
    return {name: value for name, value in attributes.items() if value is not None}


def _return_path(max_length: int = 400) -> str:
    """Where a form on this page sends the visitor back to (the query only if short)."""
    full_path = request.full_path.rstrip("?")
    return full_path if len(full_path) <= max_length else request.path


def init_app(app: Flask) -> None:
    app.add_template_filter(money_filter, "money")
    app.add_template_filter(localized_filter, "localized")
    app.add_template_filter(colour_name, "colour_name")
    app.add_template_filter(heading_label, "size_chart_heading")
    app.add_template_filter(datetime_short_filter, "datetime_short")
    app.add_template_filter(date_filter, "day")
    app.add_template_filter(without_none)
    app.add_template_global(order_status_label)

    @app.context_processor
    def shop_globals():
        return {
            "languages": LANGUAGES,
            "currencies": SUPPORTED_CURRENCIES,
            "currency_labels": CURRENCY_LABELS,
            "current_currency": current_currency(),
            "current_locale": select_locale(),
            "current_path": _return_path(),
            "cart_count": session.get("cart_count", 0),
        }
