"""Jinja filters and globals. They format; they never decide."""

import threading
from collections.abc import Callable, Hashable
from datetime import datetime
from functools import lru_cache
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from babel.dates import format_skeleton, get_timezone_gmt
from babel.numbers import format_decimal
from flask import (
    Flask,
    current_app,
    g,
    has_request_context,
    render_template,
    request,
    session,
    url_for,
)
from flask.globals import _cv_request
from flask_babel import force_locale, format_number, get_locale, get_timezone, get_translations
from flask_babel import lazy_gettext as _l
from jinja2 import pass_eval_context
from markupsafe import Markup, escape
from wtforms.widgets import Input
from wtforms.widgets.core import clean_key

from shop.catalog.cards import CardTexts, CardView, card_views, url_part
from shop.catalog.colours import COLOURS, colour_name
from shop.catalog.size_chart import heading_label
from shop.db import as_utc
from shop.i18n import (
    CURRENCY_LABELS,
    ZONE_LABELS,
    current_currency,
    order_zone_default,
    select_locale,
)
from shop.locales import DEFAULT_ZONE, LANGUAGES, factory_setting, is_zone, localized, order_zone
from shop.money import SUPPORTED_CURRENCIES, format_money, tax_included_note
from shop.orders.labels import order_status_label
from shop.pagination import Page


def _babel_state() -> tuple:
    """``(locale, translations, locale name)`` for this request, found once per request
    and locale. Flask-Babel looks the translations up anew for every string (four context
    lookups and a locale-to-name conversion each), and a page translates a hundred.

    Keyed on the locale object Flask-Babel holds for the request (``g._flask_babel``,
    which ``force_locale`` swaps while an email renders), read straight from ``g``; where
    it is not there, ``get_locale()`` finds it, so this is never staler than Flask-Babel.
    """
    try:
        app_g = g._get_current_object()
    except RuntimeError:  # no app context: Flask-Babel's own null translations
        return None, get_translations(), "en"
    locale = getattr(getattr(app_g, "_flask_babel", None), "babel_locale", None)
    if locale is None:
        locale = get_locale()
    state = getattr(app_g, "_shop_babel", None)
    if state is None or state[0] is not locale:
        state = app_g._shop_babel = (locale, get_translations(), str(locale))
    return state


def locale_name() -> str:
    """``str(get_locale())``, cheaply: ``"en"``, ``"zh_Hans_CN"``."""
    return _babel_state()[2]


@pass_eval_context
def gettext_global(eval_ctx, string: str, **variables) -> str:
    """Templates' ``_()`` and ``gettext()``: Jinja's "newstyle" gettext (autoescaped, always
    ``%``-formatted) without its two layers of indirection and per-string lookups. It takes
    the evaluation context, not the whole context: Jinja copies the whole context for every
    such call in a loop that sets a variable (a size × colour grid's every cell)."""
    rv = _babel_state()[1].ugettext(string)
    return _format(rv, variables, eval_ctx.autoescape)


@pass_eval_context
def ngettext_global(eval_ctx, singular: str, plural: str, num: int, **variables) -> str:
    variables.setdefault("num", num)
    rv = _babel_state()[1].ungettext(singular, plural, num)
    return _format(rv, variables, eval_ctx.autoescape)


def _format(message: str, variables: dict, autoescape: bool) -> str:
    """``Markup(message) % variables``, as Jinja's gettext does (``%%`` is ``%`` even with no
    variables); a message with neither variables nor ``%`` is taken as it is."""
    if autoescape:
        message = Markup(message)  # noqa: S704 - a translation, trusted as Jinja's gettext does
    if variables or "%" in message:
        return message % variables
    return message


# Pages whose prices may be in several currencies at once (``shop.money``: ``distinct``).
DISTINCT_CURRENCY_ENDPOINTS = frozenset({"orders.order_list"})
TAX_INCLUDED = _l("%(price)s (tax incl.)")
_tax_included: dict[str, str] = {}


def money_filter(amount: int | None, currency: str) -> str:
    """``8900|money("CNY")``: the amount in the reader's words (``shop.money``). On the
    pages consumers read, a JPY price says that tax is included (``¥4,800（税込）``); the
    back office (the factory's and a school's admin pages, which also list every currency
    side by side) shows the bare amount."""
    if amount is None:
        return ""
    return page_money()(amount, currency)


