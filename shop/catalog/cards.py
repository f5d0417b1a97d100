"""A page of product cards as the grid shows them (``_macros/product.html``): every link,
price and badge worked out in one pass, with the phrases and link prefixes that all the
page's cards share found once per page rather than once per card.

The grid is the hottest markup in the shop (24 cards on every listing page), and each
filter call, translation and test a template makes costs several times what the same
step costs here. Values are plain text, which the template escapes as it writes them
(once: escaping ``Markup`` again costs more than escaping text), except the phrases,
which are ``Markup`` as the templates' gettext gives them, their values escaped here.
"""

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import partial
from urllib.parse import quote

from markupsafe import Markup, escape

from shop.catalog.listing import ProductCard

# A value quoted for a URL path exactly as ``url_for`` quotes it (werkzeug's converters):
# ``url_for('catalog.product_detail', slug='_')[:-1] + url_part(slug)`` is that URL, so a
# page of links costs one ``url_for``.
_quote_path = partial(quote, safe="!$&'()*+,/:;=@")
_NOTHING_TO_QUOTE = re.compile(r"[A-Za-z0-9_.~!$&'()*+,/:;=@-]*")


def url_part(value: str) -> str:
    """``value`` quoted for a URL path (a slug or a picture's name, most often already
    fit for one)."""
    return value if _NOTHING_TO_QUOTE.fullmatch(value) else _quote_path(value)


@dataclass(frozen=True, slots=True)
class CardTexts:
    """What every card of a page shares: its links' prefixes (``url_for`` of ``_``, less
    the ``_``) and its phrases as the templates' gettext gives them: two texts, and three
    ``%``-patterns, translated, for the cards to fill in."""

    product_prefix: str
    media_prefix: str
    from_stock: Markup
    price_on_request: Markup
    made_to_order: str  # "Made to order · about %(days)d days"
    minimum: str  # "Min. %(n)d pcs"
    volume: str  # "down to %(amount)s in volume"


@dataclass(slots=True)
class CardView:
    """What one card writes; ``None`` where the card shows no such part."""

    slug: str
    href: str
    image_src: str | None
    image_alt: str
    name: str
    currency: str
    price_amount: int | None  # minor units, for data-amount
    price_text: str  # the price, or "Price on request" (Markup)
    volume_text: Markup | None  # "down to ¥69.00 in volume"
    made_to_order: bool
    badge_text: Markup  # "Made to order · about 14 days" or "From stock"
    minimum_text: Markup | None  # "Min. 10 pcs"


def card_views(
    cards: Iterable[ProductCard], texts: CardTexts, money: Callable[[int, str], str]
) -> list[CardView]:
    """The cards' views; ``money(amount, currency)`` formats a price (the ``|money``
    filter). The translated patterns are trusted as the templates' gettext trusts them;
    what they are filled with is escaped."""
    views = []
    for card in cards:
        price, lowest = card.price_amount, card.lowest_amount
        volume = None
        if lowest is not None and lowest != price:
            amount = escape(money(lowest, card.currency))
            volume = Markup(texts.volume % {"amount": amount})  # noqa: S704 - escaped above
        if card.made_to_order:
            badge = Markup(texts.made_to_order % {"days": card.lead_time_days})  # noqa: S704
        else:
            badge = texts.from_stock
        minimum = None
        if card.min_order_quantity > 1:
            minimum = Markup(texts.minimum % {"n": card.min_order_quantity})  # noqa: S704
        image = card.image_path
        views.append(
            CardView(
                slug=card.slug,
                href=texts.product_prefix + url_part(card.slug),
                image_src=texts.media_prefix + url_part(image) if image else None,
                image_alt=card.image_alt,
                name=card.name,
                currency=card.currency,
                price_amount=price,
                price_text=texts.price_on_request if price is None else money(price, card.currency),
                volume_text=volume,
                made_to_order=bool(card.made_to_order),
                badge_text=badge,
                minimum_text=minimum,
            )
        )
    return views
