"""What a buyer sees of a window's prices: one price, never both. A visitor marked for a
'price' window sees and pays its price on the window, the product page, the listing, the
cart and checkout; an unmarked visitor, or one served by the page cache's fast path,
never does; a change shows at once; a 'referral' window shows the factory's prices."""

import re

import pytest
import sqlalchemy as sa

from shop.catalog.models import Product
from shop.orders.models import Order
from shop.resellers.models import Reseller
from tests.checkout_helpers import PICKUP, add_to_cart, place_order
from tests.factories import make_product
from tests.helpers.pagecache import card_prices, tier_amounts
from tests.helpers.resellers import add_picks, make_reseller, set_window_price, use_money_model


@pytest.fixture
def world(session):
    """Ann's 'price' window sells the polo at ¥99.00 (the factory: ¥89.00, ¥79.00 from 50);
    the skirt she picked has no price of hers."""
    ann = make_reseller(session)
    polo = make_product(session, slug="polo", tiers=((1, 8900), (50, 7900)), on_hand=200)
    skirt = make_product(session, slug="skirt", tiers=((1, 5000),))
    session.commit()
    add_picks(session, ann, [polo, skirt])
    use_money_model(session, ann, "price")
    set_window_price(session, ann, polo, "CNY", 9900)
    return {"ann": ann.id, "polo": polo.id, "variant": polo.variants[0].id}


def total(page: str, testid: str) -> int:
    return int(re.search(rf'data-testid="{testid}" data-amount="(\d+)"', page).group(1))


def test_a_marked_visitor_sees_the_windows_price_everywhere(app, session, world):
    buyer = app.test_client()
    window = buyer.get("/w/ann-picks").text
    assert card_prices(window) == {"polo": 9900, "skirt": 5000}
    assert "8900" not in window and "7900" not in window
    assert 'data-testid="window-own-prices"' in window
    assert tier_amounts(buyer.get("/products/polo").text) == [9900, 8788]
    assert card_prices(buyer.get("/products").text) == {"polo": 9900, "skirt": 5000}
    assert card_prices(buyer.get("/").text)["polo"] == 9900
    add_to_cart(buyer, world["variant"], 2)
    cart = buyer.get("/cart").text
    assert total(cart, "cart-total") == 19800
    assert "8900" not in cart
    assert buyer.post("/checkout", data=PICKUP).status_code == 303
    assert total(buyer.get("/checkout/review").text, "order-total") == 19800


def price_heading(page: str) -> str:
    return re.search(r'<h2 id="price-heading">(.*?)</h2>', page).group(1)


def test_the_product_page_never_calls_a_windows_price_the_factorys(app, session, world):
    marked = app.test_client()
    assert price_heading(marked.get("/products/polo?via=ann-picks").text) == "Prices"
    assert price_heading(marked.get("/products/skirt").text) == "Factory prices"  # no own
    stranger = app.test_client()
    assert price_heading(stranger.get("/products/polo").text) == "Factory prices"


def test_the_tiers_scale_in_the_cart(app, session, world):
    buyer = app.test_client()
    buyer.get("/products/polo?via=ann-picks")
    add_to_cart(buyer, world["variant"], 50)
    assert total(buyer.get("/cart").text, "cart-total") == 50 * 8788


def test_an_unmarked_visitor_sees_the_factorys_prices(app, session, world):
    marked = app.test_client()
    assert tier_amounts(marked.get("/products/polo?via=ann-picks").text) == [9900, 8788]
    stranger = app.test_client()
    assert tier_amounts(stranger.get("/products/polo").text) == [8900, 7900]
    assert card_prices(stranger.get("/products").text)["polo"] == 8900
    add_to_cart(stranger, world["variant"], 1)
    assert total(stranger.get("/cart").text, "cart-total") == 8900


