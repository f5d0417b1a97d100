"""The schools admin: who may open it, creating and editing a school with every kind of
bad input, the access code, the uniform list (grades, school prices in minor units,
reorder), delivery rounds, inviting school admins, the logo, school-only products — and
the audit row each change writes."""

import io
import re
from datetime import UTC, date, datetime

import pytest
import sqlalchemy as sa
from PIL import Image
from werkzeug.security import check_password_hash

from shop.accounts.models import User
from shop.audit.models import AuditEntry
from shop.catalog.models import Product
from shop.schools.access import normalise_code
from shop.schools.models import DeliveryRound, School, SchoolMember, UniformItem
from tests.accounts.helpers import PASSWORD, link_in, make_user
from tests.factories import make_product
from tests.helpers.admin import STAFF_ROLES, audits, become, errors_in, school_data
from tests.order_factories import make_order
from tests.school_factories import add_item, add_member, make_school

EVERYONE = (*STAFF_ROLES, "customer", "anonymous")
MAY_MANAGE_SCHOOLS = {"owner", "manager"}


@pytest.fixture
def manager(sign_in):
    return sign_in("manager")


def fresh_school(session, school_id) -> School:
    session.expire_all()
    return session.get(School, school_id)


def all_audits(session) -> list[AuditEntry]:
    session.expire_all()
    return session.scalars(sa.select(AuditEntry).order_by(AuditEntry.id)).all()


def school_state(session, school_id) -> tuple:
    """Everything the admin could change about a school, to show nothing changed."""
    session.expire_all()
    school = session.get(School, school_id)
    return (
        school.slug,
        school.name,
        school.currency,
        school.grades,
        school.credit_limit_amount,
        school.access_code_hash,
        school.logo_path,
        [(i.product_id, i.grades, i.school_price_amount, i.position) for i in school.items],
        [(r.delivery_date, r.cutoff_at) for r in school.rounds],
        session.scalars(sa.select(SchoolMember.user_id).where(SchoolMember.school_id == school.id))
        .all()
        .copy(),
    )


# --- roles -------------------------------------------------------------------------------


@pytest.mark.parametrize("role", EVERYONE)
def test_the_schools_admin_is_for_owners_and_managers_only(client, session, sign_in, role):
    school = make_school(session, slug="greenfield", name="Greenfield")
    product = make_product(session, slug="polo")
    item = add_item(session, school, product)
    delivery_round = school.rounds[0]
    session.commit()
    before = school_state(session, school.id)
    become(role, client, sign_in, session)
    allowed = role in MAY_MANAGE_SCHOOLS

    pages = ("/admin/schools", "/admin/schools/new", f"/admin/schools/{school.id}")
    pages += (f"/admin/schools/{school.id}/items/{item.id}",)
    for path in pages:
        response = client.get(path)
        if allowed:
            assert response.status_code == 200, path
        elif role == "anonymous":
            assert response.status_code == 302 and "/account/login" in response.location
        else:
            assert response.status_code == 403, path

    posts = {
        "/admin/schools/new": school_data(slug="new-one"),
        f"/admin/schools/{school.id}": school_data(slug="renamed", name="Renamed"),
        f"/admin/schools/{school.id}/code": {"code": "secret-code"},
        f"/admin/schools/{school.id}/items": {
            "product_id": str(product.id),
            "quantity_per_child": "2",
        },
        f"/admin/schools/{school.id}/items/{item.id}": {
            "product_id": str(product.id),
            "quantity_per_child": "5",
        },
        f"/admin/schools/{school.id}/items/{item.id}/delete": {},
        f"/admin/schools/{school.id}/rounds": {
            "delivery_date": "2030-01-10",
            "cutoff_at": "2030-01-05T12:00",
        },
        f"/admin/schools/{school.id}/rounds/{delivery_round.id}/delete": {},
        f"/admin/schools/{school.id}/admins": {"invite-email": "bursar@school.example"},
    }
    if allowed:
        return
    for path, data in posts.items():
        response = client.post(path, data=data)
        assert response.status_code == (302 if role == "anonymous" else 403), path
    assert school_state(session, school.id) == before
    assert session.scalar(sa.select(sa.func.count(School.id))) == 1
    assert all_audits(session) == []
    assert session.scalars(sa.select(User).where(User.email == "bursar@school.example")).all() == []


