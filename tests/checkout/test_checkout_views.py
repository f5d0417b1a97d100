"""Checkout through its forms: details, review and placing the order, with every refusal."""

import pytest
import sqlalchemy as sa

from shop.cart.models import CartLine
from shop.catalog.models import PriceTier, Product, Variant
from shop.orders.models import Order
from tests.accounts.helpers import login, make_user
from tests.checkout_helpers import COURIER_CN, PICKUP, add_to_cart, load_order, place_order
from tests.factories import make_product
from tests.helpers.queries import recording_queries


@pytest.fixture
def polo(session):
    product = make_product(
        session, slug="polo", name="Summer polo", tiers=((1, 8900), (10, 7900)), on_hand=300
    )
    session.commit()
    return product


def flashes(client) -> list[str]:
    with client.session_transaction() as browser:
        return [message for _category, message in browser.get("_flashes", [])]


def order_count(session) -> int:
    return session.scalar(sa.select(sa.func.count(Order.id)))


def test_an_empty_cart_cannot_check_out(client):
    response = client.get("/checkout")
    assert response.status_code == 302 and response.headers["Location"].endswith("/cart")
    assert flashes(client) == ["Your cart is empty."]


def test_a_cart_with_problems_goes_back_to_the_cart(client, session):
    product = make_product(session, slug="socks", min_order_quantity=10)
    session.commit()
    add_to_cart(client, product.variants[0].id, 3)
    assert client.get("/checkout").headers["Location"].endswith("/cart")
    # Details that pass go to the review, which finds the problem.
    assert client.post("/checkout", data=PICKUP, follow_redirects=True).request.path == "/cart"
    assert client.post("/checkout/place").status_code == 303
    assert order_count(session) == 0


def test_details_that_pass_go_to_the_review_without_reading_the_cart(app, client, polo):
    """The review checks the cart; details that are refused, or ask for delivery to the
    school, read it (the refused page shows the cart's summary)."""
    add_to_cart(client, polo.variants[0].id, 2)
    for details in (PICKUP, COURIER_CN):
        with recording_queries(app) as statements:
            response = client.post("/checkout", data=details)
        assert response.headers["Location"].endswith("/checkout/review")
        assert statements == []

    with recording_queries(app) as statements:
        refused = client.post("/checkout", data={**COURIER_CN, "city": ""})
    assert refused.status_code == 400
    assert any("FROM cart" in statement for statement in statements)

    with recording_queries(app) as statements:
        school = client.post("/checkout", data={**PICKUP, "delivery_method": "school"})
    assert school.status_code == 400  # no school's kits in this cart: not a choice
    assert any("FROM cart" in statement for statement in statements)


def test_guests_check_out_and_signed_in_buyers_find_their_email_filled_in(client, session, polo):
    add_to_cart(client, polo.variants[0].id, 1)
    guest_page = client.get("/checkout").get_data(as_text=True)
    assert 'name="email"' in guest_page and 'value="ann@example.com"' not in guest_page
    make_user(session)
    login(client)
    add_to_cart(client, polo.variants[0].id, 1)
    signed_in = client.get("/checkout").get_data(as_text=True)
    assert 'value="ann@example.com"' in signed_in


@pytest.mark.parametrize(
    ("changes", "field_errors"),
    [
        ({"email": "not-an-email"}, ["like name@example.com"]),
        ({"region": "", "postcode": "12345"}, ["province or prefecture", "six-digit postcode"]),
        ({"phone": ""}, ["phone number"]),
        ({"country": "JP", "postcode": "12-34"}, ["like 123-4567"]),
        ({"country": "SG", "region": "", "postcode": "ABC"}, ["six-digit postcode"]),
        ({"city": "", "line1": ""}, ["This field is required.", "This field is required."]),
        ({"notes": "x" * 2001}, ["2000"]),
        ({"delivery_method": "drone"}, ["Not a valid choice"]),
    ],
)
def test_the_details_form_says_what_is_wrong(client, session, polo, changes, field_errors):
    add_to_cart(client, polo.variants[0].id, 1)
    response = client.post("/checkout", data={**COURIER_CN, **changes})
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert "Please correct the fields marked below." in page
    assert page.count('data-testid="field-error"') == len(field_errors)
    for text in field_errors:
        assert text in page
    assert client.get("/checkout/review").headers["Location"].endswith("/checkout")