def test_a_fast_path_hit_never_shows_a_windows_price(app, session, world, monkeypatch):
    fast = app.extensions["page_fast_path"]
    flask_app, reached = fast.wsgi_app, []

    def counting(environ, start_response):
        reached.append(environ["PATH_INFO"] + "?" + environ.get("QUERY_STRING", ""))
        return flask_app(environ, start_response)

    monkeypatch.setattr(fast, "wsgi_app", counting)
    first = app.test_client()
    assert tier_amounts(first.get("/products/polo").text) == [8900, 7900]  # cached, learnt
    marked = app.test_client()
    assert tier_amounts(marked.get("/products/polo?via=ann-picks").text) == [9900, 8788]
    assert tier_amounts(marked.get("/products/polo").text) == [9900, 8788]
    reached.clear()
    stranger = app.test_client()
    assert tier_amounts(stranger.get("/products/polo").text) == [8900, 7900]
    assert reached == []  # the fast path answered it, with the factory's price
    assert tier_amounts(marked.get("/products/polo").text) == [9900, 8788]
    assert reached == ["/products/polo?"]  # a marked visitor goes to Flask


def test_a_price_change_shows_at_once(app, session, world):
    buyer = app.test_client()
    assert tier_amounts(buyer.get("/products/polo?via=ann-picks").text) == [9900, 8788]
    assert tier_amounts(buyer.get("/products/polo").text) == [9900, 8788]
    ann = session.get(Reseller, world["ann"])
    set_window_price(session, ann, session.get(Product, world["polo"]), "CNY", 10500)
    assert tier_amounts(buyer.get("/products/polo").text) == [10500, 9320]
    assert tier_amounts(app.test_client().get("/products/polo").text) == [8900, 7900]


def test_a_referral_window_shows_the_factorys_prices(app, session, world):
    use_money_model(session, session.get(Reseller, world["ann"]), "referral")
    buyer = app.test_client()
    window = buyer.get("/w/ann-picks").text
    assert card_prices(window)["polo"] == 8900
    assert 'data-testid="window-own-prices"' not in window
    assert tier_amounts(buyer.get("/products/polo").text) == [8900, 7900]
    add_to_cart(buyer, world["variant"], 1)
    assert total(buyer.get("/cart").text, "cart-total") == 8900


def test_a_suspended_windows_prices_stop(app, session, world):
    buyer = app.test_client()
    buyer.get("/w/ann-picks")
    session.execute(sa.update(Reseller).values(status="suspended"))
    session.commit()
    assert tier_amounts(buyer.get("/products/polo").text) == [8900, 7900]


@pytest.mark.live
def test_the_order_charges_the_windows_price_and_keeps_the_factorys(app, session, world):
    buyer = app.test_client()
    buyer.get("/w/ann-picks")
    add_to_cart(buyer, world["variant"], 50)
    number = place_order(buyer, PICKUP)
    session.expire_all()
    order = session.scalar(sa.select(Order).where(Order.number == number))
    [line] = order.lines
    assert (line.unit_amount, line.factory_unit_amount, line.line_amount) == (8788, 7900, 439400)
    assert (order.reseller_id, order.reseller_model, order.reseller_earns) == (
        world["ann"],
        "price",
        True,
    )
    assert order.subtotal_amount == 439400


def test_visitors_of_two_windows_each_see_their_windows_price(app, session, world):
    bo = make_reseller(session, email="bo@example.com", handle="bo-shop")
    polo = session.get(Product, world["polo"])
    add_picks(session, bo, [polo])
    use_money_model(session, bo, "price")
    set_window_price(session, bo, polo, "CNY", 11000)
    ann_buyer, bo_buyer = app.test_client(), app.test_client()
    assert tier_amounts(ann_buyer.get("/products/polo?via=ann-picks").text)[0] == 9900
    assert tier_amounts(bo_buyer.get("/products/polo?via=bo-shop").text)[0] == 11000
    assert tier_amounts(ann_buyer.get("/products/polo").text)[0] == 9900
    assert tier_amounts(bo_buyer.get("/products/polo").text)[0] == 11000
