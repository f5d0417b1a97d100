"""A window's pages come from the page cache (shop.pagecache) like the catalogue's, and are
never stale: a change of a pick, a note, the profile, a collection, the window's status
or a product shows on the very next request."""

import re

import pytest
import sqlalchemy as sa

from shop.accounts.models import User
from shop.catalog.models import PriceTier, Product
from shop.resellers import picks, service
from shop.resellers.models import Reseller
from tests.accounts.helpers import make_user
from tests.factories import make_product
from tests.helpers.queries import recording_queries
from tests.helpers.resellers import add_picks, make_reseller


def cards(page: str) -> list[str]:
    return re.findall(r'data-testid="product-card" data-slug="([^"]+)"', page)


@pytest.fixture
def window(session):
    reseller = make_reseller(session)
    made = [make_product(session, slug=slug) for slug in ("polo", "skirt", "blazer")]
    session.commit()
    add_picks(session, reseller, made[:2], notes=["Warm"])
    picks.create_collection(session, reseller, "Back to school", "back-to-school")
    session.commit()
    return reseller


def pick_id(session, reseller, slug: str) -> int:
    _, own = picks.list_own_picks(session, reseller, 1)
    return next(pick.id for pick in own if pick.slug == slug)


def test_a_window_page_is_served_from_the_cache(app, client, window):
    first = client.get("/w/ann-picks").text
    with recording_queries(app) as statements:
        again = client.get("/w/ann-picks").text
    # Only the visitor's mark is looked up (shop.resellers.marking); the page is not
    # built again: no query reads the picks or the products.
    assert statements, "the mark is checked on every arrival"
    assert not [sql for sql in statements if "reseller_pick" in sql or "FROM product" in sql]
    assert cards(again) == cards(first) == ["polo", "skirt"]


def test_a_new_pick_a_note_and_a_removal_show_at_once(client, session, window):
    assert "Warm" in client.get("/w/ann-picks").text
    picks.set_pick_note(session, window, pick_id(session, window, "polo"), "Cosy")
    session.commit()
    page = client.get("/w/ann-picks").text
    assert "Cosy" in page and "Warm" not in page
    picks.add_pick(session, window, "blazer")
    session.commit()
    assert cards(client.get("/w/ann-picks").text) == ["polo", "skirt", "blazer"]
    picks.move_pick(session, window, pick_id(session, window, "blazer"), "up")
    session.commit()
    assert cards(client.get("/w/ann-picks").text) == ["polo", "blazer", "skirt"]
    picks.remove_pick(session, window, pick_id(session, window, "polo"))
    session.commit()
    assert cards(client.get("/w/ann-picks").text) == ["blazer", "skirt"]


def test_a_profile_change_shows_at_once(client, session, window):
    assert "Ann&#39;s picks" in client.get("/w/ann-picks").text
    owner = session.get(User, window.user_id)
    service.update_profile(
        session,
        owner,
        window,
        {"display_name": "Ann's uniforms", "bio": "New bio", "social_links": []},
    )
    session.commit()
    page = client.get("/w/ann-picks").text
    assert "Ann&#39;s uniforms" in page and "New bio" in page


def test_a_collection_change_shows_at_once(client, session, window):
    assert client.get("/w/ann-picks/c/back-to-school").status_code == 200
    collection = picks.get_collection(session, window, "back-to-school")
    picks.add_to_collection(session, window, collection.id, pick_id(session, window, "skirt"))
    session.commit()
    assert cards(client.get("/w/ann-picks/c/back-to-school").text) == ["skirt"]
    picks.rename_collection(session, window, collection.id, "Autumn term")
    session.commit()
    assert "Autumn term" in client.get("/w/ann-picks/c/back-to-school").text
    picks.delete_collection(session, window, collection.id)
    session.commit()
    assert client.get("/w/ann-picks/c/back-to-school").status_code == 404


def test_a_suspended_window_disappears_at_once(client, session, window):
    assert client.get("/w/ann-picks").status_code == 200
    staff = make_user(session, email="boss@factory.example", role="manager")
    service.change_status(session, staff, window, "suspend", expected="approved")
    session.commit()
    assert client.get("/w/ann-picks").status_code == 404
    assert client.get("/w/ann-picks/c/back-to-school").status_code == 404


def test_a_core_statement_on_a_window_table_counts_too(client, session, window):
    client.get("/w/ann-picks")
    session.execute(
        sa.update(Reseller).where(Reseller.id == window.id).values(display_name="Renamed")
    )
    session.commit()
    assert "Renamed" in client.get("/w/ann-picks").text


def test_a_catalogue_change_shows_in_the_window_at_once(client, session, window):
    assert 'data-amount="8900"' in client.get("/w/ann-picks").text
    session.execute(
        sa.update(PriceTier)
        .where(
            PriceTier.product_id
            == sa.select(Product.id).where(Product.slug == "polo").scalar_subquery()
        )
        .values(unit_amount=7700)
    )
    session.commit()
    assert 'data-amount="7700"' in client.get("/w/ann-picks").text


def test_an_unknown_window_is_not_stored(client, session):
    assert client.get("/w/later-one").status_code == 404
    make_reseller(session, handle="later-one")
    assert client.get("/w/later-one").status_code == 200
