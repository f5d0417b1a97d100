"""Roster orders placed by a job: confirm checks at once and queues, a progress page waits
(in-process without Redis, an RQ worker with it), and the job places the order once
however often it runs - again, at the same moment, or after dying half-way."""

import itertools
import re
import secrets
import threading

import pytest
import redis
import sqlalchemy as sa

from shop.catalog.models import PriceTier, Variant
from shop.db import utcnow
from shop.jobs.progress import LOCAL, JobStatus
from shop.jobs.queue import job_id_for
from shop.jobs.runner import run_now
from shop.orders.models import Order, OrderLine
from shop.schools import invoices, ordering, roster_job
from shop.schools.models import Invoice
from shop.schools.roster import build_preview
from tests.accounts.helpers import login, make_user
from tests.factories import make_product
from tests.helpers.jobs import work
from tests.helpers.queries import recording_queries
from tests.redis_dbs import ROSTER
from tests.school_factories import add_item, add_member, big_roster, make_school

REDIS_URL = ROSTER  # this module's own database; only it is flushed
GOOD = "student,class,grade,gender,polo,skirt\nAnn Lee,1A,1,girls,130,130\nBo Wang,1B,1,boys,140,\n"
GOOD_TOTAL = 2 * 8900 + 9900
BURSAR = "bursar@hillside.example"


def make_roster_school(session, *, on_hand=10, **fields):
    fields.setdefault("verified", True)
    fields.setdefault("invoice_terms_days", 30)
    fields.setdefault("credit_limit_amount", 1_000_000_000)
    school = make_school(session, slug="hillside", grades=("1", "2"), **fields)
    polo = make_product(
        session,
        slug="polo",
        name="Summer polo",
        sizes=("130", "140"),
        tiers=((1, 8900),),
        on_hand=on_hand,
    )
    skirt = make_product(
        session, slug="skirt", name="Skirt", sizes=("130",), tiers=((1, 9900),), on_hand=on_hand
    )
    add_item(session, school, polo, position=1)
    add_item(session, school, skirt, position=2, gender="girls")
    return school


@pytest.fixture
def school(session):
    school = make_roster_school(session, contact_email="office@hillside.example")
    session.commit()
    return school


@pytest.fixture
def bursar(session, school):
    user = make_user(session, email=BURSAR, role="school_admin", name="Bursar")
    add_member(session, school, user)
    session.commit()
    return user


@pytest.fixture
def signed_in(client, bursar):
    assert login(client, email=BURSAR).status_code == 302
    return client


def new_key() -> str:
    return secrets.token_urlsafe(24)


def confirm(client, key, roster=GOOD, payment="invoice", po_number="PO-1"):
    return client.post(
        "/schools/hillside/admin/roster/confirm",
        data={"roster": roster, "payment": payment, "po_number": po_number, "request_key": key},
    )


def progress_url(key: str) -> str:
    return f"/schools/hillside/admin/roster/{key}"


def orders(session) -> list[Order]:
    session.expire_all()
    return list(session.scalars(sa.select(Order)))


def on_hand(session) -> dict[str, int]:
    session.expire_all()
    return {v.sku: v.on_hand for v in session.scalars(sa.select(Variant).order_by(Variant.sku))}


def run_job(app, school, user, key, roster=GOOD, payment="invoice", po_number="PO-1"):
    """One run of the job, through the same runner as a worker (commit or roll back)."""
    with app.app_context():
        return run_now(
            roster_job.place_roster, school.id, user.id, roster, payment, po_number, "en", key
        )


def state_of(page: str) -> str:
    return re.search(r'data-testid="roster-progress" data-state="(\w+)"', page).group(1)


# --- without Redis: the job runs in the confirming request --------------------------------


