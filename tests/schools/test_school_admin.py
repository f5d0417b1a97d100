"""A school's own admins: who sees the school's pages, what the dashboard and the packing
lists show, and what they never show (parents' addresses, phones, emails, payments)."""

import csv
import io
import re

import pytest
import sqlalchemy as sa

from shop.schools.membership import can_manage_school, schools_for
from shop.schools.models import Invoice
from tests.accounts.helpers import login, make_user
from tests.factories import make_product
from tests.order_factories import make_order
from tests.school_factories import add_item, add_member, make_school
from tests.schools.invoice_helpers import invoice_order, invoice_school

STREET = "88 Plum Blossom Lane"
PHONE = "13912345678"
PARENT_EMAIL = "mei.parent@example.com"


@pytest.fixture
def school(session):
    return make_school(session, slug="hillside", name="Hillside Primary")


@pytest.fixture
def other_school(session):
    return make_school(session, slug="riverside", name="Riverside School")


@pytest.fixture
def parent_order(session, school):
    """A parent's paid home-delivery order for two children of the school."""
    parent = make_user(session, email=PARENT_EMAIL, name="Mei Chen")
    order = make_order(
        session,
        lines=(("POLO-130", 2, 8900), ("HAT-M", 1, 1500)),
        email=PARENT_EMAIL,
        user=parent,
        school_id=school.id,
        phone=PHONE,
        country="CN",
        region="Zhejiang",
        city="Hangzhou",
        line1=STREET,
        postcode="310000",
    )
    order.delivery_method, order.recipient = "courier", "Mei Chen"
    order.lines[0].student_name, order.lines[0].class_name = "Chen Xiao", "3A"
    order.lines[1].student_name, order.lines[1].class_name = "Chen Da", "1B"
    order.delivery_round_id = school.rounds[0].id
    session.commit()
    return order


def sign_in_as(client, session, email, role="school_admin", school=None):
    user = make_user(session, email=email, role=role, name=email.split("@")[0].title())
    if school is not None:
        add_member(session, school, user)
        session.commit()
    response = login(client, email=email)
    assert response.status_code == 302
    return user


def school_pages(slug):
    return [
        f"/schools/{slug}/admin",
        f"/schools/{slug}/admin/classes/3A/packing",
        f"/schools/{slug}/admin/classes/3A/packing.csv",
        f"/schools/{slug}/admin/roster",
        f"/schools/{slug}/admin/roster/template.csv",
    ]


# --- who may see a school's pages -----------------------------------------------------------


def test_can_manage_school(session, school, other_school):
    member = make_user(session, email="bursar@hillside.example", role="school_admin")
    add_member(session, school, member)
    stranger = make_user(session, email="bursar@riverside.example", role="school_admin")
    add_member(session, other_school, stranger)
    staff = make_user(session, email="manager@factory.example", role="manager")
    warehouse = make_user(session, email="wh@factory.example", role="warehouse")
    customer = make_user(session, email="parent@example.com")

    assert can_manage_school(member, school)
    assert not can_manage_school(stranger, school)
    assert can_manage_school(staff, school)  # schools.manage
    assert not can_manage_school(warehouse, school)
    assert not can_manage_school(customer, school)
    assert [s.slug for s in schools_for(session, member)] == ["hillside"]
    assert schools_for(session, customer) == []

    member.active = False
    session.commit()
    assert not can_manage_school(member, school)


def test_the_schools_admin_sees_every_page(client, session, school, parent_order):
    sign_in_as(client, session, "bursar@hillside.example", school=school)

    for path in school_pages("hillside"):
        assert client.get(path).status_code == 200, path


def test_another_schools_admin_gets_404_everywhere(client, session, school, other_school):
    sign_in_as(client, session, "bursar@riverside.example", school=other_school)

    for path in school_pages("hillside"):
        assert client.get(path).status_code == 404, path
    response = client.post("/schools/hillside/admin/roster", data={"roster": "student,class"})
    assert response.status_code == 404
    response = client.post("/schools/hillside/admin/roster/confirm", data={"roster": "x"})
    assert response.status_code == 404


