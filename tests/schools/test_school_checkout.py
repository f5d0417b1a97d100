"""Children's kits in the cart, school prices, and delivery to school on its next round."""

import re
from datetime import timedelta

import pytest
import sqlalchemy as sa

from shop.cart import service
from shop.cart.models import Cart, CartLine
from shop.cart.pricing import price_cart
from shop.db import utcnow
from shop.orders.models import Order
from tests.accounts.helpers import login, make_user
from tests.checkout_helpers import PICKUP, place_order
from tests.factories import make_product
from tests.localstripe_server import register_webhook
from tests.school_factories import add_item, make_school

SCHOOL_DELIVERY = {**PICKUP, "delivery_method": "school", "recipient": "Wang Fang"}


@pytest.fixture
def app(make_app, stripe_settings, serve, localstripe):
    app = make_app(**stripe_settings)
    register_webhook(localstripe, serve(app) + "/stripe/webhook")
    return app


@pytest.fixture
def parent(session, client):
    user = make_user(session, email="parent@example.com")
    assert login(client, email="parent@example.com").status_code == 302
    return user


def kit(session, user, school, variant, **children):
    """Put ``{student: (class, quantity)}`` in the user's cart for ``school``."""
    cart_id = service.get_cart_id(session, user_id=user.id, token=None)
    if cart_id is None:
        cart_id, _token = service.create_cart(session, user_id=user.id)
    for student, (class_name, quantity) in children.items():
        service.add_to_cart(
            session,
            cart_id,
            {variant.id: quantity},
            school_id=school.id,
            student_name=student,
            class_name=class_name,
        )
    session.commit()
    return session.get(Cart, cart_id)


def test_each_childs_kit_is_its_own_line_and_the_stock_check_counts_them_all(session, parent):
    school = make_school(session)
    polo = make_product(session, on_hand=5)
    variant = polo.variants[0]
    cart = kit(session, parent, school, variant, Ming=("3A", 2), Hua=("1B", 2))

    lines = session.scalars(sa.select(CartLine).where(CartLine.cart_id == cart.id)).all()
    assert sorted((line.student_name, line.class_name, line.quantity) for line in lines) == [
        ("Hua", "1B", 2),
        ("Ming", "3A", 2),
    ]
    assert {line.school_id for line in lines} == {school.id}
    with pytest.raises(service.OutOfStock) as error:
        service.add_to_cart(
            session, cart.id, {variant.id: 2}, school_id=school.id, student_name="Lei"
        )
    assert error.value.available == 1  # 5 on hand, 4 in the other children's lines


def test_the_school_price_replaces_the_tiers_and_the_tier_counts_every_child(
    session, parent, client
):
    school = make_school(session)
    priced = make_product(session, tiers=((1, 8900), (4, 7900)))
    add_item(session, school, priced, school_price_amount=6500)
    tiered = make_product(session, tiers=((1, 5000), (4, 4000)))
    add_item(session, school, tiered)
    cart = kit(session, parent, school, priced.variants[0], Ming=("3A", 1), Hua=("1B", 1))
    kit(session, parent, school, tiered.variants[0], Ming=("3A", 2), Hua=("1B", 2))

    pricing = price_cart(session, cart, "CNY", "en")
    by_product = {group.product_id: group for group in pricing.groups}
    assert [line.unit_amount for line in by_product[priced.id].lines] == [6500, 6500]
    assert all(line.school_price for line in by_product[priced.id].lines)
    # Four pieces across two children reach the 4-piece tier.
    assert [line.unit_amount for line in by_product[tiered.id].lines] == [4000, 4000]
    assert pricing.total_amount == 2 * 6500 + 4 * 4000

    page = client.get("/cart").text
    # The cart reads as each child's kit; the school-priced item says so on its line.
    ming = page.split('data-testid="cart-child" data-student="Ming"')[1].split("</section>")[0]
    assert ming.count('data-testid="school-price"') == 1
    assert 'data-testid="next-tier"' not in page  # tiers do not apply to it

    # The school prices in its own currency only: in USD the catalogue applies (no tier).
    usd = price_cart(session, cart, "USD", "en")
    assert not usd.can_checkout


def test_update_and_remove_touch_only_the_named_childs_line(session, parent, client):
    school = make_school(session)
    variant = make_product(session).variants[0]
    cart = kit(session, parent, school, variant, Ming=("3A", 1), Hua=("1B", 1))
    ming, hua = sorted(cart.lines, key=lambda line: line.student_name, reverse=True)

    client.post("/cart/update", data={"line_id": ming.id, "quantity": 3})
    client.post("/cart/remove", data={"line_id": hua.id})
    session.expire_all()
    remaining = session.scalars(sa.select(CartLine).where(CartLine.cart_id == cart.id)).all()
    assert [(line.student_name, line.quantity) for line in remaining] == [("Ming", 3)]
    page = client.get("/cart").get_data(as_text=True)
    assert 'data-student="Ming"' in page


