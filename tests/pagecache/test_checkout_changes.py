"""Stock moved by buyers and by the order desk — placing an order, its reservation
expiring, a card payment, a refund — shows on the next visitor's product page and school
shop, through localstripe as in the checkout tests."""

import pytest

from tests.checkout_helpers import add_to_cart, place_order
from tests.factories import make_product
from tests.helpers.desk import card_paid_order, reload, request_key_on
from tests.helpers.pagecache import available, behind_the_cache, mark_product, school_sizes
from tests.localstripe_server import register_webhook
from tests.school_factories import add_item, make_school

PAGES = ("/products/polo", "/schools/greenfield")


@pytest.fixture
def app(cache_app, store_kind, stripe_settings, serve, localstripe):
    """The shop wired to localstripe (served, so webhooks arrive); reservations run out at
    once, so ``expire-reservations`` has something to expire."""
    app = cache_app(store_kind, **stripe_settings, RESERVATION_MINUTES=0)
    register_webhook(localstripe, serve(app) + "/stripe/webhook")
    return app


@pytest.fixture
def polo(session):
    product = make_product(session, slug="polo", name="Polo", tiers=((1, 8900),), on_hand=5)
    school = make_school(session, slug="greenfield")
    add_item(session, school, product)
    session.commit()
    return product


def expire(app) -> None:
    result = app.test_cli_runner().invoke(args=["expire-reservations"])
    assert result.exit_code == 0 and "Cancelled 1" in result.output, result.output


def test_an_order_placed_lowers_availability_and_its_expiry_gives_it_back(app, visitor, polo):
    sku = polo.variants[0].sku
    behind_the_cache(app, visitor, PAGES, mark_product("polo"))
    assert available(visitor.get("/products/polo").text) == {sku: "5"}

    buyer = app.test_client()
    add_to_cart(buyer, polo.variants[0].id, 5)
    place_order(buyer)

    assert available(visitor.get("/products/polo").text) == {sku: "0"}
    assert school_sizes(visitor.get("/schools/greenfield").text) == {"130": False}

    behind_the_cache(app, visitor, PAGES, mark_product("polo"))
    expire(app)

    assert available(visitor.get("/products/polo").text) == {sku: "5"}
    assert school_sizes(visitor.get("/schools/greenfield").text) == {"130": True}


def test_a_refund_that_returns_pieces_puts_them_back_on_the_page(
    app, client, visitor, sign_in, polo
):
    """A paid order's pieces stay sold; a refund of money alone changes nothing the
    pages show (and they stay right); a refund that returns a piece restocks it."""
    sku = polo.variants[0].sku
    number = card_paid_order(app, polo, quantity=2)
    line_id = reload(app, number).lines[0].id
    behind_the_cache(app, visitor, PAGES, mark_product("polo"))
    assert available(visitor.get("/products/polo").text) == {sku: "3"}
    sign_in("service")

    page = client.get(f"/admin/orders/{number}").text
    response = client.post(
        f"/admin/orders/{number}/refund",
        data={"request_key": request_key_on(page), "scope": "amount", "amount": "10.00"},
    )
    assert response.status_code == 303
    assert available(visitor.get("/products/polo").text) == {sku: "3"}

    behind_the_cache(app, visitor, PAGES, mark_product("polo"))
    page = client.get(f"/admin/orders/{number}").text
    response = client.post(
        f"/admin/orders/{number}/refund",
        data={
            "request_key": request_key_on(page),
            "scope": "amount",
            "amount": "20.00",
            f"return-{line_id}": "1",
        },
    )
    assert response.status_code == 303

    assert available(visitor.get("/products/polo").text) == {sku: "4"}
    assert "4 in stock" in visitor.get("/products/polo").text


def test_an_expiry_run_from_cron_in_another_process_shows_at_once(
    cache_app, store_kind, stripe_settings, serve, localstripe, visitor, polo, request
):
    """The cron job is another process: an app of its own on the same settings."""
    web = visitor.application
    settings = {"PAGE_CACHE_NAMESPACE": web.config["PAGE_CACHE_NAMESPACE"]}
    cron = cache_app(store_kind, **stripe_settings, RESERVATION_MINUTES=0, **settings)
    buyer = web.test_client()
    add_to_cart(buyer, polo.variants[0].id, 5)
    place_order(buyer)
    behind_the_cache(web, visitor, PAGES, mark_product("polo"))
    assert available(visitor.get("/products/polo").text) == {polo.variants[0].sku: "0"}

    expire(cron)

    assert available(visitor.get("/products/polo").text) == {polo.variants[0].sku: "5"}
