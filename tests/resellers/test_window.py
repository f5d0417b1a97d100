"""The public window ``/w/<handle>``: the reseller's profile and their picks in order as
the catalogue's own product cards, each with its note; only products on sale; only an
approved window; in the visitor's language and currency; a page costs the same number
of queries whatever the number of picks."""

import re

import pytest

from shop.catalog.models import PriceTier, Product
from shop.resellers.picks import WINDOW_PAGE_SIZE
from tests.factories import make_product
from tests.helpers.queries import recording_queries
from tests.helpers.resellers import add_picks, make_reseller


def cards(page: str) -> list[str]:
    return re.findall(r'data-testid="product-card" data-slug="([^"]+)"', page)


def notes(page: str) -> list[str]:
    return re.findall(r'data-testid="pick-note">([^<]*)<', page)


@pytest.fixture
def window(session):
    reseller = make_reseller(session, bio="Uniforms I trust.", links=("https://weibo.com/ann",))
    products = [
        make_product(session, slug="polo", name="Polo shirt", name_ja="ポロシャツ"),
        make_product(session, slug="skirt", name="Pleated skirt"),
        make_product(session, slug="blazer", name="Wool blazer", tiers=((1, 30000), (10, 25000))),
    ]
    session.commit()
    add_picks(
        session, reseller, [products[2], products[0], products[1]], notes=["Warm", "", "Soft & <b>"]
    )
    return reseller


def test_the_window_shows_the_profile_and_the_picks_in_order_with_notes(client, window):
    page = client.get("/w/ann-picks").text
    assert 'data-testid="window-name">Ann&#39;s picks<' in page
    assert "Uniforms I trust." in page
    assert 'href="https://weibo.com/ann"' in page
    assert cards(page) == ["blazer", "polo", "skirt"]
    assert notes(page) == ["Warm", "Soft &amp; &lt;b&gt;"]  # escaped
    # The catalogue's card, prices and volume tiers included.
    assert 'data-amount="30000" data-currency="CNY"' in page
    assert "down to" in page


def test_products_off_sale_or_of_a_school_are_left_out(client, session, window):
    polo = session.query(Product).filter_by(slug="polo").one()
    polo.active = False
    session.commit()
    assert cards(client.get("/w/ann-picks").text) == ["blazer", "skirt"]


@pytest.mark.parametrize("status", ["applied", "suspended", "closed"])
def test_a_window_not_approved_is_not_found(client, session, status):
    make_reseller(session, status=status, handle="hidden-one")
    assert client.get("/w/hidden-one").status_code == 404


def test_unknown_and_impossible_handles_are_not_found(client, window):
    for path in ("/w/nobody", "/w/ab", "/w/" + "x" * 5000, "/w/admin", "/w/a%00b"):
        assert client.get(path).status_code in (400, 404), path


def test_a_handle_in_capitals_redirects_to_the_window(client, window):
    response = client.get("/w/Ann-Picks")
    assert response.status_code == 301
    assert response.headers["Location"] == "/w/ann-picks"


def test_the_window_speaks_the_visitors_language_and_currency(client, session, window):
    page = client.get("/w/ann-picks?lang=ja").text
    assert "ポロシャツ" in page
    blazer = session.query(Product).filter_by(slug="blazer").one()
    blazer.price_tiers.append(PriceTier(currency="JPY", min_quantity=1, unit_amount=6000))
    session.commit()
    client.post("/preferences", data={"currency": "JPY", "locale": "en", "next": "/"})
    page = client.get("/w/ann-picks").text
    assert 'data-amount="6000" data-currency="JPY"' in page
    assert 'data-currency="CNY"' not in page
    assert page.count("Price on request") == 2  # no yen price: as the catalogue says


def test_collections_are_links_and_pages_of_their_own(client, session, window):
    from shop.resellers import picks
    from shop.resellers.models import Reseller, ResellerPick

    reseller = session.get(Reseller, window.id)
    collection = picks.create_collection(session, reseller, "For school", "for-school")
    for pick in session.query(ResellerPick).filter_by(reseller_id=reseller.id):
        if pick.product.slug != "blazer":
            picks.add_to_collection(session, reseller, collection.id, pick.id)
    session.commit()
    page = client.get("/w/ann-picks").text
    assert 'href="/w/ann-picks/c/for-school"' in page
    shown = client.get("/w/ann-picks/c/for-school").text
    assert cards(shown) == ["polo", "skirt"]
    assert notes(shown) == ["Soft &amp; &lt;b&gt;"]
    assert client.get("/w/ann-picks/c/nothing-here").status_code == 404
    assert client.get("/w/ann-picks/c/" + "y" * 5000).status_code == 404
    assert client.get("/w/ann-picks/c/For-School").status_code == 301


def test_a_window_is_paged_at_48(client, session):
    reseller = make_reseller(session)
    made = [make_product(session, slug=f"item-{n:02d}") for n in range(WINDOW_PAGE_SIZE + 2)]
    session.commit()
    add_picks(session, reseller, made)
    first = client.get("/w/ann-picks").text
    assert len(cards(first)) == 48
    assert cards(client.get("/w/ann-picks?page=2").text) == ["item-48", "item-49"]
    assert 'href="/w/ann-picks?page=2"' in first


def test_the_queries_of_a_page_do_not_grow_with_the_picks(app, client, session):
    reseller = make_reseller(session)
    made = [make_product(session, slug=f"item-{n:02d}", images=1) for n in range(60)]
    session.commit()
    add_picks(session, reseller, made[:3])
    app.extensions["page_store"] = None  # every request renders (cached: test_sharing_cache)
    client.get("/w/ann-picks")  # warm: the statements are prepared
    with recording_queries(app) as few:
        assert client.get("/w/ann-picks").status_code == 200
    add_picks(session, reseller, made[3:])
    with recording_queries(app) as many:
        assert client.get("/w/ann-picks").status_code == 200
    # The window by handle with what its page shows, its terms and the programme
    # (shop.resellers.marking, for the visitor's mark and the page alike, as plain
    # columns), the page of picks, the collections.
    assert len(many) == len(few) == 3