def test_owners_and_managers_see_schools_in_the_admin_nav(client, session, sign_in):
    sign_in("manager")
    page = client.get("/admin/schools").text
    assert 'data-endpoint="admin.school_list"' in page
    sign_in("warehouse")
    assert 'data-endpoint="admin.school_list"' not in client.get("/admin/").text


# --- create and edit ---------------------------------------------------------------------


def test_a_manager_creates_a_school(client, session, manager):
    response = client.post("/admin/schools/new", data=school_data())

    assert response.status_code == 302
    school = session.scalars(sa.select(School)).one()
    assert response.location.endswith(f"/admin/schools/{school.id}")
    assert (school.slug, school.name, school.name_zh, school.name_ja) == (
        "hangzhou-no-2",
        "Hangzhou No. 2 Primary",
        "杭州第二小学",
        None,
    )
    assert (school.country, school.currency) == ("CN", "CNY")
    assert school.grades == ["P1", "P2", "P3"]
    assert school.credit_limit_amount == 5000050
    assert school.invoice_terms_days == 30
    assert school.verified is True and school.active is True
    assert school.contact_email == "bursar@school.example"
    assert school.delivery_postcode == "310000"
    assert school.access_code_hash is None
    assert "杭州" in school.search_text and "hangzhou no. 2 primary" in school.search_text
    [entry] = audits(session, "school.create")
    assert entry.actor_user_id == manager.id and entry.target_id == str(school.id)
    assert entry.after["credit_limit_amount"] == 5000050
    assert entry.after["grades"] == ["P1", "P2", "P3"]


def test_a_yen_credit_limit_is_whole_yen(client, session, manager):
    data = school_data(slug="osaka", country="JP", currency="JPY", credit_limit="300000")
    assert client.post("/admin/schools/new", data=data).status_code == 302
    assert session.scalars(sa.select(School)).one().credit_limit_amount == 300000

    refused = client.post(
        "/admin/schools/new", data=school_data(slug="kobe", currency="JPY", credit_limit="10.5")
    )
    assert refused.status_code == 400
    assert "JPY prices are whole numbers" in errors_in(refused.text)


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"slug": "Hangzhou No 2"}, "Use lowercase letters, digits and single hyphens only"),
        ({"slug": ""}, "This field is required."),
        ({"slug": "admin"}, "This address is taken by the shop itself"),
        ({"name": ""}, "This field is required."),
        ({"credit_limit": "12.345"}, "at most 2 decimal places in CNY"),
        ({"credit_limit": "lots"}, "is not a price"),
        ({"credit_limit": "-5"}, "the price must be 0 or more"),
        ({"credit_limit": "99999999"}, "the price is too large"),  # 32-bit minor units
        ({"invoice_terms_days": "121"}, "Enter a whole number of days from 0 to 120."),
        ({"invoice_terms_days": "-1"}, "Enter a whole number of days from 0 to 120."),
        ({"invoice_terms_days": "thirty"}, "Enter a whole number of days from 0 to 120."),
        ({"country": "China"}, "Two letters, like CN, JP or SG."),
        ({"currency": "EUR"}, "Not a valid choice"),
        ({"contact_email": "not-an-email"}, "That does not look like an email address."),
    ],
)
def test_bad_school_input_is_shown_on_the_form(client, session, manager, overrides, message):
    response = client.post("/admin/schools/new", data=school_data(**overrides))

    assert response.status_code == 400
    assert message in errors_in(response.text)
    assert session.scalar(sa.select(sa.func.count(School.id))) == 0
    assert all_audits(session) == []


