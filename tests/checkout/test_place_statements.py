"""Placing an order runs a fixed number of SQL statements, whatever the cart holds.

The cart comes with its lines, variants and products in one query, the price tiers of all
its products in one more, and the order's rows are a statement per table (the order,
its lines, its event, its payment, the stock ledger, the cart's emptied lines). Only the
stock grows with the cart: one conditional ``UPDATE`` per variant (the race that prevents
overselling). No statement is sent per line or per product, none reads back what the
request has just written, and the one-time key is looked up only when the form comes
back. Counted on ``POST /checkout/place``; never timed.
"""

import re

import pytest

from tests.checkout_helpers import PICKUP, add_to_cart
from tests.factories import make_product
from tests.helpers.queries import recording_queries

REQUEST_KEY = re.compile(r'name="request_key"[^>]*value="([^"]+)"')
SIZES = ("110", "120", "130", "140", "150", "160")
# Beside the stock UPDATEs and the INSERTs of the lines and the ledger's rows: the cart,
# the tiers, the order, its "placed" event, its payment attempt, emptying the cart, and
# what the page cache reads at commit.
FIXED = 7


def rows_per_insert(app, rows: int) -> int:
    """INSERTs for ``rows`` new rows of one table: one where SQLAlchemy batches them with
    their RETURNING (PostgreSQL), one each on SQLite (whose RETURNING order is not
    promised)."""
    return 1 if app.extensions["sa_engine"].dialect.name == "postgresql" else rows


def growing(statement: str) -> bool:
    """The statements a bigger cart may add."""
    return statement.upper().startswith(
        ("UPDATE VARIANT", "INSERT INTO STOCK_MOVEMENT", "INSERT INTO ORDER_LINE")
    )


@pytest.fixture
def variant_ids(session) -> list[int]:
    """Twelve stocked variants over two products."""
    products = [
        make_product(session, slug=f"kit-{n}", sizes=SIZES, on_hand=50, tiers=((1, 8900),))
        for n in range(2)
    ]
    session.commit()
    return [variant.id for product in products for variant in product.variants]


def reviewed(app, variant_ids: list[int]) -> tuple[object, str]:
    """A new buyer puts one piece of each variant in the cart and reviews the order;
    → (their client, the review form's one-time key)."""
    client = app.test_client()
    for variant_id in variant_ids:
        assert add_to_cart(client, variant_id, 1).status_code == 303
    assert client.post("/checkout", data=PICKUP).status_code == 303
    review = client.get("/checkout/review")
    return client, REQUEST_KEY.search(review.get_data(as_text=True)).group(1)


def placing(app, client, key: str) -> tuple[str, list[str]]:
    """→ (where placing sent the buyer, the statements of the place request alone)."""
    with recording_queries(app) as statements:
        placed = client.post("/checkout/place", data={"request_key": key})
    assert placed.status_code == 303
    return placed.headers["Location"], [" ".join(statement.split()) for statement in statements]


def place_statements(app, variant_ids: list[int]) -> list[str]:
    """The statements of placing a new buyer's order of one piece of each variant."""
    client, key = reviewed(app, variant_ids)
    location, statements = placing(app, client, key)
    assert "/checkout/pay/" in location
    return statements


def starting_with(statements: list[str], verb: str, table: str = "") -> list[str]:
    return [s for s in statements if s.upper().startswith(verb.upper()) and table in s]


def test_a_three_line_cart_places_in_a_fixed_number_of_statements(app, variant_ids):
    statements = place_statements(app, variant_ids[:3])

    assert len(starting_with(statements, "UPDATE variant")) == 3  # one per variant
    for table in ("stock_movement", "order_line"):
        assert len(starting_with(statements, f"INSERT INTO {table} ")) == rows_per_insert(app, 3)
    assert len([s for s in statements if not growing(s)]) == FIXED, statements


def test_more_lines_and_products_add_only_their_stock_updates(app, variant_ids):
    three = place_statements(app, variant_ids[:3])
    nine = place_statements(app, variant_ids[:3] + variant_ids[6:12])  # two products

    assert len(starting_with(nine, "UPDATE variant")) == 9
    for table in ("stock_movement", "order_line"):
        assert len(starting_with(nine, f"INSERT INTO {table} ")) == rows_per_insert(app, 9)
    assert len([s for s in nine if not growing(s)]) == FIXED
    assert len([s for s in three if not growing(s)]) == FIXED
    for table in ("order_event", "payment", "shop_order"):
        assert len(starting_with(nine, f"INSERT INTO {table} ")) == 1, table
    assert len(starting_with(nine, "DELETE FROM cart_line")) == 1


def test_placing_reads_nothing_it_has_just_written(app, variant_ids):
    statements = place_statements(app, variant_ids[:3])

    # A new order's events and payments are known empty; its reservation is written with
    # it; the cart's lines were loaded with the cart.
    assert not starting_with(statements, "SELECT", "FROM order_event")
    assert not starting_with(statements, "SELECT", "FROM payment")
    assert not starting_with(statements, "UPDATE shop_order")
    assert len(starting_with(statements, "SELECT", "FROM cart")) == 1
    assert not starting_with(statements, "SELECT", "FROM shop_order")  # the one-time key


def test_the_form_sent_again_looks_its_key_up_and_gives_back_the_same_order(app, variant_ids):
    client, key = reviewed(app, variant_ids[:2])
    before = app.test_client()  # the same browser, with the cookies from before placing
    for cookie in client._cookies.values():
        before.set_cookie(cookie.key, cookie.value, domain=cookie.domain, path=cookie.path)
    first, _ = placing(app, client, key)

    again, statements = placing(app, before, key)

    assert again == first and "/checkout/pay/" in first
    assert len(starting_with(statements, "SELECT", "FROM shop_order")) == 1
    assert not starting_with(statements, "INSERT")
    assert not starting_with(statements, "UPDATE")
