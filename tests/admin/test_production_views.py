"""The production queue's pages: who may use them, starting a batch from chosen rows, the
cut sheet, finishing a batch, and the refusals (each changing nothing)."""

import re

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session

from shop.audit.models import AuditEntry
from shop.orders.models import Order, OrderLine, ProductionBatch
from tests.accounts.helpers import login, make_user
from tests.helpers.admin import STAFF_ROLES
from tests.helpers.desk import flashes
from tests.order_factories import make_order

EVERYONE = (*STAFF_ROLES, "customer", "anonymous")
MAY_MANAGE_PRODUCTION = {"owner", "manager", "workshop"}  # written out from the role table


def become(role, client, sign_in, session):
    if role == "anonymous":
        return
    if role == "customer":
        make_user(session, email="someone@example.com", role="customer")
        assert login(client, email="someone@example.com").status_code == 302
        return
    sign_in(role)


def mto(session, lines=(("POLO", 2, 8900),), **fields):
    return make_order(session, lines=lines, made_to_order=True, lead_time_days=7, **fields)


def fresh(app):
    return Session(app.extensions["sa_engine"], expire_on_commit=False)


def state(app):
    """Everything the production pages could change."""
    with fresh(app) as db:
        return (
            db.execute(
                sa.select(
                    OrderLine.id, OrderLine.production_batch_id, OrderLine.produced_at
                ).order_by(OrderLine.id)
            ).all(),
            db.execute(sa.select(Order.id, Order.fulfilment_status).order_by(Order.id)).all(),
            db.execute(sa.select(ProductionBatch.id, ProductionBatch.status)).all(),
            db.scalar(sa.select(sa.func.count(AuditEntry.id))),
        )


def rows_on(page: str) -> list[str]:
    return re.findall(r'name="row" value="([^"]+)"', page)


@pytest.mark.parametrize("role", EVERYONE)
def test_each_role_sees_the_production_pages_or_not(app, client, session, sign_in, role):
    order = mto(session)
    batch = ProductionBatch()
    session.add(batch)
    session.commit()
    become(role, client, sign_in, session)
    for path in (
        "/admin/production",
        "/admin/production/batches",
        f"/admin/production/batches/{batch.id}/cut-sheet",
    ):
        response = client.get(path)
        if role in MAY_MANAGE_PRODUCTION:
            assert response.status_code == 200, (role, path)
        elif role == "anonymous":
            assert response.status_code == 302, path
            assert response.headers["Location"].startswith("/account/login?next=/admin/")
        else:
            assert response.status_code == 403, (role, path)
            assert order.number not in response.text


@pytest.mark.parametrize("role", EVERYONE)
def test_each_role_may_start_and_finish_batches_or_not(app, client, session, sign_in, role):
    order = mto(session)
    line_id = order.lines[0].id
    open_batch = ProductionBatch()
    session.add(open_batch)
    session.commit()
    become(role, client, sign_in, session)
    before = state(app)

    started = client.post("/admin/production/batches", data={"row": str(line_id)})
    finished = client.post(f"/admin/production/batches/{open_batch.id}/finish")

    if role in MAY_MANAGE_PRODUCTION:
        assert started.status_code == 303, started.text
        assert finished.status_code == 303, finished.text
        after = state(app)
        assert after[0][0][1] is not None  # the line is in a batch
        assert (open_batch.id, "finished") in after[2]
        return
    for response in (started, finished):
        if role == "anonymous":
            assert response.status_code == 302
            assert response.headers["Location"].startswith("/account/login?next=")
        else:
            assert response.status_code == 403
    assert state(app) == before


def test_the_queue_rolls_up_rows_with_their_orders(app, client, session, sign_in):
    a = mto(session, lines=(("POLO", 2, 8900), ("SKIRT", 1, 9900)), paid_days_ago=3)
    b = mto(session, lines=(("POLO", 3, 8900),), paid_days_ago=3)
    make_order(session, lines=(("STOCKED", 1, 100),))
    session.commit()
    sign_in("workshop")

    page = client.get("/admin/production").text

    rows = re.findall(
        r'data-testid="queue-row" data-product="([^"]+)" data-size="130" '
        r'data-colour="navy" data-quantity="(\d+)"',
        page,
    )
    assert rows == [("Product POLO", "5"), ("Product SKIRT", "1")]
    assert page.count('data-testid="due-group"') == 1
    assert a.number in page and b.number in page
    assert "STOCKED" not in page
    assert "89.00" not in page and "8900" not in page  # no prices on the workshop's page


def test_starting_a_batch_moves_orders_and_shows_its_cut_sheet(app, client, session, sign_in):
    user = sign_in("workshop")
    a = mto(session, lines=(("POLO", 2, 8900), ("SKIRT", 1, 9900)))
    b = mto(session, lines=(("POLO", 3, 8900),))
    session.commit()
    polo_row = next(r for r in rows_on(client.get("/admin/production").text) if "," in r)

    response = client.post("/admin/production/batches", data={"row": polo_row})

    assert response.status_code == 303
    batch_id = int(re.search(r"/batches/(\d+)/cut-sheet", response.headers["Location"]).group(1))
    sheet = client.get(response.headers["Location"])
    assert flashes(sheet.text) == [f"Batch {batch_id} started."]
    assert re.findall(r'data-testid="cut-row".*?data-quantity="(\d+)"', sheet.text) == ["5"]
    assert re.findall(r'data-testid="cut-order">([^<]+)<', sheet.text) == [a.number, b.number]
    assert "89.00" not in sheet.text and "8900" not in sheet.text
    with fresh(app) as db:
        assert [o.fulfilment_status for o in db.scalars(sa.select(Order).order_by(Order.id))] == [
            "in_production",
            "in_production",
        ]
        entry = db.scalars(
            sa.select(AuditEntry).where(AuditEntry.action == "production.batch_started")
        ).one()
        assert entry.actor_user_id == user.id and entry.target_id == str(batch_id)
    # The skirt alone is left in the queue.
    assert rows_on(client.get("/admin/production").text) == [str(a.lines[1].id)]


