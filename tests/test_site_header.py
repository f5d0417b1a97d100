"""The site's header (``shop.layout``) is rendered once per language, currency and section
and kept per process; each request fills in its own parts — the visitor's CSRF token,
cart count and navigation, the page's address and the words searched for — with or
without the page cache."""

import re

import pytest

from shop.pagecache.pages import HOLE_NAMES
from tests.factories import make_product


@pytest.fixture(params=["uncached", "cached"])
def shop(request, app):
    if request.param == "uncached":
        app.extensions["page_store"] = None
    return app


@pytest.fixture
def polo(session):
    product = make_product(session, slug="polo", name="Polo")
    session.commit()
    return product


def headers_kept(app) -> int:
    kept = app.extensions["shop_fragments"].texts
    return len([key for key in kept if key[0].name == "_layout/site_header.html"])


def header(page: str) -> str:
    return page[page.index('class="skip-link"') : page.index("</header>")]


def form_value(page: str, name: str) -> str:
    return re.search(rf'name="{name}"[^>]*?value="([^"]*)"', header(page))[1]


def test_one_header_per_language_currency_and_section(shop, polo):
    visitor = shop.test_client()
    for path in ("/products/polo", "/", "/products/polo?x=1"):
        visitor.get(path)
    assert headers_kept(shop) == 1
    visitor.get("/products")  # "All products" is the current page there
    assert headers_kept(shop) == 2
    visitor.get("/", headers={"Accept-Language": "ja"})
    assert headers_kept(shop) == 3


def test_each_visitor_gets_their_own_token_and_the_page_its_own_address(shop, polo):
    ann, bo = shop.test_client(), shop.test_client()
    ann_page = ann.get("/products/polo").text
    bo_page = bo.get("/products/polo?colour=navy").text
    assert form_value(ann_page, "csrf_token") != form_value(bo_page, "csrf_token")
    assert form_value(ann_page, "next") == "/products/polo"
    assert form_value(bo_page, "next") == "/products/polo?colour=navy"
    for page in (ann_page, bo_page):
        assert "\ue000" not in page  # every hole filled


def test_the_cart_count_is_the_visitors(shop, polo):
    visitor = shop.test_client()
    with visitor.session_transaction() as session:
        session["cart_count"] = 7
    page = visitor.get("/products/polo").text
    assert 'data-testid="cart-count" data-count="7">7<' in header(page)
    assert 'data-count="0">0<' in header(shop.test_client().get("/products/polo").text)


def test_the_search_box_keeps_the_words_on_the_listing_only_and_escaped(shop, polo):
    visitor = shop.test_client()
    page = visitor.get('/products?q=<b>"polo"').text
    assert form_value(page, "q") == "&lt;b&gt;&#34;polo&#34;"
    assert form_value(visitor.get("/products/polo?q=polo").text, "q") == ""


def test_the_current_section_is_marked(shop, polo):
    visitor = shop.test_client()
    listing = header(visitor.get("/products").text)
    assert re.search(r'href="/products"\s+aria-current="page"', listing)
    product = header(visitor.get("/products/polo").text)
    assert "aria-current" not in product


def test_a_visitor_cannot_pose_as_a_hole(shop, polo):
    """Hole markers carry a tag derived from the secret key; one with another tag is text."""
    visitor = shop.test_client()
    for name in (*HOLE_NAMES, "here", "search"):
        fake = f"\ue000{name}.0123456789abcdef\ue001"
        page = visitor.get("/products", query_string={"q": fake}).text
        assert form_value(page, "q") == fake


def test_holes_of_a_kept_text_are_cut_once_and_filled_per_request():
    """``fill_holes`` asks for each hole's part once per name, cuts a kept text at its holes
    once (the next request reuses the cuts) and fills it as a page's text is filled."""
    from shop.pagecache.pages import Holes, fill_holes

    holes = Holes("secret")
    text = f"<a>{holes.marker('csrf')}</a>{holes.marker('cart')}|{holes.marker('csrf')}<b>"
    asked = []

    def part(name):
        asked.append(name)
        return f"[{name}]"

    assert fill_holes(holes, text, part) == "<a>[csrf]</a>[cart]|[csrf]<b>"
    assert asked == ["csrf", "cart"]
    assert fill_holes(holes, text, part, kept=True) == "<a>[csrf]</a>[cart]|[csrf]<b>"
    cuts = holes.pieces(text)
    assert (
        fill_holes(holes, text, lambda name: name.upper(), kept=True) == "<a>CSRF</a>CART|CSRF<b>"
    )
    assert holes.pieces(text) is cuts
    assert fill_holes(holes, "no holes", part, kept=True) == "no holes"
    assert fill_holes(holes, "\ue000csrf.0000000000000000\ue001", part) == (
        "\ue000csrf.0000000000000000\ue001"  # another tag: text, not a hole
    )
