"""The cart through the test client: adding, tiers across sizes, rules, bad input."""

import re

import pytest
import sqlalchemy as sa

from shop.cart.models import Cart, CartLine
from shop.catalog.models import Variant
from tests.accounts.helpers import login, make_user
from tests.factories import make_product


@pytest.fixture
def polo(session):
    return make_product(
        session,
        slug="polo",
        name="School polo",
        tiers=((1, 8900), (50, 7900), (200, 6900)),
        sizes=("110", "120", "130"),
        colours=("navy",),
        on_hand=100,
    )


@pytest.fixture
def overall(session):
    return make_product(
        session,
        slug="overall",
        name="Work overall",
        tiers=((10, 15000), (100, 13000)),
        sizes=("M", "L"),
        colours=("navy",),
        made_to_order=True,
        lead_time_days=20,
        min_order_quantity=10,
        order_increment=5,
        on_hand=0,
    )


def variant_ids(product):
    return [variant.id for variant in product.variants]


def cart_lines(session):
    session.expire_all()
    return sorted((line.variant_id, line.quantity) for line in session.scalars(sa.select(CartLine)))


def total(response) -> int:
    return int(re.search(r'data-testid="cart-total" data-amount="(\d+)"', response.text).group(1))


def flash_texts(client):
    with client.session_transaction() as browser:
        return [text for _, text in browser.get("_flashes", [])]


def test_add_one_variant_and_see_it_priced(client, session, polo):
    session.commit()
    first = variant_ids(polo)[0]
    response = client.post("/cart/add", data={"variant_id": first, "quantity": "3"})
    assert response.status_code == 303
    assert cart_lines(session) == [(first, 3)]
    page = client.get("/cart")
    assert total(page) == 3 * 8900
    assert 'data-testid="cart-count" data-count="3"' in page.text
    assert 'data-testid="next-tier" data-more="47"' in page.text


def test_tier_comes_from_the_total_across_sizes(client, session, polo):
    session.commit()
    a, b, c = variant_ids(polo)
    client.post("/cart/add", data={f"qty-{a}": "20", f"qty-{b}": "20", f"qty-{c}": "10"})
    assert cart_lines(session) == [(a, 20), (b, 20), (c, 10)]
    assert total(client.get("/cart")) == 50 * 7900


def test_grid_is_all_or_nothing(client, session, polo):
    session.commit()
    a, b, _ = variant_ids(polo)
    response = client.post("/cart/add", data={f"qty-{a}": "5", f"qty-{b}": "101"})
    assert response.status_code == 303
    assert cart_lines(session) == []
    assert flash_texts(client) == [
        f"Only 100 of {polo.variants[1].sku} left; your cart is unchanged."
    ]


@pytest.mark.parametrize("quantity", ["-1", "0", "1.5", "abc", "", "10000", "1e2"])
def test_bad_quantities_are_refused_with_a_message(client, session, polo, quantity):
    session.commit()
    client.post("/cart/add", data={"variant_id": variant_ids(polo)[0], "quantity": quantity})
    assert cart_lines(session) == []
    assert flash_texts(client) == ["Enter a whole number of pieces from 1 to 9,999."]


# Ids beyond PostgreSQL INTEGER (2**31) and SQLite's integers (2**63), and more digits
# than int() reads, are "no such item" like any other unknown id.
BEYOND_COLUMNS = [str(2**31), str(2**63), "9" * 5000]


@pytest.mark.parametrize("variant_id", ["999999", "abc", "-3", "", *BEYOND_COLUMNS])
def test_unknown_variants_are_refused(client, session, polo, variant_id):
    session.commit()
    client.post("/cart/add", data={"variant_id": variant_id, "quantity": "1"})
    assert cart_lines(session) == []
    assert flash_texts(client) == ["That item is not for sale."]


@pytest.mark.parametrize("variant_id", BEYOND_COLUMNS)
def test_a_grid_field_naming_an_id_beyond_the_columns_adds_nothing(
    client, session, polo, variant_id
):
    session.commit()
    first = variant_ids(polo)[0]
    client.post("/cart/add", data={f"qty-{first}": "2", f"qty-{variant_id}": "1"})
    assert cart_lines(session) == []
    assert flash_texts(client) == ["That item is not for sale."]


@pytest.mark.parametrize("field", ["line_id", "variant_id"])
@pytest.mark.parametrize("value", BEYOND_COLUMNS)
def test_updating_or_removing_a_line_beyond_the_columns_changes_nothing(
    client, session, polo, field, value
):
    session.commit()
    first = variant_ids(polo)[0]
    client.post("/cart/add", data={"variant_id": first, "quantity": "2"})
    client.get("/cart")  # the "added" message, shown and gone

    client.post("/cart/update", data={field: value, "quantity": "5"})
    client.post("/cart/remove", data={field: value})

    assert cart_lines(session) == [(first, 2)]
    assert flash_texts(client) == ["That item is not for sale."] * 2