def page_money() -> Callable[[int, str], str]:
    """``money_filter`` for amounts (not ``None``) with what it looks up for the page and
    language found once: a grid of cards formats dozens of prices."""
    back_office, distinct = _page_kind()
    locale = locale_name()
    tax_included = None if back_office else _tax_included_pattern()

    def money(amount: int, currency: str) -> str:
        text = format_money(amount, currency, locale, distinct=distinct)
        if tax_included is None or not tax_included_note(currency):
            return text
        return tax_included % {"price": text}

    return money


def _page_kind() -> tuple[bool, bool]:
    """``(back office, currencies side by side)`` for the page being rendered, worked out
    once per request (a listing formats a hundred prices; the request's rule and blueprint
    cost a few context lookups each time). Not the locale: an invoice in the school's
    language changes it within the request."""
    if not has_request_context():
        return False, False
    kind = g.get("_money_page_kind")
    if kind is None:
        back_office = _back_office()
        kind = (back_office, back_office or request.endpoint in DISTINCT_CURRENCY_ENDPOINTS)
        g._money_page_kind = kind
    return kind


def _back_office() -> bool:
    """The factory's admin (``/admin/…``) or a school's (``/schools/<slug>/admin/…``)."""
    if not has_request_context() or request.url_rule is None:
        return False
    return request.blueprint == "admin" or "/admin" in request.url_rule.rule


def _tax_included_pattern() -> str:
    name = locale_name()
    pattern = _tax_included.get(name)
    if pattern is None:
        pattern = _tax_included[name] = str(TAX_INCLUDED)
    return pattern


def card_views_filter(cards) -> list[CardView]:
    """``cards|card_views``: a grid's cards (``ProductCard``) ready to write, with the
    page's link prefixes and phrases found once for all of them."""
    translations = _babel_state()[1]
    texts = CardTexts(
        product_prefix=template_url_for("catalog.product_detail", slug="_")[:-1],
        media_prefix=template_url_for("main.media", filename="_")[:-1],
        from_stock=Markup(_format(translations.ugettext("From stock"), {}, True)),  # noqa: S704 - escaped by _format
        price_on_request=Markup(_format(translations.ugettext("Price on request"), {}, True)),  # noqa: S704
        made_to_order=translations.ugettext("Made to order · about %(days)d days"),
        minimum=translations.ugettext("Min. %(n)d pcs"),
        volume=translations.ugettext("down to %(amount)s in volume"),
    )
    return card_views(cards, texts, page_money())


def card_grid(cards) -> Markup:
    """``card_grid(cards)`` in templates: a grid of product cards (``ProductCard``, as
    ``_macros/product.html`` writes them), rendered once per process for as long as the
    cards read the same: kept by the cards themselves (name, picture, price in the
    visitor's currency, stock, minimum...), the language, the links' root and the kind of
    page, so a changed price or picture shows on the next request."""
    cards = tuple(cards)
    key = (request.script_root, _page_kind(), cards)
    return cached_fragment("catalog/_card_grid.html", key, lambda: {"cards": cards}, kept=GRIDS)


def pager(page, endpoint: str, args: dict | None = None) -> Markup:
    """``pager(page, endpoint, args)`` (``_macros/pagination.html``): a list's page links
    (``_macros/pager.html``), rendered once per process for each page of each list: kept
    by the page (its number and counts), the endpoint, the arguments and the links' root,
    which are all the links are made of. Arguments that cannot be a key (a list of
    values), or a page that is not a ``Page``, are rendered every time."""
    args = {} if args is None else args
    template_name = "_macros/pager.html"
    context = {"page": page, "endpoint": endpoint, "args": args}
    if not isinstance(page, Page) or not _keyable(args):
        html = current_app.jinja_env.get_template(template_name).render(context)
        return Markup(html)  # noqa: S704 - our own template's output, autoescaped
    # The type too: page=1 and page=True are equal keys but different links.
    key = (request.script_root, page, endpoint, *((k, type(v), v) for k, v in args.items()))
    return cached_fragment(template_name, key, lambda: context, kept=PAGERS)


# ``url_for('catalog.product_detail', slug='_')[:-1] ~ slug|url_part`` is that URL, so a
# loop of links costs one ``url_for`` (``shop.catalog.cards.url_part``).
url_part_filter = url_part