def test_a_taken_slug_is_a_form_error(client, session, manager):
    make_school(session, slug="hangzhou-no-2")
    other = make_school(session, slug="other")
    session.commit()

    created = client.post("/admin/schools/new", data=school_data())
    edited = client.post(f"/admin/schools/{other.id}", data=school_data())

    for response in (created, edited):
        assert response.status_code == 400
        assert "Another school already uses this slug." in errors_in(response.text)
    assert session.scalar(sa.select(sa.func.count(School.id))) == 2
    assert fresh_school(session, other.id).slug == "other"
    assert all_audits(session) == []


def test_a_manager_edits_a_school_and_the_log_keeps_what_changed(client, session, manager):
    school = make_school(session, slug="greenfield", name="Greenfield", grades=("1", "2"))
    session.commit()

    page = client.get(f"/admin/schools/{school.id}")
    assert page.status_code == 200
    assert re.search(r'name="grades_text"[^>]*>\s*1\n2</textarea>', page.text)
    assert 'name="credit_limit" type="text" value="0.00"' in page.text

    data = school_data(
        slug="greenfield",
        name="Greenfield Academy",
        grades_text="1\n2\n3",
        credit_limit="1000",
        invoice_terms_days="0",
        verified=None,
    )
    response = client.post(f"/admin/schools/{school.id}", data=data)

    assert response.status_code == 302
    school = fresh_school(session, school.id)
    assert school.name == "Greenfield Academy"
    assert school.grades == ["1", "2", "3"]
    assert school.credit_limit_amount == 100000
    assert school.verified is False
    assert "greenfield academy" in school.search_text
    [entry] = audits(session, "school.update")
    assert entry.before["name"] == "Greenfield" and entry.after["name"] == "Greenfield Academy"
    assert entry.before["grades"] == ["1", "2"] and entry.after["grades"] == ["1", "2", "3"]
    assert "slug" not in entry.after


def test_the_currency_stays_while_items_have_school_prices(client, session, manager):
    school = make_school(session, slug="greenfield")
    add_item(session, school, make_product(session), school_price_amount=7900)
    session.commit()

    response = client.post(
        f"/admin/schools/{school.id}",
        data=school_data(slug="greenfield", currency="JPY", credit_limit="50000"),
    )

    assert response.status_code == 400
    assert "Remove the school prices" in errors_in(response.text)
    assert fresh_school(session, school.id).currency == "CNY"


def test_the_list_searches_by_name_and_city(client, session, manager):
    make_school(session, slug="a", name="Greenfield", city="Hangzhou", city_zh="杭州")
    make_school(session, slug="b", name="Sakura Gakuen", city="Osaka")
    session.commit()

    by_city = client.get("/admin/schools?q=杭州").text
    by_name = client.get("/admin/schools?q=sakura").text

    assert 'data-slug="a"' in by_city and 'data-slug="b"' not in by_city
    assert 'data-slug="b"' in by_name and 'data-slug="a"' not in by_name
    assert 'data-total="2"' in client.get("/admin/schools").text


def test_the_list_is_paginated(client, session, manager):
    for number in range(55):
        make_school(session, slug=f"school-{number:02d}", name=f"School {number:02d}")
    session.commit()

    first = client.get("/admin/schools").text
    second = client.get("/admin/schools?page=2").text

    assert first.count('data-testid="school-row"') == 50
    assert second.count('data-testid="school-row"') == 5
    assert 'rel="next"' in first


# --- access code -------------------------------------------------------------------------


