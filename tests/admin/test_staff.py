"""Staff (``/admin/staff``, owner only): invite, change role, deactivate — each with its
audit row — and the refusals, which say why and change nothing."""

import html
import re

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session

from shop.accounts import staff as rules
from shop.accounts.models import User
from shop.audit.models import AuditEntry
from tests.accounts.helpers import PASSWORD, link_in, login, make_user
from tests.helpers.admin import STAFF_ROLES


def people(app) -> list[tuple]:
    """Every account as the database has it now."""
    with Session(app.extensions["sa_engine"]) as session:
        return [
            (user.email, user.role, user.active)
            for user in session.scalars(sa.select(User).order_by(User.id))
        ]


def audit_rows(app) -> list[tuple]:
    with Session(app.extensions["sa_engine"]) as session:
        return [
            (e.actor_user_id, e.action, e.target_type, e.target_id, e.before, e.after)
            for e in session.scalars(sa.select(AuditEntry).order_by(AuditEntry.id))
        ]


def flashes(page: str) -> list[str]:
    return [
        re.sub(r"\s+", " ", html.unescape(text)).strip()
        for text in re.findall(r'data-testid="flash">(.*?)</p>', page, re.S)
    ]


# --- who may open the page ---------------------------------------------------------------

PAGES = ("/admin/staff", "/admin/audit")


@pytest.mark.parametrize("path", PAGES)
@pytest.mark.parametrize("role", [*STAFF_ROLES, "customer", "anonymous"])
def test_only_the_owner_opens_staff_and_audit(path, role, client, session, sign_in):
    if role == "customer":
        make_user(session, email="c@example.com")
        login(client, email="c@example.com")
    elif role != "anonymous":
        sign_in(role)

    response = client.get(path)

    if role == "anonymous":
        assert response.status_code == 302
        assert response.headers["Location"].startswith("/account/login")
    else:
        assert response.status_code == (200 if role == "owner" else 403)


@pytest.mark.parametrize("role", ["manager", "warehouse", "service", "workshop", "customer"])
def test_every_staff_action_is_refused_to_anyone_but_the_owner(role, app, client, session):
    target = make_user(session, email="target@factory.example", role="service")
    make_user(session, email="me@factory.example", role=role)
    login(client, email="me@factory.example")
    before = people(app)

    for path, data in (
        ("/admin/staff/invite", {"email": "new@factory.example", "role": "owner"}),
        (f"/admin/staff/{target.id}/role", {f"u{target.id}-role": "owner"}),
        (f"/admin/staff/{target.id}/deactivate", {}),
    ):
        assert client.post(path, data=data).status_code == 403

    assert people(app) == before
    assert audit_rows(app) == []


def test_anonymous_posts_go_to_the_login_page(app, client, session):
    target = make_user(session, email="target@factory.example", role="service")
    response = client.post(f"/admin/staff/{target.id}/deactivate")
    assert response.status_code == 302
    assert people(app) == [("target@factory.example", "service", True)]


# --- invite ------------------------------------------------------------------------------


def test_invite_creates_the_account_and_emails_a_set_password_link(
    app, client, session, sign_in, outbox
):
    owner = sign_in("owner")

    response = client.post(
        "/admin/staff/invite",
        data={"email": "Lin@Factory.Example", "name": "Lin", "role": "warehouse"},
    )

    assert response.status_code == 302
    page = client.get(response.headers["Location"]).text
    assert flashes(page) == ["Invited Lin@factory.example; a set-password link is on its way."]
    assert ("Lin@factory.example", "warehouse", True) in people(app)
    [message] = outbox()
    assert message["To"] == "Lin@factory.example"
    link = link_in(message)
    assert link.startswith("/account/reset/")
    with Session(app.extensions["sa_engine"]) as fresh:
        new_id = fresh.scalars(sa.select(User.id).where(User.email == "Lin@factory.example")).one()
    assert audit_rows(app) == [
        (
            owner.id,
            "staff.invite",
            "user",
            str(new_id),
            None,
            {"email": "Lin@factory.example", "name": "Lin", "role": "warehouse", "active": True},
        )
    ]
    # the link works: Lin chooses a password and signs in
    new_password = "a long new password 42"
    client.post("/account/logout")
    answer = client.post(link, data={"password": new_password, "confirm": new_password})
    assert answer.status_code == 302
    assert login(client, email="Lin@factory.example", password=new_password).status_code == 302
    assert client.get("/admin/").status_code == 200


