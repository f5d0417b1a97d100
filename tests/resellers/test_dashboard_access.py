"""Who may open the reseller's dashboard and change their packing slip: only the window's
own reseller. Anonymous visitors sign in first; a customer without a window finds
nothing; another reseller sees only their own; staff have no window here."""

import pytest

from shop.resellers.models import ResellerTerms
from tests.accounts.helpers import login, make_user
from tests.helpers.resellers import make_reseller
from tests.helpers.window_rows import window_order

DASHBOARD = "/account/window/dashboard"
SLIP = "/account/window/slip"


@pytest.fixture
def world(session):
    ann = make_reseller(session)
    make_reseller(session, email="bo@example.com", handle="bo-shop")
    order = window_order(session, ann)
    session.commit()
    return ann, order


@pytest.mark.parametrize(
    ("role", "status"),
    [
        ("anonymous", 302),
        ("customer", 404),
        ("other_reseller", 200),
        ("warehouse", 403),
        ("manager", 403),
        ("owner", 403),
        ("reseller", 200),
    ],
)
def test_only_the_reseller_sees_their_dashboard(client, session, sign_in, world, role, status):
    ann, order = world
    if role in ("warehouse", "manager", "owner"):
        sign_in(role)
    elif role != "anonymous":
        email = {
            "customer": "someone@example.com",
            "other_reseller": "bo@example.com",
            "reseller": "reseller@example.com",
        }[role]
        if role == "customer":
            make_user(session, email=email)
        assert login(client, email=email).status_code == 302
    response = client.get(DASHBOARD)
    assert response.status_code == status
    if status == 302:
        assert "/account/login" in response.headers["Location"]
    assert (order.number in response.text) is (role == "reseller")
    answer = client.post(SLIP, data={"blind_slip": "y", "request_key": "k" * 20})
    assert answer.status_code == (302 if status == 200 else status)
    session.expire_all()
    # Ann's choice is Ann's alone: only her own post made her terms.
    assert (session.get(ResellerTerms, ann.id) is not None) is (role == "reseller")
