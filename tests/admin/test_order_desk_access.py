"""Who may do what on the order desk: every role against every page and every action.

Written out from the README's role table, independently of ``shop.admin.orders``. A
refused action answers 403 (or sends an anonymous visitor to the login page) and changes
nothing: not the order, not its timeline, not stock, no email.
"""

import pytest

from shop.orders import lifecycle
from tests.accounts.helpers import make_user
from tests.factories import make_product
from tests.helpers.admin import STAFF_ROLES
from tests.helpers.desk import card_paid_order, reload, snapshot
from tests.order_factories import make_order

EVERYONE = (*STAFF_ROLES, "customer", "anonymous")
ALL_STAFF = set(STAFF_ROLES)

MAY = {
    "production": {"owner", "manager", "service", "workshop"},
    "ready": {"owner", "manager", "service", "workshop"},
    "ship": {"owner", "manager", "warehouse"},
    "delivered": {"owner", "manager", "warehouse", "service"},
    "cancel": {"owner", "manager", "service"},
    "refund": {"owner", "manager", "service"},
    "note": ALL_STAFF,
    "reply": {"owner", "manager", "service"},
}

REQUEST_KEY = "k" * 32


def become(role, client, sign_in, session):
    if role == "anonymous":
        return None
    if role == "customer":
        make_user(session, email="someone@example.com", role="customer")
        from tests.accounts.helpers import login

        assert login(client, email="someone@example.com").status_code == 302
        return None
    return sign_in(role)


def arrange(action, allowed, app, session) -> tuple[str, dict]:
    """An order in which ``action`` makes sense, and the form that asks for it."""
    if action == "refund" and allowed:
        product = make_product(session, tiers=((1, 8900),), on_hand=10)
        session.commit()
        number = card_paid_order(app, product)
        return number, {"scope": "amount", "amount": "10.00", "request_key": REQUEST_KEY}
    order = make_order(
        session,
        lines=(("A", 2, 1000),),
        payment_status="unpaid" if action == "cancel" else "paid",
    )
    line_id = order.lines[0].id
    if action == "delivered":
        with app.test_request_context():
            lifecycle.ship(session, order, {line_id: 2}, carrier="dhl", tracking_number="D1")
    session.commit()
    data = {
        "production": {},
        "ready": {},
        "ship": {"carrier": "sf_express", "tracking_number": "SF100", f"qty-{line_id}": "2"},
        "delivered": {},
        "cancel": {"confirm": "y"},
        "refund": {"scope": "amount", "amount": "10.00", "request_key": REQUEST_KEY},
        "note": {"note": "Called the school"},
        "reply": {"body": "Your polos ship on Monday."},
    }[action]
    return order.number, data


def done(action, order) -> bool:
    checks = {
        "production": lambda: order.fulfilment_status == "in_production",
        "ready": lambda: order.fulfilment_status == "ready",
        "ship": lambda: order.fulfilment_status == "shipped" and len(order.shipments) == 1,
        "delivered": lambda: order.fulfilment_status == "delivered",
        "cancel": lambda: order.state == "cancelled",
        "refund": lambda: (
            (order.refunded_amount, order.payment_status) == (1000, "partially_refunded")
        ),
        "note": lambda: (
            (order.events[-1].kind, order.events[-1].visible_to_customer) == ("note", False)
        ),
        "reply": lambda: order.messages[-1].from_staff,
    }
    return checks[action]()


def role_and_action(role: str, action: str):
    """A refund that is allowed goes to Stripe: that case pays through localstripe first."""
    paid_by_card = action == "refund" and role in MAY[action]
    return pytest.param(role, action, marks=[pytest.mark.live] if paid_by_card else [])


@pytest.mark.parametrize(
    ("role", "action"),
    [role_and_action(role, action) for role in EVERYONE for action in sorted(MAY)],
)
def test_each_role_may_do_exactly_its_actions(app, client, session, sign_in, outbox, role, action):
    allowed = role in MAY[action]
    number, data = arrange(action, allowed, app, session)
    become(role, client, sign_in, session)
    before, mails_before = snapshot(app, number), len(outbox())

    response = client.post(f"/admin/orders/{number}/{action}", data=data)

    if allowed:
        assert response.status_code == 303, response.text
        assert response.headers["Location"].endswith(f"/admin/orders/{number}")
        assert done(action, reload(app, number))
        return
    if role == "anonymous":
        assert response.status_code == 302
        assert response.headers["Location"].startswith("/account/login?next=")
    else:
        assert response.status_code == 403
    assert snapshot(app, number) == before
    assert len(outbox()) == mails_before


@pytest.mark.parametrize("role", EVERYONE)
def test_the_list_the_order_page_and_the_csv_are_for_staff(app, client, session, sign_in, role):
    number = make_order(session).number
    session.commit()
    become(role, client, sign_in, session)
    for path in ("/admin/orders", f"/admin/orders/{number}", "/admin/orders.csv"):
        response = client.get(path)
        if role in ALL_STAFF:
            assert response.status_code == 200, (role, path)
        elif role == "customer":
            assert response.status_code == 403, path
            assert 'data-testid="order-number"' not in response.text
        else:
            assert response.status_code == 302, path
            assert response.headers["Location"].startswith("/account/login?next=/admin/")


FORMS = {
    "production": "production-form",
    "ready": "ready-form",
    "ship": "ship-form",
    "cancel": "cancel-form",
    "refund": "refund-form",
    "note": "note-form",
    "reply": "reply-form",
}


@pytest.mark.parametrize("role", STAFF_ROLES)
def test_the_order_page_shows_only_the_forms_the_role_may_use(app, client, session, sign_in, role):
    # Paid, unfulfilled: production, ready, ship, cancel, refund, note and reply all make
    # sense (delivery does not, until it ships).
    order = make_order(session, lines=(("A", 2, 1000),))
    session.commit()
    sign_in(role)
    page = client.get(f"/admin/orders/{order.number}").text
    for action, testid in FORMS.items():
        assert (f'data-testid="{testid}"' in page) is (role in MAY[action]), (role, action)
    assert 'data-testid="delivered-form"' not in page


def test_mark_delivered_is_offered_once_shipped(app, client, session, sign_in):
    order = make_order(session, lines=(("A", 1, 1000),))
    with app.test_request_context():
        lifecycle.ship(session, order, {order.lines[0].id: 1}, carrier="dhl", tracking_number="1")
    session.commit()
    for role in ("warehouse", "service", "workshop"):
        sign_in(role)
        page = client.get(f"/admin/orders/{order.number}").text
        assert ('data-testid="delivered-form"' in page) is (role in MAY["delivered"]), role