def test_an_access_code_is_stored_hashed_and_never_shown(client, session, manager):
    school = make_school(session, slug="greenfield")
    session.commit()

    response = client.post(f"/admin/schools/{school.id}/code", data={"code": "tulip-2027"})

    assert response.status_code == 302
    school = fresh_school(session, school.id)
    assert school.access_code_hash.startswith("scrypt:")
    assert check_password_hash(school.access_code_hash, normalise_code("tulip-2027"))
    assert not check_password_hash(school.access_code_hash, normalise_code("tulip-2028"))
    assert "tulip" not in school.access_code_hash.lower()
    page = client.get(f"/admin/schools/{school.id}").text
    assert "tulip-2027" not in page and school.access_code_hash not in page
    assert 'data-testid="school-private"' in page
    [entry] = audits(session, "school.access_code_set")
    assert "tulip-2027" not in str(entry.before) + str(entry.after)
    assert entry.after == {"private": True}


def test_a_short_access_code_is_refused(client, session, manager):
    school = make_school(session, slug="greenfield")
    session.commit()

    response = client.post(f"/admin/schools/{school.id}/code", data={"code": "abc"})

    assert response.status_code == 400
    assert "Between 4 and 100 characters." in errors_in(response.text)
    assert "abc" not in response.text.split('data-testid="code-form"')[1].split("</form>")[0]
    assert fresh_school(session, school.id).access_code_hash is None
    assert all_audits(session) == []


def test_clearing_the_code_makes_the_school_public(client, session, manager):
    school = make_school(session, slug="greenfield", access_code="tulip")
    session.commit()

    response = client.post(f"/admin/schools/{school.id}/code/clear")

    assert response.status_code == 302
    assert fresh_school(session, school.id).access_code_hash is None
    [entry] = audits(session, "school.access_code_clear")
    assert (entry.before, entry.after) == ({"private": True}, {"private": False})
    assert 'data-testid="school-public"' in client.get(f"/admin/schools/{school.id}").text


# --- the uniform list --------------------------------------------------------------------


def test_an_item_is_added_with_grades_and_a_school_price(client, session, manager):
    school = make_school(session, slug="greenfield", grades=("P1", "P2", "P3"))
    product = make_product(session, slug="summer-polo", tiers=((1, 8900), (50, 7900)))
    session.commit()

    response = client.post(
        f"/admin/schools/{school.id}/items",
        data={
            "product_id": str(product.id),
            "required": "no",
            "grades": ["P3", "P1"],
            "gender": "girls",
            "season": "winter",
            "quantity_per_child": "2",
            "school_price": "75.50",
        },
    )

    assert response.status_code == 302
    [item] = fresh_school(session, school.id).items
    assert item.product_id == product.id
    assert item.required is False
    assert item.grades == ["P1", "P3"]
    assert (item.gender, item.season, item.quantity_per_child) == ("girls", "winter", 2)
    assert item.school_price_amount == 7550
    [entry] = audits(session, "school.item_add")
    assert entry.after["school_price_amount"] == 7550 and entry.after["grades"] == ["P1", "P3"]
    page = client.get(f"/admin/schools/{school.id}").text
    row = page.split('data-testid="item-row"')[1].split("</tr>")[0]
    assert 'data-amount="7550"' in row and 'data-amount="8900"' in row