def test_inviting_an_existing_deactivated_member_reactivates_them_with_the_role(
    app, client, session, sign_in, outbox
):
    make_user(session, email="old@factory.example", role="service", active=False)
    owner = sign_in("owner")

    response = client.post(
        "/admin/staff/invite", data={"email": "old@factory.example", "role": "manager"}
    )

    assert response.status_code == 302
    assert ("old@factory.example", "manager", True) in people(app)
    [(actor, action, _type, _id, before, after)] = audit_rows(app)
    assert (actor, action) == (owner.id, "staff.invite")
    assert (before["role"], before["active"]) == ("service", False)
    assert (after["role"], after["active"]) == ("manager", True)
    assert len(outbox()) == 1


@pytest.mark.parametrize(
    "data, error",
    [
        ({"email": "not-an-address", "role": "service"}, "That does not look like an email"),
        ({"email": "", "role": "service"}, "This field is required."),
        ({"email": "x@factory.example", "role": "emperor"}, "Not a valid choice"),
        ({"email": "x@factory.example", "role": "customer"}, "Not a valid choice"),
    ],
)
def test_a_bad_invitation_is_refused_on_the_form(
    data, error, app, client, session, sign_in, outbox
):
    sign_in("owner")
    before = people(app)

    response = client.post("/admin/staff/invite", data=data)

    assert response.status_code == 400
    assert 'data-testid="field-error"' in response.text
    assert error in html.unescape(response.text)
    assert people(app) == before
    assert audit_rows(app) == []
    assert outbox() == []


def test_the_owner_cannot_demote_themselves_by_inviting_their_own_address(
    app, client, session, sign_in, outbox
):
    sign_in("owner")
    before = people(app)

    response = client.post(
        "/admin/staff/invite", data={"email": "owner@factory.example", "role": "service"}
    )

    assert response.status_code == 400
    assert "You cannot change your own role or deactivate yourself." in flashes(response.text)
    assert people(app) == before
    assert audit_rows(app) == [] and outbox() == []


# --- change role -------------------------------------------------------------------------


def test_change_role_with_its_audit_row(app, client, session, sign_in):
    member = make_user(session, email="mei@factory.example", role="service", name="Mei")
    owner = sign_in("owner")

    response = client.post(f"/admin/staff/{member.id}/role", data={f"u{member.id}-role": "manager"})

    assert response.status_code == 302
    page = client.get(response.headers["Location"]).text
    assert flashes(page) == ["mei@factory.example is now Manager."]
    assert ("mei@factory.example", "manager", True) in people(app)
    assert audit_rows(app) == [
        (
            owner.id,
            "staff.role",
            "user",
            str(member.id),
            {"email": "mei@factory.example", "name": "Mei", "role": "service", "active": True},
            {"email": "mei@factory.example", "name": "Mei", "role": "manager", "active": True},
        )
    ]


def test_another_owner_can_be_demoted(app, client, session, sign_in):
    other = make_user(session, email="boss2@factory.example", role="owner")
    sign_in("owner")

    response = client.post(f"/admin/staff/{other.id}/role", data={f"u{other.id}-role": "manager"})

    assert response.status_code == 302
    assert ("boss2@factory.example", "manager", True) in people(app)


def test_the_same_role_again_changes_nothing(app, client, session, sign_in):
    member = make_user(session, email="mei@factory.example", role="service")
    sign_in("owner")
    response = client.post(f"/admin/staff/{member.id}/role", data={f"u{member.id}-role": "service"})
    assert response.status_code == 302
    assert audit_rows(app) == []


@pytest.mark.parametrize("role", ["emperor", "customer", ""])
def test_an_unknown_role_is_refused(role, app, client, session, sign_in):
    member = make_user(session, email="mei@factory.example", role="service")
    sign_in("owner")
    before = people(app)

    response = client.post(f"/admin/staff/{member.id}/role", data={f"u{member.id}-role": role})

    assert response.status_code == 400
    assert "There is no such role." in flashes(response.text)
    assert people(app) == before
    assert audit_rows(app) == []


def test_the_owner_cannot_demote_themselves(app, client, session, sign_in):
    make_user(session, email="boss2@factory.example", role="owner")  # not the last owner
    owner = sign_in("owner")
    before = people(app)

    response = client.post(f"/admin/staff/{owner.id}/role", data={f"u{owner.id}-role": "manager"})

    assert response.status_code == 400
    assert flashes(response.text) == ["You cannot change your own role or deactivate yourself."]
    assert people(app) == before
    assert audit_rows(app) == []


