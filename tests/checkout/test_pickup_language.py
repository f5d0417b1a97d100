"""The factory's address and pick-up instructions in the buyer's language (``FACTORY_*``
settings with ``_ZH``/``_JA`` beside them, the English one where a language has none):
at checkout, on the order page and in the "paid" email."""

from shop.locales import factory_setting
from shop.mail import build_message
from shop.orders import access
from tests.checkout_helpers import PICKUP, add_to_cart
from tests.factories import make_product
from tests.order_factories import make_order

WORDS = {
    "FACTORY_PICKUP_ADDRESS": "Gate 2, 18 Industrial Road, Foshan",
    "FACTORY_PICKUP_ADDRESS_JA": "佛山市工業路18号 2番ゲート",
    "FACTORY_PICKUP_ADDRESS_ZH": "",
    "FACTORY_PICKUP_INSTRUCTIONS": "Bring your order number.",
    "FACTORY_PICKUP_INSTRUCTIONS_JA": "ご注文番号をお持ちください。",
    "FACTORY_PICKUP_INSTRUCTIONS_ZH": "请携带订单号。",
}


def test_each_setting_falls_back_to_english():
    assert factory_setting(WORDS, "FACTORY_PICKUP_ADDRESS", "ja") == "佛山市工業路18号 2番ゲート"
    assert factory_setting(WORDS, "FACTORY_PICKUP_ADDRESS", "zh_Hans_CN") == (
        "Gate 2, 18 Industrial Road, Foshan"
    )
    assert factory_setting(WORDS, "FACTORY_PICKUP_INSTRUCTIONS", "zh_CN") == "请携带订单号。"
    assert factory_setting(WORDS, "FACTORY_PICKUP_INSTRUCTIONS", "en") == "Bring your order number."
    assert factory_setting(WORDS, "FACTORY_NAME", "ja") == ""


def test_a_shop_that_sets_its_own_english_words_never_shows_the_demo_factorys_translations(
    make_app,
):
    app = make_app(FACTORY_PICKUP_ADDRESS="9 Loom Street, Ningbo")
    assert app.config["FACTORY_PICKUP_ADDRESS_ZH"] == ""
    assert app.config["FACTORY_PICKUP_ADDRESS_JA"] == ""
    assert app.config["FACTORY_ADDRESS_ZH"]  # untouched: its English one is the default
    with app.app_context():
        assert (
            factory_setting(app.config, "FACTORY_PICKUP_ADDRESS", "ja") == "9 Loom Street, Ningbo"
        )


def test_checkout_review_shows_the_pickup_in_japanese(make_app, session_factory):
    app = make_app(**WORDS)
    client = app.test_client()
    with session_factory(app) as session:
        product = make_product(session, slug="polo")
        variant_id = product.variants[0].id
        session.commit()
    add_to_cart(client, variant_id, 1)
    assert client.post("/checkout", data=PICKUP).status_code == 303

    ja = client.get("/checkout/review?lang=ja").text
    assert "佛山市工業路18号 2番ゲート" in ja
    assert 'data-testid="pickup-instructions">ご注文番号をお持ちください。<' in ja
    zh = client.get("/checkout/review?lang=zh_CN").text
    assert "Gate 2, 18 Industrial Road, Foshan" in zh and "请携带订单号。" in zh
    details = client.get("/checkout?lang=ja").text
    assert "佛山市工業路18号 2番ゲート" in details


def test_the_order_page_and_the_paid_email_in_the_buyers_language(make_app, session_factory):
    app = make_app(**WORDS)
    with session_factory(app) as session:
        order = make_order(session, locale="ja")  # picked up at the factory
        session.commit()
        token = access.link_token(app.config["SECRET_KEY"], order)
        page = app.test_client().get(f"/orders/{order.number}?t={token}&lang=ja").text
        assert "佛山市工業路18号 2番ゲート" in page
        assert 'data-testid="pickup-instructions">ご注文番号をお持ちください。<' in page

        with app.test_request_context():
            message = build_message(
                order.email, "Paid", "order_paid", locale=order.locale, order=order, link="L"
            )
    text = message.get_body(("plain",)).get_content()
    html = message.get_body(("html",)).get_content()
    for body in (text, html):
        assert "佛山市工業路18号 2番ゲート" in body and "ご注文番号をお持ちください。" in body