def test_confirm_queues_the_job_and_the_progress_page_leads_to_the_invoice(
    app, signed_in, session, school, bursar, outbox
):
    key = new_key()

    response = confirm(signed_in, key, po_number="PO-2026-17")

    assert response.status_code == 303
    assert response.headers["Location"] == progress_url(key)
    [order] = orders(session)
    invoice = session.scalars(sa.select(Invoice)).one()
    assert (order.request_key, order.po_number, order.payment_status, order.total_amount) == (
        key,
        "PO-2026-17",
        "awaiting_invoice",
        GOOD_TOTAL,
    )
    with app.app_context():
        status = roster_job_status(key)
    assert (status.state, status.done, status.total) == ("finished", 2, 2)
    assert status.result == {
        "outcome": "placed",
        "school_id": school.id,
        "order_number": order.number,
        "invoice_number": invoice.number,
    }
    page = signed_in.get(progress_url(key))
    assert page.status_code == 303
    assert page.headers["Location"] == f"/schools/hillside/admin/invoices/{invoice.number}"
    shown = signed_in.get(page.headers["Location"]).text
    assert f"Order {order.number} placed on invoice." in shown
    assert sorted(mail["To"] for mail in outbox()) == [BURSAR, "office@hillside.example"]


def roster_job_status(key):
    from shop.jobs import job_status

    return job_status(job_id_for(roster_job.job_key(key)))


def test_a_card_roster_goes_from_the_progress_page_to_the_payment_page(
    make_app, stripe_settings, session_factory
):
    app = make_app(**stripe_settings)
    client = app.test_client()
    with session_factory(app) as session:
        school = make_roster_school(session, verified=False, invoice_terms_days=0)  # card only
        user = make_user(session, email=BURSAR, role="school_admin")
        add_member(session, school, user)
        session.commit()
    login(client, email=BURSAR)
    key = new_key()

    response = confirm(client, key, payment="card", po_number="")
    page = client.get(response.headers["Location"])

    with session_factory(app) as session:
        [order] = orders(session)
        assert (order.payment_status, order.user_id) == ("unpaid", user.id)
        assert order.reserved_until is not None
        assert session.scalars(sa.select(Invoice)).all() == []
    assert page.headers["Location"] == f"/checkout/pay/{order.number}"
    assert client.get(page.headers["Location"]).status_code == 200
    # the same confirmation again finds the order: no second order, no second intent
    again = client.get(confirm(client, key, payment="card", po_number="").headers["Location"])
    assert again.headers["Location"] == f"/checkout/pay/{order.number}"
    with session_factory(app) as session:
        assert len(orders(session)) == 1


@pytest.mark.parametrize(
    ("change", "fields", "message"),
    [
        ("none", {"po_number": ""}, "purchase-order number"),
        ("credit", {"po_number": "PO-9"}, "remaining credit"),
        ("no_round", {"po_number": "PO-9"}, "no delivery round open"),
        ("card_minimum", {"payment": "card", "po_number": "PO-9"}, "Card payments start at"),
    ],
)
def test_a_confirmation_refused_at_once_queues_nothing_and_keeps_what_was_typed(
    app, signed_in, session, school, change, fields, message
):
    if change == "credit":
        school.credit_limit_amount = GOOD_TOTAL - 1
    if change == "no_round":
        for delivery_round in school.rounds:
            delivery_round.cutoff_at = utcnow()
    if change == "card_minimum":
        session.execute(sa.update(PriceTier).values(unit_amount=1))  # CN¥0.03 in all
    session.commit()
    key = new_key()

    response = confirm(signed_in, key, **fields)

    assert response.status_code == 409
    page = response.text
    assert message in page
    assert orders(session) == []
    with app.app_context():
        assert roster_job_status(key).state == "unknown"  # nothing queued
    form = page[page.index('data-testid="roster-confirm-form"') :]
    assert f'name="request_key" value="{key}"' in form  # unused: may be sent again
    if fields.get("po_number"):
        assert f'value="{fields["po_number"]}"' in form
    payment = fields.get("payment", "invoice")
    assert re.search(rf'value="{payment}"\s+checked', form)
    assert "Ann Lee" in form and "Bo Wang" in form  # the roster rides along


