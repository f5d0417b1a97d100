"""What the product page's size grid needs to add up quantities in the browser.

``static/js/size_grid.js`` shows, as a buyer types quantities, the pieces in total, the
tier they reach (its unit price), the line total and how many more pieces reach the next
cheaper tier. It decides nothing the server does not: the tiers come from here with each
unit price already formatted, and totals are formatted from ``format_parts`` — the
prefix, separators and suffix that ``shop.money.format_money`` itself produces for this
currency and language, read off one formatted amount — so the browser prints the same
string for the same amount. Amounts are integers in minor units (a unit price times a
number of pieces: nothing to round). The next-tier rule is
``shop.catalog.pricing.next_tier``'s, written again in the script.
"""

import re
from collections.abc import Iterable
from functools import lru_cache

from shop.catalog.pricing import TierLike, sorted_tiers
from shop.money import exponent, format_money

# A number whose digits are all different, so each separator sits in a known place.
_SAMPLE_DIGITS = "123456789"


@lru_cache(maxsize=64)
def format_parts(currency: str, locale: str) -> dict[str, str | int]:
    """``format_money``'s shape for ``currency`` in ``locale``: ``prefix``, ``group``
    (thousands separator), ``decimal``, ``suffix`` and ``exponent``. CNY in English:
    ``CN¥`` ``,`` ``.`` ``""`` 2."""
    places = exponent(currency)
    sample = int(_SAMPLE_DIGITS[: 7 + places])
    text = format_money(sample, currency, locale)
    first, last = text.index("1"), text.rindex(_SAMPLE_DIGITS[6 + places])
    body = text[first : last + 1]
    groups = re.findall(r"\D+", body)
    return {
        "prefix": text[:first],
        "suffix": text[last + 1 :],
        "group": groups[0] if groups else "",
        "decimal": groups[-1] if places and groups else "",
        "exponent": places,
    }


def grid_data(
    tiers: Iterable[TierLike],
    currency: str,
    locale: str,
    *,
    min_order_quantity: int,
    order_increment: int,
    texts: dict[str, str],
) -> dict:
    """The JSON the grid's ``data-grid`` attribute carries: tiers (minimum, unit amount
    and the unit price as the page prints it), the money format, the order rules and the
    translated sentences (``{more}``, ``{amount}``, ``{n}`` filled in by the script)."""
    return {
        "currency": currency,
        "format": format_parts(currency, locale),
        "tiers": [
            {
                "min": tier.min_quantity,
                "unit": tier.unit_amount,
                "label": format_money(tier.unit_amount, currency, locale),
            }
            for tier in sorted_tiers(tiers)
        ],
        "moq": min_order_quantity,
        "increment": order_increment,
        "texts": texts,
    }
