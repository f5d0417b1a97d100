"""Roster orders through the school admin's pages: paste or upload, preview, fix, confirm."""

import html
import io
import re
import secrets

import pytest
import sqlalchemy as sa

from shop.catalog.models import Variant
from shop.orders.models import Order, OrderLine
from shop.schools.models import Invoice
from tests.accounts.helpers import login, make_user
from tests.factories import make_product
from tests.school_factories import add_item, add_member, make_school

GOOD = "student,class,grade,gender,polo,skirt\nAnn Lee,1A,1,girls,130,130\nBo Wang,1B,1,boys,140,\n"
BAD = "student,class,grade,gender,polo,hat\nAnn Lee,1A,1,girls,150,\n,1B,1,boys,140,\n"


def make_roster_school(session, **fields):
    school = make_school(session, slug="hillside", grades=("1", "2"), **fields)
    polo = make_product(
        session, slug="polo", name="Summer polo", sizes=("130", "140"), tiers=((1, 8900),)
    )
    skirt = make_product(session, slug="skirt", name="Skirt", sizes=("130",), tiers=((1, 9900),))
    add_item(session, school, polo, position=1)
    add_item(session, school, skirt, position=2, gender="girls")
    return school


@pytest.fixture
def school(session):
    school = make_roster_school(
        session, verified=True, invoice_terms_days=30, credit_limit_amount=1_000_000
    )
    session.commit()
    return school


@pytest.fixture
def bursar(client, session, school):
    user = make_user(session, email="bursar@hillside.example", role="school_admin", name="Bursar")
    add_member(session, school, user)
    session.commit()
    assert login(client, email="bursar@hillside.example").status_code == 302
    return user


def confirm(client, data: dict):
    """Post the confirm form as the preview page would: with a fresh one-time key."""
    return client.post(
        "/schools/hillside/admin/roster/confirm",
        data={"request_key": secrets.token_urlsafe(24), **data},
    )


def hidden_roster(page: str) -> str:
    """The roster text the confirm form carries."""
    # (a browser drops the newline that starts a textarea's content)
    match = re.search(r'<textarea name="roster" hidden>\n(.*?)</textarea>', page, re.S)
    assert match, "no confirm form"
    return html.unescape(match.group(1))


def order_count(session) -> int:
    return session.scalar(sa.select(sa.func.count()).select_from(Order))


def test_the_roster_page_explains_the_format(client, school, bursar):
    page = client.get("/schools/hillside/admin/roster").text

    assert 'data-testid="roster-form"' in page
    assert "/schools/hillside/admin/roster/template.csv" in page
    # the example, in the school's language (a school in China: Chinese)
    assert "学生,班级,年级,性别,身高,polo,skirt,polo:数量" in page
    assert "<code>polo</code>" in page and "<code>skirt</code>" in page


def test_a_pasted_roster_previews_with_a_confirm_form(client, school, bursar):
    response = client.post("/schools/hillside/admin/roster", data={"roster": GOOD})

    assert response.status_code == 200
    page = response.text
    assert 'data-ok="yes" data-students="2" data-lines="3" data-problems="0"' in page
    assert 'data-pieces="3" data-amount="' + str(2 * 8900 + 9900) + '"' in page
    assert hidden_roster(page) == GOOD
    assert 'value="invoice"' in page  # the school may pay on invoice
    assert 'name="po_number"' in page


def test_a_roster_with_problems_lists_them_and_cannot_be_confirmed(client, school, bursar):
    response = client.post("/schools/hillside/admin/roster", data={"roster": BAD})

    assert response.status_code == 422
    page = response.text
    problems = re.findall(
        r'data-testid="roster-problem" data-row="(\d+)" data-column="(\w*)"', page
    )
    assert problems == [("1", "hat"), ("2", "polo"), ("2", "skirt"), ("3", "student")]
    assert 'data-testid="roster-confirm-form"' not in page
    # fixing is easy: what was sent is back in the textarea
    assert html.escape(BAD.split("\n")[1]) in page


def test_an_uploaded_file_with_a_bom_and_tabs_is_read(client, school, bursar):
    data = ("\ufeff" + GOOD.replace(",", "\t")).encode("utf-8")

    response = client.post(
        "/schools/hillside/admin/roster",
        data={"roster": "", "file": (io.BytesIO(data), "roster.csv")},
        content_type="multipart/form-data",
    )

    assert response.status_code == 200
    assert 'data-ok="yes" data-students="2"' in response.text


