"""On PostgreSQL an uncached listing page waits on the database once: the page with its
count, the category menu and the filter menus are sent together (``shop.db.rows_together``,
a pipeline). A category page looks its category up first (the page's statement depends on
how many children it has); a price sort counts, then reads the page, then its prices."""

import pytest

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
        ("/products?category=coats", 2, 4),
        ("/products?sort=price_asc", 3, 5),
    ],
)
def test_a_listing_page_waits_on_the_database_as_few_times_as_it_can(
    counted, path, round_trips, statements
):
    client, counter = counted

    assert round_trips_of(client, counter, path) == (round_trips, statements)
