"""Paying resellers: the staff page (``/admin/resellers/payouts``), its CSV for the bank,
recording a payout once however often the form is sent, who may open it, and refunds and
payouts racing on real commits with the ledger consistent after."""

import csv
import io
import re
import threading
from datetime import timedelta

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session

from shop.db import utcnow
from shop.resellers import ledger
from shop.resellers.models import CommissionLine, ResellerPayout
from tests.accounts.helpers import login, make_user
from tests.at_once import send_at_once
from tests.helpers.admin import audits
from tests.helpers.ledger import attributed_order, check_invariants, deliver, pay, refund_to
from tests.helpers.resellers import make_reseller

PAGE = "/admin/resellers/payouts"
BUYER = ("Li Wei", "buyer@example.com", "13800138000", "88 Jiefang Road")


def approved_orders(app, session, window, count=2, unit=60000, currency="CNY"):
    """``count`` paid orders through ``window``, delivered a month ago, commission
    approved (committed); their ids."""
    ids = []
    with app.test_request_context():
        for _ in range(count):
            order = attributed_order(
                session,
                window,
                lines=(("POLO-130", 1, unit),),
                currency=currency,
                email=BUYER[1],
                phone=BUYER[2],
                line1=BUYER[3],
            )
            pay(session, order)
            deliver(session, order, utcnow() - timedelta(days=30))
            ids.append(order.id)
        ledger.approve_due(session, utcnow())
        session.commit()
    return ids


@pytest.fixture
def window(app, session):
    reseller = make_reseller(session, display_name="安的小店")
    approved_orders(app, session, reseller)
    return reseller


def payable_rows(page: str) -> list[tuple[str, str, str]]:
    return re.findall(
        r'data-testid="payable-row" data-reseller="\d+" data-handle="([^"]+)" '
        r'data-currency="(\w+)" data-amount="(-?\d+)"',
        page,
    )


def form_of(page: str) -> dict:
    form = re.search(r'<form[^>]*data-testid="payout-form".*?</form>', page, re.S).group(0)
    fields = dict(re.findall(r'name="(\w+)"[^>]*value="([^"]*)"', form))
    fields.pop("csrf_token", None)
    return fields


def test_staff_see_approved_balances_above_the_minimum(client, session, sign_in, window, app):
    small = make_reseller(session, email="small@example.com", handle="small-window")
    approved_orders(app, session, small, count=1, unit=9000)  # ¥9 of commission: under ¥100
    sign_in("manager")
    page = client.get(PAGE).text
    assert payable_rows(page) == [("ann-picks", "CNY", "12000")]
    assert "small-window" not in page


def test_the_csv_for_the_bank_has_no_buyer_detail(client, sign_in, window):
    sign_in("manager")
    response = client.get(f"{PAGE}.csv")
    assert response.status_code == 200
    rows = list(csv.reader(io.StringIO(response.data.decode("utf-8-sig"))))
    assert rows == [
        ["display_name", "handle", "currency", "amount", "amount_minor", "lines"],
        ["安的小店", "ann-picks", "CNY", "120.00", "12000", "2"],
    ]
    for detail in BUYER:
        assert detail not in response.data.decode("utf-8-sig")


def test_recording_a_payout_moves_the_approved_lines_and_is_audited(
    app, client, session, sign_in, window
):
    manager = sign_in("manager")
    data = form_of(client.get(PAGE).text)
    response = client.post(PAGE, data={**data, "reference": "BANK-2026-001"})
    assert response.status_code == 302
    [payout] = session.scalars(sa.select(ResellerPayout)).all()
    assert (payout.amount, payout.line_count, payout.reference) == (12000, 2, "BANK-2026-001")
    assert payout.created_by_id == manager.id
    assert {line.state for line in session.scalars(sa.select(CommissionLine))} == {"paid"}
    [entry] = audits(session, "reseller.payout")
    assert entry.after["amount"] == 12000
    assert payable_rows(client.get(PAGE).text) == []
    assert "BANK-2026-001" in client.get(PAGE).text  # among the recent payouts
    check_invariants(session, window.id)


