"""The roster pages with stock: the preview says per item, size and colour what is short
and for whom, the bursar's choices feed the confirmation, a confirmation refused for stock
keeps everything typed, and the dashboard shows what the school owes."""

import html
import re
import secrets
from datetime import timedelta

import pytest
import sqlalchemy as sa

from shop.catalog.models import Variant
from shop.db import utcnow
from shop.orders.models import Order, OrderLine
from shop.schools.models import Invoice
from tests.accounts.helpers import login, make_user
from tests.at_once import send_at_once
from tests.factories import make_product
from tests.school_factories import add_item, add_member, make_school

BURSAR = "bursar@hillside.example"
HEADER = "student,class,gender,polo"
ROSTER = (
    HEADER + "\nAnn Lee,1A,girls,130/white\nBo Wang,1A,boys,130/white\nCy Chen,1B,boys,130/white\n"
)
URL = "/schools/hillside/admin/roster"


@pytest.fixture
def school(session):
    school = make_school(
        session,
        slug="hillside",
        grades=(),
        verified=True,
        invoice_terms_days=30,
        credit_limit_amount=1_000_000,
        rounds_in_days=(14, 28),
    )
    polo = make_product(
        session,
        slug="polo",
        name="Summer polo",
        name_zh="夏季Polo衫",
        sizes=("130",),
        colours=("white", "navy"),
        on_hand=10,
        lead_time_days=21,
        tiers=((1, 8900),),
    )
    add_item(session, school, polo, position=1)
    white = variant(session, "white")
    white.on_hand = 1
    session.commit()
    return school


@pytest.fixture
def signed_in(client, session, school):
    user = make_user(session, email=BURSAR, role="school_admin", name="Bursar")
    add_member(session, school, user)
    session.commit()
    assert login(client, email=BURSAR).status_code == 302
    return client


def variant(session, colour) -> Variant:
    return session.scalars(sa.select(Variant).where(Variant.colour == colour)).one()


def orders(session) -> list[Order]:
    session.expire_all()
    return list(session.scalars(sa.select(Order)))


def section(page: str, testid: str) -> str:
    return page[page.index(f'data-testid="{testid}"') :]


def test_the_preview_checks_stock_for_the_whole_roster_and_names_what_is_short(signed_in, session):
    page = signed_in.post(URL, data={"roster": ROSTER})

    assert page.status_code == 422
    text = page.text
    assert 'data-testid="roster-confirm-form"' not in text
    shortage = re.search(r'data-testid="roster-shortage" [^>]*', text).group(0)
    assert 'data-needed="3"' in shortage and 'data-available="1"' in shortage
    assert 'data-short="2"' in shortage and 'data-students="2"' in shortage
    assert "Summer polo · size 130 · White" in text
    assert "Bo Wang (1A), Cy Chen (1B)" in text
    assert variant(session, "white").sku not in text.split('data-testid="roster-students"')[0]
    choices = section(text, "roster-stock-form")
    white, navy = variant(session, "white"), variant(session, "navy")
    assert f'name="stock-{white.id}" value="colour:{navy.id}"' in choices
    assert "Give them Navy instead (10 in stock)" in choices
    assert f'name="stock-{white.id}" value="made_to_order"' in choices
    assert f'name="stock-{white.id}" value="leave_out"' in choices


def test_the_shortage_is_named_in_the_readers_language(signed_in, session):
    page = signed_in.post(URL + "?lang=zh_CN", data={"roster": ROSTER}).text

    assert "夏季Polo衫" in page and "白色" in page and "藏青色" in page


def test_a_choice_applied_previews_again_and_the_confirmation_places_it(signed_in, session):
    white, navy = variant(session, "white"), variant(session, "navy")
    choice = {f"stock-{white.id}": f"colour:{navy.id}"}

    again = signed_in.post(URL, data={"roster": ROSTER, "po_number": "PO-9", **choice})

    assert again.status_code == 200
    assert 'data-ok="yes"' in again.text and 'data-unresolved="0"' in again.text
    form = section(again.text, "roster-confirm-form")
    assert f'name="stock-{white.id}" value="colour:{navy.id}"' in form
    key = re.search(r'name="request_key" value="([^"]+)"', form).group(1)
    done = signed_in.post(
        URL + "/confirm",
        data={
            "roster": ROSTER,
            "payment": "invoice",
            "po_number": "PO-9",
            "request_key": key,
            **choice,
        },
    )
    assert done.status_code == 303
    [order] = orders(session)
    lines = sorted(
        (line.student_name, line.colour)
        for line in session.scalars(sa.select(OrderLine).where(OrderLine.order_id == order.id))
    )
    assert lines == [("Ann Lee", "white"), ("Bo Wang", "navy"), ("Cy Chen", "navy")]
    assert order.total_amount == 3 * 8900