def test_an_item_is_added_by_slug_in_yen(client, session, manager):
    school = make_school(session, slug="sakura", country="JP", currency="JPY", grades=())
    product = make_product(session, slug="gym-shirt", currency="JPY", tiers=((1, 2400),))
    session.commit()

    response = client.post(
        f"/admin/schools/{school.id}/items",
        data={"product_slug": "gym-shirt", "quantity_per_child": "1", "school_price": "2000"},
    )

    assert response.status_code == 302
    [item] = fresh_school(session, school.id).items
    assert (item.product_id, item.school_price_amount, item.grades) == (product.id, 2000, [])
    assert (item.required, item.gender, item.season) == (True, "any", "summer")


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"product_slug": "no-such-thing"}, "There is no product with that slug."),
        ({}, "Choose a product, or type its slug."),
        ({"school_price": "12.345"}, "School price: at most 2 decimal places in CNY."),
        ({"school_price": "abc"}, "is not a price"),
        ({"quantity_per_child": "0"}, "Between 1 and 99 per child."),
        ({"grades": ["P9"]}, "not a valid choice"),
        ({"season": "spring"}, "Not a valid choice"),
        ({"gender": "other"}, "Not a valid choice"),
    ],
)
def test_bad_items_are_refused_with_a_reason(client, session, manager, data, message):
    school = make_school(session, slug="greenfield", grades=("P1", "P2"))
    product = make_product(session, slug="polo")
    session.commit()
    posted = {"quantity_per_child": "1", **data}
    if "product_slug" not in data and data:
        posted["product_id"] = str(product.id)

    response = client.post(f"/admin/schools/{school.id}/items", data=posted)

    assert response.status_code == 400
    assert message in errors_in(response.text)
    assert fresh_school(session, school.id).items == []
    assert all_audits(session) == []


def test_another_schools_own_product_cannot_go_on_the_list(client, session, manager):
    school = make_school(session, slug="greenfield")
    other = make_school(session, slug="other")
    crest = make_product(session, slug="other-crest-blazer", school_id=other.id)
    session.commit()

    response = client.post(
        f"/admin/schools/{school.id}/items",
        data={"product_slug": "other-crest-blazer", "quantity_per_child": "1"},
    )

    assert response.status_code == 400
    assert "only sold by another school" in errors_in(response.text)
    assert fresh_school(session, school.id).items == []
    assert session.get(Product, crest.id).school_id == other.id


def test_an_item_is_edited_and_removed(client, session, manager):
    school = make_school(session, slug="greenfield", grades=("1", "2", "3"))
    polo = make_product(session, slug="polo")
    skirt = make_product(session, slug="skirt")
    item = add_item(session, school, polo, grades=("1",), school_price_amount=5000)
    session.commit()

    page = client.get(f"/admin/schools/{school.id}/items/{item.id}")
    assert page.status_code == 200
    assert 'value="50.00"' in page.text

    response = client.post(
        f"/admin/schools/{school.id}/items/{item.id}",
        data={
            "product_id": str(skirt.id),
            "required": "yes",
            "grades": ["2", "3"],
            "gender": "girls",
            "season": "pe",
            "quantity_per_child": "3",
            "school_price": "",
        },
    )

    assert response.status_code == 302
    session.expire_all()
    item = session.get(UniformItem, item.id)
    assert (item.product_id, item.grades, item.gender, item.season) == (
        skirt.id,
        ["2", "3"],
        "girls",
        "pe",
    )
    assert (item.quantity_per_child, item.school_price_amount) == (3, None)
    [entry] = audits(session, "school.item_update")
    assert entry.before["school_price_amount"] == 5000
    assert entry.after["school_price_amount"] is None
    assert entry.after["product_id"] == skirt.id

    removed = client.post(f"/admin/schools/{school.id}/items/{item.id}/delete")
    assert removed.status_code == 302
    assert fresh_school(session, school.id).items == []
    [entry] = audits(session, "school.item_remove")
    assert entry.before["product_id"] == skirt.id


def test_items_of_another_school_are_not_found_here(client, session, manager):
    school = make_school(session, slug="greenfield")
    other = make_school(session, slug="other")
    item = add_item(session, other, make_product(session))
    session.commit()

    assert client.get(f"/admin/schools/{school.id}/items/{item.id}").status_code == 404
    assert client.post(f"/admin/schools/{school.id}/items/{item.id}/delete").status_code == 404
    assert len(fresh_school(session, other.id).items) == 1