def query_string_filter(args: dict) -> str:
    """``?q=polo&page=2``, or ``""`` for no arguments, encoded exactly as ``url_for`` encodes
    query arguments (werkzeug's ``_urlencode``; ``None`` left out): for an endpoint without
    path variables, ``url_for(endpoint) ~ args|query_string`` is ``url_for(endpoint, **args)``
    at a fraction of the cost, for a list of links to one page with different filters."""
    pairs = [_query_pair(key, value) for key, value in args.items() if value is not None]
    return "?" + "&".join(pairs) if pairs else ""


@lru_cache(maxsize=4096, typed=True)  # typed: page=1 and page=True differ
def _query_pair(key: str, value) -> str:
    """``key=value`` as ``urlencode(..., safe="!$'()*,/:;?@")`` writes it; the same few
    pairs (a category, a sort, a page) recur on every listing page."""
    return urlencode([(key, value)], safe="!$'()*,/:;?@")


def number_filter(number) -> str:
    """``|numberformat`` (Flask-Babel's: ``1,000``, ``1.000``), kept per language for
    whole numbers: a listing page writes its three counts with Babel's slowest step."""
    if type(number) is int:
        return _whole_number(number, locale_name())
    return format_number(number)


@lru_cache(maxsize=4096)
def _whole_number(number: int, locale: str) -> str:
    return format_decimal(number, locale=locale)


def localized_filter(obj, field: str) -> str:
    return localized(obj, field, locale_name())


def factory_text(key: str) -> str:
    """The factory's ``key`` setting (``FACTORY_PICKUP_ADDRESS``...) in the language the
    page or email is written in."""
    return factory_setting(current_app.config, key, locale_name())


def render_document(locale: str, template: str, **context) -> Markup:
    """``template`` rendered in ``locale``'s language (a packing list or an invoice in the
    school's language), to place in a page that stays in the reader's."""
    with force_locale(locale):
        html = render_template(template, document_locale=locale, **context)
    return Markup(html)  # noqa: S704 - our own template's output, escaped as it rendered


def local_datetime_filter(value: datetime | None, zone: str | None = None) -> str:
    """A moment in ``zone`` (an IANA name; None: the factory's clock), with the zone named:
    ``5 Dec 2026, 17:41 JST`` (en-GB), ``Dec 5, 2026, 17:41 SGT`` (en-US),
    ``2026年12月5日 17:41 北京时间``. Each school's and each order's times go through it in
    their own zone (``school|time_zone``, ``order|time_zone``); the day and month follow
    the reader's locale (``shop.i18n.select_format_locale``)."""
    if not value:
        return ""
    locale = get_locale()
    if zone is None:
        zone = str(get_timezone())
    elif not is_zone(zone):
        zone = DEFAULT_ZONE
    moment = as_utc(value).astimezone(ZoneInfo(zone))
    day = format_skeleton("yMMMd", moment, locale=locale)
    time = format_skeleton("Hm", moment, locale=locale)
    pattern = locale.datetime_formats["medium"] if locale is not None else "{1}, {0}"
    return f"{pattern.format(time, day)} {zone_label(zone, moment)}"


_zone_labels: dict[str, dict[str, str]] = {}


def zone_label(zone: str, moment: datetime) -> str:
    """``JST``, ``SGT``, ``CST`` (``北京时间`` in Chinese), ``UTC``; another zone by its
    offset at that moment (``GMT+05:30``). Translated once per language per process."""
    if zone not in ZONE_LABELS:
        return get_timezone_gmt(moment, "long", locale=get_locale())
    labels = _zone_labels.setdefault(locale_name(), {})
    label = labels.get(zone)
    if label is None:
        label = labels[zone] = str(ZONE_LABELS[zone])
    return label


def datetime_short_filter(value: datetime | None) -> str:
    """A moment on the factory's clock, zone named: the back office's own times (stock,
    audit, production, the order desk's list)."""
    return local_datetime_filter(value, None)


def time_zone_filter(obj) -> str:
    """The IANA zone a school or an order is shown in: a school's own; an order's school's,
    else its delivery country's, else ``ORDER_DEFAULT_TIME_ZONE`` (``shop.locales``)."""
    zone = getattr(obj, "time_zone", None)
    if zone:
        return zone
    school = obj.school if getattr(obj, "school_id", None) else None
    return order_zone(
        school.time_zone if school is not None else None,
        getattr(obj, "country", ""),
        order_zone_default(),
    )


