"""Sharing a window: its links, their QR codes and the window pages' link previews.

Three things can be shared, each by an absolute link on ``SHOP_BASE_URL`` (``shop.links``:
never the request's ``Host``) that carries the window's handle, so a visit through it
belongs to the window (attribution reads the handle):

- the window, ``/w/<handle>``;
- a collection, ``/w/<handle>/c/<slug>``;
- a product in the window, the shop's own product page ``/products/<slug>?via=<handle>``.

Each link has a QR code, an SVG drawn by ``segno`` (pure Python, no image library, no
font: a QR code is only squares), served by ``share_views``. ``shared_url`` decides what
a code may encode — only the approved window's own collections and on-sale picks — so
the QR route cannot be made to draw an arbitrary text.
"""

import io
from dataclasses import dataclass

import segno
import sqlalchemy as sa
from flask_babel import gettext as _
from sqlalchemy.orm import Session

from shop.catalog.listing import ProductCard, Scope, listed_conditions
from shop.catalog.models import Product
from shop.catalog.rules import is_slug
from shop.links import external_url
from shop.previews import Preview, media_url, short_description
from shop.resellers.models import Reseller, ResellerCollection, ResellerPick, WindowProfile
from shop.resellers.rules import COLLECTION_SLUG_MAX_LENGTH, handle_problem

# Error correction "M" (15 % of the code may be damaged); segno raises it when the text
# fits anyway. A quiet zone of 4 modules, as the standard asks.
QR_ERROR = "m"
QR_BORDER = 4
SLUG_MAX_LENGTH = 200  # longer than any product's or collection's slug: not looked up


def window_url(handle: str) -> str:
    return external_url("resellers.window", handle=handle)


def collection_url(handle: str, slug: str) -> str:
    return external_url("resellers.window_collection", handle=handle, slug=slug)


def product_page_url(slug: str, via: str | None = None) -> str:
    """The shop's product page; through a window when ``via`` is a well-formed handle
    (checked without a query: whether that window exists is attribution's concern)."""
    if via and handle_problem(via) is None:
        return external_url("catalog.product_detail", slug=slug, via=via)
    return external_url("catalog.product_detail", slug=slug)


@dataclass(frozen=True)
class ShareLink:
    """A link to share and what its QR code's URL needs (``c=`` or ``p=``)."""

    url: str
    qr_args: dict[str, str]


@dataclass(frozen=True)
class ShareLinks:
    """The reseller's own page: the window's link, each collection's (by slug) and each
    pick's (by product slug)."""

    window: ShareLink
    collections: dict[str, ShareLink]
    picks: dict[str, ShareLink]


def share_links(
    reseller: Reseller, collection_slugs: list[str], pick_slugs: list[str]
) -> ShareLinks:
    handle = reseller.handle
    return ShareLinks(
        window=ShareLink(window_url(handle), {}),
        collections={
            slug: ShareLink(collection_url(handle, slug), {"c": slug}) for slug in collection_slugs
        },
        picks={slug: ShareLink(product_page_url(slug, handle), {"p": slug}) for slug in pick_slugs},
    )


def _plain_slug(value: str | None, max_length: int) -> str | None:
    if value is None or len(value) > max_length or not value.isascii() or not is_slug(value):
        return None
    return value


def shared_url(
    session: Session,
    reseller: Reseller | WindowProfile,
    collection_slug: str | None = None,
    product_slug: str | None = None,
) -> str | None:
    """The link a QR code of ``reseller``'s window encodes: the window's; a collection's
    (``collection_slug``, one of its own); a product's (``product_slug``, one of its
    picks on sale). ``None`` when the slug names nothing of the window, or both are given."""
    if collection_slug is not None and product_slug is not None:
        return None
    if collection_slug is not None:
        slug = _plain_slug(collection_slug, COLLECTION_SLUG_MAX_LENGTH)
        found = slug and session.scalar(
            sa.select(ResellerCollection.slug).where(
                ResellerCollection.reseller_id == reseller.id, ResellerCollection.slug == slug
            )
        )
        return collection_url(reseller.handle, found) if found else None
    if product_slug is not None:
        slug = _plain_slug(product_slug, SLUG_MAX_LENGTH)
        found = slug and session.scalar(
            sa.select(Product.slug)
            .join(ResellerPick, ResellerPick.product_id == Product.id)
            .where(
                ResellerPick.reseller_id == reseller.id,
                Product.slug == slug,
                *listed_conditions(Scope()),
            )
        )
        return product_page_url(found, reseller.handle) if found else None
    return window_url(reseller.handle)


def qr_svg(text: str) -> bytes:
    """``text`` as a QR code: a standalone SVG, one unit a module, dark on white, sized by
    its ``viewBox`` (the page's ``<img>`` says how large)."""
    buffer = io.BytesIO()
    segno.make(text, error=QR_ERROR, micro=False).save(
        buffer,
        kind="svg",
        scale=1,
        border=QR_BORDER,
        omitsize=True,
        dark="#000",
        light="#fff",
        title=text,
        svgclass=None,
        lineclass=None,
    )
    return buffer.getvalue()


def window_preview(
    reseller: Reseller | WindowProfile,
    collection: ResellerCollection | None,
    cards: list[ProductCard],
) -> Preview:
    """The link preview of a window's page (or of one of its collections): its name, the
    bio, the avatar (else the first product's picture) and the page's share link."""
    if collection is None:
        title, url = reseller.display_name, window_url(reseller.handle)
    else:
        title = f"{collection.title} · {reseller.display_name}"
        url = collection_url(reseller.handle, collection.slug)
    picture = reseller.avatar_path or next(
        (card.image_path for card in cards if card.image_path), None
    )
    description = short_description(reseller.bio or "") or _(
        "A window on the factory’s catalogue: you buy from the factory, at its prices."
    )
    return Preview(title=title, description=description, url=url, image=media_url(picture))
