"""The floor: ``catalog/product_list.html`` rendered from memory, with no database at all.

    .venv/bin/gunicorn -w 2 -b 127.0.0.1:8001 --pythonpath bench floor:app

A bare Flask app with the shop's templates, Jinja filters and globals, Babel and CSRF (the
base template calls ``csrf_token()``), and stub endpoints for every ``url_for`` the layout
makes. Its one real route does what ``/products`` does minus the data layer: parse the
query, pick locale and currency, and render 24 ``ProductCard`` objects, the seeded category
tree and the filters through the view's own ``render_listing`` (so the menu and filters
are kept between requests exactly as the shop keeps them). Its requests/s is the ceiling
the real listing is measured against.

``FLOOR_TOTAL`` (default 10,000) is the product count the pagination shows; ``run.sh``
passes the number of active products it seeded.
"""

import os
import secrets

from flask import Blueprint, Flask, abort, request
from flask_babel import Babel
from flask_login import LoginManager
from flask_wtf.csrf import CSRFProtect
from seed_bulk import CATEGORY_TREE, generate

from shop import PROJECT_ROOT, pagecache, templating
from shop.catalog import pricing
from shop.catalog.colours import COLOURS
from shop.catalog.listing import (
    CategoryRow,
    Facets,
    Listing,
    ProductCard,
    parse_listing_query,
)
from shop.catalog.views import render_listing
from shop.i18n import current_currency, select_locale
from shop.money import SUPPORTED_CURRENCIES
from shop.pagination import paginate

PER_PAGE = 24
MAX_Q_LENGTH = 100


def make_cards(count: int = PER_PAGE, currency: str = "CNY") -> list[ProductCard]:
    """Cards for the first ``count`` products of the benchmark catalogue (no images)."""
    catalogue = generate(count)
    tiers_by_product: dict[int, list[pricing.Tier]] = {}
    for row in catalogue.tiers:
        if row["currency"] == currency:
            tier = pricing.Tier(row["min_quantity"], row["unit_amount"])
            tiers_by_product.setdefault(row["product_id"], []).append(tier)
    cards = []
    for product in catalogue.products:
        tiers = tiers_by_product.get(product["id"], [])
        base = pricing.base_tier(tiers)
        cards.append(
            ProductCard(
                slug=product["slug"],
                name=product["name"],
                image_path=None,
                image_alt=product["name"],
                currency=currency,
                price_amount=base.unit_amount if base else None,
                lowest_amount=pricing.lowest_unit_amount(tiers),
                made_to_order=product["made_to_order"],
                lead_time_days=product["lead_time_days"],
                min_order_quantity=product["min_order_quantity"],
            )
        )
    return cards


def make_category_rows() -> tuple[CategoryRow, ...]:
    """The seeded category tree as ``list_category_rows`` reads it from the database."""
    rows, next_id = [], 1
    for slug, name, name_zh, name_ja, children in CATEGORY_TREE:
        parent_id = next_id
        rows.append(CategoryRow(parent_id, slug, name, name_zh, name_ja, None))
        next_id += 1
        for child_slug, child, child_zh, child_ja in children:
            rows.append(CategoryRow(next_id, child_slug, child, child_zh, child_ja, parent_id))
            next_id += 1
    return tuple(rows)


def create_app(total: int | None = None) -> Flask:
    app = Flask(
        __name__,
        template_folder=str(PROJECT_ROOT / "templates"),
        static_folder=str(PROJECT_ROOT / "static"),
    )
    app.config.update(
        SECRET_KEY=os.environ.get("SECRET_KEY") or secrets.token_hex(32),
        SHOP_DEFAULT_CURRENCY="CNY",
        BABEL_DEFAULT_LOCALE="en",
        BABEL_TRANSLATION_DIRECTORIES=str(PROJECT_ROOT / "shop" / "translations"),
        WTF_CSRF_TIME_LIMIT=None,
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        PAGE_CACHE=False,  # the template's own cost: every request renders
    )
    CSRFProtect().init_app(app)
    Babel().init_app(app, locale_selector=select_locale)
    login_manager = LoginManager(app)  # the layout asks who is signed in; here nobody is
    login_manager.user_loader(lambda user_id: None)
    templating.init_app(app)
    pagecache.init_app(app)  # the layout's csrf_token() and page_hole() globals

    total = int(os.environ.get("FLOOR_TOTAL", "10000")) if total is None else total
    cards = {currency: make_cards(currency=currency) for currency in SUPPORTED_CURRENCIES}
    category_rows = make_category_rows()
    # The filter menus as the shop's listing offers them (sizes and colours of variants).
    facets = Facets(
        sizes=("110", "120", "130", "140", "150", "S", "M", "L", "XL"),
        colours=tuple(COLOURS)[:8],
    )

    catalog = Blueprint("catalog", __name__)

    @catalog.get("/products")
    def product_list():
        query = parse_listing_query(request.args.to_dict(), MAX_Q_LENGTH)
        listing = Listing(
            query=query,
            page=paginate(total, query.page, PER_PAGE),
            cards=cards[current_currency()],
            category=None,
        )
        return render_listing(listing, category_rows, facets, current_currency(), [])

    # Endpoints the layout and cards link to; never requested by the benchmark.
    catalog.add_url_rule("/", "home", _not_here)
    catalog.add_url_rule("/products/<slug>", "product_detail", _not_here)
    main = Blueprint("main", __name__)
    main.add_url_rule("/preferences", "preferences_submit", _not_here, methods=["POST"])
    main.add_url_rule("/media/<path:filename>", "media", _not_here)
    schools = Blueprint("schools", __name__, url_prefix="/schools")
    schools.add_url_rule("", "school_list", _not_here)
    cart = Blueprint("cart", __name__, url_prefix="/cart")
    cart.add_url_rule("", "cart_page", _not_here)
    accounts = Blueprint("accounts", __name__, url_prefix="/account")
    for endpoint in ("login", "account", "register", "reset"):
        accounts.add_url_rule(f"/{endpoint}", endpoint, _not_here)
    accounts.add_url_rule("/logout", "logout", _not_here, methods=["POST"])
    admin = Blueprint("admin", __name__, url_prefix="/admin")
    admin.add_url_rule("/", "dashboard", _not_here)
    for blueprint in (catalog, main, schools, cart, accounts, admin):
        app.register_blueprint(blueprint)
    return app


def _not_here(**_kwargs):
    abort(404)


app = create_app()