def date_filter(value) -> str:
    """A calendar date (a delivery day, an invoice's due date) in the visitor's words."""
    if not value:
        return ""
    return format_skeleton("yMMMEd", value, locale=get_locale())


def html_params(**attributes) -> Markup:
    """WTForms' ``html_params``, to the character (tests/test_templating.py compares them),
    without ``Markup.format``: its ``string.Formatter`` ran once per attribute, a hundred
    times for the checkout's details page (0.5 ms of it). ``init_app`` gives it to every
    ``<input>`` widget (WTForms reads it from the widget's class for that)."""
    params: list[str] = []
    for key, value in sorted(attributes.items()):
        name = str(escape(clean_key(key)))
        if value is True:
            params.append(name)
        elif value is not False:
            text = str(escape(value)).replace('"', "&quot;")  # a Markup value may hold quotes
            params.append(f'{name}="{text}"')
    return Markup(" ".join(params))  # noqa: S704 - every name and value escaped above


def without_none(attributes: dict) -> dict:
    """HTML attributes minus the unset ones (WTForms would write ``type="None"``)."""
    return {name: value for name, value in attributes.items() if value is not None}


_currency_labels: dict[str, dict[str, str]] = {}
_colour_names: dict[str, dict[str, str]] = {}


def colour_name_filter(key: str) -> str:
    """``colour_name(key)``, translated once per language per process: a product page
    names a colour in every cell of its size × colour grid."""
    if key not in COLOURS:
        return colour_name(key)
    names = _colour_names.setdefault(locale_name(), {})
    name = names.get(key)
    if name is None:
        name = names[key] = colour_name(key)
    return name


def currency_labels() -> dict[str, str]:
    """``CURRENCY_LABELS`` translated into the request's language, translated once per
    language per process (each lazy string would otherwise be translated afresh)."""
    name = locale_name()
    labels = _currency_labels.get(name)
    if labels is None:
        labels = _currency_labels[name] = {
            code: str(label) for code, label in CURRENCY_LABELS.items()
        }
    return labels


# Rendered fragments kept per process (``cached_fragment``): ~10 KB each at most.
FRAGMENTS_KEPT = 512
# Grids of product cards kept per process (``cached_fragment(..., kept=GRIDS)``): a
# listing's page of 24 cards ~20 KB, a window's of 48 ~40 KB; apart, so that many pages
# of cards never push the listing's menus out.
GRIDS = "shop_grids"
GRIDS_KEPT = 256
# A product page's size × colour grids kept per process (``cached_fragment(...,
# kept=SIZE_GRIDS)``): ~0.5 KB a cell; apart, so that a visit to many products never
# pushes the listing's menus or grids of cards out.
SIZE_GRIDS = "shop_size_grids"
SIZE_GRIDS_KEPT = 256
# Lists' page links kept per process (``pager``): ~1 KB each; apart, so that many pages
# of many searches never push the listing's menus out.
PAGERS = "shop_pagers"
PAGERS_KEPT = 1024
# Links kept per process (``template_url_for``): the layout's, pagination's, static files'.
URLS_KEPT = 4096


class Kept:
    """Texts by key, made once each; the oldest forgotten first once ``size`` are kept."""

    def __init__(self, size: int) -> None:
        self.size = size
        self.texts: dict[Hashable, str] = {}
        self.lock = threading.Lock()

    def get(self, key: Hashable, make: Callable[[], str]) -> str:
        text = self.texts.get(key)
        if text is None:
            text = make()
            with self.lock:
                while len(self.texts) >= self.size:
                    self.texts.pop(next(iter(self.texts)))
                self.texts[key] = text
        return text


def cached_fragment(
    template_name: str,
    key: Hashable,
    context: Callable[[], dict],
    *,
    kept: str = "shop_fragments",
) -> Markup:
    """``template_name`` rendered with ``context()``, kept in this process for the next
    request with the same ``key`` in the same language: for a part of a page that many
    requests render alike (the listing's menu and filters), not per visitor.

    Never stale if ``key`` holds every value ``context()`` is made of that can change —
    the data itself (database rows, the query), not a version of it — and the template
    reads nothing else that can (no CSRF token, session, page hole or request). The
    language and the template (a reloaded template is a new object) are added here. It
    renders with the app's Jinja globals and filters, without context processors (no
    ``request``, ``session`` or ``current_user``); the visitor's own parts refuse.
    ``kept``: the store (``GRIDS`` for grids of product cards)."""
    template = current_app.jinja_env.get_template(template_name)
    fragments: Kept = current_app.extensions[kept]

    def render() -> Markup:
        html = template.render({**context(), **_NOT_IN_FRAGMENTS})
        return Markup(html)  # noqa: S704 - our own template's output, autoescaped

    return Markup(fragments.get((template, locale_name(), key), render))  # noqa: S704 - kept Markup


