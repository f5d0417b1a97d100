"""The reseller's earnings page and monthly statements: their own ledger and payouts,
nobody else's, no buyer detail anywhere, and no error on odd addresses."""

import csv
import io
from datetime import timedelta

import pytest

from shop.db import utcnow
from shop.resellers import ledger
from tests.accounts.helpers import login, make_user
from tests.helpers.ledger import attributed_order, deliver, pay, refund_to
from tests.helpers.pdf import pdf_strings
from tests.helpers.resellers import make_reseller

EARNINGS = "/account/window/earnings"
BUYER = ("Li Wei", "buyer@example.com", "13800138000", "88 Jiefang Road", "Chaoyang")


@pytest.fixture
def window(app, session):
    reseller = make_reseller(session)
    with app.test_request_context():
        paid = attributed_order(
            session,
            reseller,
            lines=(("POLO-130", 1, 60000),),
            email=BUYER[1],
            phone=BUYER[2],
            line1=BUYER[3],
            city=BUYER[4],
        )
        pay(session, paid)
        deliver(session, paid, utcnow() - timedelta(days=30))
        ledger.approve_due(session, utcnow())
        ledger.pay_out(
            session, reseller.id, "CNY", reference="BANK-1", request_key=None, actor_id=None
        )
        refund_to(session, paid, 30000)
        pending = attributed_order(session, reseller, lines=(("SKIRT", 2, 5000),))
        pay(session, pending)
        session.commit()
    return reseller


def month() -> str:
    return utcnow().strftime("%Y-%m")


def test_the_reseller_sees_every_line_and_payout_without_buyer_detail(client, window):
    login(client, email="reseller@example.com")
    page = client.get(EARNINGS).text
    assert page.count('data-testid="ledger-line"') == 3
    assert 'data-kind="reversal" data-state="approved" data-amount="-3000"' in page
    assert 'data-testid="balance" data-currency="CNY" data-pending="1000" data-approved="0"' in page
    assert 'data-paid="6000" data-reversed="3000" data-payable="-3000"' in page
    assert "BANK-1" in page
    for detail in BUYER:
        assert detail not in page


def test_the_monthly_statement_as_csv_and_pdf(client, window):
    login(client, email="reseller@example.com")
    response = client.get(f"/account/window/statement/{month()}.csv")
    assert response.status_code == 200
    text = response.data.decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[0][:4] == ["date", "order", "product", "kind"]
    assert sorted(int(row[7]) for row in rows[1:]) == [-3000, 1000, 6000, 6000]
    pdf = client.get(f"/account/window/statement/{month()}.pdf")
    assert pdf.status_code == 200 and pdf.data.startswith(b"%PDF")
    pdf_text = " ".join(pdf_strings(pdf.data))
    assert "BANK-1" in pdf_text
    for detail in BUYER:
        assert detail not in text
        assert detail not in pdf_text


def test_an_empty_month_is_an_empty_statement(client, window):
    login(client, email="reseller@example.com")
    rows = list(
        csv.reader(
            io.StringIO(
                client.get("/account/window/statement/2001-01.csv").data.decode("utf-8-sig")
            )
        )
    )
    assert len(rows) == 1
    assert client.get("/account/window/statement/2001-01.pdf").status_code == 200


@pytest.mark.parametrize(
    "path",
    [
        "/account/window/statement/2026-13.csv",
        "/account/window/statement/99999999999999999999.pdf",
        "/account/window/statement/2026-1.pdf",
        "/account/window/statement/%00.csv",
        "/account/window/statement/2026-01%00.csv",
        "/account/window/statement/" + "9" * 5000 + ".csv",
    ],
)
def test_bad_months_are_not_found(client, window, path):
    login(client, email="reseller@example.com")
    assert client.get(path).status_code in (400, 404)


def test_only_the_window_owner_sees_its_earnings(client, session, sign_in, window):
    paths = (EARNINGS, f"/account/window/statement/{month()}.csv")
    for path in paths:
        assert client.get(path).status_code == 302  # anonymous: to the login page
    make_user(session, email="someone@example.com")
    login(client, email="someone@example.com")
    for path in paths:
        assert client.get(path).status_code == 404  # a customer without a window
    make_reseller(session, email="other@example.com", handle="other-window")
    login(client, email="other@example.com")
    page = client.get(EARNINGS).text
    assert 'data-testid="ledger-line"' not in page and "BANK-1" not in page
    assert len(client.get(paths[1]).data.decode("utf-8-sig").splitlines()) == 1
    sign_in("owner")
    for path in paths:
        assert client.get(path).status_code == 403  # staff have no window


def test_the_window_page_links_the_earnings(client, window):
    login(client, email="reseller@example.com")
    assert 'data-testid="earnings-link"' in client.get("/account/window").text


def test_statements_are_offered_from_the_month_the_window_opened(client, session, window):
    login(client, email="reseller@example.com")
    opened = window.created_at.strftime("%Y-%m")
    page = client.get(EARNINGS).text
    assert f"/account/window/statement/{opened}.pdf" in page
    window.created_at = window.created_at - timedelta(days=70)
    session.commit()
    earlier = client.get(EARNINGS).text
    assert earlier.count(".pdf") - page.count(".pdf") in (2, 3)  # 70 days: two or three months
    assert earlier.count(".pdf") <= 12
