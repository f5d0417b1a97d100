"""Placing an order runs a fixed number of SQL statements, whatever the cart holds.

The cart comes with its lines, variants and products in one query, the price tiers of all
its products in one more, and the order is a handful of inserts. Only the stock grows with
the cart: one conditional ``UPDATE`` (the race that prevents overselling) and one ledger row
per variant. No statement is sent per line or per product, and none reads back what the
request has just written. Counted on ``POST /checkout/place``; never timed.
"""

import re

import pytest

from tests.checkout_helpers import PICKUP, add_to_cart
from tests.factories import make_product
from tests.helpers.queries import recording_queries

REQUEST_KEY = re.compile(r'name="request_key"[^>]*value="([^"]+)"')
SIZES = ("110", "120", "130", "140", "150", "160")
# Beside the stock statements: the cart, the one-time key, the tiers, the order, its
# lines, its "placed" event and its payment attempt, emptying the cart, and what the
# page cache reads at commit; a few to spare.
FIXED_BOUND = 14


@pytest.fixture
def variant_ids(session) -> list[int]:
    """Twelve stocked variants over two products."""
    products = [
        make_product(session, slug=f"kit-{n}", sizes=SIZES, on_hand=50, tiers=((1, 8900),))
        for n in range(2)
    ]
    session.commit()
    return [variant.id for product in products for variant in product.variants]


def place_statements(app, variant_ids: list[int]) -> list[str]:
    """A new buyer puts one piece of each variant in the cart, reviews and places the
    order; → the statements of the place request alone."""
    client = app.test_client()
    for variant_id in variant_ids:
        assert add_to_cart(client, variant_id, 1).status_code == 303
    assert client.post("/checkout", data=PICKUP).status_code == 303
    review = client.get("/checkout/review")
    key = REQUEST_KEY.search(review.get_data(as_text=True)).group(1)
    with recording_queries(app) as statements:
        placed = client.post("/checkout/place", data={"request_key": key})
    assert placed.status_code == 303 and "/checkout/pay/" in placed.headers["Location"]
    return [" ".join(statement.split()) for statement in statements]


def starting_with(statements: list[str], verb: str, table: str = "") -> list[str]:
    return [s for s in statements if s.upper().startswith(verb.upper()) and table in s]


def test_a_three_line_cart_places_in_a_fixed_number_of_statements(app, variant_ids):
    statements = place_statements(app, variant_ids[:3])

    stock_updates = starting_with(statements, "UPDATE variant")
    ledger_rows = starting_with(statements, "INSERT INTO stock_movement")
    assert len(stock_updates) == 3  # one conditional UPDATE per variant
    assert len(ledger_rows) <= 3
    assert len(statements) - len(stock_updates) - len(ledger_rows) <= FIXED_BOUND, statements


def growing(statement: str) -> bool:
    """The statements a bigger cart may add: the stock's, and the lines' own rows (one
    INSERT for all of them where the driver batches, as psycopg does; one each on SQLite)."""
    return statement.upper().startswith(
        ("UPDATE VARIANT", "INSERT INTO STOCK_MOVEMENT", "INSERT INTO ORDER_LINE")
    )


def test_more_lines_and_products_add_only_their_stock_statements(app, variant_ids):
    three = place_statements(app, variant_ids[:3])
    nine = place_statements(app, variant_ids[:3] + variant_ids[6:12])  # two products

    assert len(starting_with(nine, "SELECT")) == len(starting_with(three, "SELECT"))
    assert len(starting_with(nine, "UPDATE variant")) == 9
    assert len(starting_with(nine, "INSERT INTO stock_movement")) <= 9
    assert len(starting_with(nine, "INSERT INTO order_line")) <= 9
    assert len([s for s in nine if not growing(s)]) == len([s for s in three if not growing(s)])


def test_placing_reads_nothing_it_has_just_written(app, variant_ids):
    statements = place_statements(app, variant_ids[:3])

    # A new order's events and payments are known empty; its reservation is written with
    # it; the cart's lines were loaded with the cart.
    assert not starting_with(statements, "SELECT", "FROM order_event")
    assert not starting_with(statements, "SELECT", "FROM payment")
    assert not starting_with(statements, "UPDATE shop_order")
    assert len(starting_with(statements, "SELECT", "FROM cart")) == 1
