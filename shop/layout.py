"""The site's header, rendered once per language, currency and section of the shop.

Every page of the shop starts with the same header: the brand, the search form, the cart
link, the menu with the language and currency choices. Drawn anew it is a third of a
product page's template time (two dozen translations and links). So it is kept per
process (``shop.templating.cached_fragment``) by all it shows — the language, the
currency, which section the page is in (for ``aria-current``) and the links' root — and
what differs per request is a *hole* (``shop.pagecache.pages.Holes``): the visitor's cart
count, signed-in navigation and CSRF token, the page's own address (where the language
form returns to) and, on the listing, the words searched for. Each request fills them;
a page rendered for the page cache leaves the visitor's three for the cache to fill, as
it does for the rest of the page.
"""

from flask import g, request
from markupsafe import Markup, escape

from shop.i18n import current_currency, select_locale
from shop.locales import LANGUAGES
from shop.money import SUPPORTED_CURRENCIES
from shop.pagecache import pages
from shop.templating import cached_fragment, currency_labels, return_path

# Holes the page cache fills (the visitor's) and those filled here (the page's).
VISITOR_HOLES = ("cart", "nav", "csrf")
PAGE_HOLES = ("here", "search")
SEARCH_MAX_SHOWN = 100  # the search box's maxlength


def section(endpoint: str) -> str:
    """Which part of the shop a page of ``endpoint`` is in, for the header's
    ``aria-current``."""
    if endpoint == "catalog.product_list":
        return "products"
    if endpoint.startswith("schools."):
        return "schools"
    if endpoint == "cart.cart_page":
        return "cart"
    return ""


def site_header() -> Markup:
    """The header for this request (``{{ site_header() }}`` in ``base.html``)."""
    holes = pages.holes()
    this_request = request._get_current_object()  # type: ignore[attr-defined]  # once
    current, locale = current_currency(), select_locale()
    where = section(this_request.endpoint or "")
    key = (this_request.script_root, locale, current, where)
    kept = cached_fragment(
        "_layout/site_header.html",
        key,
        lambda: {
            "holes": {name: holes.marker(name) for name in VISITOR_HOLES + PAGE_HOLES},
            "section": where,
            "languages": LANGUAGES,
            "currencies": SUPPORTED_CURRENCIES,
            "currency_labels": currency_labels(),
            "current_currency": current,
            "current_locale": locale,
        },
    )
    for_the_cache = bool(g.get("pagecache_rendering"))

    def part(name: str) -> str:
        if name == "here":
            return str(escape(return_path()))
        if name == "search":
            args = this_request.args  # ``in`` first: a missing key's ``get`` raises inside
            searched = args.get("q", "") if where == "products" and "q" in args else ""
            return str(escape(searched[:SEARCH_MAX_SHOWN]))
        if for_the_cache:
            return holes.marker(name)  # the page cache fills it for each visitor
        return pages.visitor_part(name)

    filled = pages.fill_holes(holes, kept, part, kept=True)
    return Markup(filled)  # noqa: S704 - escaped parts, our template
