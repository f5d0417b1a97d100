"""Stock pages: the list with its filters, the ledger, adjustments with their refusals,
the role table, and concurrent adjustments that never lose an update."""

import re
import threading

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session

from shop.audit.models import AuditEntry
from shop.catalog.models import Variant
from shop.stock import allocation
from shop.stock.models import StockMovement
from tests.accounts.helpers import login, make_user
from tests.at_once import send_at_once
from tests.factories import make_product


def variant_state(app, variant_id):
    with Session(app.extensions["sa_engine"]) as db:
        variant = db.get(Variant, variant_id)
        movements = db.execute(
            sa.select(StockMovement.reason, StockMovement.on_hand_delta)
            .where(StockMovement.variant_id == variant_id)
            .order_by(StockMovement.id)
        ).all()
        audits = db.scalar(sa.select(sa.func.count(AuditEntry.id)))
        return variant.on_hand, variant.allocated, [tuple(m) for m in movements], audits


def test_list_shows_numbers_and_filters_low_stock(client, session, sign_in):
    plenty = make_product(session, on_hand=20)
    scarce = make_product(session, on_hand=2)
    session.commit()
    sign_in("warehouse")

    page = client.get("/admin/stock").text
    assert f'data-sku="{plenty.variants[0].sku}" data-on-hand="20"' in page
    assert f'data-sku="{scarce.variants[0].sku}" data-on-hand="2"' in page

    low = client.get("/admin/stock?low=1").text
    assert scarce.variants[0].sku in low
    assert plenty.variants[0].sku not in low


def test_list_searches_by_sku_and_product_name(client, session, sign_in):
    polo = make_product(session, name="Summer polo")
    skirt = make_product(session, name="Pleated skirt")
    session.commit()
    sign_in("warehouse")

    by_name = client.get("/admin/stock?q=polo").text
    assert polo.variants[0].sku in by_name and skirt.variants[0].sku not in by_name
    by_sku = client.get(f"/admin/stock?q={skirt.variants[0].sku.lower()}").text
    assert skirt.variants[0].sku in by_sku and polo.variants[0].sku not in by_sku


def test_search_wildcards_are_literal(client, session, sign_in):
    make_product(session)
    session.commit()
    sign_in("warehouse")

    page = client.get("/admin/stock?q=%25").text

    assert 'data-testid="stock-row"' not in page


def test_list_costs_the_same_queries_for_more_variants(app, client, session, sign_in):
    from tests.helpers.queries import recording_queries

    make_product(session, sizes=("120",))
    session.commit()
    sign_in("warehouse")
    client.get("/admin/stock")
    with recording_queries(app) as few:
        client.get("/admin/stock")
    make_product(session, sizes=("120", "130", "140"), colours=("navy", "white"))
    session.commit()
    with recording_queries(app) as more:
        page = client.get("/admin/stock").text

    assert page.count('data-testid="stock-row"') == 7
    assert len(more) == len(few)


def test_received_adds_and_writes_ledger_and_audit(app, client, session, sign_in):
    variant_id = make_product(session, on_hand=10).variants[0].id
    session.commit()
    user = sign_in("warehouse")

    response = client.post(
        f"/admin/stock/{variant_id}/adjust",
        data={"reason": "received", "quantity": "+12", "note": "Delivery 7"},
    )

    assert response.status_code == 302
    on_hand, _allocated, movements, _ = variant_state(app, variant_id)
    assert on_hand == 22
    assert movements == [("received", 12)]
    with Session(app.extensions["sa_engine"]) as db:
        entry = db.scalars(sa.select(AuditEntry)).one()
        assert (entry.action, entry.actor_user_id, entry.target_id) == (
            "stock.adjust",
            user.id,
            str(variant_id),
        )
        assert entry.before == {"on_hand": 10}
        assert entry.after["on_hand"] == 22
    ledger = client.get(f"/admin/stock/{variant_id}").text
    assert 'data-reason="received" data-on-hand-delta="12"' in ledger
    assert "Delivery 7" in ledger
    assert "<td>Warehouse</td>" in ledger


