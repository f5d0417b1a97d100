"""Sharing a window: absolute links for the window, a collection and a product in the
window (all on SHOP_BASE_URL, with the window's handle), their QR codes as SVG that encode
exactly those links, and the share panel on the reseller's own page. Anything that names
nothing of an approved window is a 404; odd input never a 500."""

import html
import re
import xml.etree.ElementTree as ET

import pytest
import sqlalchemy as sa

from shop.catalog.models import Product
from shop.resellers import picks, sharing
from tests.accounts.helpers import login
from tests.factories import make_product
from tests.helpers.qr import dark_modules, expected_modules
from tests.helpers.resellers import add_picks, make_reseller


@pytest.fixture
def base(app) -> str:
    return app.config["SHOP_BASE_URL"]


@pytest.fixture
def window(session):
    reseller = make_reseller(session)
    products = [
        make_product(session, slug="polo", name="Polo shirt"),
        make_product(session, slug="blazer", name="Wool blazer"),
        make_product(session, slug="not-picked", name="Scarf"),
    ]
    session.commit()
    add_picks(session, reseller, products[:2])
    picks.create_collection(session, reseller, "Back to school", "back-to-school")
    session.commit()
    return reseller


# --- the links ---------------------------------------------------------------------------


def test_the_three_links_are_absolute_on_the_shops_base_url(app, window, base):
    with app.test_request_context("/", base_url="http://evil.example"):
        links = sharing.share_links(window, ["back-to-school"], ["polo"])
    assert links.window.url == f"{base}/w/ann-picks"
    assert links.collections["back-to-school"].url == f"{base}/w/ann-picks/c/back-to-school"
    assert links.picks["polo"].url == f"{base}/products/polo?via=ann-picks"
    assert links.window.qr_args == {}
    assert links.collections["back-to-school"].qr_args == {"c": "back-to-school"}
    assert links.picks["polo"].qr_args == {"p": "polo"}


def test_a_product_link_keeps_only_a_well_formed_handle(app, base):
    with app.test_request_context("/"):
        assert (
            sharing.product_page_url("polo", "ann-picks") == f"{base}/products/polo?via=ann-picks"
        )
        for odd in (None, "", "A<b>", "admin", "x" * 500, "a\x00b"):
            assert sharing.product_page_url("polo", odd) == f"{base}/products/polo"


def test_shared_url_names_only_the_windows_own_things(app, session, window, base):
    with app.app_context():
        assert sharing.shared_url(session, window) == f"{base}/w/ann-picks"
        assert sharing.shared_url(session, window, "back-to-school") == (
            f"{base}/w/ann-picks/c/back-to-school"
        )
        assert sharing.shared_url(session, window, None, "blazer") == (
            f"{base}/products/blazer?via=ann-picks"
        )
        assert sharing.shared_url(session, window, None, "not-picked") is None
        assert sharing.shared_url(session, window, "nope") is None
        assert sharing.shared_url(session, window, "back-to-school", "polo") is None


# --- the QR codes ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("query", "encoded"),
    [
        ("", "/w/ann-picks"),
        ("?c=back-to-school", "/w/ann-picks/c/back-to-school"),
        ("?p=polo", "/products/polo?via=ann-picks"),
    ],
)
def test_a_qr_code_is_an_svg_that_encodes_the_share_link(client, base, window, query, encoded):
    encoded = base + encoded
    response = client.get(f"/w/ann-picks/qr.svg{query}")
    assert response.status_code == 200
    assert response.mimetype == "image/svg+xml"
    assert response.cache_control.public and response.cache_control.max_age == 3600
    assert response.headers["ETag"]
    root = ET.fromstring(response.data)  # well-formed XML
    assert root.tag == "{http://www.w3.org/2000/svg}svg"
    assert root.find("{http://www.w3.org/2000/svg}title").text == encoded
    assert dark_modules(response.data) == expected_modules(encoded)
    assert dark_modules(response.data) != expected_modules(encoded + "x")  # can fail


