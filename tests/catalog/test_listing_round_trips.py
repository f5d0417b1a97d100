"""On PostgreSQL an uncached listing page waits on the database once, for one statement:
the page with its count carries the listing's version in a column (``shop.db.ReadsBeside``'s
``carried``), the menus and counts kept by the process while that version holds; a category
page too, its category taken from the kept menu (its statement, made for the category's
children as the process keeps them, is made again only when the menus, read again, show them
changed); a price sort too, when priced products fill its page (or end the listing)."""

import pytest
import sqlalchemy as sa

from tests.factories import make_category, make_product
from tests.helpers.round_trips import round_trip_counter, round_trips_of


@pytest.fixture
def counted(app, session, database_url, monkeypatch):
    counter = round_trip_counter(app, database_url, monkeypatch)
    app.extensions["page_store"] = None  # every request renders its page
    coats = make_category(session, slug="coats", name="Coats")
    make_category(session, slug="rain-coats", name="Rain coats", parent=coats)
    for number in range(3):
        make_product(session, slug=f"coat-{number}", name=f"Wool coat {number}", category=coats)
    make_product(session, slug="polo", name="Summer polo")
    session.commit()
    return app.test_client(), counter


@pytest.mark.parametrize(
    ("path", "round_trips", "statements"),
    [
        ("/products", 1, 1),
        # past the last page: then the count with the version, then page 1
        ("/products?page=2", 3, 4),
        ("/products?q=coat", 1, 1),
        ("/products?category=coats", 1, 1),
        # empty: no count after the page, but no row to carry the version either
        ("/products?category=rain-coats", 2, 2),
        ("/products?category=no-such-thing", 1, 1),
        ("/products?sort=price_asc", 1, 1),
        ("/products?sort=price_desc&category=coats", 1, 1),
    ],
)
def test_a_listing_page_waits_on_the_database_as_few_times_as_it_can(
    counted, path, round_trips, statements
):
    client, counter = counted

    assert round_trips_of(client, counter, path) == (round_trips, statements)


def test_a_category_page_whose_children_changed_is_made_again_once(counted, session):
    from shop.catalog.models import Category

    client, counter = counted
    assert round_trips_of(client, counter, "/products?category=coats") == (1, 1)
    coats = session.scalars(sa.select(Category).filter_by(slug="coats")).one()
    make_category(session, slug="wool-coats", name="Wool coats", parent=coats)
    session.commit()
    counter.take()  # not the commit's

    # made for the children it had, with the listing's version, which changed: the menus
    # (with the version), then the page again for the children the menu shows now
    assert counted_get(client, counter, "/products?category=coats") == (3, 5)
    assert counted_get(client, counter, "/products?category=coats") == (1, 1)


def test_a_change_elsewhere_costs_the_next_page_two_round_trips_more(counted, session):
    client, counter = counted
    assert round_trips_of(client, counter, "/products") == (1, 1)
    make_category(session, slug="hats", name="Hats")
    session.commit()
    counter.take()

    # the page with the count kept and the version, which changed: the version and the
    # menus, then the page with its count
    assert counted_get(client, counter, "/products") == (3, 5)
    assert counted_get(client, counter, "/products") == (1, 1)


def counted_get(client, counter, path: str) -> tuple[int, int]:
    """(round trips, statements) of one ``GET path``, as it comes."""
    assert client.get(path).status_code == 200
    counted = counter.take()
    return counted["round_trips"], counted["statements"]
