"""The anchor: a bare Flask page of 24 product cards, what every benchmark ratio is
measured against (1.0).

    .venv/bin/gunicorn -w 2 -b 127.0.0.1:8002 --pythonpath bench bare_floor:app

Plain Flask and one hand-written Jinja template string: no Babel, no CSRF, no Flask-Login,
no database. Its one real route, ``/products``, renders a page of the same shape as the
shop's listing (``catalog/product_list.html`` inside ``base.html``): a header with the
brand, a search form and nav links, a heading, a category/sort form, 24 cards (link, image,
name, price, "from N pcs" or lead-time badge), page links and a footer, every link built
with ``url_for``. The cards are the first 24 products of the benchmark catalogue
(``seed_bulk.generate``), held in memory. ``bench/run.sh`` serves it beside the shop and
``floor.py`` and divides every page's requests/s by this one's.
"""

import os

from flask import Flask, abort, render_template, request
from jinja2 import DictLoader
from seed_bulk import CATEGORY_TREE, generate

PER_PAGE = 24
SYMBOLS = {"CNY": "¥", "JPY": "¥", "SGD": "S$", "USD": "$"}
SORTS = (
    ("relevance", "Relevance"),
    ("price_asc", "Price: low to high"),
    ("price_desc", "Price: high to low"),
    ("newest", "Newest"),
    ("name", "Name"),
)

PAGE = """<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <title>All products · Sourcefront</title>
  <link rel="stylesheet" href="{{ url_for('static', filename='css/shop.css') }}">
</head>
<body>
  <header class="site-header">
    <a class="brand" href="{{ url_for('home') }}">Sourcefront</a>
    <form class="search" action="{{ url_for('product_list') }}" method="get" role="search">
      <input type="search" name="q" maxlength="100" value="{{ q }}" placeholder="Search products">
      <button type="submit">Search</button>
    </form>
    <nav class="site-nav">
      <a href="{{ url_for('product_list') }}" aria-current="page">All products</a>
      <a href="{{ url_for('school_list') }}">Find your school</a>
      <a href="{{ url_for('cart') }}">Cart <span class="badge">{{ cart_count }}</span></a>
      <a href="{{ url_for('login') }}">Sign in</a>
    </nav>
  </header>
  <main id="main" class="page">
    <h1>All products</h1>
    <form class="sort-form" method="get" action="{{ url_for('product_list') }}">
      <label for="category">Category</label>
      <select id="category" name="category">
        <option value="">All categories</option>
        {% for slug, name in categories %}
        <option value="{{ slug }}" {% if slug == category %}selected{% endif %}>{{ name }}</option>
        {% endfor %}
      </select>
      <label for="sort">Sort by</label>
      <select id="sort" name="sort">
        {% for value, label in sorts %}
        <option value="{{ value }}" {% if value == sort %}selected{% endif %}>{{ label }}</option>
        {% endfor %}
      </select>
      <button type="submit">Apply</button>
    </form>
    <p class="listing__count">Showing {{ first }}–{{ last }} of {{ total }} products</p>
    <ul class="product-grid">
      {% for product in products %}
      <li class="product-card" data-testid="product-card" data-slug="{{ product.slug }}">
        <a href="{{ url_for('product_detail', slug=product.slug) }}">
          <img src="{{ url_for('static', filename=product.image) }}" alt="{{ product.name }}"
               width="400" height="400" loading="lazy">
          <span class="product-card__name">{{ product.name }}</span>
        </a>
        <p class="product-card__price">{{ product.price|money }}</p>
        <p class="product-card__meta">
          {% if product.made_to_order %}
          <span class="badge">Made to order · about {{ product.lead_time_days }} days</span>
          {% else %}
          <span class="badge">From stock</span>
          {% endif %}
          {% if product.min_order_quantity > 1 %}
          <span class="badge">From {{ product.min_order_quantity }} pcs</span>
          {% endif %}
        </p>
      </li>
      {% endfor %}
    </ul>
    <nav class="pagination">
      {% if page > 1 %}
      <a rel="prev" href="{{ url_for('product_list', page=page - 1) }}">Previous</a>
      {% endif %}
      {% for number in page_links %}
      {% if number == page %}<span aria-current="page">{{ number }}</span>
      {% else %}<a href="{{ url_for('product_list', page=number) }}">{{ number }}</a>{% endif %}
      {% endfor %}
      {% if page < pages %}
      <a rel="next" href="{{ url_for('product_list', page=page + 1) }}">Next</a>
      {% endif %}
    </nav>
  </main>
  <footer class="site-footer">
    <p>Sourcefront — uniforms straight from the factory floor.</p>
    <p><a href="{{ url_for('product_list') }}">Catalogue</a> ·
       <a href="{{ url_for('school_list') }}">Schools</a></p>
  </footer>
</body>
</html>
"""


def load_products(count: int = PER_PAGE, currency: str = "CNY") -> list[dict]:
    """The first ``count`` benchmark products, each with its lowest-quantity price."""
    catalogue = generate(count)
    prices: dict[int, tuple[int, int]] = {}
    for tier in catalogue.tiers:
        if tier["currency"] == currency:
            current = prices.get(tier["product_id"])
            if current is None or tier["min_quantity"] < current[0]:
                prices[tier["product_id"]] = (tier["min_quantity"], tier["unit_amount"])
    return [
        {
            "slug": product["slug"],
            "name": product["name"],
            "image": f"img/products/{product['slug']}.jpg",
            "price": prices[product["id"]][1],
            "made_to_order": product["made_to_order"],
            "lead_time_days": product["lead_time_days"],
            "min_order_quantity": product["min_order_quantity"],
        }
        for product in catalogue.products
    ]


def create_app(total: int | None = None) -> Flask:
    app = Flask(__name__)
    app.jinja_loader = DictLoader({"products.html": PAGE})  # compiled once, cached
    total = int(os.environ.get("FLOOR_TOTAL", "10000")) if total is None else total
    products = load_products()
    categories = [
        (slug, name)
        for top_slug, top_name, _zh, _ja, children in CATEGORY_TREE
        for slug, name in ((top_slug, top_name), *((child[0], child[1]) for child in children))
    ]

    @app.template_filter("money")
    def money(amount: int) -> str:
        return f"{SYMBOLS['CNY']}{amount / 100:,.2f}"

    @app.get("/products")
    def product_list():
        pages = max(-(-total // PER_PAGE), 1)
        page = min(max(request.args.get("page", 1, type=int), 1), pages)
        return render_template(
            "products.html",
            products=products,
            categories=categories,
            sorts=SORTS,
            q=request.args.get("q", "")[:100],
            category=request.args.get("category"),
            sort=request.args.get("sort", "relevance"),
            page=page,
            pages=pages,
            page_links=sorted({1, *range(max(page - 2, 1), min(page + 2, pages) + 1), pages}),
            first=(page - 1) * PER_PAGE + 1,
            last=min(page * PER_PAGE, total),
            total=total,
            cart_count=0,
        )

    # Where the page links to; never requested by the benchmark.
    for rule, endpoint in (
        ("/", "home"),
        ("/products/<slug>", "product_detail"),
        ("/schools", "school_list"),
        ("/cart", "cart"),
        ("/account/login", "login"),
    ):
        app.add_url_rule(rule, endpoint, _not_here)
    return app


def _not_here(**_kwargs):
    abort(404)


app = create_app()