def _everyones_fragment(*_args, **_kwargs):
    raise RuntimeError("a kept fragment is everyone's: no CSRF token, hole or message in it")


_NOT_IN_FRAGMENTS = dict.fromkeys(
    ("csrf_token", "page_hole", "get_flashed_messages"), _everyones_fragment
)


def template_url_for(endpoint: str, /, **values) -> str:
    """Templates' ``url_for``: Flask's, kept per process by its arguments and the
    request's root (its script name, host and scheme), which are all a link depends on
    here (no subdomains, host matching or request-dependent URL defaults). The layout
    alone builds a dozen links on every page. Relative endpoints, ``_external`` and the
    other ``_`` options, and values that cannot be a key go straight to Flask."""
    context = _cv_request.get(None)  # the request's context, without a proxy's lookups
    if context is None or endpoint[:1] == "." or not _keyable(values):
        return url_for(endpoint, **values)
    adapter = context.url_adapter
    if adapter is None:
        return url_for(endpoint, **values)
    root = (adapter.script_name, adapter.server_name, adapter.url_scheme, adapter.subdomain)
    # The type too: page=1 and page=True are equal keys but different links.
    key = (endpoint, root, *((name, type(value), value) for name, value in values.items()))
    urls: Kept = context.app.extensions["shop_urls"]
    return urls.get(key, lambda: url_for(endpoint, **values))


def _keyable(values: dict) -> bool:
    for name, value in values.items():
        if name[:1] == "_" or not isinstance(value, str | int | float | type(None)):
            return False
    return True


def return_path(max_length: int = 400) -> str:
    """Where a form on this page sends the visitor back to (the query only if short)."""
    full_path = request.full_path.rstrip("?")
    return full_path if len(full_path) <= max_length else request.path


def init_app(app: Flask) -> None:
    Input.html_params = staticmethod(html_params)
    app.extensions["shop_fragments"] = Kept(FRAGMENTS_KEPT)
    app.extensions[GRIDS] = Kept(GRIDS_KEPT)
    app.extensions[SIZE_GRIDS] = Kept(SIZE_GRIDS_KEPT)
    app.extensions["shop_urls"] = Kept(URLS_KEPT)
    app.extensions[PAGERS] = Kept(PAGERS_KEPT)
    app.add_template_filter(money_filter, "money")
    app.add_template_filter(localized_filter, "localized")
    app.add_template_filter(number_filter, "numberformat")  # after Babel's init_app
    app.add_template_filter(colour_name_filter, "colour_name")
    app.add_template_filter(heading_label, "size_chart_heading")
    app.add_template_filter(datetime_short_filter, "datetime_short")
    app.add_template_filter(local_datetime_filter, "local_datetime")
    app.add_template_filter(time_zone_filter, "time_zone")
    app.add_template_filter(date_filter, "day")
    app.add_template_filter(without_none)
    app.add_template_filter(url_part_filter, "url_part")
    app.add_template_filter(card_views_filter, "card_views")
    app.add_template_filter(query_string_filter, "query_string")
    app.add_template_global(order_status_label)
    app.add_template_global(factory_text)
    app.add_template_global(card_grid)
    app.add_template_global(pager, "kept_pager")  # ``pager`` in _macros/pagination.html
    # After Babel's init_app, which installed its own (slower) gettext callables.
    app.jinja_env.globals.update(_=gettext_global, gettext=gettext_global)
    app.jinja_env.globals["url_for"] = template_url_for
    app.jinja_env.globals["ngettext"] = ngettext_global

    @app.context_processor
    def shop_globals():
        return {
            "languages": LANGUAGES,
            "currencies": SUPPORTED_CURRENCIES,
            "currency_labels": currency_labels(),
            "current_currency": current_currency(),
            "current_locale": select_locale(),
            "current_path": return_path(),
            "cart_count": session.get("cart_count", 0),
        }