def test_inactive_products_cannot_be_added_and_are_flagged_in_the_cart(client, session, polo):
    session.commit()
    first = variant_ids(polo)[0]
    client.post("/cart/add", data={"variant_id": first, "quantity": "2"})
    polo.active = False
    session.commit()
    client.post("/cart/add", data={"variant_id": first, "quantity": "1"})
    assert cart_lines(session) == [(first, 2)]  # nothing lost, nothing added
    page = client.get("/cart")
    assert 'data-code="inactive"' in page.text
    assert 'data-ready="false"' in page.text


def test_minimum_and_increment_are_flagged_not_refused(client, session, overall):
    session.commit()
    m, _ = variant_ids(overall)
    client.post("/cart/add", data={"variant_id": m, "quantity": "7"})
    page = client.get("/cart")
    assert 'data-code="below_moq"' in page.text and 'data-code="not_increment"' in page.text
    assert "The minimum order is 10 pieces in total: add 3 more." in page.text
    assert 'data-ready="false"' in page.text
    client.post("/cart/update", data={"variant_id": m, "quantity": "10"})
    page = client.get("/cart")
    assert 'data-ready="true"' in page.text
    assert total(page) == 10 * 15000


def test_made_to_order_has_no_stock_limit(client, session, overall):
    session.commit()
    client.post("/cart/add", data={"variant_id": variant_ids(overall)[0], "quantity": "500"})
    assert cart_lines(session)[0][1] == 500


def test_update_and_remove(client, session, polo):
    session.commit()
    a, b, _ = variant_ids(polo)
    client.post("/cart/add", data={f"qty-{a}": "2", f"qty-{b}": "3"})
    client.post("/cart/update", data={"variant_id": a, "quantity": "5"})
    assert cart_lines(session) == [(a, 5), (b, 3)]
    client.post("/cart/update", data={"variant_id": a, "quantity": "0"})
    assert cart_lines(session) == [(b, 3)]
    client.post("/cart/update", data={"variant_id": b, "quantity": "x"})
    assert cart_lines(session) == [(b, 3)]
    client.post("/cart/update", data={"variant_id": b, "quantity": "101"})
    assert cart_lines(session) == [(b, 3)]
    client.post("/cart/remove", data={"variant_id": b})
    assert cart_lines(session) == []
    assert "Your cart is empty." in client.get("/cart").text


def test_a_posted_price_is_ignored(client, session, polo):
    session.commit()
    client.post(
        "/cart/add",
        data={"variant_id": variant_ids(polo)[0], "quantity": "2", "price": "1", "currency": "JPY"},
    )
    page = client.get("/cart")
    assert total(page) == 2 * 8900
    assert 'data-currency="CNY"' in page.text


def test_guest_cart_merges_into_the_account_at_sign_in(client, session, polo):
    user = make_user(session)
    a, b, _ = variant_ids(polo)
    session.add(Cart(token="theirs", user_id=user.id, lines=[CartLine(variant_id=a, quantity=4)]))
    session.commit()
    client.post("/cart/add", data={f"qty-{a}": "3", f"qty-{b}": "2"})
    login(client)
    assert cart_lines(session) == [(a, 7), (b, 2)]
    assert session.scalar(sa.select(sa.func.count(Cart.id))) == 1
    assert 'data-count="9"' in client.get("/cart").text


def test_merge_never_exceeds_stock(client, session, polo):
    user = make_user(session)
    a = variant_ids(polo)[0]
    session.add(Cart(token="theirs", user_id=user.id, lines=[CartLine(variant_id=a, quantity=80)]))
    session.commit()
    client.post("/cart/add", data={"variant_id": a, "quantity": "50"})
    login(client)
    assert cart_lines(session) == [(a, 100)]


def test_carts_are_private(client, session, polo, app):
    session.commit()
    client.post("/cart/add", data={"variant_id": variant_ids(polo)[0], "quantity": "2"})
    stranger = app.test_client()
    assert "Your cart is empty." in stranger.get("/cart").text
    stranger.post("/cart/remove", data={"variant_id": variant_ids(polo)[0]})
    assert len(cart_lines(session)) == 1


def test_product_page_grid_posts_to_the_cart(client, session, polo):
    session.commit()
    text = client.get("/products/polo").text
    assert 'action="/cart/add"' in text
    for variant in polo.variants:
        assert f'name="qty-{variant.id}"' in text


def test_cart_forms_refuse_a_post_without_csrf_token(make_app, session_factory):
    app = make_app(WTF_CSRF_ENABLED=True)
    with session_factory(app) as session:
        product = make_product(session, slug="x")
        session.commit()
        variant_id = product.variants[0].id
    client = app.test_client()
    assert (
        client.post("/cart/add", data={"variant_id": variant_id, "quantity": 1}).status_code == 400
    )
    with session_factory(app) as session:
        assert session.scalar(sa.select(sa.func.count(CartLine.id))) == 0


def test_sold_out_variants_cannot_be_added(client, session):
    product = make_product(session, slug="sold-out", on_hand=0)
    session.commit()
    client.post("/cart/add", data={"variant_id": product.variants[0].id, "quantity": "1"})
    assert cart_lines(session) == []
    assert session.get(Variant, product.variants[0].id).allocated == 0
