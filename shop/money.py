"""Money: integer amounts in the currency's minor unit, formatted with Babel.

Never floats. ``to_decimal`` is the only place that turns minor units into a value a
person reads, and it uses ``Decimal.scaleb`` so ¥5,000 stays exactly 5000.

How a price reads, in every language (Babel gives the digits, grouping, decimals and
where the sign goes; this module chooses the symbol, because Babel's differ by locale in
ways that mislead a buyer: Japanese writes the yuan as ``元49.00``, English and Chinese
write the Singapore dollar as ``SGD`` and the US dollar as a bare ``$``):

- **CNY** is ``CN¥`` in English and Japanese. In Chinese it is ``¥`` — except on pages
  that may show amounts in several currencies at once (``distinct=True``: the back
  office's lists, a customer's list of orders), where it is ``CN¥`` so that it never
  reads like a yen price beside one. The shop front shows one currency at a time (the
  visitor's display currency, a school's, one order's), so a Chinese reader sees ``¥``.
- **JPY** is ``¥`` in every language (never Babel's full-width ``￥`` nor ``JP¥``), with no
  decimals: the yen has no minor unit.
- **SGD** is ``S$`` in every language.
- **USD** is always ``US$``, never a bare ``$``: the shop offers SGD on every page (the
  currency menu), and a bare ``$`` beside it would be ambiguous. Always, rather than only
  where SGD also appears, so that one price reads the same on every page and in emails.

Japan's 総額表示 (all-inclusive pricing) obliges a seller to show consumers the price
with consumption tax included; the shop's JPY prices include it, and say so:
``tax_included_note(currency)`` is the one rule that decides which currencies carry the
note, and the ``money`` filter adds it (``¥4,800（税込）``, ``¥4,800 (tax incl.)``,
``¥4,800（含税）``) on the pages consumers read — product, listing, cart, checkout, their
orders and emails — and not in the back office (``shop.templating``).
"""

from decimal import Decimal
from functools import lru_cache

from babel import Locale
from babel.numbers import format_currency

CURRENCY_EXPONENTS = {"CNY": 2, "JPY": 0, "SGD": 2, "USD": 2}
SUPPORTED_CURRENCIES = tuple(CURRENCY_EXPONENTS)

# The symbol per currency and language ("*": every language); see the module docstring.
SYMBOLS: dict[str, dict[str, str]] = {
    "CNY": {"zh": "¥", "*": "CN¥"},
    "JPY": {"*": "¥"},
    "SGD": {"*": "S$"},
    "USD": {"*": "US$"},
}
# Where several currencies may stand on one page: a symbol no other currency shares.
DISTINCT_SYMBOLS = {"CNY": "CN¥"}
# Currencies whose consumer prices must say that tax is included (Japan's 総額表示).
TAX_INCLUDED_CURRENCIES = frozenset({"JPY"})


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


def currency_symbol(currency: str, locale: str = "en", *, distinct: bool = False) -> str:
    """``"CN¥"``, ``"¥"``, ``"S$"``, ``"US$"``: the symbol a reader of ``locale`` sees."""
    exponent(currency)  # refuses an unknown currency
    if distinct and currency in DISTINCT_SYMBOLS:
        return DISTINCT_SYMBOLS[currency]
    symbols = SYMBOLS[currency]
    return symbols.get(locale.split("_")[0], symbols["*"])


def tax_included_note(currency: str) -> bool:
    """Whether a consumer price in ``currency`` must say that it includes tax."""
    return currency in TAX_INCLUDED_CURRENCIES


@lru_cache(maxsize=8192)
def format_money(amount: int, currency: str, locale: str = "en", *, distinct: bool = False) -> str:
    """``format_money(8900, "CNY", "zh_CN")`` → ``"¥89.00"``; ``"ja"`` → ``"CN¥89.00"``;
    ``format_money(5000, "JPY", "ja")`` → ``"¥5,000"``.

    The locale's own currency pattern (digits, grouping, decimals per currency, the sign)
    with the ISO code in the symbol's place, and the code then replaced by this shop's
    symbol: letters that the digits can never contain.

    Cached: a listing page formats dozens of prices, mostly the same few, and Babel's
    formatting is the slowest step of rendering one.
    """
    value = to_decimal(amount, currency)
    pattern = _code_pattern(locale)
    text = format_currency(value, currency, format=pattern, locale=locale)
    return text.replace(currency, currency_symbol(currency, locale, distinct=distinct), 1)


@lru_cache(maxsize=64)
def _code_pattern(locale: str) -> str:
    """The locale's standard currency pattern, written with the ISO code (``¤¤``)."""
    pattern = Locale.parse(locale).currency_formats["standard"].pattern
    return pattern.replace("¤", "¤¤")


# The smallest card payment Stripe settles, per currency (minor units). CNY is not a
# settlement currency: Stripe converts it, so the floor is a conservative ¥4.00.
MIN_CARD_AMOUNTS = {"CNY": 400, "JPY": 50, "SGD": 50, "USD": 50}