def test_a_file_that_is_not_utf8_is_refused_with_a_message(client, school, bursar):
    data = "student,class\n王小明,1A\n".encode("gb18030")

    response = client.post(
        "/schools/hillside/admin/roster",
        data={"file": (io.BytesIO(data), "roster.csv")},
        content_type="multipart/form-data",
    )

    assert response.status_code == 400
    assert "not UTF-8" in response.text


def test_an_empty_post_asks_for_a_roster(client, school, bursar):
    response = client.post("/schools/hillside/admin/roster", data={"roster": "  "})

    assert response.status_code == 400
    assert "Paste the roster or choose a CSV file." in response.text


def test_confirming_checks_the_roster_again(client, session, school, bursar):
    response = confirm(
        client,
        {"roster": BAD, "payment": "invoice", "po_number": "PO-1"},
    )

    assert response.status_code == 422
    assert 'data-testid="roster-problem"' in response.text
    assert order_count(session) == 0


def test_confirming_on_invoice_places_one_order_and_shows_the_invoice(
    client, session, school, bursar
):
    response = confirm(
        client,
        {"roster": GOOD, "payment": "invoice", "po_number": "PO-2026-17"},
    )

    assert response.status_code == 303, response.text
    order = session.scalars(sa.select(Order)).one()
    invoice = session.scalars(sa.select(Invoice)).one()
    # the job placed it during the request: its progress page leads to the invoice
    assert response.headers["Location"].startswith("/schools/hillside/admin/roster/")
    response = client.get(response.headers["Location"])
    assert response.status_code == 303
    assert response.headers["Location"] == f"/schools/hillside/admin/invoices/{invoice.number}"
    assert (order.school_id, order.po_number, order.payment_status) == (
        school.id,
        "PO-2026-17",
        "awaiting_invoice",
    )
    lines = session.scalars(
        sa.select(OrderLine).where(OrderLine.order_id == order.id).order_by(OrderLine.id)
    ).all()
    assert sorted(
        (line.student_name, line.class_name, line.size, line.quantity) for line in lines
    ) == [
        ("Ann Lee", "1A", "130", 1),
        ("Ann Lee", "1A", "130", 1),
        ("Bo Wang", "1B", "140", 1),
    ]
    assert client.get(response.headers["Location"]).status_code == 200


def test_invoice_without_a_purchase_order_number_is_refused(client, session, school, bursar):
    response = confirm(
        client,
        {"roster": GOOD, "payment": "invoice", "po_number": ""},
    )

    assert response.status_code == 409
    assert "purchase-order number" in response.text
    assert order_count(session) == 0
    assert hidden_roster(response.text) == GOOD  # try again without pasting again


def test_an_order_above_the_credit_limit_is_refused(client, session, school, bursar):
    school.credit_limit_amount = 10000
    session.commit()

    response = confirm(
        client,
        {"roster": GOOD, "payment": "invoice", "po_number": "PO-9"},
    )

    assert response.status_code == 409
    assert "remaining credit" in response.text
    assert order_count(session) == 0


def test_a_school_without_invoice_terms_is_offered_card_only(client, session, bursar, school):
    school.invoice_terms_days = 0
    session.commit()

    page = client.post("/schools/hillside/admin/roster", data={"roster": GOOD}).text

    assert 'value="invoice"' not in page
    assert '<input type="hidden" name="payment" value="card">' in page


def test_the_roster_forms_need_a_csrf_token(make_app, session_factory):
    app = make_app(WTF_CSRF_ENABLED=True)
    client = app.test_client()
    with session_factory(app) as session:
        school = make_roster_school(session)
        user = make_user(session, email="bursar@hillside.example", role="school_admin")
        add_member(session, school, user)
        session.commit()
    page = client.get("/account/login").text
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    login(client, email="bursar@hillside.example", csrf_token=token)

    preview = client.post("/schools/hillside/admin/roster", data={"roster": GOOD})
    confirmed = confirm(client, {"roster": GOOD, "payment": "card"})

    assert preview.status_code == 400
    assert confirmed.status_code == 400
    with session_factory(app) as session:
        assert order_count(session) == 0


