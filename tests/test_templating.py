"""The templates' gettext, money and colour filters remember the request's translations,
yet follow a language switched mid-request (an email to a customer in their language);
the links, numbers, product grid and kept fragments they speed up are what Flask, Babel
and the plain template would give."""

import pytest
from flask import render_template_string
from flask_babel import force_locale
from flask_babel import lazy_gettext as _l
from markupsafe import Markup


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


def grid_card(**changes):
    from shop.catalog.listing import ProductCard

    fields = {
        "slug": "polo-1",
        "name": "Polo",
        "image_path": None,
        "image_alt": "Polo",
        "currency": "CNY",
        "price_amount": 8900,
        "lowest_amount": 8900,
        "made_to_order": False,
        "lead_time_days": None,
        "min_order_quantity": 1,
    }
    return ProductCard(**{**fields, **changes})


def test_product_grid_escapes_what_it_shows_once(app):
    card = grid_card(
        slug="a&b",
        name='<b>"Polo" & co</b>',
        image_path="products/x.png",
        image_alt="<i>",
        made_to_order=True,
        lead_time_days=14,
        min_order_quantity=10,
    )
    source = '{% from "_macros/product.html" import product_grid %}{{ product_grid(cards) }}'
    with app.test_request_context("/products"):
        html = render(source, cards=[card])
    assert 'data-slug="a&amp;b"' in html
    assert 'href="/products/a&amp;b"' in html
    assert "&lt;b&gt;&#34;Polo&#34; &amp; co&lt;/b&gt;" in html
    assert 'alt="&lt;i&gt;"' in html
    assert "Made to order · about 14 days" in html and "Min. 10 pcs" in html
    assert "From stock" not in html and "in volume" not in html


def test_product_grid_speaks_the_pages_language_and_currency(app):
    cards = [
        grid_card(currency="JPY", price_amount=5000, lowest_amount=4000),
        grid_card(slug="quote", price_amount=None, lowest_amount=None),
    ]
    source = '{% from "_macros/product.html" import product_grid %}{{ product_grid(cards) }}'
    with app.test_request_context("/products?lang=ja"):
        html = render(source, cards=cards)
    assert 'data-amount="5000" data-currency="JPY">¥5,000（税込）</span>' in html
    assert "まとめ買いで ¥4,000（税込） まで" in html
    assert '<span class="price price--none">価格はお問い合わせください</span>' in html
    assert html.count('<span class="badge badge--stock">在庫品</span>') == 2


def test_templates_url_for_is_flasks_for_each_request_root(app):
    from flask import url_for

    source = (
        "{{ url_for('catalog.product_list', page=1) }} {{ url_for('catalog.product_list',"
        " page=True) }} {{ url_for('static', filename='css/shop.css') }}"
        " {{ url_for('catalog.product_list', _external=True) }}"
    )
    for root in ("", "/shop"):
        with app.test_request_context("/products", base_url=f"http://localhost{root}"):
            expected = " ".join(
                (
                    url_for("catalog.product_list", page=1),
                    url_for("catalog.product_list", page=True),
                    url_for("static", filename="css/shop.css"),
                    url_for("catalog.product_list", _external=True),
                )
            )
            assert render(source) == render(source) == expected
            assert expected.startswith(f"{root}/products?page=1 {root}/products?page=True ")


def test_kept_texts_forget_the_oldest_first():
    from shop.templating import Kept

    kept, made = Kept(2), []

    def make(text):
        made.append(text)
        return text

    for key in ("a", "b", "a", "c", "a"):
        kept.get(key, lambda key=key: make(key.upper()))
    assert made == ["A", "B", "C", "A"]
    assert list(kept.texts) == ["c", "a"]


def test_numberformat_is_flask_babels_in_every_language(app):
    from decimal import Decimal

    from flask_babel import format_number

    for lang in ("en", "zh_CN", "ja"):
        with app.test_request_context(f"/?lang={lang}", headers={"Accept-Language": "en-IN"}):
            for number in (1000, 1234567, Decimal("1.50"), 2.5):
                assert render("{{ n|numberformat }}", n=number) == format_number(number)
    with app.test_request_context("/", headers={"Accept-Language": "en-IN"}):
        assert render("{{ 1234567|numberformat }}") == "12,34,567"


