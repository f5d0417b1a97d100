"""On PostgreSQL an uncached listing page waits on the database once: the page with its
count, the category menu and the filter menus are sent together (``shop.db.rows_together``,
a pipeline); a category page too, its category taken from the menu (its statement, made for
the category's children as the last category page saw them, is made again only when the
menu shows them changed); a price sort too, when priced products fill its page (or end the
listing)."""

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
        ("/products", 1, 3),
        ("/products?page=2", 3, 5),  # past the last page: then the count, then page 1
        ("/products?q=coat", 1, 3),
        ("/products?category=coats", 1, 3),
        ("/products?category=rain-coats", 1, 3),  # empty: no count after the page
        ("/products?category=no-such-thing", 1, 3),
        ("/products?sort=price_asc", 1, 3),
        ("/products?sort=price_desc&category=coats", 1, 3),
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
    assert round_trips_of(client, counter, "/products?category=coats") == (1, 3)
    coats = session.scalars(sa.select(Category).filter_by(slug="coats")).one()
    make_category(session, slug="wool-coats", name="Wool coats", parent=coats)
    session.commit()
    counter.take()  # not the commit's

    # made for the children it had, then again for those the menu beside it shows
    assert counted_get(client, counter, "/products?category=coats") == (2, 4)
    assert counted_get(client, counter, "/products?category=coats") == (1, 3)


def counted_get(client, counter, path: str) -> tuple[int, int]:
    """(round trips, statements) of one ``GET path``, as it comes."""
    assert client.get(path).status_code == 200
    counted = counter.take()
    return counted["round_trips"], counted["statements"]
