"""The rules of managing a school, called without a request: a taken slug, a locked
currency, another school's product, delivery rounds, the access code and school admins.
A refused change leaves the data and the audit log as they were."""

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa

from shop.accounts.models import User
from shop.audit.models import AuditEntry
from shop.schools import access, management, membership, rounds
from shop.schools.models import SchoolMember
from tests.accounts.helpers import make_user
from tests.factories import make_product
from tests.order_factories import make_order
from tests.school_factories import add_item, add_member, make_school

SHANGHAI = ZoneInfo("Asia/Shanghai")


def on_the_factory_clock(text: str) -> datetime:
    """A naive date-time, as the round form gives it."""
    return datetime.fromisoformat(text)


@pytest.fixture
def manager(session):
    return make_user(session, email="manager@factory.example", role="manager")


def actions(session) -> list[str]:
    return list(session.scalars(sa.select(AuditEntry.action).order_by(AuditEntry.id)))


def test_a_school_is_created_with_its_audit_row(session, manager):
    school = management.create_school(
        session,
        manager,
        {
            "slug": "maple",
            "name": "Maple School",
            "name_zh": "",
            "country": "CN",
            "currency": "CNY",
        },
    )

    assert (school.slug, school.name, school.name_zh, school.currency) == (
        "maple",
        "Maple School",
        None,
        "CNY",
    )
    assert actions(session) == ["school.create"]


def test_a_taken_slug_is_refused_on_create_and_update(session, manager):
    make_school(session, slug="maple")
    other = make_school(session, slug="oak", name="Oak School")

    with pytest.raises(management.SlugTaken):
        management.create_school(session, manager, {"slug": "maple", "name": "Second Maple"})
    with pytest.raises(management.SlugTaken):
        management.update_school(session, manager, other, {"slug": "maple", "name": "Oak"})

    assert (other.slug, other.name) == ("oak", "Oak School")
    assert actions(session) == []


def test_update_returns_what_changed(session, manager):
    school = make_school(session, slug="maple", name="Maple School")

    changed = management.update_school(
        session, manager, school, {"slug": "maple", "name": "Maple Primary"}
    )

    assert changed == ["name"]
    assert actions(session) == ["school.update"]


def test_the_currency_is_locked_while_an_item_has_a_school_price(session, manager):
    school = make_school(session, slug="maple", currency="CNY")
    add_item(session, school, make_product(session), school_price_amount=5000)

    with pytest.raises(management.CurrencyLocked):
        management.update_school(session, manager, school, {"slug": "maple", "currency": "JPY"})

    assert school.currency == "CNY"
    assert actions(session) == []


def test_another_schools_product_cannot_go_on_the_list(session, manager):
    school, other = make_school(session), make_school(session)
    theirs = make_product(session, slug="oak-tie", school_id=other.id)
    values = {"required": True, "gender": "any", "season": "summer", "quantity_per_child": 1}

    with pytest.raises(management.ProductNotForSchool):
        management.add_uniform_item(session, manager, school, theirs, values)

    assert school.items == []
    assert actions(session) == []


def test_items_get_the_schools_grades_in_its_order_and_go_last(session, manager):
    school = make_school(session, grades=("1", "2", "3"))
    first = add_item(session, school, make_product(session))
    values = {
        "required": False,
        "grades": ["3", "9", "1"],
        "gender": "girls",
        "season": "winter",
        "quantity_per_child": 2,
    }

    item = management.add_uniform_item(session, manager, school, make_product(session), values)

    assert item.grades == ["1", "3"]
    assert item.position == first.position + 1
    assert actions(session) == ["school.item_add"]


def test_a_round_is_refused_on_a_taken_date_or_a_late_cutoff(session, manager):
    school = make_school(session, rounds_in_days=())
    rounds.add_delivery_round(
        session,
        manager,
        school,
        delivery_date=date(2030, 3, 4),
        cutoff_local=on_the_factory_clock("2030-03-01T18:00"),
        zone=SHANGHAI,
    )

    with pytest.raises(rounds.RoundDateTaken):
        rounds.add_delivery_round(
            session,
            manager,
            school,
            delivery_date=date(2030, 3, 4),
            cutoff_local=on_the_factory_clock("2030-03-02T18:00"),
            zone=SHANGHAI,
        )
    with pytest.raises(rounds.CutoffNotBeforeDelivery):
        rounds.add_delivery_round(
            session,
            manager,
            school,
            delivery_date=date(2030, 3, 10),
            cutoff_local=on_the_factory_clock("2030-03-10T00:00"),
            zone=SHANGHAI,
        )

    [delivery_round] = school.rounds
    assert delivery_round.cutoff_at.replace(tzinfo=UTC) == datetime(2030, 3, 1, 10, 0, tzinfo=UTC)
    assert actions(session) == ["school.round_add"]


def test_a_round_that_orders_use_is_not_deleted(session, manager):
    school = make_school(session, rounds_in_days=(10,))
    [used] = school.rounds
    make_order(session, school_id=school.id, delivery_round_id=used.id)

    with pytest.raises(rounds.RoundInUse):
        rounds.delete_delivery_round(session, manager, used)

    assert school.rounds == [used]
    assert actions(session) == []


def test_the_access_code_is_set_hashed_and_cleared_once(session, manager):
    school = make_school(session)

    access.set_access_code(session, manager, school, "Maple-2026")

    assert school.private and "Maple-2026" not in school.access_code_hash
    assert access.code_matches(school, "Maple-2026")
    assert access.clear_access_code(session, manager, school) is True
    assert access.clear_access_code(session, manager, school) is False
    assert not school.private
    assert actions(session) == ["school.access_code_set", "school.access_code_clear"]


def test_a_staff_account_cannot_become_a_school_admin(session, manager):
    school = make_school(session)
    packer = make_user(session, email="packer@factory.example", role="warehouse")

    with pytest.raises(membership.NotInvitable):
        membership.invite_school_admin(session, manager, school, email="packer@factory.example")

    assert packer.role == "warehouse"
    assert session.scalars(sa.select(SchoolMember)).all() == []
    assert actions(session) == []


def test_inviting_twice_joins_once_and_keeps_the_typed_name(session, manager):
    school = make_school(session)
    make_user(session, email="parent@example.com", role="customer", name="")

    user, created, joined = membership.invite_school_admin(
        session, manager, school, email="parent@example.com", name="Ms Lin"
    )
    again = membership.invite_school_admin(session, manager, school, email="parent@example.com")

    assert (user.role, user.name, created, joined) == ("school_admin", "Ms Lin", False, True)
    assert again == (user, False, False)
    assert [member.user_id for member in membership.list_members(session, school)] == [user.id]
    assert actions(session) == ["school.admin_invite", "school.admin_invite"]


def test_a_removed_school_admin_without_a_school_is_a_customer_again(session, manager):
    school = make_school(session)
    bursar = make_user(session, email="bursar@school.example", role="school_admin")
    member = add_member(session, school, bursar)

    membership.remove_school_admin(session, manager, member)

    assert session.get(User, bursar.id).role == "customer"
    assert membership.list_members(session, school) == []
    assert actions(session) == ["school.admin_remove"]