def test_a_kept_fragment_is_rendered_once_per_key_and_language_and_shows_nothing_of_the_visitors(
    app,
):
    from jinja2 import ChoiceLoader, DictLoader

    from shop.templating import cached_fragment

    app.jinja_env.loader = ChoiceLoader(
        [
            DictLoader(
                {"kept.html": "{{ _('Filter') }} {{ n }}", "leak.html": "{{ csrf_token() }}"}
            ),
            app.jinja_env.loader,
        ]
    )
    made = []

    def context(n):
        made.append(n)
        return {"n": n}

    with app.test_request_context("/?lang=en"):
        assert cached_fragment("kept.html", 1, lambda: context(1)) == "Filter 1"
        assert cached_fragment("kept.html", 1, lambda: context(1)) == "Filter 1"
        assert cached_fragment("kept.html", 2, lambda: context(2)) == "Filter 2"
        with pytest.raises(RuntimeError):
            cached_fragment("leak.html", 1, dict)
    with app.test_request_context("/?lang=zh_CN"):
        assert cached_fragment("kept.html", 1, lambda: context(1)) == "筛选 1"
    assert made == [1, 2, 1]


def test_a_templates_globals_are_the_environments_with_its_own_over_them(app):
    """``shop.ShopEnvironment``: a template's globals keep Jinja's meaning (its own over
    the environment's, which stay live), and their keys are a plain dict's, which Jinja
    subtracts in C on every ``{% from ... import %}`` (a ``ChainMap``'s took ~90 µs)."""
    from jinja2 import DictLoader

    from shop import ShopEnvironment

    macros = "{% macro hi() %}{{ greeting }}, {{ who }}{% endmacro %}"
    page = '{% from "macros" import hi %}{{ hi() }}'
    env = ShopEnvironment(app, loader=DictLoader({"macros": macros, "page": page}))
    env.globals["greeting"] = "Hello"
    template = env.get_template("page", globals={"who": "Ann"})
    assert type(template.globals.keys()) is type({}.keys())
    assert set(template.globals.keys()) == {*env.globals, "who"}
    assert template.render() == "Hello, Ann"  # the importing template's own global
    assert env.get_template("macros").module.hi() == "Hello, "
    env.globals["greeting"] = "Hi"  # the environment's stay live
    assert template.globals["greeting"] == "Hi"
    assert set(template.globals.keys()) == {*env.globals, "who"}
    assert template.render() == "Hi, Ann"


def test_page_links_are_kept_per_page_arguments_and_language(app):
    from shop.pagination import Page

    source = (
        '{% from "_macros/pagination.html" import pager %}'
        '{{ pager(page, "catalog.product_list", args) }}'
    )
    with app.test_request_context("/"):
        kept = app.extensions["shop_pagers"].texts
        first = render(source, page=Page(2, 24, 240), args={"q": "polo"})
        assert 'rel="next" href="/products?q=polo&amp;page=3"' in first
        assert '<span aria-current="page">2</span>' in first
        assert len(kept) == 1
        assert render(source, page=Page(2, 24, 240), args={"q": "polo"}) == first
        assert len(kept) == 1
        assert 'aria-current="page">3<' in render(source, page=Page(3, 24, 240), args={"q": "polo"})
        assert "q=shirt&amp;page=3" in render(source, page=Page(2, 24, 240), args={"q": "shirt"})
        with force_locale("ja"):
            assert render(source, page=Page(2, 24, 240), args={"q": "polo"}) != first
        assert len(kept) == 4
        listed = render(source, page=Page(2, 24, 240), args={"size": ["S", "M"]})
        assert "size=S&amp;size=M&amp;page=3" in listed and len(kept) == 4  # not a key: drawn
        assert render(source, page=Page(1, 24, 20), args={}) == ""  # one page: no links


@pytest.mark.parametrize(
    "attributes",
    [
        {"name": "email", "id": "email", "type": "email", "value": "", "required": True},
        {"class_": "a<b", "for_": "x", "data_grid_total": "1 & 2", "aria_invalid": "true"},
        {"value": 'say "hi" <b>', "checked": False, "disabled": True, "maxlength": 254},
        {"value": Markup('already "safe" <b>'), "placeholder": _l("Email")},
        {"aria-describedby": "email-hint email-error", "type": None, "autocomplete": "email"},
        {},
    ],
)
def test_html_params_writes_what_wtforms_does(app, attributes):
    from wtforms.widgets.core import html_params as wtforms_html_params

    from shop.templating import html_params

    with app.test_request_context():
        assert html_params(**attributes) == wtforms_html_params(**attributes)
        assert isinstance(html_params(**attributes), Markup)


def test_every_input_widget_renders_with_the_shop_s_html_params(app):
    from shop.checkout.forms import CheckoutForm
    from shop.templating import html_params

    with app.test_request_context():
        form = CheckoutForm(meta={"csrf": False})
        assert form.email.widget.html_params is html_params
        assert str(form.email(autocomplete="email")) == (
            '<input autocomplete="email" id="email" maxlength="254" name="email" required '
            'type="email" value="">'
        )
