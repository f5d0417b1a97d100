"""``/track``: a guest finds an order by its number and email, forgivingly typed; a wrong
guess says nothing about which half was wrong, and guessing is rate-limited."""

import re

import pytest

from shop.orders import access
from tests.checkout_helpers import COURIER_CN
from tests.factories import make_product
from tests.orders.customer_helpers import buy, stripe_app

NOT_FOUND = "We could not find an order with that number and email. Check both and try again."


@pytest.fixture
def app(make_app, stripe_settings, serve, localstripe):
    return stripe_app(make_app, stripe_settings, serve, localstripe)


@pytest.fixture
def number(client, session):
    """An order placed as a guest by buyer@example.com (in ``client``'s browser)."""
    product = make_product(session, slug="polo", name="Summer polo", on_hand=20)
    session.commit()
    return buy(client, product.variants[0].id, details=COURIER_CN)


def track(client, number, email):
    return client.post("/track", data={"number": number, "email": email})


def flash_texts(html: str) -> list[str]:
    return re.findall(r'data-testid="flash">([^<]*)<', html)


def sloppy(number: str) -> str:
    """How a person might type it: small letters, spaces for dashes, O for 0, I for 1."""
    return " " + number.lower().replace("-", " ").replace("0", "o").replace("1", "i") + " "


def test_the_form_is_there_for_guests(client):
    page = client.get("/track")
    assert page.status_code == 200
    assert 'name="number"' in page.text and 'name="email"' in page.text


def test_the_right_number_and_email_open_the_order_however_they_are_typed(app, number):
    guest = app.test_client()  # another browser: only /track can let it in
    assert guest.get(f"/orders/{number}").status_code == 404
    response = track(guest, sloppy(number), "  Buyer@Example.COM ")
    assert response.status_code == 303
    assert response.headers["Location"] == f"/orders/{number}"
    page = guest.get(f"/orders/{number}")
    assert page.status_code == 200 and f'data-testid="order-number">{number}<' in page.text
    with guest.session_transaction() as browser:
        assert browser[access.SESSION_KEY] == [number]


@pytest.mark.parametrize(
    "wrong",
    ["email", "number", "nonsense"],
)
def test_a_wrong_guess_says_the_same_whichever_half_was_wrong(app, number, wrong):
    guest = app.test_client()
    other_number = "SF-00000-00000" if number != "SF-00000-00000" else "SF-11111-11111"
    typed = {
        "email": (number, "someone.else@example.com"),
        "number": (other_number, "buyer@example.com"),
        "nonsense": ("hello", "buyer@example.com"),
    }[wrong]
    response = track(guest, *typed)
    assert response.status_code == 400
    assert flash_texts(response.text) == [NOT_FOUND]
    assert 'data-testid="field-error"' not in response.text
    assert guest.get(f"/orders/{number}").status_code == 404
    with guest.session_transaction() as browser:
        assert access.SESSION_KEY not in browser


def test_empty_fields_are_asked_for(client):
    response = client.post("/track", data={"number": "", "email": ""})
    assert response.status_code == 400
    assert response.text.count('data-testid="field-error"') == 2


def test_wrong_guesses_from_one_address_are_limited(make_app, stripe_settings, session):
    app = make_app(**stripe_settings, RATE_LIMIT_PER_ADDRESS="3 per 15 minutes")
    product = make_product(session, slug="polo", on_hand=5)
    session.commit()
    buyer = app.test_client()
    number = buy(buyer, product.variants[0].id)
    guesser = app.test_client()
    for _ in range(3):
        assert track(guesser, number, "wrong@example.com").status_code == 400
    refused = track(guesser, number, "buyer@example.com")  # even the right answer now
    assert refused.status_code == 429
    assert re.search(r"Too many attempts. Try again in \d+ minutes", refused.text)
    assert guesser.get(f"/orders/{number}").status_code == 404


def test_right_answers_do_not_count_towards_the_limit(make_app, stripe_settings, session):
    app = make_app(**stripe_settings, RATE_LIMIT_PER_ADDRESS="3 per 15 minutes")
    product = make_product(session, slug="polo", on_hand=5)
    session.commit()
    number = buy(app.test_client(), product.variants[0].id)
    guest = app.test_client()
    for _ in range(5):
        assert track(guest, number, "buyer@example.com").status_code == 303


def test_track_without_a_csrf_token_is_refused(make_app, session):
    client = make_app(WTF_CSRF_ENABLED=True).test_client()
    response = track(client, "SF-00000-00000", "buyer@example.com")
    assert response.status_code == 400 and "Form expired" in response.text
