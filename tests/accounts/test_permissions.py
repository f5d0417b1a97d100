"""The role → permission table, walked in full through the one decorator."""

import pytest
from flask import Blueprint

from shop.accounts.access import require_permission
from shop.accounts.permissions import PERMISSIONS, ROLE_PERMISSIONS, ROLES, has_permission
from tests.accounts.helpers import login, make_user

# The README's table, written out independently of the code.
EXPECTED = {
    "owner": set(PERMISSIONS),
    "manager": set(PERMISSIONS) - {"staff.manage"},
    "warehouse": {"admin.access", "stock.manage", "orders.view", "shipping.manage"},
    "service": {
        "admin.access",
        "orders.view",
        "orders.manage",
        "customers.view",
        "messages.manage",
    },
    "workshop": {"admin.access", "orders.view", "production.manage"},
    "customer": set(),
    "school_admin": set(),  # only their own school's pages, through shop.schools.access
}


@pytest.mark.parametrize("role", ROLES)
def test_role_table(role):
    assert set(ROLE_PERMISSIONS[role]) == EXPECTED[role]


def test_unknown_permission_is_a_programming_error():
    with pytest.raises(ValueError):
        require_permission("orders.delete_everything")


@pytest.fixture
def guarded_app(make_app):
    app = make_app()
    bp = Blueprint("guarded", __name__)
    for permission in PERMISSIONS:
        endpoint = permission.replace(".", "_")
        bp.add_url_rule(
            f"/_guarded/{permission}",
            endpoint,
            require_permission(permission)(lambda: "allowed"),
        )
    app.register_blueprint(bp)
    return app


@pytest.mark.parametrize("role", ROLES)
def test_every_role_against_every_permission(guarded_app, session_factory, role):
    with session_factory(guarded_app) as session:
        make_user(session, role=role)
    client = guarded_app.test_client()
    login(client)
    for permission in PERMISSIONS:
        response = client.get(f"/_guarded/{permission}")
        if permission in EXPECTED[role]:
            assert response.status_code == 200, (role, permission)
        else:
            assert response.status_code == 403, (role, permission)
            assert "You do not have permission" in response.text


def test_anonymous_visitors_are_sent_to_login_with_next(guarded_app):
    response = guarded_app.test_client().get("/_guarded/orders.view?x=1")
    assert response.status_code == 302
    assert response.headers["Location"] == "/account/login?next=/_guarded/orders.view?x%3D1"


def test_inactive_user_has_no_permission():
    class Someone:
        is_authenticated = True
        is_active = False
        role = "owner"

    assert not has_permission(Someone(), "admin.access")


def test_admin_home_shows_the_role(client, session):
    make_user(session, role="workshop")
    login(client)
    text = client.get("/admin/").text
    assert 'data-role="workshop"' in text
    assert 'data-permission="production.manage"' in text
    assert 'data-permission="staff.manage"' not in text
