"""Jinja filters and globals. They format; they never decide."""

from flask import Flask, request
from flask_babel import get_locale

from shop.i18n import CURRENCY_LABELS, current_currency
from shop.locales import LANGUAGES
from shop.money import SUPPORTED_CURRENCIES, format_money


def money_filter(amount: int | None, currency: str) -> str:
    if amount is None:
        return ""
    return format_money(amount, currency, str(get_locale()))


def init_app(app: Flask) -> None:
    app.add_template_filter(money_filter, "money")

    @app.context_processor
    def shop_globals():
        return {
            "languages": LANGUAGES,
            "currencies": SUPPORTED_CURRENCIES,
            "currency_labels": CURRENCY_LABELS,
            "current_currency": current_currency(),
            "current_locale": str(get_locale()),
            "current_path": request.full_path.rstrip("?") if request else "/",
        }
