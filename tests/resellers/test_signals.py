"""Fraud signals on the order desk for orders through a window: many orders from one
address or one card, the reseller buying through their own window, a refund soon after
the commission was approved — each on, and each off when the rule is not met."""

import re
from datetime import timedelta

import pytest
import sqlalchemy as sa

from shop.accounts.models import User
from shop.db import utcnow
from shop.orders.models import Order
from shop.payments.models import Refund
from shop.resellers.models import Reseller
from shop.resellers.signals import MANY_ORDERS, order_signals
from tests.helpers.resellers import make_reseller
from tests.helpers.window_rows import commission, window_order
from tests.order_factories import make_order

ADDRESS = {
    "delivery_method": "courier",
    "country": "CN",
    "postcode": "215000",
    "line1": "8 Lake Rd",
}


@pytest.fixture
def windows(session):
    return make_reseller(session), make_reseller(session, email="bo@example.com", handle="bo-shop")


def kinds(session, order) -> list[str]:
    session.expire_all()
    return [signal.kind for signal in order_signals(session, session.get(Order, order.id))]


def with_card(order, brand="visa", last4="4242"):
    order.payments[0].card_brand, order.payments[0].card_last4 = brand, last4
    return order


def test_an_order_outside_any_window_has_no_signals(session, windows):
    order = make_order(session)
    assert order_signals(session, order) == []


def test_a_plain_window_order_has_none(session, windows):
    ann, _bo = windows
    order = window_order(session, ann, **ADDRESS)
    session.commit()
    assert kinds(session, order) == []


def test_many_orders_from_one_address(session, windows):
    ann, _bo = windows
    orders = [window_order(session, ann, days_ago=days, **ADDRESS) for days in (0, 2)]
    session.commit()
    assert kinds(session, orders[0]) == []  # two are not many
    third = window_order(session, ann, days_ago=5, **{**ADDRESS, "line1": " 8 LAKE rd "})
    session.commit()
    assert kinds(session, orders[0]) == ["same_address"]
    [signal] = order_signals(session, session.get(Order, third.id))
    assert (signal.kind, signal.count, signal.days) == ("same_address", MANY_ORDERS, 7)


@pytest.mark.parametrize(
    "third",
    [
        {"days_ago": 9},  # too long before
        {"other_window": True},
        {"line1": "9 Lake Rd"},
        {"postcode": "215001"},
        {"delivery_method": "pickup"},
    ],
)
def test_the_address_signal_stays_off(session, windows, third):
    ann, bo = windows
    first = window_order(session, ann, **ADDRESS)
    window_order(session, ann, days_ago=1, **ADDRESS)
    owner = bo if third.pop("other_window", False) else ann
    days_ago = third.pop("days_ago", 2)
    window_order(session, owner, days_ago=days_ago, **{**ADDRESS, **third})
    session.commit()
    assert "same_address" not in kinds(session, first)


def test_many_orders_paid_with_one_card(session, windows):
    ann, bo = windows
    first = with_card(window_order(session, ann))
    with_card(window_order(session, ann, days_ago=3))
    with_card(window_order(session, ann, days_ago=4), last4="1111")  # another card
    with_card(window_order(session, bo))  # another window
    session.commit()
    assert kinds(session, first) == []
    with_card(window_order(session, ann, days_ago=6))
    session.commit()
    assert kinds(session, first) == ["same_card"]


def test_orders_without_card_details_raise_nothing(session, windows):
    ann, _bo = windows
    orders = [window_order(session, ann) for _ in range(4)]  # payments with no card known
    session.commit()
    assert kinds(session, orders[0]) == []


def test_the_reseller_buying_through_their_own_window(session, windows):
    ann, _bo = windows
    owner = session.get(User, ann.user_id)
    own = window_order(session, ann, user=owner, email=owner.email)
    guest = window_order(session, ann, email=owner.email.upper())
    stranger = window_order(session, ann, email="someone@example.com")
    session.commit()
    assert kinds(session, own) == ["own_account"]
    assert kinds(session, guest) == ["own_account"]
    assert kinds(session, stranger) == []


def refund(session, order, *, hours_after, approved_days_ago, status="succeeded"):
    approved_at = utcnow() - timedelta(days=approved_days_ago)
    commission(
        session,
        order_reseller(session, order),
        order,
        500,
        state="approved",
        approved_at=approved_at,
    )
    session.add(
        Refund(
            order_id=order.id,
            request_key=f"r-{order.id}",
            amount=100,
            status=status,
            created_at=approved_at + timedelta(hours=hours_after),
        )
    )
    session.commit()


def order_reseller(session, order):
    return session.get(Reseller, order.reseller_id)


@pytest.mark.parametrize(
    ("hours_after", "status", "raised"),
    [
        (12, "succeeded", True),
        (71, "pending", True),
        (80, "succeeded", False),  # more than 3 days after approval
        (-5, "succeeded", False),  # before approval
        (12, "failed", False),  # no money went back
    ],
)
def test_a_refund_soon_after_approval(session, windows, hours_after, status, raised):
    ann, _bo = windows
    order = window_order(session, ann)
    session.commit()
    refund(session, order, hours_after=hours_after, approved_days_ago=10, status=status)
    assert (kinds(session, order) == ["refund_after_approval"]) is raised


def test_a_refund_without_approval_raises_nothing(session, windows):
    ann, _bo = windows
    order = window_order(session, ann)
    commission(session, ann, order, 500)  # pending
    session.add(Refund(order_id=order.id, request_key="r-x", amount=100, status="succeeded"))
    session.commit()
    assert kinds(session, order) == []


def test_the_desk_shows_the_warnings(client, session, sign_in, windows):
    ann, _bo = windows
    owner = session.get(User, ann.user_id)
    orders = [with_card(window_order(session, ann, user=owner, **ADDRESS)) for _ in range(3)]
    plain = window_order(session, ann, email="someone@example.com")
    session.commit()
    sign_in("service")
    page = client.get(f"/admin/orders/{orders[0].number}").text
    assert re.findall(r'data-testid="window-signal" data-kind="(\w+)"', page) == [
        "same_address",
        "same_card",
        "own_account",
    ]
    assert "3 orders to this window within 7 days of this one go to the same address." in page
    plain_page = client.get(f"/admin/orders/{plain.number}").text
    assert 'data-testid="window-signals"' not in plain_page
    assert session.scalar(sa.select(sa.func.count(Order.id))) == 4