def test_pick_up_needs_no_address_and_costs_nothing(app, client, polo):
    add_to_cart(client, polo.variants[0].id, 2)
    details = {"email": "ann@example.com", "delivery_method": "pickup", "recipient": "Ann"}
    assert client.post("/checkout", data=details).status_code == 303
    review = client.get("/checkout/review").get_data(as_text=True)
    assert 'data-testid="shipping" data-amount="0"' in review
    assert "Pick up at the factory" in review
    number = place_order(client, details)
    order = load_order(app, number)
    assert (order.delivery_method, order.shipping_amount, order.country) == ("pickup", 0, "")


@pytest.mark.parametrize(
    ("country", "region", "postcode", "pieces", "shipping"),
    [
        ("CN", "Guangdong", "528000", 2, 1500),
        ("CN", "Guangdong", "528000", 21, 4500),
        ("JP", "Osaka", "530-0001", 25, 24000),
        ("SG", "", "238823", 150, 52000),
        ("US", "CA", "94110", 5, 16000),
    ],
)
def test_the_courier_rate_follows_country_and_quantity(
    client, polo, country, region, postcode, pieces, shipping
):
    add_to_cart(client, polo.variants[0].id, pieces)
    details = {**COURIER_CN, "country": country, "region": region, "postcode": postcode}
    assert client.post("/checkout", data=details).status_code == 303
    review = client.get("/checkout/review").get_data(as_text=True)
    items = pieces * (7900 if pieces >= 10 else 8900)
    assert f'data-testid="shipping" data-amount="{shipping}"' in review
    assert f'data-testid="order-total" data-amount="{items + shipping}"' in review


def test_the_review_shows_every_line_and_the_totals(client, session):
    product = make_product(
        session, slug="tee", sizes=("120", "130", "140"), tiers=((1, 3000), (5, 2500))
    )
    session.commit()
    for variant, quantity in zip(product.variants, (1, 2, 3), strict=True):
        add_to_cart(client, variant.id, quantity)
    client.post("/checkout", data=COURIER_CN)
    review = client.get("/checkout/review").get_data(as_text=True)
    assert review.count('data-testid="summary-line"') == 3
    for variant, quantity in zip(product.variants, (1, 2, 3), strict=True):
        assert f'data-sku="{variant.sku}" data-quantity="{quantity}"' in review
    assert 'data-testid="order-total" data-amount="16500"' in review  # 6 × 25.00 + 15.00
    assert "buyer@example.com" in review and "18 Jihua Road" in review


def test_placing_snapshots_lines_allocates_stock_and_empties_the_cart(app, client, session, polo):
    variant = polo.variants[0]
    add_to_cart(client, variant.id, 12)
    number = place_order(client, COURIER_CN)
    order = load_order(app, number)
    [line] = order.lines
    assert (line.sku, line.product_name, line.unit_amount, line.quantity) == (
        variant.sku,
        "Summer polo",
        7900,
        12,
    )
    assert (order.subtotal_amount, order.shipping_amount) == (94800, 1500)
    assert order.reserved_until is not None and order.email == "buyer@example.com"
    session.expire_all()
    assert session.get(Variant, variant.id).allocated == 12
    assert session.scalar(sa.select(sa.func.count(CartLine.id))) == 0
    with client.session_transaction() as browser:
        assert browser["cart_count"] == 0
    # Later catalogue edits never change the order.
    product = session.get(Product, polo.id)
    product.name = "Renamed polo"
    session.execute(sa.update(PriceTier).values(unit_amount=1))
    session.commit()
    line = load_order(app, number).lines[0]
    assert (line.product_name, line.unit_amount) == ("Summer polo", 7900)


def test_posted_prices_totals_currencies_and_variants_are_never_charged(app, client, session, polo):
    add_to_cart(client, polo.variants[0].id, 2)
    tampered = {"price": "1", "unit_amount": "1", "total": "1", "total_amount": "1"}
    tampered |= {"currency": "JPY", "variant_id": "999999", "shipping_amount": "0"}
    assert client.post("/checkout", data={**COURIER_CN, **tampered}).status_code == 303
    client.get("/checkout/review")
    number = place_order(client, {**COURIER_CN, **tampered}, **tampered)
    order = load_order(app, number)
    assert (order.currency, order.subtotal_amount, order.total_amount) == ("CNY", 17800, 19300)
    assert [line.variant_id for line in order.lines] == [polo.variants[0].id]
    assert order.payments[0].amount == 19300 and order.payments[0].currency == "CNY"