def test_an_empty_selection_is_refused_and_changes_nothing(app, client, session, sign_in):
    mto(session)
    session.commit()
    sign_in("workshop")
    before = state(app)

    response = client.post("/admin/production/batches", data={})

    assert response.status_code == 400
    assert flashes(response.text) == ["Choose at least one row to make."]
    assert state(app) == before


def test_lines_already_batched_are_refused_and_change_nothing(app, client, session, sign_in):
    order = mto(session)
    other = mto(session)
    session.commit()
    sign_in("workshop")
    line, other_line = order.lines[0].id, other.lines[0].id
    first = client.post("/admin/production/batches", data={"row": str(line)})
    assert first.status_code == 303
    client.get(first.headers["Location"])  # its message, shown and gone
    before = state(app)

    # The same row again (a second tab, say), together with one still waiting.
    response = client.post("/admin/production/batches", data={"row": [str(line), str(other_line)]})

    assert response.status_code == 400
    assert "already in a batch" in flashes(response.text)[0]
    assert state(app) == before
    assert rows_on(response.text) == [str(other_line)]


def test_finishing_a_batch_makes_its_orders_ready(app, client, session, sign_in):
    sign_in("workshop")
    order = mto(session)
    session.commit()
    started = client.post("/admin/production/batches", data={"row": str(order.lines[0].id)})
    client.get(started.headers["Location"])
    with fresh(app) as db:
        batch_id = db.scalar(sa.select(ProductionBatch.id))
    listing = client.get("/admin/production/batches").text
    assert 'data-testid="finish-form"' in listing
    assert f'data-batch-id="{batch_id}" data-status="open"' in listing

    response = client.post(f"/admin/production/batches/{batch_id}/finish")

    assert response.status_code == 303
    assert response.headers["Location"].endswith("/admin/production/batches")
    listing = client.get(response.headers["Location"]).text
    assert f'data-batch-id="{batch_id}" data-status="finished"' in listing
    assert 'data-testid="finish-form"' not in listing
    with fresh(app) as db:
        assert db.get(Order, order.id).fulfilment_status == "ready"
        assert db.get(OrderLine, order.lines[0].id).produced_at is not None
        assert (
            db.scalar(
                sa.select(sa.func.count(AuditEntry.id)).where(
                    AuditEntry.action == "production.batch_finished"
                )
            )
            == 1
        )

    # Finishing again is refused and changes nothing.
    before = state(app)
    again = client.post(f"/admin/production/batches/{batch_id}/finish")
    assert again.status_code == 400
    assert flashes(again.text) == [f"Batch {batch_id} was already finished."]
    assert state(app) == before


def test_unknown_batches_are_not_found(app, client, session, sign_in):
    sign_in("manager")
    assert client.get("/admin/production/batches/999/cut-sheet").status_code == 404
    assert client.post("/admin/production/batches/999/finish").status_code == 404


def test_a_missing_csrf_token_is_refused(make_app, session_factory):
    app = make_app(WTF_CSRF_ENABLED=True)
    with session_factory(app) as db:
        make_user(db, email="workshop@factory.example", role="workshop")
        order = mto(db)
        db.commit()
    client = app.test_client()
    page = client.get("/account/login").text
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    signed_in = login(client, email="workshop@factory.example", csrf_token=token)
    assert signed_in.status_code == 302
    before = state(app)

    response = client.post("/admin/production/batches", data={"row": str(order.lines[0].id)})

    assert response.status_code == 400
    assert state(app) == before


def test_the_queue_page_runs_a_fixed_number_of_queries(app, client, session, sign_in):
    from tests.helpers.queries import recording_queries

    sign_in("workshop")
    mto(session)
    session.commit()
    with recording_queries(app) as few:
        assert client.get("/admin/production").status_code == 200
    for n in range(6):
        mto(session, lines=((f"SKU{n}", 1, 100), ("POLO", 1, 100)), paid_days_ago=n)
    session.commit()
    with recording_queries(app) as many:
        page = client.get("/admin/production").text
    assert page.count('data-testid="queue-row"') == 12  # six days × (SKUn, POLO)
    assert len(many) == len(few)


def test_a_batch_note_shows_on_the_cut_sheet_and_a_long_one_is_refused(
    app, client, session, sign_in
):
    sign_in("workshop")
    order = mto(session)
    session.commit()
    row = str(order.lines[0].id)
    before = state(app)

    too_long = client.post("/admin/production/batches", data={"row": row, "note": "x" * 501})

    assert too_long.status_code == 400
    assert 'data-testid="field-error"' in too_long.text
    assert f'name="row" value="{row}" id="row-{row}" aria-label' in too_long.text
    assert f'value="{row}" id="row-{row}" aria-label="Make Product POLO, size 130" checked' in (
        too_long.text
    )
    assert state(app) == before

    started = client.post("/admin/production/batches", data={"row": row, "note": "Lining <b>"})
    sheet = client.get(started.headers["Location"]).text
    assert "Lining &lt;b&gt;" in sheet