def test_a_qr_code_answers_304_to_its_etag(client, window):
    first = client.get("/w/ann-picks/qr.svg")
    again = client.get("/w/ann-picks/qr.svg", headers={"If-None-Match": first.headers["ETag"]})
    assert again.status_code == 304


@pytest.mark.parametrize(
    "path",
    [
        "/w/nobody/qr.svg",
        "/w/ann-picks/qr.svg?c=unknown",
        "/w/ann-picks/qr.svg?p=not-picked",
        "/w/ann-picks/qr.svg?p=unknown",
        "/w/ann-picks/qr.svg?c=back-to-school&p=polo",
        "/w/ann-picks/qr.svg?c=",
        "/w/ann-picks/qr.svg?p=" + "x" * 20000,
        "/w/ann-picks/qr.svg?c=" + "b" * 20000,
        "/w/ann-picks/qr.svg?p=%E6%A0%A1%E6%9C%8D",
        "/w/ann-picks/qr.svg?c=%00",
        "/w/ann-picks/qr.svg?p=polo%00",
        "/w/Ann-Picks/qr.svg",
        "/w/" + "a" * 5000 + "/qr.svg",
    ],
)
def test_unknown_or_odd_qr_requests_are_refused_without_error(client, window, path):
    assert client.get(path).status_code in (400, 404), path


def test_a_product_off_sale_loses_its_qr_code(client, session, window):
    session.execute(sa.update(Product).where(Product.slug == "polo").values(active=False))
    session.commit()
    assert client.get("/w/ann-picks/qr.svg?p=polo").status_code == 404


@pytest.mark.parametrize("status", ["applied", "suspended", "closed"])
def test_a_window_not_approved_has_no_qr_code(client, session, status):
    make_reseller(session, status=status, handle="hidden-one")
    assert client.get("/w/hidden-one/qr.svg").status_code == 404


# --- the share panel ---------------------------------------------------------------------


def share_urls(page: str) -> list[str]:
    return [html.unescape(u) for u in re.findall(r'value="([^"]+)" data-testid="share-url"', page)]


def test_the_reseller_sees_every_link_with_its_qr_code(client, window, base):
    login(client, email="reseller@example.com")
    page = client.get("/account/window").text
    assert 'data-testid="share-panel"' in page
    assert share_urls(page) == [
        f"{base}/w/ann-picks",
        f"{base}/w/ann-picks/c/back-to-school",
        f"{base}/products/polo?via=ann-picks",
        f"{base}/products/blazer?via=ann-picks",
    ]
    qr_codes = [
        html.unescape(src)
        for src in re.findall(r'<img src="([^"]+)"[^>]*data-testid="share-qr"', page)
    ]
    assert qr_codes == [
        "/w/ann-picks/qr.svg",
        "/w/ann-picks/qr.svg?c=back-to-school",
        "/w/ann-picks/qr.svg?p=polo",
        "/w/ann-picks/qr.svg?p=blazer",
    ]
    for src in qr_codes:
        assert client.get(src).status_code == 200
    # The fields work without JavaScript (read-only, selectable); the script adds Copy.
    assert f'readonly value="{base}/w/ann-picks"' in page
    assert "js/share" in page


def test_an_off_sale_pick_has_no_share_link(client, session, window, base):
    session.execute(sa.update(Product).where(Product.slug == "polo").values(active=False))
    session.commit()
    login(client, email="reseller@example.com")
    page = client.get("/account/window").text
    assert f"{base}/products/polo?via=ann-picks" not in share_urls(page)
    assert f"{base}/products/blazer?via=ann-picks" in share_urls(page)


@pytest.mark.parametrize("status", ["applied", "suspended"])
def test_a_window_not_approved_shows_no_share_panel(client, session, status):
    make_reseller(session, status=status)
    login(client, email="reseller@example.com")
    page = client.get("/account/window").text
    assert 'data-testid="share-panel"' not in page
    assert share_urls(page) == []
