"""Catalogue pages: home, the product listing and a product's page."""

from flask import Blueprint, abort, current_app, render_template, request
from flask_babel import get_locale
from flask_babel import gettext as _

from shop.catalog.attributes import AGE_GROUPS, GENDERS
from shop.catalog.listing import (
    list_facets,
    list_products,
    list_top_categories,
    parse_listing_query,
)
from shop.catalog.products import get_product_page
from shop.catalog.rules import is_slug
from shop.catalog.search import suggest_categories
from shop.catalog.size_grid import grid_data
from shop.db import get_session
from shop.extensions import limiter
from shop.i18n import current_currency
from shop.inputs import parse_id
from shop.pagecache.changes import CATALOGUE, stock_name
from shop.pagecache.pages import cached_page

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
        featured=featured.cards,
    )


@bp.get("/products")
@limiter.exempt
def product_list():
    return cached_page([CATALOGUE], render_product_list)


def render_product_list() -> str:
    session = get_session()
    max_q = current_app.config["SEARCH_MAX_LENGTH"]
    query = parse_listing_query(request.args, max_q)
    currency = current_currency()
    listing = list_products(
        session,
        query,
        currency=currency,
        locale=str(get_locale()),
        per_page=current_app.config["PRODUCTS_PER_PAGE"],
        max_q_length=max_q,
    )
    categories = list_top_categories(session)
    suggestions = []
    if query.q and not listing.cards:  # an empty search suggests where to look instead
        suggestions = suggest_categories(session.connection(), query.q, categories, max_q)
    return render_template(
        "catalog/product_list.html",
        listing=listing,
        categories=categories,
        suggested_categories=suggestions,
        facets=list_facets(session),
        genders=GENDERS,
        age_groups=AGE_GROUPS,
        moq_choices=MOQ_CHOICES,
        currency=currency,
    )


@bp.get("/products/<slug>")
@limiter.exempt
def product_detail(slug: str):
    if not is_slug(slug):  # no query (nor cache key) for a URL no product can have
        abort(404)
    return cached_page([CATALOGUE, stock_name(slug)], lambda: render_product_detail(slug))


def render_product_detail(slug: str) -> str:
    variant_id = parse_id(request.args.get("variant"))
    page = get_product_page(
        get_session(),
        slug,
        currency=current_currency(),
        locale=str(get_locale()),
        variant_id=variant_id,
    )
    if page is None:
        abort(404)
    grid = grid_data(
        page.tiers,
        page.currency,
        str(get_locale()),
        min_order_quantity=page.product.min_order_quantity,
        order_increment=page.product.order_increment,
        texts={
            "next": _("{more} more for {amount} each"),
            "minimum": _("{more} more to reach the minimum order of {n} pieces"),
            "increment": _("{more} more to make a multiple of {n} pieces in total"),
        },
    )
    return render_template("catalog/product_detail.html", page=page, grid=grid)
