"""A private school's shop: the access code (right, wrong, rate-limited), and who sees
it without the code."""

import re

import pytest

from shop.accounts.models import User
from shop.schools import access
from tests.accounts.helpers import login, make_user
from tests.factories import make_product
from tests.school_factories import add_item, add_member, make_school

CODE = "Maple-2026"
WRONG = "That code is not right."


@pytest.fixture
def app(make_app):
    return make_app(RATE_LIMIT_SCHOOL_CODE="3 per 15 minutes")


@pytest.fixture
def school(session):
    school = make_school(session, slug="maple", name="Maple School", access_code=CODE)
    add_item(session, school, make_product(session, slug="maple-polo", name="Maple polo"))
    session.commit()
    return school


def is_open(response) -> bool:
    return 'data-testid="uniform-item"' in response.text


def test_private_shop_asks_for_the_code(client, school):
    response = client.get("/schools/maple")
    assert response.status_code == 200
    assert 'data-testid="access-code-form"' in response.text
    assert 'data-locked="true"' in response.text
    assert not is_open(response)
    assert "maple-polo" not in response.text


def test_right_code_opens_the_shop_and_is_remembered(client, school):
    response = client.post("/schools/maple/unlock", data={"code": CODE})
    assert response.status_code == 303
    assert response.headers["Location"].endswith("/schools/maple")
    assert is_open(client.get("/schools/maple"))
    with client.session_transaction() as flask_session:
        assert flask_session[access.SESSION_KEY] == [school.id]


@pytest.mark.parametrize("code", ["maple-2026", "Maple-2025", "", "x" * 500])
def test_wrong_code_says_so_without_a_hint(client, school, code):
    response = client.post("/schools/maple/unlock", data={"code": code})
    assert response.status_code == 400
    assert WRONG in response.text
    assert not is_open(response)
    assert not is_open(client.get("/schools/maple"))


def test_unlocking_one_school_does_not_open_another(client, school, session):
    make_school(session, slug="birch", access_code="Birch-1")
    session.commit()
    client.post("/schools/maple/unlock", data={"code": CODE})
    assert not is_open(client.get("/schools/birch"))


def test_tries_are_limited_per_school_even_with_the_right_code(client, school, session):
    make_school(session, slug="birch", access_code="Birch-1")
    session.commit()
    for _ in range(3):
        assert client.post("/schools/maple/unlock", data={"code": "guess"}).status_code == 400
    refused = client.post("/schools/maple/unlock", data={"code": CODE})
    assert refused.status_code == 429
    assert "Too many attempts" in refused.text
    assert not is_open(client.get("/schools/maple"))
    # Another school's form is counted on its own.
    assert client.post("/schools/birch/unlock", data={"code": "Birch-1"}).status_code == 303


def test_staff_who_manage_schools_see_a_private_shop(client, school, session):
    make_user(session, email="boss@factory.example", role="manager")
    login(client, email="boss@factory.example")
    assert is_open(client.get("/schools/maple"))


def test_staff_without_schools_manage_need_the_code(client, school, session):
    make_user(session, email="packer@factory.example", role="warehouse")
    login(client, email="packer@factory.example")
    assert not is_open(client.get("/schools/maple"))


def test_the_schools_own_admin_sees_it_but_not_another_schools_admin(client, school, session):
    other = make_school(session, slug="birch")
    bursar = make_user(session, email="bursar@maple.example", role="school_admin")
    stranger = make_user(session, email="bursar@birch.example", role="school_admin")
    add_member(session, school, session.get(User, bursar.id))
    add_member(session, other, session.get(User, stranger.id))
    session.commit()

    login(client, email="bursar@birch.example")
    assert not is_open(client.get("/schools/maple"))
    client.post("/account/logout")
    login(client, email="bursar@maple.example")
    assert is_open(client.get("/schools/maple"))


def test_code_form_needs_a_csrf_token(make_app, session):
    app = make_app(WTF_CSRF_ENABLED=True)
    make_school(session, slug="maple", access_code=CODE)
    session.commit()
    client = app.test_client()
    response = client.post("/schools/maple/unlock", data={"code": CODE})
    assert response.status_code == 400
    assert not is_open(client.get("/schools/maple"))


# --- a ceiling per school, over all addresses --------------------------------------------


@pytest.fixture
def ceiling_app(make_app):
    return make_app(
        RATE_LIMIT_SCHOOL_CODE="3 per 15 minutes", RATE_LIMIT_SCHOOL_CODE_TOTAL="5 per hour"
    )


def unlock_from(client, address: str, code: str, slug: str = "maple"):
    return client.post(
        f"/schools/{slug}/unlock", data={"code": code}, environ_base={"REMOTE_ADDR": address}
    )


def test_many_addresses_do_not_buy_many_guesses(ceiling_app, session_factory):
    with session_factory(ceiling_app) as session:
        make_school(session, slug="maple", access_code=CODE)
        make_school(session, slug="birch", access_code="Birch-1")
        session.commit()
    client = ceiling_app.test_client()
    for number in range(5):  # one or two guesses from each of five addresses
        assert unlock_from(client, f"198.51.100.{number}", "guess").status_code == 400
    refused = unlock_from(client, "192.0.2.1", CODE)  # a parent, first try, right code
    assert refused.status_code == 429
    assert "Too many attempts" in refused.text
    assert not is_open(client.get("/schools/maple", environ_base={"REMOTE_ADDR": "192.0.2.1"}))
    # another school's ceiling is its own
    assert unlock_from(client, "192.0.2.1", "Birch-1", slug="birch").status_code == 303


def test_staff_see_when_the_code_opens_again(ceiling_app, session_factory):
    with session_factory(ceiling_app) as session:
        school = make_school(session, slug="maple", access_code=CODE)
        make_user(session, email="boss@factory.example", role="manager")
        session.commit()
        page = f"/admin/schools/{school.id}"
    staff = ceiling_app.test_client()
    login(staff, email="boss@factory.example")
    assert 'data-testid="code-locked"' not in staff.get(page).text
    parents = ceiling_app.test_client()
    for number in range(4):
        unlock_from(parents, f"198.51.100.{number}", "guess")
    assert 'data-testid="code-locked"' not in staff.get(page).text  # one try left
    unlock_from(parents, "198.51.100.9", "guess")
    text = staff.get(page).text
    assert re.search(
        r'data-testid="code-locked">Access code locked after too many wrong tries until '
        r"[^<]*\b\d{2}:\d{2}\b",
        text,
    )