def test_a_customer_gets_404_and_an_anonymous_visitor_signs_in_first(client, session, school):
    for path in school_pages("hillside"):
        response = client.get(path)
        assert response.status_code == 302, path
        assert response.headers["Location"].startswith("/account/login?next=")

    sign_in_as(client, session, "parent@example.com", role="customer")
    for path in school_pages("hillside"):
        assert client.get(path).status_code == 404, path
    assert client.get("/schools/admin").status_code == 404


def test_staff_who_manage_schools_see_the_pages(client, session, school, parent_order):
    sign_in_as(client, session, "manager@factory.example", role="manager")

    assert client.get("/schools/hillside/admin").status_code == 200


def test_an_unknown_school_is_404(client, session, school):
    sign_in_as(client, session, "bursar@hillside.example", school=school)

    assert client.get("/schools/nowhere/admin").status_code == 404


# --- landing and links ------------------------------------------------------------------


def test_a_school_admin_lands_on_the_schools_dashboard(client, session, school):
    user = make_user(session, email="bursar@hillside.example", role="school_admin")
    add_member(session, school, user)
    session.commit()

    response = login(client, email="bursar@hillside.example")

    assert response.headers["Location"] == "/schools/admin"
    response = client.get("/schools/admin")
    assert response.status_code == 302
    assert response.headers["Location"] == "/schools/hillside/admin"
    page = client.get("/schools/hillside/admin").text
    assert 'data-testid="school-admin-link"' in page


def test_an_admin_of_two_schools_chooses_one(client, session, school, other_school):
    user = sign_in_as(client, session, "bursar@both.example", school=school)
    add_member(session, other_school, user)
    session.commit()

    page = client.get("/schools/admin").text

    assert "/schools/hillside/admin" in page
    assert "/schools/riverside/admin" in page


def test_customers_and_staff_keep_their_landing_pages(client, session):
    make_user(session, email="parent@example.com")
    assert login(client, email="parent@example.com").headers["Location"] == "/account"


# --- the dashboard --------------------------------------------------------------------------


def test_the_dashboard_lists_the_schools_orders_and_class_totals(
    client, session, school, other_school, parent_order
):
    elsewhere = make_order(session, school_id=other_school.id)
    abandoned = make_order(session, school_id=school.id, payment_status="unpaid", state="cancelled")
    waiting = make_order(session, school_id=school.id, payment_status="unpaid")
    session.commit()
    sign_in_as(client, session, "bursar@hillside.example", school=school)

    page = client.get("/schools/hillside/admin").text

    assert f'data-number="{parent_order.number}"' in page
    assert f'data-number="{waiting.number}"' in page  # still to be paid: shown
    assert abandoned.number not in page
    assert elsewhere.number not in page
    assert "Mei Chen" in page  # placed by: the name only
    assert "Chen Xiao" in page and "Chen Da" in page
    assert 'data-class="3A" data-pieces="2" data-amount="17800"' in page
    assert 'data-class="1B" data-pieces="1" data-amount="1500"' in page
    assert "/schools/hillside/admin/classes/3A/packing.csv" in page


def test_the_dashboard_shows_school_prices_read_only(client, session, school):
    polo = make_product(session, slug="polo", tiers=((1, 8900), (50, 7900)))
    hat = make_product(session, slug="hat", tiers=((1, 1500),))
    add_item(session, school, polo, school_price_amount=7000)
    add_item(session, school, hat, position=1)
    session.commit()
    sign_in_as(client, session, "bursar@hillside.example", school=school)

    page = client.get("/schools/hillside/admin").text

    assert 'data-amount="7000" data-currency="CNY"' in page  # the school's own price
    assert 'data-amount="1500" data-currency="CNY"' in page  # the catalogue price
    assert "school_price_amount" not in page
    assert '<form method="post"' not in page.split('data-testid="school-prices"')[1]


# --- the privacy rule ---------------------------------------------------------------------


