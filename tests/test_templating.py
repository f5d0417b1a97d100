"""The templates' gettext, money and colour filters remember the request's translations,
yet follow a language switched mid-request (an email to a customer in their language)."""

from flask import render_template_string
from flask_babel import force_locale


def render(source: str, **context) -> str:
    return render_template_string(source, **context)


def test_translations_follow_force_locale_within_one_request(app):
    source = "{{ _('Factory prices') }} {{ 'navy'|colour_name }} {{ 8900|money('CNY') }}"
    with app.test_request_context("/?lang=en"):
        assert render(source) == "Factory prices Navy CN¥89.00"
        with force_locale("zh_CN"):
            assert render(source) == "出厂价 藏青色 ¥89.00"
        assert render(source) == "Factory prices Navy CN¥89.00"


def test_gettext_escapes_variables_and_formats_like_jinja(app):
    with app.test_request_context("/?lang=en"):
        assert render("{{ _('100%% cotton') }}") == "100% cotton"
        assert render("{{ _('Search: %(q)s', q=q) }}", q="<b>") == "Search: &lt;b&gt;"
        assert render("{{ _('Min. %(n)d pcs', n=n) }}", n="12") == "Min. 12 pcs"
        assert render("{{ ngettext('%(num)d order', '%(num)d orders', 2) }}") == "2 orders"


def test_query_string_and_url_part_match_url_for(app):
    from flask import url_for

    args = {"q": "a b&c/é!", "category": None, "sort": "name", "page": 2}
    with app.test_request_context("/"):
        listing = url_for("catalog.product_list", **args)
        assert render("{{ url_for('catalog.product_list') ~ args|query_string }}", args=args) == (
            listing.replace("&", "&amp;")
        )
        assert render("{{ {}|query_string }}") == ""
        product = url_for("catalog.product_detail", slug="a b+c")
        assert render("{{ '/products/' ~ 'a b+c'|url_part }}") == product


def test_product_grid_links_are_what_url_for_gives(app):
    import re

    from flask import url_for

    from shop.catalog.listing import ProductCard

    card = ProductCard(
        slug="polo-1",
        name="Polo",
        image_path="products/a b+c.png",
        image_alt="Polo",
        currency="CNY",
        price_amount=8900,
        lowest_amount=6900,
        made_to_order=False,
        lead_time_days=None,
        min_order_quantity=1,
    )
    source = '{% from "_macros/product.html" import product_grid %}{{ product_grid(cards) }}'
    with app.test_request_context("/products"):
        html = render(source, cards=[card])
        assert re.findall(r'href="([^"]+)"', html) == [
            url_for("catalog.product_detail", slug="polo-1")
        ]
        assert re.findall(r'src="([^"]+)"', html) == [
            url_for("main.media", filename="products/a b+c.png")
        ]
        assert "CN¥89.00" in html and "down to CN¥69.00 in volume" in html