def test_customers_are_not_on_the_staff_page_and_cannot_be_changed_there(
    app, client, session, sign_in
):
    customer = make_user(session, email="buyer@example.com", role="customer")
    sign_in("owner")

    assert "buyer@example.com" not in client.get("/admin/staff").text
    response = client.post(
        f"/admin/staff/{customer.id}/role", data={f"u{customer.id}-role": "owner"}
    )
    assert response.status_code == 404
    assert client.post(f"/admin/staff/{customer.id}/deactivate").status_code == 404
    assert ("buyer@example.com", "customer", True) in people(app)


# --- deactivate --------------------------------------------------------------------------


def test_deactivate_with_its_audit_row_and_the_account_is_shut_out(app, client, session, sign_in):
    member = make_user(session, email="mei@factory.example", role="service", name="Mei")
    owner = sign_in("owner")

    response = client.post(f"/admin/staff/{member.id}/deactivate")

    assert response.status_code == 302
    page = client.get(response.headers["Location"]).text
    assert flashes(page) == ["mei@factory.example can no longer sign in."]
    assert re.search(r'data-email="mei@factory.example" data-role="service" data-active="no"', page)
    assert audit_rows(app) == [
        (
            owner.id,
            "staff.deactivate",
            "user",
            str(member.id),
            {"email": "mei@factory.example", "name": "Mei", "role": "service", "active": True},
            {"email": "mei@factory.example", "name": "Mei", "role": "service", "active": False},
        )
    ]
    other = app.test_client()
    login(other, email="mei@factory.example", password=PASSWORD)
    assert other.get("/admin/").status_code in (302, 403)


def test_the_owner_cannot_deactivate_themselves(app, client, session, sign_in):
    make_user(session, email="boss2@factory.example", role="owner")
    owner = sign_in("owner")
    before = people(app)

    response = client.post(f"/admin/staff/{owner.id}/deactivate")

    assert response.status_code == 400
    assert flashes(response.text) == ["You cannot change your own role or deactivate yourself."]
    assert people(app) == before
    assert audit_rows(app) == []


# --- the rules without a request: the last owner -----------------------------------------


def test_the_last_active_owner_cannot_be_demoted_or_deactivated(session):
    owner = make_user(session, email="boss@factory.example", role="owner")
    make_user(session, email="gone@factory.example", role="owner", active=False)
    # Someone else acting (say, the create-staff command's operator): still refused.
    manager = make_user(session, email="m@factory.example", role="manager")

    with pytest.raises(rules.LastOwner):
        rules.change_role(session, manager, owner, "manager")
    with pytest.raises(rules.LastOwner):
        rules.deactivate_staff(session, manager, owner)
    with pytest.raises(rules.LastOwner):
        rules.invite_staff(session, manager, email="boss@factory.example", role="service")
    session.rollback()

    assert (owner.role, owner.active) == ("owner", True)
    assert session.scalars(sa.select(AuditEntry)).all() == []


def test_the_last_owner_is_refused_on_the_page_too(app, client, session, sign_in, monkeypatch):
    """As if no other active owner were left (two owners removing each other at once):
    the page says why and changes nothing."""
    other = make_user(session, email="boss2@factory.example", role="owner")
    sign_in("owner")
    monkeypatch.setattr(rules, "_other_active_owners", lambda session, user: 0)
    before = people(app)

    response = client.post(f"/admin/staff/{other.id}/deactivate")

    assert response.status_code == 400
    assert flashes(response.text) == [
        "The shop needs at least one active owner; make someone else owner first."
    ]
    assert people(app) == before
    assert audit_rows(app) == []


def test_a_missing_csrf_token_is_refused(make_app, session_factory):
    app = make_app(WTF_CSRF_ENABLED=True)
    with session_factory(app) as session:
        member = make_user(session, email="mei@factory.example", role="service")
        make_user(session, email="boss@factory.example", role="owner")
    client = app.test_client()
    page = client.get("/account/login").text
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    client.post(
        "/account/login",
        data={"email": "boss@factory.example", "password": PASSWORD, "csrf_token": token},
    )

    for path, data in (
        ("/admin/staff/invite", {"email": "x@factory.example", "role": "service"}),
        (f"/admin/staff/{member.id}/role", {f"u{member.id}-role": "owner"}),
        (f"/admin/staff/{member.id}/deactivate", {}),
    ):
        assert client.post(path, data=data).status_code == 400

    assert ("mei@factory.example", "service", True) in people(app)
    assert audit_rows(app) == []