def test_a_roster_with_problems_is_refused_at_once(app, signed_in, session, school):
    response = confirm(signed_in, new_key(), roster=GOOD.replace("140", "999"))
    assert response.status_code == 422
    assert 'data-testid="roster-problem"' in response.text
    assert orders(session) == []


def test_a_refusal_in_the_job_shows_on_the_progress_page_with_the_way_back(
    app, signed_in, session, school, outbox, monkeypatch
):
    # The roster needs two polos in 130; the preview and the confirmation see ten on the
    # shelf, then someone else buys all but one before the job places the order.
    real_place = ordering.place_roster_order

    def stock_gone_meanwhile(job_session, *args, **kwargs):
        job_session.execute(sa.update(Variant).values(on_hand=1))
        job_session.commit()
        return real_place(job_session, *args, **kwargs)

    monkeypatch.setattr(roster_job.ordering, "place_roster_order", stock_gone_meanwhile)
    key = new_key()
    roster = GOOD.replace("Bo Wang,1B,1,boys,140", "Bo Wang,1B,1,boys,130")

    response = confirm(signed_in, key, roster=roster, po_number="PO-77")
    page = signed_in.get(response.headers["Location"])

    assert page.status_code == 200
    assert state_of(page.text) == "finished"
    assert 'http-equiv="refresh"' not in page.text
    refusal = re.search(r'data-testid="roster-refusal">([^<]+)<', page.text).group(1)
    # the item, size and colour by name, not the SKU
    assert re.fullmatch(r"Only 0 left of Summer polo in size 130, Navy\. Go back.*", refusal)
    assert "T-" not in refusal
    assert orders(session) == [] and outbox() == []
    assert set(on_hand(session).values()) == {1}  # nothing sold
    # The way back: the roster, the payment and the purchase-order number, filled in again.
    back = page.text[page.text.index('data-testid="roster-back-form"') :]
    assert 'name="payment" value="invoice"' in back and 'name="po_number" value="PO-77"' in back
    again = signed_in.post(
        "/schools/hillside/admin/roster",
        data={"roster": roster, "payment": "invoice", "po_number": "PO-77"},
    )
    # ...where the shortage shows per item, and leaving Bo Wang's polo out is a choice.
    assert again.status_code == 422
    shortage = re.search(r'data-testid="roster-shortage" [^>]*', again.text).group(0)
    assert 'data-short="1"' in shortage and 'data-students="1"' in shortage
    assert "Summer polo · size 130 · Navy" in again.text
    stock_form = again.text[again.text.index('data-testid="roster-stock-form"') :]
    assert 'name="po_number" value="PO-77"' in stock_form
    choice = re.search(r'name="(stock-\d+)" value="leave_out"', stock_form).group(1)
    chosen = signed_in.post(
        "/schools/hillside/admin/roster",
        data={"roster": roster, "payment": "invoice", "po_number": "PO-77", choice: "leave_out"},
    )
    assert chosen.status_code == 200
    form = chosen.text[chosen.text.index('data-testid="roster-confirm-form"') :]
    assert 'value="PO-77"' in form and re.search(r'value="invoice"\s+checked', form)
    assert f'name="{choice}" value="leave_out"' in form
    assert f'value="{key}"' not in form  # a fresh key: the refused one is spent


def test_a_job_that_fails_says_so_and_leads_back_to_the_roster(
    app, signed_in, session, school, monkeypatch
):
    def broken(*args, **kwargs):
        raise RuntimeError("the database went away")

    monkeypatch.setattr(invoices, "issue_invoice", broken)
    key = new_key()

    response = confirm(signed_in, key)
    page = signed_in.get(response.headers["Location"])

    assert page.status_code == 200
    assert state_of(page.text) == "failed"
    assert "Something went wrong on our side" in page.text
    assert 'href="/schools/hillside/admin/roster" data-testid="roster-back"' in page.text
    assert orders(session) == []