def test_a_currency_switch_after_the_review_is_shown_not_charged(client, session, polo):
    session.add(PriceTier(product_id=polo.id, currency="USD", min_quantity=1, unit_amount=1299))
    session.commit()
    add_to_cart(client, polo.variants[0].id, 1)
    client.post("/checkout", data=PICKUP)
    client.get("/checkout/review")
    client.post("/preferences", data={"locale": "en", "currency": "USD", "next": "/"})
    response = client.post("/checkout/place")
    assert response.headers["Location"].endswith("/checkout/review")
    assert "changed since you reviewed" in flashes(client)[-1]
    assert order_count(session) == 0
    review = client.get("/checkout/review").get_data(as_text=True)
    assert 'data-amount="1299" data-currency="USD"' in review
    assert client.post("/checkout/place").headers["Location"].startswith("/checkout/pay/")


def test_a_price_change_after_the_review_is_shown_not_charged(client, session, polo):
    add_to_cart(client, polo.variants[0].id, 1)
    client.post("/checkout", data=PICKUP)
    client.get("/checkout/review")
    session.execute(sa.update(PriceTier).values(unit_amount=9900))
    session.commit()
    assert client.post("/checkout/place").headers["Location"].endswith("/checkout/review")
    assert order_count(session) == 0


def test_stock_sold_meanwhile_is_refused_with_how_many_are_left_and_the_cart_kept(
    client, session, polo
):
    variant = polo.variants[0]
    add_to_cart(client, variant.id, 5)
    client.post("/checkout", data=PICKUP)
    client.get("/checkout/review")
    session.execute(sa.update(Variant).where(Variant.id == variant.id).values(allocated=297))
    session.commit()
    response = client.post("/checkout/place")
    assert response.headers["Location"].endswith("/cart")
    assert flashes(client)[-1].startswith(f"Only 3 of {variant.sku} left")
    assert order_count(session) == 0
    assert session.scalar(sa.select(CartLine.quantity)) == 5
    session.expire_all()
    assert session.get(Variant, variant.id).allocated == 297


def test_made_to_order_items_are_ordered_without_holding_stock(app, client, session):
    product = make_product(session, slug="blazer", made_to_order=True, lead_time_days=21, on_hand=0)
    session.commit()
    add_to_cart(client, product.variants[0].id, 40)
    number = place_order(client)
    [line] = load_order(app, number).lines
    assert line.made_to_order and line.lead_time_days == 21 and not line.allocated
    session.expire_all()
    assert session.get(Variant, product.variants[0].id).allocated == 0


def test_an_inactive_product_blocks_checkout(client, session, polo):
    add_to_cart(client, polo.variants[0].id, 1)
    session.get(Product, polo.id).active = False
    session.commit()
    assert client.get("/checkout").headers["Location"].endswith("/cart")
    client.post("/checkout/place")
    assert order_count(session) == 0


def test_an_order_below_the_card_minimum_cannot_be_placed(client, session):
    product = make_product(session, slug="button", tiers=((1, 100),))
    session.commit()
    add_to_cart(client, product.variants[0].id, 1)
    client.post("/checkout", data=PICKUP)
    review = client.get("/checkout/review").get_data(as_text=True)
    assert "Card payments start at" in review and 'data-testid="place-order"' not in review
    assert client.post("/checkout/place").headers["Location"].endswith("/cart")
    assert order_count(session) == 0


def test_a_signed_in_buyers_order_is_theirs(app, client, session, polo):
    user = make_user(session)
    login(client)
    add_to_cart(client, polo.variants[0].id, 1)
    number = place_order(client)
    assert load_order(app, number).user_id == user.id


def test_when_stripe_does_not_answer_nothing_is_ordered_or_held(
    make_app, stripe_settings, session, polo
):
    app = make_app(**{**stripe_settings, "STRIPE_API_BASE": "http://127.0.0.1:9"})
    client = app.test_client()
    add_to_cart(client, polo.variants[0].id, 2)
    client.post("/checkout", data=PICKUP)
    client.get("/checkout/review")
    response = client.post("/checkout/place")
    assert response.headers["Location"].endswith("/checkout/review")
    assert "did not answer" in flashes(client)[-1]
    assert order_count(session) == 0
    session.expire_all()
    assert session.get(Variant, polo.variants[0].id).allocated == 0
    assert session.scalar(sa.select(CartLine.quantity)) == 2