def test_items_move_up_and_down(client, session, manager):
    school = make_school(session, slug="greenfield")
    first, second, third = (
        add_item(session, school, make_product(session), position=position) for position in range(3)
    )
    session.commit()

    client.post(f"/admin/schools/{school.id}/items/{third.id}/move", data={"direction": "up"})
    client.post(f"/admin/schools/{school.id}/items/{first.id}/move", data={"direction": "down"})

    order = [item.id for item in fresh_school(session, school.id).items]
    assert order == [third.id, first.id, second.id]
    assert len(audits(session, "school.item_reorder")) == 2
    # At the top already: nothing moves, nothing is logged.
    client.post(f"/admin/schools/{school.id}/items/{third.id}/move", data={"direction": "up"})
    assert [item.id for item in fresh_school(session, school.id).items] == order
    assert len(audits(session, "school.item_reorder")) == 2


# --- delivery rounds ---------------------------------------------------------------------


def test_a_delivery_round_is_added_in_factory_time(client, session, manager):
    school = make_school(session, slug="greenfield", rounds_in_days=())
    session.commit()

    response = client.post(
        f"/admin/schools/{school.id}/rounds",
        data={"delivery_date": "2030-03-04", "cutoff_at": "2030-03-01T18:00"},
    )

    assert response.status_code == 302
    [delivery_round] = fresh_school(session, school.id).rounds
    assert delivery_round.delivery_date == date(2030, 3, 4)
    cutoff = delivery_round.cutoff_at
    cutoff = cutoff if cutoff.tzinfo else cutoff.replace(tzinfo=UTC)
    assert cutoff == datetime(2030, 3, 1, 10, 0, tzinfo=UTC)  # 18:00 in Shanghai
    [entry] = audits(session, "school.round_add")
    assert entry.after["delivery_date"] == "2030-03-04"


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (
            {"delivery_date": "2030-03-04", "cutoff_at": "2030-03-04T00:00"},
            "The order cut-off must be before the delivery date.",
        ),
        (
            {"delivery_date": "2030-03-04", "cutoff_at": "2030-03-05T09:00"},
            "The order cut-off must be before the delivery date.",
        ),
        ({"delivery_date": "", "cutoff_at": "2030-03-01T09:00"}, "Enter the delivery date."),
        ({"delivery_date": "2030-03-04", "cutoff_at": "soon"}, "Not a valid datetime value."),
        (
            {"delivery_date": "2030-01-10", "cutoff_at": "2030-01-01T09:00"},
            "already has a delivery round on that date",
        ),
    ],
)
def test_bad_delivery_rounds_are_refused(client, session, manager, data, message):
    school = make_school(session, slug="greenfield", rounds_in_days=())
    school.rounds.append(
        DeliveryRound(delivery_date=date(2030, 1, 10), cutoff_at=datetime(2030, 1, 5, tzinfo=UTC))
    )
    session.commit()

    response = client.post(f"/admin/schools/{school.id}/rounds", data=data)

    assert response.status_code == 400
    assert message in errors_in(response.text)
    assert len(fresh_school(session, school.id).rounds) == 1
    assert all_audits(session) == []


def test_a_round_is_deleted_unless_orders_use_it(client, session, manager):
    school = make_school(session, slug="greenfield", rounds_in_days=(10, 20))
    used, free = (delivery_round.id for delivery_round in school.rounds)
    make_order(session, school_id=school.id, delivery_round_id=used)
    session.commit()

    refused = client.post(f"/admin/schools/{school.id}/rounds/{used}/delete")
    deleted = client.post(f"/admin/schools/{school.id}/rounds/{free}/delete")

    assert refused.status_code == 400
    assert "Orders are booked on this delivery round" in refused.text
    assert deleted.status_code == 302
    assert [r.id for r in fresh_school(session, school.id).rounds] == [used]
    [entry] = audits(session, "school.round_delete")
    assert entry.target_id == str(free)


# --- school admins -----------------------------------------------------------------------


