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

The grid itself (``grid_rows``) is worked out in one pass over the variants: each cell's
label, stock sentence and state, so the template only prints them (a size × colour grid
of 40 cells asked the template for four calls a cell).
"""

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import lru_cache

from flask_babel import gettext as _

from shop.catalog.colours import COLOURS, colour_name
from shop.catalog.pricing import TierLike, sorted_tiers
from shop.catalog.products import (
    IN_STOCK,
    MADE_TO_ORDER,
    OUT_OF_STOCK,
    SOLD_OUT_STATES,
    WITHDRAWN,
    ProductPage,
    stock_state,
)
from shop.money import exponent, format_money

# Most pieces of one made-to-order size/colour the grid's field takes.
MADE_TO_ORDER_MAX = 9999

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
    texts: Mapping[str, str],
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


@dataclass(frozen=True)
class GridTexts:
    """The grid's sentences in the visitor's language (``%``-patterns): the quantity
    field's label (``size``, ``colour``), each stock state's (``IN_STOCK``'s with
    ``n``), colour names by key, and the script's hints (``grid_data``'s ``texts``)."""

    quantity: str
    stock: Mapping[str, str]
    colours: Mapping[str, str]
    script: Mapping[str, str] = field(default_factory=dict)

    def colour(self, key: str) -> str:
        return self.colours.get(key, key)


@dataclass(frozen=True)
class GridCell:
    """One size × colour as the grid prints it. ``available`` is ``data-available``:
    blank for made to order (no stock shown); ``max`` the field's most pieces."""

    id: int
    sku: str
    label: str
    available: str
    for_sale: bool
    max: int
    state: str
    stock: str
    selected: bool

    @property
    def sold_out(self) -> bool:
        return self.state in SOLD_OUT_STATES

    @property
    def made_to_order(self) -> bool:
        return self.state == MADE_TO_ORDER


@dataclass(frozen=True)
class GridRow:
    size: str
    cells: list[GridCell | None]  # one per colour; None: that size/colour is not made


@dataclass(frozen=True)
class SizeGrid:
    colours: list[tuple[str, str]]  # (key, name) across
    rows: list[GridRow]


def grid_rows(page: ProductPage, texts: GridTexts) -> SizeGrid:
    """The size × colour grid of ``page``: sizes down, colours across, every cell's
    label, stock state and sentence worked out here once."""
    made_to_order = page.product.made_to_order
    selected = page.selected.id if page.selected else None
    cells = page.matrix.variants
    rows = []
    for size in page.matrix.sizes:
        row: list[GridCell | None] = []
        for colour in page.matrix.colours:
            variant = cells.get((size, colour))
            if variant is None:
                row.append(None)
                continue
            state = stock_state(variant, made_to_order=made_to_order)
            row.append(
                GridCell(
                    id=variant.id,
                    sku=variant.sku,
                    label=texts.quantity % {"size": size, "colour": texts.colour(colour)},
                    available="" if made_to_order else str(variant.available),
                    for_sale=variant.for_sale,
                    max=MADE_TO_ORDER_MAX if made_to_order else variant.available,
                    state=state,
                    stock=texts.stock[state] % {"n": variant.available}
                    if state == IN_STOCK
                    else texts.stock[state],
                    selected=variant.id == selected,
                )
            )
        rows.append(GridRow(size, row))
    return SizeGrid([(key, texts.colour(key)) for key in page.matrix.colours], rows)


_grid_texts: dict[str, GridTexts] = {}


def grid_texts(locale: str) -> GridTexts:
    """The grid's sentences for a request in ``locale``, translated once per language per
    process (as ``shop.templating`` keeps colour names): a page asked for a dozen, two for
    every cell."""
    texts = _grid_texts.get(locale)
    if texts is None:
        texts = _grid_texts[locale] = GridTexts(
            quantity=_("Quantity of size %(size)s, %(colour)s"),
            stock={
                WITHDRAWN: _("not available"),
                MADE_TO_ORDER: _("made to order"),
                OUT_OF_STOCK: _("out of stock"),
                IN_STOCK: _("%(n)d in stock"),
            },
            colours={key: colour_name(key) for key in COLOURS},
            script={
                "next": _("{more} more for {amount} each"),
                "minimum": _("{more} more to reach the minimum order of {n} pieces"),
                "increment": _("{more} more to make a multiple of {n} pieces in total"),
            },
        )
    return texts