def test_the_progress_page_shows_students_done_and_refreshes(app, signed_in, school):
    key = new_key()
    LOCAL.set(job_id_for(roster_job.job_key(key)), JobStatus("started", 300, 2000))

    page = signed_in.get(progress_url(key))

    assert page.status_code == 200
    assert (state_of(page.text), 'data-done="300" data-total="2000"') == (
        "started",
        'data-done="300" data-total="2000"',
    )
    assert "Placing your order: 300 of 2000 students…" in page.text
    assert '<meta http-equiv="refresh" content="2">' in page.text
    assert '<progress max="2000" value="300">' in page.text


def test_the_progress_page_is_for_the_schools_admins_and_staff_only(
    app, client, session, school, bursar
):
    key = new_key()
    login(client, email=BURSAR)
    confirm(client, key)
    client.post("/account/logout")
    other = make_school(session, slug="riverside")
    stranger = make_user(session, email="bursar@riverside.example", role="school_admin")
    add_member(session, other, stranger)
    make_user(session, email="manager@factory.example", role="manager")
    make_user(session, email="parent@example.com")
    session.commit()

    assert client.get(progress_url(key)).status_code == 302  # sign in first
    for email, expected in (
        ("parent@example.com", 404),
        ("bursar@riverside.example", 404),
        ("manager@factory.example", 303),
        (BURSAR, 303),
    ):
        login(client, email=email)
        assert client.get(progress_url(key)).status_code == expected, email
        client.post("/account/logout")
    login(client, email="bursar@riverside.example")
    # another school's address for the same key shows nothing of it
    assert client.get(f"/schools/riverside/admin/roster/{key}").status_code == 404


@pytest.mark.parametrize("key", ["x" * 32, "not a key", "a/b" * 8])
def test_an_unknown_or_malformed_key_is_a_404(signed_in, school, key):
    assert signed_in.get(progress_url(key)).status_code == 404


def test_the_template_download_is_not_taken_for_a_key(signed_in, school):
    response = signed_in.get("/schools/hillside/admin/roster/template.csv")
    assert response.status_code == 200 and response.mimetype == "text/csv"


# --- the job is safe to run again ---------------------------------------------------------


def test_running_the_job_twice_places_one_order(app, session, school, bursar, outbox):
    key = new_key()

    first = run_job(app, school, bursar, key)
    second = run_job(app, school, bursar, key)

    [order] = orders(session)
    assert (
        first
        == second
        == {
            "outcome": "placed",
            "school_id": school.id,
            "order_number": order.number,
            "invoice_number": session.scalars(sa.select(Invoice.number)).one(),
        }
    )
    assert len(outbox()) == 2  # the bursar and the school's office, once
    assert sum(line.quantity for line in order.lines) == 3


@pytest.mark.parametrize("copies", [2, 5])
def test_the_job_run_many_times_at_once_places_one_order(
    app, session, school, bursar, outbox, copies
):
    key = new_key()
    before = on_hand(session)
    barrier = threading.Barrier(copies)
    results, errors = [], []

    def run_one():
        try:
            barrier.wait(timeout=10)
            results.append(run_job(app, school, bursar, key))
        except Exception as error:  # noqa: BLE001 - reported below
            errors.append(error)

    threads = [threading.Thread(target=run_one) for _ in range(copies)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)

    assert errors == []
    [order] = orders(session)
    assert [result["order_number"] for result in results] == [order.number] * copies
    assert len(session.scalars(sa.select(Invoice)).all()) == 1
    sold = _pieces_by_sku(session, order)
    assert on_hand(session) == {sku: count - sold.get(sku, 0) for sku, count in before.items()}
    assert len(outbox()) == 2


def _allocated(session) -> dict[str, int]:
    session.expire_all()
    return {v.sku: v.allocated for v in session.scalars(sa.select(Variant))}


def _pieces_by_sku(session, order) -> dict[str, int]:
    pieces: dict[str, int] = {}
    for line in session.scalars(sa.select(OrderLine).where(OrderLine.order_id == order.id)):
        pieces[line.sku] = pieces.get(line.sku, 0) + line.quantity
    return pieces


