"""Catalogue pages: home, the product listing and a product's page."""

import dataclasses

from flask import Blueprint, abort, current_app, render_template, request, url_for
from flask_babel import get_locale
from markupsafe import Markup

from shop.catalog.attributes import AGE_GROUPS, GENDERS
from shop.catalog.listing import (
    Facets,
    Listing,
    ListingQuery,
    category_tree,
    list_products,
    list_top_categories,
    parse_listing_query,
)
from shop.catalog.previews import product_data, product_preview
from shop.catalog.pricing import TierRange
from shop.catalog.products import ProductPage, get_product_page
from shop.catalog.rules import is_slug
from shop.catalog.search import suggest_categories
from shop.catalog.size_chart import heading_labels
from shop.catalog.size_grid import GridTexts, grid_data, grid_rows, grid_texts
from shop.db import get_session
from shop.extensions import limiter
from shop.i18n import current_currency
from shop.inputs import parse_id
from shop.pagecache.changes import CATALOGUE, stock_name
from shop.pagecache.pages import cached_page
from shop.resellers.marking import window_cards, window_tiers
from shop.resellers.sharing import product_page_url
from shop.templating import SIZE_GRIDS, cached_fragment, locale_name

bp = Blueprint("catalog", __name__)

HOME_FEATURED = 8
# The minimum-order filter's choices: "no minimum" (1), then "at most N pieces".
MOQ_CHOICES = (1, 10, 50, 100, 500)


@bp.get("/")
@limiter.exempt
def home():
    return cached_page([CATALOGUE], render_home)


def render_home() -> str:
    session = get_session()
    currency, locale = current_currency(), str(get_locale())
    featured = list_products(
        session,
        parse_listing_query({}, 0),
        currency=currency,
        locale=locale,
        per_page=HOME_FEATURED,
    )
    return render_template(
        "catalog/home.html",
        categories=list_top_categories(session),
        featured=window_cards(featured.cards, currency),
    )


@bp.get("/products")
@limiter.exempt
def product_list():
    return cached_page([CATALOGUE], render_product_list)


def render_product_list() -> str:
    session = get_session()
    max_q = current_app.config["SEARCH_MAX_LENGTH"]
    # A plain dict: a MultiDict makes an exception for every parameter not given.
    query = parse_listing_query(request.args.to_dict(), max_q)
    currency = current_currency()
    listing = list_products(
        session,
        query,
        currency=currency,
        locale=str(get_locale()),
        per_page=current_app.config["PRODUCTS_PER_PAGE"],
        max_q_length=max_q,
        with_menus=True,
    )
    cards = window_cards(listing.cards, currency)
    if cards is not listing.cards:
        listing = dataclasses.replace(listing, cards=cards)
    assert listing.menus is not None
    category_rows, facets = listing.menus.category_rows, listing.menus.facets
    suggestions = []
    if query.q and not listing.cards:  # an empty search suggests where to look instead
        categories = category_tree(category_rows)
        suggestions = suggest_categories(session.connection(), query.q, categories, max_q)
    return render_listing(listing, category_rows, facets, currency, suggestions)


def render_listing(
    listing: Listing, category_rows: tuple, facets: Facets, currency: str, suggestions: list
) -> str:
    """``catalog/product_list.html`` for a listing page (also ``bench/floor.py``'s page)."""
    list_path = url_for("catalog.product_list")
    return render_template(
        "catalog/product_list.html",
        listing=listing,
        listing_filters=listing_filters(
            listing.query, listing.category, category_rows, facets, currency, list_path
        ),
        suggested_categories=suggestions,
        list_path=list_path,
    )


def listing_filters(
    query: ListingQuery,
    current_category,
    category_rows: tuple,
    facets: Facets,
    currency: str,
    list_path: str,
) -> Markup:
    """The listing's category menu and filter form, rendered once for every page of a
    listing: kept by all that they show (the query less its page, the category, every
    category's row, the facets, the currency and the listing's path), so a renamed
    category or a new size shows on the next request."""
    query = dataclasses.replace(query, page=1)  # every page has the same menu and filters
    key = (query, current_category, category_rows, facets, currency, list_path)
    return cached_fragment(
        "catalog/_listing_filters.html",
        key,
        lambda: {
            "query": query,
            "current_category": current_category,
            "categories": category_tree(category_rows),
            "facets": facets,
            "currency": currency,
            "list_path": list_path,
            "genders": GENDERS,
            "age_groups": AGE_GROUPS,
            "moq_choices": MOQ_CHOICES,
        },
    )


@bp.get("/products/<slug>")
@limiter.exempt
def product_detail(slug: str):
    if not is_slug(slug):  # no query (nor cache key) for a URL no product can have
        abort(404)
    return cached_page([CATALOGUE, stock_name(slug)], lambda: render_product_detail(slug))


def render_product_detail(slug: str) -> str:
    variant_id = parse_id(request.args.get("variant"))
    locale = locale_name()
    page = get_product_page(
        get_session(), slug, currency=current_currency(), locale=locale, variant_id=variant_id
    )
    if page is None:
        abort(404)
    tiers = window_tiers(page.product.id, page.tiers, page.currency)
    window_priced = tiers is not page.tiers  # a window's own price: not the factory's
    if window_priced:
        page = dataclasses.replace(page, tiers=tiers)
    texts = grid_texts(locale)
    grid = grid_data(
        page.tiers,
        page.currency,
        locale,
        min_order_quantity=page.product.min_order_quantity,
        order_increment=page.product.order_increment,
        texts=texts.script,
    )
    chart = page.product.size_chart if isinstance(page.product.size_chart, dict) else {}
    url = product_page_url(slug, request.args.get("via"))
    return render_template(
        "catalog/product_detail.html",
        page=page,
        preview=product_preview(page, url),
        product_data=product_data(page, url),
        grid=grid,
        tier_table=tier_table(page.tiers, page.currency),
        variant_matrix=variant_matrix(page, texts),
        chart_headings=heading_labels(chart.get("columns") or (), locale),
        window_priced=window_priced,
    )


def tier_table(tiers: list[TierRange], currency: str) -> Markup:
    """The product page's tier table, rendered once per process for as long as its tiers
    read the same: kept by the tiers themselves (the factory's or a window's), the
    currency and the language, so a changed price shows on the next request, and every
    product with the same tiers shares one. (Its prices are a consumer page's: the
    template is the product page's alone.)"""
    key = (tuple(tiers), currency)
    return cached_fragment(
        "catalog/_tier_table.html", key, lambda: {"tiers": tiers, "currency": currency}
    )


def variant_matrix(page: ProductPage, texts: GridTexts) -> Markup:
    """The product page's size × colour grid of quantity fields (``grid_rows``), rendered
    once per process for as long as its variants read the same: kept by the variants
    themselves (each one's SKU, size, colour, stock and sale), whether the product is
    made to order, the selected variant and the language, so a sale that changes what is
    in stock shows on the next request. Rendering it cost ~18 µs a cell."""
    selected = page.selected.id if page.selected else None
    key = (tuple(page.matrix.variants.values()), page.product.made_to_order, selected)
    return cached_fragment(
        "catalog/_variant_matrix.html",
        key,
        lambda: {"size_grid": grid_rows(page, texts)},
        kept=SIZE_GRIDS,
    )
