"""Jinja filters and globals. They format; they never decide."""

from flask import Flask, request, url_for
from flask_babel import get_locale

from shop.catalog.colours import colour_name
from shop.i18n import CURRENCY_LABELS, current_currency
from shop.locales import LANGUAGES, localized
from shop.money import SUPPORTED_CURRENCIES, format_money


def money_filter(amount: int | None, currency: str) -> str:
    if amount is None:
        return ""
    return format_money(amount, currency, str(get_locale()))


def localized_filter(obj, field: str) -> str:
    return localized(obj, field, str(get_locale()))


def url_with_args(**changes) -> str:
    """This page's URL with some query arguments changed; ``None`` drops one."""
    args = {key: value for key, value in request.args.items() if key not in changes}
    args.update({key: value for key, value in changes.items() if value is not None})
    return url_for(request.endpoint, **(request.view_args or {}), **args)


def init_app(app: Flask) -> None:
    app.add_template_filter(money_filter, "money")
    app.add_template_filter(localized_filter, "localized")
    app.add_template_filter(colour_name, "colour_name")
    app.add_template_global(url_with_args)

    @app.context_processor
    def shop_globals():
        return {
            "languages": LANGUAGES,
            "currencies": SUPPORTED_CURRENCIES,
            "currency_labels": CURRENCY_LABELS,
            "current_currency": current_currency(),
            "current_locale": str(get_locale()),
            "current_path": request.full_path.rstrip("?"),
        }