def test_made_to_order_shows_its_ready_date_and_the_order_makes_those_pieces(signed_in, session):
    white = variant(session, "white")
    choice = {f"stock-{white.id}": "made_to_order"}

    again = signed_in.post(URL, data={"roster": ROSTER, **choice})

    assert again.status_code == 200
    assert "Have them made to order, ready about" in again.text
    assert again.text.count('data-made-to-order="yes"') == 2
    key = re.search(r'name="request_key" value="([^"]+)"', again.text).group(1)
    signed_in.post(
        URL + "/confirm",
        data={
            "roster": ROSTER,
            "payment": "invoice",
            "po_number": "P",
            "request_key": key,
            **choice,
        },
    )
    [order] = orders(session)
    made = [line.made_to_order for line in sorted(order.lines, key=lambda line: line.id)]
    assert sorted(made) == [False, True, True]


def test_a_confirmation_refused_for_stock_keeps_everything_typed(signed_in, session, school):
    text = HEADER + "\nAnn Lee,1A,girls,130/white\n"
    preview = signed_in.post(URL, data={"roster": text})
    assert 'data-ok="yes"' in preview.text
    later_round = school.rounds[1]
    variant(session, "white").allocated = 1  # someone else takes the last one meanwhile
    session.commit()

    response = signed_in.post(
        URL + "/confirm",
        data={
            "roster": text,
            "payment": "invoice",
            "po_number": "PO-2026-77",
            "notes": "Deliver to the sports hall",
            "round_id": str(later_round.id),
            "request_key": secrets.token_urlsafe(24),
        },
    )

    assert response.status_code == 409
    page = response.text
    assert orders(session) == []
    assert "no longer in stock as the preview showed" in html.unescape(page)
    assert "Summer polo · size 130 · White" in page  # the same per-item shortage
    kept = section(page, "roster-stock-form")
    assert 'name="po_number" value="PO-2026-77"' in kept
    assert 'name="notes" value="Deliver to the sports hall"' in kept
    assert f'name="round_id" value="{later_round.id}"' in kept
    assert "Ann Lee,1A,girls,130/white" in kept
    # choosing navy then shows the confirm form filled in as the bursar had it
    navy = variant(session, "navy")
    again = signed_in.post(
        URL,
        data={
            "roster": text,
            "payment": "invoice",
            "po_number": "PO-2026-77",
            "notes": "Deliver to the sports hall",
            "round_id": str(later_round.id),
            f"stock-{variant(session, 'white').id}": f"colour:{navy.id}",
        },
    )
    form = section(again.text, "roster-confirm-form")
    assert 'value="PO-2026-77"' in form and "Deliver to the sports hall</textarea>" in form
    assert re.search(rf'<option value="{later_round.id}"\s+selected', form)


def test_the_chosen_delivery_round_and_notes_go_on_the_order(signed_in, session, school):
    later_round = school.rounds[1]
    text = HEADER + "\nAnn Lee,1A,girls,130/white\n"

    response = signed_in.post(
        URL + "/confirm",
        data={
            "roster": text,
            "payment": "invoice",
            "po_number": "PO-1",
            "notes": "Deliver to the sports hall",
            "round_id": str(later_round.id),
            "request_key": secrets.token_urlsafe(24),
        },
    )

    assert response.status_code == 303
    [order] = orders(session)
    assert order.delivery_round_id == later_round.id
    assert order.notes == "Deliver to the sports hall"


@pytest.mark.parametrize("round_id", ["999999", "abc", "1" * 40])
def test_a_round_that_is_not_open_is_refused_and_keeps_the_roster(signed_in, session, round_id):
    text = HEADER + "\nAnn Lee,1A,girls,130/white\n"

    response = signed_in.post(
        URL + "/confirm",
        data={
            "roster": text,
            "payment": "invoice",
            "po_number": "PO-1",
            "round_id": round_id,
            "request_key": secrets.token_urlsafe(24),
        },
    )

    assert response.status_code == 409
    assert "That delivery round is closed for orders" in response.text
    assert orders(session) == []
    assert "Ann Lee,1A,girls,130/white" in section(response.text, "roster-confirm-form")