def test_a_school_cart_goes_to_the_school_on_its_next_round(session, parent, client):
    school = make_school(
        session,
        rounds_in_days=(2, 10, 30),
        delivery_line1="88 Xixi Road",
        delivery_postcode="310000",
    )
    # The first round's cut-off (two days before delivery... minus three) has passed.
    assert school.rounds[0].cutoff_at < utcnow()
    variant = make_product(session, tiers=((1, 8900),)).variants[0]
    kit(session, parent, school, variant, Ming=("3A", 1), Hua=("1B", 1))

    details = client.get("/checkout").get_data(as_text=True)
    assert re.search(r'<input checked[^>]*value="school"', details)  # chosen for them
    assert 'data-testid="school-round"' in details
    number = place_order(client, SCHOOL_DELIVERY)

    order = session.scalars(sa.select(Order).where(Order.number == number)).one()
    assert order.delivery_method == "school"
    assert order.school_id == school.id
    assert order.delivery_round_id == school.rounds[1].id
    assert (order.line1, order.postcode, order.recipient) == ("88 Xixi Road", "310000", "Wang Fang")
    assert order.shipping_amount == 0 and order.total_amount == 2 * 8900
    assert sorted((line.student_name, line.class_name) for line in order.lines) == [
        ("Hua", "1B"),
        ("Ming", "3A"),
    ]
    page = client.get(f"/orders/{number}").get_data(as_text=True)
    assert f'data-date="{school.rounds[1].delivery_date.isoformat()}"' in page
    assert "For Ming, class 3A" in page


def test_school_delivery_is_not_a_choice_without_an_open_round(session, parent, client):
    closed = make_school(session, rounds_in_days=(1,))  # cut-off two days ago
    variant = make_product(session).variants[0]
    kit(session, parent, closed, variant, Ming=("3A", 1))

    assert 'value="school"' not in client.get("/checkout").get_data(as_text=True)
    response = client.post("/checkout", data=SCHOOL_DELIVERY)
    assert response.status_code == 400
    assert 'data-testid="field-error"' in response.get_data(as_text=True)


def test_a_plain_cart_is_not_offered_school_delivery(session, parent, client):
    variant = make_product(session).variants[0]
    cart_id, _token = service.create_cart(session, user_id=parent.id)
    service.add_to_cart(session, cart_id, {variant.id: 1})
    session.commit()
    assert 'value="school"' not in client.get("/checkout").get_data(as_text=True)


def test_one_kit_line_does_not_make_a_retail_cart_go_with_the_school(session, parent, client):
    school = make_school(session, rounds_in_days=(10,))
    kit_variant = make_product(session, slug="kit-polo").variants[0]
    cart = kit(session, parent, school, kit_variant, Ming=("3A", 1))
    apron = make_product(session, slug="kitchen-apron").variants[0]
    service.add_to_cart(session, cart.id, {apron.id: 6})  # retail, for the family café
    session.commit()

    assert 'value="school"' not in client.get("/checkout").get_data(as_text=True)
    response = client.post("/checkout", data=SCHOOL_DELIVERY)
    assert response.status_code == 400


def test_a_round_that_closes_between_review_and_placing_is_refused(session, parent, client):
    school = make_school(session, rounds_in_days=(10,))
    variant = make_product(session).variants[0]
    kit(session, parent, school, variant, Ming=("3A", 1))
    assert client.post("/checkout", data=SCHOOL_DELIVERY).status_code == 303
    assert client.get("/checkout/review").status_code == 200
    school.rounds[0].cutoff_at = utcnow() - timedelta(minutes=1)
    session.commit()

    response = client.post("/checkout/place")
    assert response.headers["Location"].endswith("/checkout")
    assert session.scalars(sa.select(Order)).first() is None


def test_a_school_only_product_is_sold_only_for_its_school(session, parent, client):
    school = make_school(session)
    other = make_school(session)
    logo_polo = make_product(session, school_id=school.id)
    variant = logo_polo.variants[0]
    session.commit()

    response = client.post("/cart/add", data={"variant_id": variant.id, "quantity": 1})
    assert response.status_code == 303
    assert session.scalars(sa.select(CartLine)).first() is None
    cart_id, _token = service.create_cart(session, user_id=parent.id)
    with pytest.raises(service.UnknownVariant):
        service.add_to_cart(session, cart_id, {variant.id: 1}, school_id=other.id, student_name="A")
    service.add_to_cart(session, cart_id, {variant.id: 1}, school_id=school.id, student_name="A")
    lines = session.scalars(sa.select(CartLine).where(CartLine.cart_id == cart_id)).all()
    assert [line.variant_id for line in lines] == [variant.id]