def test_a_payout_for_an_amount_that_changed_pays_nothing(client, session, sign_in, window):
    sign_in("manager")
    data = form_of(client.get(PAGE).text)
    response = client.post(PAGE, data={**data, "expected_amount": "11999", "reference": "B-1"})
    assert response.status_code == 302
    assert session.scalars(sa.select(ResellerPayout)).all() == []
    assert "changed" in client.get(PAGE).text


@pytest.mark.parametrize("copies", [2, 5])
def test_the_same_payout_sent_at_once_pays_once(app, client, session, sign_in, window, copies):
    sign_in("manager")
    data = {**form_of(client.get(PAGE).text), "reference": "BANK-7"}
    answers = send_at_once(app, client, copies, "POST", PAGE, data)
    assert [answer.status for answer in answers] == [302] * copies
    with Session(app.extensions["sa_engine"]) as db:
        [payout] = db.scalars(sa.select(ResellerPayout)).all()
        assert payout.amount == 12000
        check_invariants(db, window.id)
        assert len(audits(db, "reseller.payout")) == 1


def test_refunds_and_payouts_at_once_keep_the_ledger_consistent(app, session):
    """Four refunds and two staff paying (each their own form) at the same moment."""
    reseller = make_reseller(session, email="busy@example.com", handle="busy-window")
    order_ids = approved_orders(app, session, reseller, count=4)
    barrier = threading.Barrier(6)
    errors: list[BaseException] = []

    def act(work):
        try:
            barrier.wait(timeout=10)
            with app.test_request_context(), Session(app.extensions["sa_engine"]) as db:
                work(db)
                db.commit()
        except (ledger.NothingToPay, ledger.BalanceChanged):
            pass
        except BaseException as error:  # noqa: BLE001 - reported below
            errors.append(error)

    def refund(order_id, total):
        def work(db):
            from shop.orders.models import Order

            refund_to(db, db.get(Order, order_id), total)

        return work

    def payout(db):
        ledger.pay_out(db, reseller.id, "CNY", reference="RACE", request_key=None, actor_id=None)

    works = [refund(order_ids[0], 30000), refund(order_ids[1], 60000), refund(order_ids[2], 1)]
    works += [refund(order_ids[3], 59999), payout, payout]
    threads = [threading.Thread(target=act, args=(work,)) for work in works]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert errors == []
    with Session(app.extensions["sa_engine"]) as db:
        payouts = db.scalars(sa.select(ResellerPayout)).all()
        [payout] = payouts  # the second staff member found nothing left
        assert payout.amount > 0
        check_invariants(db, reseller.id)
        reversed_total = -sum(
            db.scalars(sa.select(CommissionLine.amount).where(CommissionLine.kind == "reversal"))
        )
        assert reversed_total == 3000 + 6000 + 0 + 5999  # 10 % of each refund, rounded down


# --- who may ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("role", "status"),
    [("anonymous", 302), ("customer", 403), ("warehouse", 403), ("service", 403)],
)
def test_only_staff_with_resellers_manage_open_payouts(client, session, sign_in, role, status):
    if role == "customer":
        make_user(session, email="someone@example.com")
        login(client, email="someone@example.com")
    elif role != "anonymous":
        sign_in(role)
    for url in (PAGE, f"{PAGE}.csv"):
        response = client.get(url)
        assert response.status_code == status
        if status == 302:
            assert "/account/login" in response.headers["Location"]
    assert client.post(PAGE, data={"reference": "X"}).status_code == status


def test_a_reseller_cannot_open_payouts(client, session, window):
    login(client, email="reseller@example.com")
    assert client.get(PAGE).status_code == 403
    assert client.get(f"{PAGE}.csv").status_code == 403


@pytest.mark.parametrize(
    "overrides",
    [
        {"reseller_id": "99999999999999999999"},
        {"reseller_id": "2147483647"},
        {"reseller_id": "-1"},
        {"currency": "cny"},
        {"expected_amount": "1e9"},
        {"reference": ""},
        {"reference": "x" * 5000},
        {"reference": "bad\x00ref"},
        {"request_key": "short"},
    ],
)
def test_bad_payout_forms_are_refused_without_an_error(client, session, sign_in, window, overrides):
    sign_in("owner")
    data = {**form_of(client.get(PAGE).text), "reference": "B-9", **overrides}
    assert client.post(PAGE, data=data).status_code in (302, 400)
    assert session.scalars(sa.select(ResellerPayout)).all() == []