def test_confirming_by_card_goes_to_the_payment_page(make_app, stripe_settings, session_factory):
    app = make_app(**stripe_settings)
    client = app.test_client()
    with session_factory(app) as session:
        school = make_roster_school(session)  # not verified: card only
        user = make_user(session, email="bursar@hillside.example", role="school_admin")
        add_member(session, school, user)
        session.commit()
    login(client, email="bursar@hillside.example")

    response = confirm(client, {"roster": GOOD, "payment": "card"})

    assert response.status_code == 303, response.text
    with session_factory(app) as session:
        order = session.scalars(sa.select(Order)).one()
        assert (order.payment_status, order.user_id, order.school_id) == (
            "unpaid",
            user.id,
            school.id,
        )
        assert order.reserved_until is not None
    response = client.get(response.headers["Location"])  # the progress page: placed
    assert response.headers["Location"] == f"/checkout/pay/{order.number}"
    assert client.get(response.headers["Location"]).status_code == 200


def test_the_invoice_is_emailed_to_the_bursar_and_the_schools_contact(
    client, session, school, bursar, outbox
):
    school.contact_email = "office@hillside.example"
    session.commit()
    confirm(
        client,
        {"roster": GOOD, "payment": "invoice", "po_number": "PO-2026-18"},
    )
    invoice = session.scalars(sa.select(Invoice)).one()

    mails = outbox()
    assert sorted(mail["To"] for mail in mails) == [
        "bursar@hillside.example",
        "office@hillside.example",
    ]
    text = mails[0].get_body(("plain",)).get_content()
    assert invoice.number in text and "PO-2026-18" in text
    assert f"/schools/hillside/admin/invoices/{invoice.number}" in text


def test_a_refused_roster_order_emails_nothing(client, session, school, bursar, outbox):
    confirm(
        client,
        {"roster": GOOD, "payment": "invoice", "po_number": ""},
    )
    assert outbox() == []


def test_confirming_the_same_preview_twice_places_one_order(client, session, school, bursar):
    preview = client.post("/schools/hillside/admin/roster", data={"roster": GOOD})
    key = re.search(r'name="request_key" value="([^"]+)"', preview.text).group(1)
    data = {"roster": GOOD, "payment": "invoice", "po_number": "PO-7", "request_key": key}

    first = client.post("/schools/hillside/admin/roster/confirm", data=data)
    second = client.post("/schools/hillside/admin/roster/confirm", data=data)

    assert first.status_code == second.status_code == 303
    assert first.headers["Location"] == second.headers["Location"]
    assert order_count(session) == 1
    assert len(session.scalars(sa.select(Invoice)).all()) == 1


def test_a_confirmation_without_its_key_is_refused(client, session, school, bursar):
    response = client.post(
        "/schools/hillside/admin/roster/confirm",
        data={"roster": GOOD, "payment": "invoice", "po_number": "PO-7"},
    )
    assert response.status_code == 400
    assert order_count(session) == 0


def test_two_confirmations_at_once_still_place_one_order(
    client, session, school, bursar, monkeypatch
):
    """Both requests pass the first look-up (they arrived together); the unique key stops
    the second at the database, which then shows the first one's invoice."""
    from shop.schools import school_admin_views

    real = school_admin_views._placed_with
    calls = []

    def racing(db, school, key):
        calls.append(key)
        return None if len(calls) <= 2 else real(db, school, key)

    monkeypatch.setattr(school_admin_views, "_placed_with", racing)
    data = {"roster": GOOD, "payment": "invoice", "po_number": "PO-8", "request_key": "k" * 24}
    first = client.post("/schools/hillside/admin/roster/confirm", data=data)
    second = client.post("/schools/hillside/admin/roster/confirm", data=data)

    assert first.status_code == second.status_code == 303
    assert first.headers["Location"] == second.headers["Location"]
    assert order_count(session) == 1


def test_a_large_roster_warns_that_ordering_takes_a_moment(client, session, school, bursar):
    session.execute(sa.update(Variant).values(on_hand=1000))  # the preview checks stock
    session.commit()
    rows = [GOOD.splitlines()[0]] + [f"Child {n},1A,1,boys,130," for n in range(201)]
    page = client.post("/schools/hillside/admin/roster", data={"roster": "\n".join(rows)})
    assert 'data-testid="roster-confirm-wait"' in page.text
    small = client.post("/schools/hillside/admin/roster", data={"roster": GOOD})
    assert 'data-testid="roster-confirm-wait"' not in small.text