def test_counted_total_becomes_a_delta(app, client, session, sign_in):
    variant_id = make_product(session, on_hand=10).variants[0].id
    session.commit()
    sign_in("warehouse")

    response = client.post(
        f"/admin/stock/{variant_id}/adjust", data={"reason": "counted", "quantity": "7"}
    )

    assert response.status_code == 302
    assert variant_state(app, variant_id)[:3] == (7, 0, [("counted", -3)])


def test_ledger_lists_newest_first(app, client, session, sign_in):
    variant_id = make_product(session, on_hand=10).variants[0].id
    session.commit()
    sign_in("warehouse")
    client.post(f"/admin/stock/{variant_id}/adjust", data={"reason": "damaged", "quantity": "-1"})
    client.post(f"/admin/stock/{variant_id}/adjust", data={"reason": "returned", "quantity": "2"})

    ledger = client.get(f"/admin/stock/{variant_id}").text

    assert ledger.index('data-reason="returned"') < ledger.index('data-reason="damaged"')


@pytest.mark.parametrize(
    ("reason", "quantity", "message"),
    [
        ("received", "0", "other than zero"),
        ("received", "lots", "whole number"),
        ("received", "1.5", "whole number"),
        ("received", "", "This field is required"),
        ("counted", "10", "already the number on hand"),
        ("counted", "-1", "cannot be negative"),
        ("damaged", "-9", "below the 4 allocated"),
        ("counted", "3", "below the 4 allocated"),
        ("bogus", "3", "Not a valid choice"),
    ],
)
def test_bad_adjustments_are_refused_on_the_form(
    app, client, session, sign_in, reason, quantity, message
):
    variant_id = make_product(session, on_hand=10).variants[0].id
    allocation.allocate(session, variant_id, 4, reference="SF-1")
    session.commit()
    before = variant_state(app, variant_id)
    sign_in("warehouse")

    response = client.post(
        f"/admin/stock/{variant_id}/adjust", data={"reason": reason, "quantity": quantity}
    )

    assert response.status_code == 400
    assert 'data-testid="field-error"' in response.text
    assert message in response.text
    assert variant_state(app, variant_id) == before


def test_unknown_variant_is_404(client, sign_in):
    sign_in("warehouse")
    assert client.get("/admin/stock/999999").status_code == 404
    response = client.post("/admin/stock/999999/adjust", data={"reason": "received", "quantity": 1})
    assert response.status_code == 404


def test_adjust_without_csrf_token_is_refused(make_app, session_factory):
    app = make_app(WTF_CSRF_ENABLED=True)
    with session_factory(app) as session:
        variant_id = make_product(session, on_hand=10).variants[0].id
        make_user(session, email="w@factory.example", role="warehouse")
        session.commit()
    client = app.test_client()
    login_page = client.get("/account/login").text
    import re

    token = re.search(r'name="csrf_token" value="([^"]+)"', login_page).group(1)
    assert login(client, email="w@factory.example", csrf_token=token).status_code == 302

    response = client.post(
        f"/admin/stock/{variant_id}/adjust", data={"reason": "received", "quantity": "5"}
    )

    assert response.status_code == 400
    assert variant_state(app, variant_id)[0] == 10


EVERYONE = ("owner", "manager", "warehouse", "service", "workshop", "customer", "anonymous")
MAY_MANAGE_STOCK = {"owner", "manager", "warehouse"}


def become(role, client, session, sign_in):
    if role == "anonymous":
        return
    if role == "customer":
        make_user(session, email="someone@example.com", role="customer")
        assert login(client, email="someone@example.com").status_code == 302
        return
    sign_in(role)