def test_parents_addresses_phones_emails_and_payments_never_show(
    client, session, school, parent_order
):
    sign_in_as(client, session, "bursar@hillside.example", school=school)

    pages = {
        "dashboard": client.get("/schools/hillside/admin"),
        "packing": client.get("/schools/hillside/admin/classes/3A/packing"),
        "csv": client.get("/schools/hillside/admin/classes/3A/packing.csv"),
        "other class csv": client.get("/schools/hillside/admin/classes/1B/packing.csv"),
    }

    for name, response in pages.items():
        assert response.status_code == 200, name
        body = response.get_data(as_text=True)
        assert parent_order.number in body, name  # the order is there...
        for private in (STREET, PHONE, PARENT_EMAIL, "310000", "pi_test_"):
            assert private not in body, (name, private)  # ...its private details are not


# --- packing lists --------------------------------------------------------------------------


def test_the_printable_packing_list_has_a_block_per_student(client, session, school, parent_order):
    second = make_order(session, lines=(("SOCKS", 3, 500),), school_id=school.id)
    second.lines[0].student_name, second.lines[0].class_name = "An Li", "3A"
    session.commit()
    sign_in_as(client, session, "bursar@hillside.example", school=school)

    page = client.get("/schools/hillside/admin/classes/3A/packing").text

    assert page.count('data-testid="packing-student"') == 2
    assert page.index('data-student="An Li"') < page.index('data-student="Chen Xiao"')
    assert page.count('data-testid="packing-row"') == 2
    assert re.search(r"css/admin\.[0-9a-f]{10}\.css", page)  # its print rules
    assert "Chen Da" not in page  # class 1B


def test_the_packing_csv(client, session, school, parent_order):
    parent_order.lines[0].student_name = "=HYPERLINK(1)"
    session.commit()
    sign_in_as(client, session, "bursar@hillside.example", school=school)

    response = client.get("/schools/hillside/admin/classes/3A/packing.csv")

    assert response.mimetype == "text/csv"
    assert 'filename="packing-hillside-3A.csv"' in response.headers["Content-Disposition"]
    data = response.get_data()
    assert data.startswith("\ufeff".encode())
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
    assert rows == [
        ["student", "class", "item", "size", "colour", "quantity", "order_number"],
        ["'=HYPERLINK(1)", "3A", "Product POLO-130", "130", "navy", "2", parent_order.number],
    ]


def test_the_roster_template_lists_the_schools_items(client, session, school):
    add_item(session, school, make_product(session, slug="polo"))
    session.commit()
    sign_in_as(client, session, "bursar@hillside.example", school=school)

    response = client.get("/schools/hillside/admin/roster/template.csv")
    english = client.get("/schools/hillside/admin/roster/template.csv?lang=en")

    # In the school's language (a school in China), with two example students: the
    # polo comes in 130 only, too small for 138 cm and 142 cm children, so no size is
    # written for them (never a size that does not fit).
    assert response.get_data().decode("utf-8") == (
        "\ufeff学生,班级,年级,性别,身高,polo,polo:数量\r\n王小明,3班,1,男,138,,2\r\n李娜,3班,1,女,142,,\r\n"
    )
    assert (
        english.get_data()
        .decode("utf-8")
        .startswith(
            "\ufeffstudent,class,grade,gender,height,polo,polo:qty\r\n"
            "Wang Xiaoming,3A,1,boys,138,,2\r\n"
        )
    )


def test_a_school_admin_without_a_school_goes_to_their_account(client, session):
    sign_in_as(client, session, "new.bursar@example.com")

    response = client.get("/schools/admin")

    assert response.status_code == 302
    assert response.headers["Location"] == "/account"


def test_an_order_on_invoice_links_to_its_invoice_from_the_dashboard(client, session):
    school = invoice_school(session, slug="invoiced")
    variant = make_product(session).variants[0]
    order = invoice_order(session, school, variant, 2)
    session.commit()
    invoice = session.scalars(sa.select(Invoice).where(Invoice.order_id == order.id)).one()
    sign_in_as(client, session, "bursar@invoiced.example", school=school)

    page = client.get("/schools/invoiced/admin").text
    link = f"/schools/invoiced/admin/invoices/{invoice.number}"
    assert f'href="{link}"' in page
    assert client.get(link).status_code == 200