def test_inviting_a_school_admin_makes_the_account_and_sends_a_link(
    client, session, manager, outbox
):
    school = make_school(session, slug="greenfield", name="Greenfield")
    session.commit()

    response = client.post(
        f"/admin/schools/{school.id}/admins",
        data={"invite-email": "Bursar@School.Example", "invite-name": "Ms Chen"},
    )

    assert response.status_code == 302
    user = session.scalars(sa.select(User).where(User.email == "Bursar@school.example")).one()
    assert (user.role, user.name, user.active) == ("school_admin", "Ms Chen", True)
    member = session.scalars(sa.select(SchoolMember)).one()
    assert (member.school_id, member.user_id) == (school.id, user.id)
    [message] = outbox()
    assert message["To"] == "Bursar@school.example"
    assert "Greenfield" in message.get_body(("plain",)).get_content()
    assert link_in(message).startswith("/account/reset/")
    [entry] = audits(session, "school.admin_invite")
    assert entry.after["role"] == "school_admin" and entry.after["user_id"] == user.id
    assert 'data-email="Bursar@school.example"' in client.get(f"/admin/schools/{school.id}").text


def test_an_existing_customer_is_reused_and_staff_are_refused(client, session, manager, outbox):
    school = make_school(session, slug="greenfield")
    customer = make_user(session, email="parent@example.com", role="customer")
    make_user(session, email="packer@factory.example", role="warehouse")

    reused = client.post(
        f"/admin/schools/{school.id}/admins", data={"invite-email": "parent@example.com"}
    )
    again = client.post(
        f"/admin/schools/{school.id}/admins", data={"invite-email": "parent@example.com"}
    )
    refused = client.post(
        f"/admin/schools/{school.id}/admins", data={"invite-email": "packer@factory.example"}
    )

    assert reused.status_code == 302 and again.status_code == 302
    session.expire_all()
    assert session.get(User, customer.id).role == "school_admin"
    assert session.scalars(sa.select(SchoolMember.user_id)).all() == [customer.id]
    assert refused.status_code == 400
    assert "belongs to a staff account" in errors_in(refused.text)
    packer = session.scalars(sa.select(User).where(User.email == "packer@factory.example")).one()
    assert packer.role == "warehouse"
    assert session.scalar(sa.select(sa.func.count(User.id))) == 3
    assert len(audits(session, "school.admin_invite")) == 2
    assert len(outbox()) == 2


def test_a_bad_invite_email_is_a_form_error(client, session, manager):
    school = make_school(session, slug="greenfield")
    session.commit()

    response = client.post(
        f"/admin/schools/{school.id}/admins", data={"invite-email": "not an email"}
    )

    assert response.status_code == 400
    assert "That does not look like an email address." in errors_in(response.text)
    assert session.scalars(sa.select(SchoolMember)).all() == []


def test_an_admin_of_two_schools_stays_a_school_admin_when_taken_off_one(client, session, manager):
    first, second = make_school(session), make_school(session)
    bursar = make_user(session, email="bursar@two.example", role="school_admin")
    member = add_member(session, first, bursar)
    add_member(session, second, bursar)
    session.commit()

    client.post(f"/admin/schools/{first.id}/admins/{member.id}/delete")

    session.expire_all()
    assert session.get(User, bursar.id).role == "school_admin"
    assert [m.school_id for m in session.scalars(sa.select(SchoolMember))] == [second.id]


def test_removing_a_school_admin_deletes_the_membership(client, session, manager):
    school = make_school(session, slug="greenfield")
    bursar = make_user(session, email="bursar@school.example", role="school_admin")
    member = add_member(session, school, bursar)
    session.commit()

    response = client.post(f"/admin/schools/{school.id}/admins/{member.id}/delete")

    assert response.status_code == 302
    session.expire_all()
    assert session.scalars(sa.select(SchoolMember)).all() == []
    assert session.get(User, bursar.id).role == "customer"  # no school left
    [entry] = audits(session, "school.admin_remove")
    assert entry.before["email"] == "bursar@school.example"


# --- logo and school-only products -------------------------------------------------------