def test_a_run_that_dies_half_way_leaves_nothing_and_the_next_run_places_it_once(
    app, session, school, bursar, outbox, monkeypatch
):
    real_issue = invoices.issue_invoice

    def dies_after_writing_the_lines(*args, **kwargs):
        raise SystemExit("worker killed")  # not an Exception: as a killed worker would

    monkeypatch.setattr(invoices, "issue_invoice", dies_after_writing_the_lines)
    key = new_key()
    before = on_hand(session)
    held_before = _allocated(session)

    with pytest.raises(SystemExit):
        run_job(app, school, bursar, key)

    assert orders(session) == [] and outbox() == []
    assert (on_hand(session), _allocated(session)) == (before, held_before)
    monkeypatch.setattr(invoices, "issue_invoice", real_issue)
    result = run_job(app, school, bursar, key)
    [order] = orders(session)
    assert result["order_number"] == order.number
    assert len(outbox()) == 2


@pytest.mark.parametrize("copies", [2, 5])
def test_the_same_confirmation_posted_many_times_at_once_places_one_order(
    app, session, school, bursar, copies
):
    key = new_key()
    clients = [app.test_client() for _ in range(copies)]
    for client in clients:
        assert login(client, email=BURSAR).status_code == 302
    barrier = threading.Barrier(copies)
    responses, errors = [], []

    def post(client):
        try:
            barrier.wait(timeout=10)
            responses.append(confirm(client, key))
        except Exception as error:  # noqa: BLE001 - reported below
            errors.append(error)

    threads = [threading.Thread(target=post, args=(client,)) for client in clients]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)

    assert errors == []
    assert [(r.status_code, r.headers["Location"]) for r in responses] == [
        (303, progress_url(key))
    ] * copies
    [order] = orders(session)
    pages = [client.get(progress_url(key)) for client in clients]
    invoice = session.scalars(sa.select(Invoice)).one()
    assert {page.headers["Location"] for page in pages} == {
        f"/schools/hillside/admin/invoices/{invoice.number}"
    }
    assert order.request_key == key


# --- a whole school: progress every 100 students, no statement per line ------------------


def test_two_thousand_students_report_progress_and_add_no_statement_per_line(
    app, session, monkeypatch
):
    school = make_roster_school(session, on_hand=10_000)
    bursar = make_user(session, email=BURSAR, role="school_admin")
    add_member(session, school, bursar)
    session.commit()
    text = big_roster(2000)
    reports = []
    real_report = roster_job.report_progress

    def recording(done, total=None):
        reports.append((done, total))
        real_report(done, total)

    monkeypatch.setattr(roster_job, "report_progress", recording)

    with recording_queries(app) as by_job:
        result = run_job(app, school, bursar, new_key(), roster=text)

    [order] = orders(session)
    assert result["order_number"] == order.number
    assert len(order.lines) == 3000  # a polo each, a skirt for each of the 1,000 girls
    done = [done for done, _total in reports]
    assert {total for _done, total in reports} == {2000}
    assert done[0] == 0 and done[-1] == 2000
    assert all(0 < later - earlier <= 100 for earlier, later in itertools.pairwise(done))

    # The same roster placed directly: the job adds a handful of statements, none per line.
    with recording_queries(app) as direct, app.app_context():
        preview = build_preview(session, school, text)
        ordering.place_roster_order(
            session,
            school,
            preview,
            user=bursar,
            payment="invoice",
            po_number="PO-1",
            locale="en",
            gateway=None,
            now=utcnow(),
            reservation_minutes=30,
            request_key=new_key(),
        )
        session.commit()
    # (SQLite writes a statement per line, PostgreSQL batches them: ~3,000 against ~40)
    assert len(by_job) - len(direct) <= 10, len(by_job) - len(direct)


# --- with Redis: an RQ worker places it ---------------------------------------------------


@pytest.fixture
def redis_client():
    client = redis.Redis.from_url(REDIS_URL)
    client.flushdb()
    yield client
    client.flushdb()
    client.close()


