"""Link previews: the OpenGraph and Twitter-card tags chat apps and social sites read when
a link is pasted (title, description, picture, price), and schema.org ``Product`` data.

A page builds one ``Preview`` from what it already loaded (no query of its own) and
``templates/_macros/preview.html`` writes the tags. Every URL in a preview is absolute on
``SHOP_BASE_URL`` (``shop.links``): a crawler reads the tags without the page's address,
and a ``Host`` header a visitor chose must never end up in them.
"""

from dataclasses import dataclass

from shop.links import external_url
from shop.money import to_decimal

DESCRIPTION_MAX_LENGTH = 200


@dataclass(frozen=True)
class Preview:
    title: str
    description: str
    url: str
    image: str | None = None
    kind: str = "website"  # og:type
    price_amount: str | None = None  # major units, as "89.50" or "4800"
    price_currency: str | None = None


def short_description(text: str, limit: int = DESCRIPTION_MAX_LENGTH) -> str:
    """The first paragraph of ``text`` on one line, cut at a word near ``limit`` with "…"."""
    first = " ".join((text or "").split("\n\n", 1)[0].split())
    if len(first) <= limit:
        return first
    cut = first[: limit - 1]
    if " " in cut[limit // 2 :]:
        cut = cut.rsplit(" ", 1)[0]
    return cut.rstrip(" ,;:.") + "…"


def price_text(amount: int, currency: str) -> str:
    """``product:price:amount`` and schema.org's ``price``: major units, a dot, no grouping."""
    return format(to_decimal(amount, currency), "f")


def media_url(path: str | None) -> str | None:
    """An uploaded picture's absolute URL (``/media/<path>``), or ``None``."""
    return external_url("main.media", filename=path) if path else None