def test_the_confirm_button_says_it_is_working_and_the_script_is_on_the_page(
    client, signed_in, session
):
    page = signed_in.post(URL, data={"roster": HEADER + "\nAnn Lee,1A,girls,130/white\n"}).text

    form = re.search(r'<form class="roster-confirm"[^>]*>', page).group(0)
    assert "data-once" in form
    assert re.search(r'data-testid="roster-confirm" data-busy-label="Placing order…"', page)
    script = re.search(r'src="(/static/js/once\.[0-9a-f]+\.js)"', page).group(1)
    response = client.get(script)
    source = response.get_data(as_text=True)
    response.close()
    assert "busyLabel" in source and "disabled = true" in source


@pytest.mark.parametrize("copies", [2, 5])
def test_the_same_confirmation_with_choices_sent_at_once_places_one_order(
    app, signed_in, session, copies
):
    white, navy = variant(session, "white"), variant(session, "navy")
    data = {
        "roster": ROSTER,
        "payment": "invoice",
        "po_number": "PO-5",
        "request_key": secrets.token_urlsafe(24),
        f"stock-{white.id}": f"colour:{navy.id}",
    }

    answers = send_at_once(app, signed_in, copies, "POST", URL + "/confirm", data=data)

    assert all(answer.status in (303, 409) for answer in answers)
    [order] = orders(session)
    assert sorted(line.colour for line in order.lines) == ["navy", "navy", "white"]
    session.expire_all()
    assert (variant(session, "white").on_hand, variant(session, "navy").on_hand) == (0, 8)


# --- the dashboard ---------------------------------------------------------------------


def place_on_invoice(client, text, po="PO-1", notes=""):
    response = client.post(
        URL + "/confirm",
        data={
            "roster": text,
            "payment": "invoice",
            "po_number": po,
            "notes": notes,
            "request_key": secrets.token_urlsafe(24),
        },
    )
    assert response.status_code == 303


def amount(page: str, testid: str) -> int:
    return int(re.search(rf'data-testid="{testid}" data-amount="(\d+)"', page).group(1))


def test_the_dashboard_shows_outstanding_overdue_and_remaining_credit(signed_in, session):
    place_on_invoice(signed_in, HEADER + "\nAnn Lee,1A,girls,130/navy\n")
    place_on_invoice(signed_in, HEADER + "\nBo Wang,1A,boys,130/navy\nCy Chen,1A,boys,130/navy\n")
    first = session.scalars(sa.select(Invoice).order_by(Invoice.id)).first()
    first.due_date = (utcnow() - timedelta(days=3)).date()  # overdue
    session.commit()

    page = signed_in.get("/schools/hillside/admin").text

    assert amount(page, "balance-outstanding") == 3 * 8900
    assert amount(page, "balance-overdue") == 8900
    assert 'data-count="1"' in page
    assert amount(page, "balance-credit") == 1_000_000 - 3 * 8900


def test_a_school_without_a_credit_limit_shows_no_remaining_credit(signed_in, session, school):
    school.credit_limit_amount = 0
    session.commit()

    page = signed_in.get("/schools/hillside/admin").text

    assert amount(page, "balance-outstanding") == 0
    assert 'data-testid="balance-credit"' not in page


def test_each_order_on_the_dashboard_links_to_its_page(signed_in, session):
    place_on_invoice(
        signed_in, HEADER + "\nAnn Lee,1A,girls,130/navy\n", po="PO-42", notes="Gate B"
    )
    [order] = orders(session)

    page = signed_in.get("/schools/hillside/admin").text
    link = f"/schools/hillside/admin/orders/{order.number}"
    assert f'href="{link}" data-testid="school-order-link"' in page

    detail = signed_in.get(link)
    assert detail.status_code == 200
    assert "Ann Lee" in detail.text and 'data-testid="order-po">PO-42<' in detail.text
    assert 'data-testid="order-notes">Gate B<' in detail.text
    assert 'data-testid="invoice-link"' in detail.text
    assert signed_in.get("/schools/hillside/admin/orders/NOPE-123").status_code == 404


def test_another_schools_order_page_is_a_404(signed_in, session):
    other = make_school(session, slug="other")
    variant_ = make_product(session).variants[0]
    order = Order(
        number="SF-OTHER-1",
        currency="CNY",
        locale="en",
        subtotal_amount=0,
        shipping_amount=0,
        total_amount=0,
        email="parent@example.com",
        delivery_method="school",
        school_id=other.id,
    )
    session.add(order)
    session.commit()
    assert variant_.id

    assert signed_in.get("/schools/hillside/admin/orders/SF-OTHER-1").status_code == 404
