"""The reseller's price page (``/account/window/prices``): who may open it, one press is one
save, and no input — out of bounds, malformed, forged — gives anything but a form error."""

import re

import pytest
import sqlalchemy as sa

from shop.audit.models import AuditEntry
from shop.resellers.models import ResellerPrice
from tests.accounts.helpers import login, make_user
from tests.at_once import send_at_once
from tests.helpers.resellers import POLO_PRICES, two_price_windows, use_money_model

KEY = "k" * 32
FACTORY = POLO_PRICES
LIMITS = {"CNY": "CN¥115.70", "JPY": "¥2,340 (tax incl.)", "SGD": "S$25.87", "USD": "US$16.25"}


@pytest.fixture
def world(session):
    return two_price_windows(session)


def saved(session) -> dict[str, int]:
    session.expire_all()
    return {row.currency: row.unit_amount for row in session.scalars(sa.select(ResellerPrice))}


def saves(session) -> int:
    return session.scalar(sa.select(sa.func.count()).where(AuditEntry.action == "reseller.prices"))


def flashes(client) -> list[str]:
    with client.session_transaction() as browser:
        return [message for _category, message in browser.pop("_flashes", [])]


def as_ann(client):
    assert login(client, email="reseller@example.com").status_code == 302
    client.get("/account/window")  # the welcome message, shown and gone


def post(client, product_id, fields, key=KEY):
    data = {"request_key": key, **fields} if key else dict(fields)
    return client.post(f"/account/window/prices/{product_id}", data=data)


def test_the_page_lists_each_pick_with_factory_price_cap_and_own_price(client, session, world):
    as_ann(client)
    assert 'data-testid="prices-link"' in client.get("/account/window").text
    post(client, world["polo"], {"price-CNY": "99", "price-USD": "15.00"})
    assert flashes(client) == ["Your prices are saved."]
    page = client.get("/account/window/prices").text
    rows = re.findall(
        r'data-currency="(\w+)" data-factory="(\d+)" data-cap="(\d+)" data-own="(\d*)"', page
    )
    assert rows == [
        ("CNY", "8900", "11570", "9900"),
        ("JPY", "1800", "2340", ""),
        ("SGD", "1990", "2587", ""),
        ("USD", "1250", "1625", "1500"),
    ]
    assert 'name="price-CNY" inputmode="decimal" maxlength="14" value="99.00"' in page


@pytest.mark.parametrize("currency", sorted(FACTORY))
def test_above_the_cap_is_refused_naming_the_currency_and_the_cap(client, session, world, currency):
    as_ann(client)
    too_much = {"CNY": "115.71", "JPY": "2341", "SGD": "25.88", "USD": "16.26"}[currency]
    response = post(client, world["polo"], {f"price-{currency}": too_much})
    assert response.status_code == 303
    assert flashes(client) == [
        f"{currency}: the price cannot be above the cap, {LIMITS[currency]}."
    ]
    assert saved(session) == {}


def test_below_the_factory_price_is_refused_in_every_currency_at_once(client, session, world):
    as_ann(client)
    post(client, world["polo"], {"price-CNY": "88.99", "price-JPY": "1799", "price-SGD": "19.89",
                                 "price-USD": "12.49"})  # fmt: skip
    [message] = flashes(client)
    for currency in FACTORY:
        assert f"{currency}: the price cannot be below the factory’s price" in message
    assert saved(session) == {}


@pytest.mark.parametrize(
    ("fields", "product"),
    [
        ({"price-CNY": "99\x00"}, "polo"),
        ({"price-CNY": "9" * 40}, "polo"),
        ({"price-CNY": "1e400"}, "polo"),
        ({"price-CNY": "-99"}, "polo"),
        ({"price-CNY": "NaN"}, "polo"),
        ({"price-CNY": "99.001"}, "polo"),
        ({"price-JPY": "2000.5"}, "polo"),
        ({"price-EUR": "99"}, "polo"),
        ({"price-C\x00NY": "99"}, "polo"),
        ({"price-CNY": "99"}, "skirt"),  # Bo's pick
        ({}, "polo"),
    ],
)
def test_bad_input_is_a_form_error_never_a_500(client, session, world, fields, product):
    as_ann(client)
    response = post(client, world[product], fields)
    assert response.status_code in (303, 400)
    if response.status_code == 303:
        assert flashes(client)  # a form error, in words
    assert saved(session) == {}
    assert saves(session) == 0


def test_unknown_products_and_missing_keys_change_nothing(client, session, world):
    as_ann(client)
    for path_id in (0, 2**31, 2**70):
        assert post(client, path_id, {"price-CNY": "99"}).status_code in (303, 404)
    assert post(client, world["polo"], {"price-CNY": "99"}, key=None).status_code == 303
    assert flashes(client)[-1] == "Check the form and try again."
    assert saved(session) == {}


def test_the_same_form_again_saves_nothing_more(client, session, world):
    as_ann(client)
    post(client, world["polo"], {"price-CNY": "99"})
    post(client, world["polo"], {"price-CNY": "100"})  # the same key: a repeat
    assert saved(session) == {"CNY": 9900}
    assert saves(session) == 1


@pytest.mark.parametrize("n", [2, 5])
def test_saving_at_once_saves_once(app, client, session, world, n):
    as_ann(client)
    answers = send_at_once(
        app, client, n, "POST", f"/account/window/prices/{world['polo']}",
        {"request_key": KEY, "price-CNY": "99.50"},
    )  # fmt: skip
    assert {answer.status for answer in answers} == {303}
    assert saved(session) == {"CNY": 9950}
    assert saves(session) == 1


def test_a_referral_window_is_told_it_sets_no_prices(client, session, world):
    use_money_model(session, world["ann"], "referral")
    as_ann(client)
    assert 'data-testid="no-prices"' in client.get("/account/window/prices").text
    post(client, world["polo"], {"price-CNY": "99"})
    assert "it sets no prices of its own" in flashes(client)[0]
    assert saved(session) == {}


ROLES = ("anonymous", "customer", "other_reseller", "warehouse", "manager", "reseller")


@pytest.mark.parametrize("role", ROLES)
def test_who_may_open_and_post_the_price_page(client, session, sign_in, world, role):
    if role in ("warehouse", "manager"):
        sign_in(role)
    elif role == "customer":
        make_user(session, email="someone@example.com")
        assert login(client, email="someone@example.com").status_code == 302
    elif role == "other_reseller":
        assert login(client, email="bo@example.com").status_code == 302
    elif role == "reseller":
        as_ann(client)
    page = client.get("/account/window/prices")
    answer = post(client, world["polo"], {"price-CNY": "99"}, key="r" * 32)
    expected_get, expected_post = {
        "anonymous": (302, 302),
        "customer": (404, 404),
        "other_reseller": (200, 303),  # Bo's own page; Ann's pick is refused
        "warehouse": (403, 403),
        "manager": (403, 403),
        "reseller": (200, 303),
    }[role]
    assert (page.status_code, answer.status_code) == (expected_get, expected_post)
    if role == "anonymous":
        assert "/account/login" in page.headers["Location"]
    if role == "other_reseller":
        assert "Polo" not in page.text
    assert saved(session) == ({"CNY": 9900} if role == "reseller" else {})