@pytest.fixture
def rq_app(make_app, redis_client):
    return make_app(REDIS_URL=REDIS_URL, JOBS_RETRY_INTERVALS="0,0,0")


@pytest.fixture
def rq_school(rq_app, session_factory):
    with session_factory(rq_app) as session:
        school = make_roster_school(session)
        user = make_user(session, email=BURSAR, role="school_admin")
        add_member(session, school, user)
        session.commit()
        return school, user


def queued_job_ids(redis_client) -> list[str]:
    from rq import Queue

    return Queue("sourcefront", connection=redis_client).job_ids


def test_with_a_worker_the_progress_page_goes_from_queued_to_the_invoice(
    rq_app, rq_school, session_factory, redis_client, outbox
):
    client = rq_app.test_client()
    login(client, email=BURSAR)
    key = new_key()

    response = confirm(client, key)

    assert response.headers["Location"] == progress_url(key)
    assert queued_job_ids(redis_client) == [job_id_for(roster_job.job_key(key))]
    waiting = client.get(progress_url(key))
    assert waiting.status_code == 200
    assert state_of(waiting.text) == "queued"
    assert '<meta http-equiv="refresh" content="2">' in waiting.text
    with session_factory(rq_app) as session:
        assert orders(session) == []

    work(rq_app)

    done = client.get(progress_url(key))
    with session_factory(rq_app) as session:
        [order] = orders(session)
        invoice = session.scalars(sa.select(Invoice)).one()
    assert done.status_code == 303
    assert done.headers["Location"] == f"/schools/hillside/admin/invoices/{invoice.number}"
    assert order.request_key == key
    assert len(outbox()) == 1  # the bursar (this school has no office address)


@pytest.mark.parametrize("copies", [2, 5])
def test_with_a_worker_many_confirmations_at_once_queue_one_job(
    rq_app, rq_school, session_factory, redis_client, copies
):
    key = new_key()
    clients = [rq_app.test_client() for _ in range(copies)]
    for client in clients:
        login(client, email=BURSAR)
    barrier = threading.Barrier(copies)
    statuses = []

    def post(client):
        barrier.wait(timeout=10)
        statuses.append(confirm(client, key).status_code)

    threads = [threading.Thread(target=post, args=(client,)) for client in clients]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert statuses == [303] * copies
    assert queued_job_ids(redis_client) == [job_id_for(roster_job.job_key(key))]
    work(rq_app)
    with session_factory(rq_app) as session:
        assert len(orders(session)) == 1


def test_with_a_worker_a_failed_run_is_retried_and_places_the_order_once(
    rq_app, rq_school, session_factory, redis_client, monkeypatch, outbox
):
    real_issue = invoices.issue_invoice
    runs = []

    def fails_once(*args, **kwargs):
        runs.append(1)
        if len(runs) == 1:
            raise RuntimeError("the connection dropped half-way")
        return real_issue(*args, **kwargs)

    monkeypatch.setattr(invoices, "issue_invoice", fails_once)
    client = rq_app.test_client()
    login(client, email=BURSAR)
    key = new_key()
    confirm(client, key)

    work(rq_app)  # run 1 fails and rolls back; the retry (at once) places it

    assert len(runs) == 2
    with session_factory(rq_app) as session:
        assert len(orders(session)) == 1
    assert client.get(progress_url(key)).status_code == 303
    assert len(outbox()) == 1


def test_with_a_worker_a_job_whose_order_was_committed_before_it_died_places_nothing_more(
    rq_app, rq_school, session_factory, redis_client, outbox
):
    """A worker committed the order and was killed before RQ heard of it: the job runs
    again and finds the order."""
    school, user = rq_school
    client = rq_app.test_client()
    login(client, email=BURSAR)
    key = new_key()
    confirm(client, key)
    first = run_job(rq_app, school, user, key)  # the run that died after its commit

    work(rq_app)

    with session_factory(rq_app) as session:
        [order] = orders(session)
    assert first["order_number"] == order.number
    with rq_app.app_context():
        assert roster_job_status(key).result == first
    assert len(outbox()) == 1
