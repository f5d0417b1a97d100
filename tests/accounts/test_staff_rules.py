"""The staff rules, called without a request: nobody demotes or deactivates themselves,
only staff accounts are changed here, and an invitation fills in what it may. A refused
change leaves the account and the audit log as they were."""

import pytest
import sqlalchemy as sa

from shop.accounts import invitations, staff
from shop.accounts.service import InvalidEmail, UnknownRole
from shop.audit.models import AuditEntry
from tests.accounts.helpers import make_user


@pytest.fixture
def owner(session):
    return make_user(session, email="boss@factory.example", role="owner")


def actions(session) -> list[str]:
    return list(session.scalars(sa.select(AuditEntry.action).order_by(AuditEntry.id)))


def test_an_owner_cannot_demote_or_deactivate_themselves(session, owner):
    make_user(session, email="boss2@factory.example", role="owner")

    with pytest.raises(staff.SelfDemotion):
        staff.change_role(session, owner, owner, "manager")
    with pytest.raises(staff.SelfDemotion):
        staff.deactivate_staff(session, owner, owner)
    with pytest.raises(staff.SelfDemotion):
        staff.invite_staff(session, owner, email="BOSS@factory.example", role="service")

    assert (owner.role, owner.active) == ("owner", True)
    assert actions(session) == []


def test_one_of_two_owners_can_be_demoted_but_then_not_the_last(session, owner):
    other = make_user(session, email="boss2@factory.example", role="owner")
    manager = make_user(session, email="m@factory.example", role="manager")

    assert staff.change_role(session, owner, other, "manager") is True
    with pytest.raises(staff.LastOwner):
        staff.deactivate_staff(session, manager, owner)

    assert (other.role, owner.role, owner.active) == ("manager", "owner", True)
    assert actions(session) == ["staff.role"]


def test_customers_are_not_staff(session, owner):
    customer = make_user(session, email="parent@example.com", role="customer")

    with pytest.raises(staff.NotStaff):
        staff.change_role(session, owner, customer, "service")
    with pytest.raises(staff.NotStaff):
        staff.deactivate_staff(session, owner, customer)

    assert (customer.role, customer.active) == ("customer", True)
    assert customer not in staff.list_staff(session)
    assert actions(session) == []


def test_unknown_roles_and_bad_emails_are_refused(session, owner):
    with pytest.raises(UnknownRole):
        staff.invite_staff(session, owner, email="new@factory.example", role="customer")
    with pytest.raises(UnknownRole):
        staff.change_role(session, owner, owner, "emperor")
    with pytest.raises(InvalidEmail):
        staff.invite_staff(session, owner, email="not an email", role="service")

    assert staff.list_staff(session) == [owner]
    assert actions(session) == []


def test_nothing_to_change_is_no_change(session, owner):
    gone = make_user(session, email="gone@factory.example", role="service", active=False)

    assert staff.change_role(session, owner, owner, "owner") is False
    assert staff.deactivate_staff(session, owner, gone) is False
    assert actions(session) == []


def test_inviting_a_deactivated_member_reactivates_them_and_fills_an_empty_name(session, owner):
    gone = make_user(session, email="mei@factory.example", role="service", active=False, name="")

    user, created = staff.invite_staff(
        session, owner, email="mei@factory.example", role="warehouse", name="Mei"
    )

    assert (user, created) == (gone, False)
    assert (gone.role, gone.active, gone.name) == ("warehouse", True, "Mei")
    [entry] = session.scalars(sa.select(AuditEntry)).all()
    assert entry.action == "staff.invite"
    assert entry.before == {
        "email": "mei@factory.example",
        "name": "",
        "role": "service",
        "active": False,
    }


def test_an_invitee_keeps_the_name_they_already_had(session):
    make_user(session, email="ann@example.com", name="Ann")

    user, created = invitations.save_invitee(
        session, email="ann@example.com", role="service", name="Someone else"
    )

    assert (user.name, user.role, created) == ("Ann", "service", False)
    assert invitations.find_invitee(session, "ann@EXAMPLE.com") is user