@pytest.mark.parametrize("role", EVERYONE)
def test_role_table(app, client, session, sign_in, role):
    variant_id = make_product(session, on_hand=10).variants[0].id
    session.commit()
    become(role, client, session, sign_in)
    allowed = role in MAY_MANAGE_STOCK
    refused = 302 if role == "anonymous" else 403

    assert client.get("/admin/stock").status_code == (200 if allowed else refused)
    assert client.get(f"/admin/stock/{variant_id}").status_code == (200 if allowed else refused)
    response = client.post(
        f"/admin/stock/{variant_id}/adjust", data={"reason": "received", "quantity": "5"}
    )
    assert response.status_code == (302 if allowed else refused)
    if role == "anonymous":
        assert "/account/login" in response.headers["Location"]
    assert variant_state(app, variant_id)[0] == (15 if allowed else 10)


def test_concurrent_adjustments_never_lose_an_update(app, session, sign_in):
    variant_id = make_product(session, on_hand=10).variants[0].id
    session.commit()
    clients = []
    for number in range(10):
        client = app.test_client()
        make_user(session, email=f"w{number}@factory.example", role="warehouse")
        assert login(client, email=f"w{number}@factory.example").status_code == 302
        clients.append(client)
    barrier = threading.Barrier(len(clients))
    statuses = []

    def adjust_once(client):
        barrier.wait()
        response = client.post(
            f"/admin/stock/{variant_id}/adjust", data={"reason": "received", "quantity": "1"}
        )
        statuses.append(response.status_code)

    threads = [threading.Thread(target=adjust_once, args=(c,)) for c in clients]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert statuses == [302] * 10
    on_hand, _allocated, movements, audits = variant_state(app, variant_id)
    assert on_hand == 20
    assert movements == [("received", 1)] * 10
    assert audits == 10


def ledger_form(client, variant_id: int) -> dict:
    """The adjust form as the ledger page gives it: with its one-time key."""
    page = client.get(f"/admin/stock/{variant_id}").text
    [key] = re.findall(r'name="request_key"[^>]*value="([^"]+)"', page)
    return {"request_key": key}


@pytest.mark.parametrize("copies", [2, 5])
@pytest.mark.parametrize(
    ("reason", "quantity", "expected"), [("received", "4", 14), ("counted", "7", 7)]
)
def test_the_same_adjustment_sent_at_once_is_made_once(
    app, client, session, sign_in, copies, reason, quantity, expected
):
    """A double click (or five taps) on "Adjust": one movement, one audit row, and every
    copy lands on the ledger with the new number."""
    variant_id = make_product(session, on_hand=10).variants[0].id
    session.commit()
    sign_in("warehouse")
    data = {**ledger_form(client, variant_id), "reason": reason, "quantity": quantity}
    answers = send_at_once(app, client, copies, "POST", f"/admin/stock/{variant_id}/adjust", data)
    assert [answer.status for answer in answers] == [302] * copies
    on_hand, _allocated, movements, audits = variant_state(app, variant_id)
    assert on_hand == expected
    assert movements == [(reason, expected - 10)]
    assert audits == 1


def test_two_people_counting_at_once_end_on_the_count(app, session, sign_in):
    """Two stock takers type the same count on their own pages at the same moment: on hand
    is the count, not the count plus the difference twice."""
    variant_id = make_product(session, on_hand=10).variants[0].id
    session.commit()
    clients = []
    for number in range(2):
        client = app.test_client()
        make_user(session, email=f"c{number}@factory.example", role="warehouse")
        assert login(client, email=f"c{number}@factory.example").status_code == 302
        clients.append(client)
    forms = [ledger_form(client, variant_id) for client in clients]
    barrier = threading.Barrier(2)
    statuses = []

    def count(client, form):
        barrier.wait()
        data = {**form, "reason": "counted", "quantity": "12"}
        statuses.append(client.post(f"/admin/stock/{variant_id}/adjust", data=data).status_code)

    threads = [
        threading.Thread(target=count, args=pair) for pair in zip(clients, forms, strict=True)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    on_hand, _allocated, movements, _audits = variant_state(app, variant_id)
    assert on_hand == 12
    assert movements == [("counted", 2)]  # the second found 12 already and changed nothing
    assert sorted(statuses) == [302, 400]


def test_every_ledger_reason_has_words():
    from shop.admin.stock import LEDGER_LABELS
    from shop.stock.models import REASONS

    assert set(LEDGER_LABELS) == set(REASONS)