def png_bytes() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (64, 48), "navy").save(buffer, "PNG")
    return buffer.getvalue()


def test_a_logo_is_checked_stored_and_shown(app, client, session, manager):
    school = make_school(session, slug="greenfield")
    session.commit()

    bad = client.post(
        f"/admin/schools/{school.id}/logo",
        data={"logo": (io.BytesIO(b"not an image"), "logo.png")},
        content_type="multipart/form-data",
    )
    assert bad.status_code == 400
    assert "not a JPEG, PNG or WebP image" in errors_in(bad.text)
    assert fresh_school(session, school.id).logo_path is None

    good = client.post(
        f"/admin/schools/{school.id}/logo",
        data={"logo": (io.BytesIO(png_bytes()), "logo.png")},
        content_type="multipart/form-data",
    )

    assert good.status_code == 302
    path = fresh_school(session, school.id).logo_path
    assert path.startswith("schools/") and path.endswith(".png")
    folder = app.config["UPLOAD_FOLDER"]
    with open(f"{folder}/{path}", "rb") as handle:
        assert Image.open(handle).size == (64, 48)
    assert f'data-path="{path}"' in client.get(f"/admin/schools/{school.id}").text
    [entry] = audits(session, "school.logo")
    assert entry.after == {"logo_path": path}


def test_a_product_can_be_made_school_only(client, session, sign_in):
    school = make_school(session, slug="greenfield", name="Greenfield")
    product = make_product(session, slug="crest-blazer", name="Crest blazer")
    session.commit()
    sign_in("manager")

    page = client.get(f"/admin/products/{product.id}").text
    assert "Only for school" in page and ">Greenfield</option>" in page

    response = client.post(
        f"/admin/products/{product.id}",
        data={
            "name": "Crest blazer",
            "slug": "crest-blazer",
            "category_id": str(product.category_id),
            "description": "",
            "min_order_quantity": "1",
            "order_increment": "1",
            "active": "y",
            "school_id": str(school.id),
        },
    )

    assert response.status_code == 302
    session.expire_all()
    assert session.get(Product, product.id).school_id == school.id
    [entry] = audits(session, "product.update")
    assert entry.after["school_id"] == school.id


# --- CSRF --------------------------------------------------------------------------------


def test_school_forms_need_a_csrf_token(make_app, session_factory):
    app = make_app(WTF_CSRF_ENABLED=True)
    with session_factory(app) as session:
        school = make_school(session, slug="greenfield")
        make_user(session, email="manager@factory.example", role="manager")
        session.commit()
        school_id = school.id
    client = app.test_client()
    page = client.get("/account/login").text
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    signed_in = client.post(
        "/account/login",
        data={"email": "manager@factory.example", "password": PASSWORD, "csrf_token": token},
    )
    assert signed_in.status_code == 302

    for path, data in (
        (f"/admin/schools/{school_id}/code", {"code": "tulip-2027"}),
        (f"/admin/schools/{school_id}/code/clear", {}),
        (f"/admin/schools/{school_id}/admins", {"invite-email": "x@school.example"}),
    ):
        assert client.post(path, data=data).status_code == 400, path
    with session_factory(app) as session:
        assert session.get(School, school_id).access_code_hash is None


def test_the_school_page_runs_the_same_queries_however_long_the_list(app, client, session, manager):
    from tests.helpers.queries import recording_queries

    def queries_for(count: int) -> int:
        school = make_school(session, grades=("1", "2"), rounds_in_days=(10, 20))
        for _ in range(count):
            add_item(session, school, make_product(session, tiers=((1, 8900), (50, 7900))))
        add_member(session, school, make_user(session, email=f"admin{count}@school.example"))
        session.commit()
        with recording_queries(app) as statements:
            assert client.get(f"/admin/schools/{school.id}").status_code == 200
        return len(statements)

    assert queries_for(2) == queries_for(12)
