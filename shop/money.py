"""Money: integer amounts in the currency's minor unit, formatted with Babel.

Never floats. ``to_decimal`` is the only place that turns minor units into a value a
person reads, and it uses ``Decimal.scaleb`` so ¥5,000 stays exactly 5000.
"""

from decimal import Decimal
from functools import lru_cache

from babel.numbers import format_currency, get_currency_symbol

CURRENCY_EXPONENTS = {"CNY": 2, "JPY": 0, "SGD": 2, "USD": 2}
SUPPORTED_CURRENCIES = tuple(CURRENCY_EXPONENTS)


class UnknownCurrency(ValueError):
    pass


# Amounts are stored in 32-bit integer columns: nothing typed may exceed this many minor units.
MAX_AMOUNT = 2_000_000_000


def exponent(currency: str) -> int:
    try:
        return CURRENCY_EXPONENTS[currency]
    except KeyError:
        raise UnknownCurrency(currency) from None


def to_decimal(amount: int, currency: str) -> Decimal:
    return Decimal(amount).scaleb(-exponent(currency))


def from_decimal(value: Decimal | str | int, currency: str) -> int:
    """Major units (``"89.50"``) to minor units (``8950``); refuses sub-minor precision."""
    scaled = Decimal(value).scaleb(exponent(currency))
    if scaled != scaled.to_integral_value():
        raise ValueError(f"{value} has more precision than {currency} allows")
    return int(scaled)


@lru_cache(maxsize=8192)
def format_money(amount: int, currency: str, locale: str = "en") -> str:
    """``format_money(8900, "CNY", "zh_CN")`` → ``"¥89.00"``.

    Where the locale has no symbol for the currency and shows its code, a no-break space
    keeps the code off the digits: ``SGD 12.50``, not ``SGD12.50``.

    Cached: a listing page formats dozens of prices, mostly the same few, and Babel's
    formatting is the slowest step of rendering one.
    """
    value = to_decimal(amount, currency)
    if get_currency_symbol(currency, locale=locale) == currency:
        return format_currency(value, currency, format="¤\xa0#,##0.00", locale=locale)
    return format_currency(value, currency, locale=locale)


# The smallest card payment Stripe settles, per currency (minor units). CNY is not a
# settlement currency: Stripe converts it, so the floor is a conservative ¥4.00.
MIN_CARD_AMOUNTS = {"CNY": 400, "JPY": 50, "SGD": 50, "USD": 50}
