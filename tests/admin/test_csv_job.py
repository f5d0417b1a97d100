"""The catalogue CSV dry run and apply as background jobs: the staged file in the shop's
store (any instance checks and applies it, /media/ never serves it), the check in batches
with progress and bounded memory, judged across batches as the whole-file dry run judges
it, recorded once however often it runs; the apply in batches with progress, a resume
after a run dies between or inside batches, one job however often "apply" is pressed, and
the progress page with its refusals. Against RQ on the real Redis (tests/redis_dbs.py) too."""

import re
import threading

import pytest
import redis
import sqlalchemy as sa
from prometheus_client import REGISTRY
from sqlalchemy.orm import Session

from shop.admin import csv_check, csv_job, csv_staging
from shop.audit.models import AuditEntry
from shop.catalog import csv_imports, csv_io
from shop.catalog.models import Product, Variant
from shop.jobs.runner import run_now
from shop.stock.models import StockMovement
from shop.storage import get_storage
from tests.accounts.helpers import login, make_user
from tests.factories import make_category
from tests.helpers.csv_files import big_csv, rows_of, to_csv, token_on, upload
from tests.redis_dbs import CSV_AND_HEALTH

REDIS_URL = CSV_AND_HEALTH
MANAGER = "manager@factory.example"


@pytest.fixture
def app(make_app):
    return make_app(CSV_IMPORT_BATCH_ROWS=250)


@pytest.fixture
def manager(app, session):
    make_category(session, slug="uniforms")
    user = make_user(session, email=MANAGER, role="manager")
    session.commit()
    return user


def signed_in(app):
    client = app.test_client()
    assert login(client, email=MANAGER).status_code == 302
    return client


def dry_run_token(client, data: bytes) -> str:
    response = upload(client, data)
    assert response.status_code == 200, response.text
    return token_on(response.text)


def catalogue_state(app):
    """What the import writes, in a comparable form."""
    with Session(app.extensions["sa_engine"]) as db:
        return (
            db.execute(sa.select(Product.slug, Product.name).order_by(Product.slug)).all(),
            db.execute(sa.select(Variant.sku, Variant.on_hand).order_by(Variant.sku)).all(),
            db.execute(
                sa.select(StockMovement.variant_id, StockMovement.on_hand_delta).order_by(
                    StockMovement.variant_id, StockMovement.id
                )
            ).all(),
        )


def actions(app, action: str) -> list[dict]:
    with Session(app.extensions["sa_engine"]) as db:
        return list(
            db.scalars(
                sa.select(AuditEntry.after)
                .where(AuditEntry.action == action)
                .order_by(AuditEntry.id)
            )
        )


def progress_div(page: str, *, stage: str = "apply") -> dict[str, str]:
    tag = re.search(r'<div data-testid="csv-progress"([^>]*)>', page).group(1)
    found = dict(re.findall(r'data-(\w+)="([^"]*)"', tag))
    assert found.pop("stage") == stage
    return found


# --- the staged file ----------------------------------------------------------------------


def test_the_staged_upload_is_kept_in_the_store_never_served_and_gone_once_applied(app, manager):
    client = signed_in(app)
    token = dry_run_token(client, big_csv(2))
    name = csv_staging.staged_name(manager.id, token)
    assert name == f"csv-imports/{manager.id}-{token}.csv"
    assert get_storage(app).read(name) == big_csv(2)

    assert client.get(f"/media/{name}").status_code == 404
    assert client.get(f"/media/csv-imports/{manager.id}-{token}.csv").status_code == 404

    applied = client.post("/admin/csv/apply", data={"token": token})
    assert applied.headers["Location"].endswith(f"/admin/csv/imports/{token}")
    assert not get_storage(app).exists(name)


def test_an_upload_staged_on_one_instance_is_applied_by_another_through_s3(
    make_app,
    s3_settings,  # noqa: F811
):
    first = make_app(UPLOAD_FOLDER="/nonexistent/first", **s3_settings)
    second = make_app(UPLOAD_FOLDER="/nonexistent/second", **s3_settings)
    with Session(first.extensions["sa_engine"]) as session:
        make_category(session, slug="uniforms")
        make_user(session, email=MANAGER, role="manager")
        session.commit()
    token = dry_run_token(signed_in(first), big_csv(3))

    page = signed_in(second).post("/admin/csv/apply", data={"token": token}, follow_redirects=True)

    assert progress_div(page.text) == {"state": "finished", "done": "30", "total": "30"}
    assert len(catalogue_state(second)[1]) == 30


# --- batches, progress, resume ----------------------------------------------------------


@pytest.mark.slow
def test_a_file_of_thousands_of_rows_is_applied_in_batches_with_progress(app, manager, monkeypatch):
    reported = []
    original = csv_job.report_progress
    monkeypatch.setattr(
        csv_job,
        "report_progress",
        lambda done, total: (reported.append((done, total)), original(done, total)),
    )
    client = signed_in(app)
    token = dry_run_token(client, big_csv(200))  # 2,000 rows, batches of 250

    page = client.post("/admin/csv/apply", data={"token": token}, follow_redirects=True)

    assert reported == [(0, 2000)] + [(250 * n, 2000) for n in range(1, 9)]
    batches = actions(app, csv_imports.BATCH_ACTION)
    assert [(b["batch"], b["rows"], b["rows_done"]) for b in batches] == [
        (n, 250, 250 * (n + 1)) for n in range(8)
    ]
    [done] = actions(app, csv_imports.DONE_ACTION)
    assert done["rows"] == 2000
    assert done["products_created"] == 200
    assert done["variants_created"] == 2000 and done["stock_changed"] == 2000
    assert 'data-variants-created="2000"' in page.text
    assert progress_div(page.text)["state"] == "finished"
    _products, variants, ledger = catalogue_state(app)
    assert len(variants) == 2000 and len(ledger) == 2000
    assert 'http-equiv="refresh"' not in page.text  # over: no more reloading


@pytest.mark.slow
def test_a_run_that_dies_between_and_inside_batches_resumes_and_ends_the_same(
    app, manager, monkeypatch
):
    """First run: dies planning batch 3 (after three commits). Second run: dies in the
    middle of batch 5's stock counts (rolled back). Third run: finishes. The end state is
    the file's, every stock count once."""
    client = signed_in(app)
    data = big_csv(200)
    token = dry_run_token(client, data)
    planned, adjusted = [], []
    plan_rows, adjust = csv_io.plan_rows, csv_io.adjust

    def plan_or_die(session, batch, *args):
        planned.append(batch[0][0])
        if len(planned) == 4 and die_at == "plan":
            raise RuntimeError("worker killed between batches")
        return plan_rows(session, batch, *args)

    def adjust_or_die(*args, **kwargs):
        adjusted.append(args[1])
        if len(adjusted) == 100 and die_at == "adjust":
            raise RuntimeError("worker killed inside a batch")
        return adjust(*args, **kwargs)

    monkeypatch.setattr(csv_io, "plan_rows", plan_or_die)
    monkeypatch.setattr(csv_io, "adjust", adjust_or_die)

    die_at = "plan"
    page = client.post("/admin/csv/apply", data={"token": token}, follow_redirects=True)
    assert progress_div(page.text) == {"state": "failed", "done": "750", "total": "2000"}
    assert len(actions(app, csv_imports.BATCH_ACTION)) == 3
    assert len(catalogue_state(app)[2]) == 750

    planned.clear()
    adjusted.clear()
    die_at = "adjust"
    with app.app_context(), pytest.raises(RuntimeError, match="inside a batch"):
        run_now(csv_job.apply_staged_import, manager.id, token, 250)
    assert len(planned) == 1  # batch 3 only: 0-2 were recorded
    assert len(actions(app, csv_imports.BATCH_ACTION)) == 3  # batch 3 rolled back whole
    assert len(catalogue_state(app)[2]) == 750

    planned.clear()
    die_at = None
    with app.app_context():
        outcome = run_now(csv_job.apply_staged_import, manager.id, token, 250)

    assert len(planned) == 5  # batches 3-7
    assert outcome["state"] == "finished" and outcome["rows"] == 2000
    assert outcome["variants_created"] == 2000 and outcome["stock_changed"] == 2000
    assert [b["batch"] for b in actions(app, csv_imports.BATCH_ACTION)] == list(range(8))
    products, variants, ledger = catalogue_state(app)
    assert len(products) == 200
    assert variants == sorted(
        (f"P{n:04d}-{110 + s * 10}", 20 + s) for n in range(200) for s in range(10)
    )
    assert len(ledger) == 2000 and len({variant_id for variant_id, _d in ledger}) == 2000
    page = client.get(f"/admin/csv/imports/{token}")
    assert progress_div(page.text)["state"] == "finished"

    # Running it once more (a late retry) changes nothing.
    with app.app_context():
        assert run_now(csv_job.apply_staged_import, manager.id, token, 250) == {"state": "finished"}
    assert catalogue_state(app) == (products, variants, ledger)


def test_applying_the_same_rows_again_gives_the_same_catalogue(app, manager):
    client = signed_in(app)
    data = big_csv(30)
    client.post("/admin/csv/apply", data={"token": dry_run_token(client, data)})
    first = catalogue_state(app)

    token = dry_run_token(client, data)
    page = client.post("/admin/csv/apply", data={"token": token}, follow_redirects=True)

    assert catalogue_state(app) == first
    assert 'data-unchanged="300"' in page.text
    assert 'data-products-created="0"' in page.text and 'data-stock-changed="0"' in page.text


@pytest.mark.parametrize("copies", [2, 5])
def test_apply_pressed_at_once_queues_one_job(app, manager, copies):
    clients = [signed_in(app) for _ in range(copies)]
    token = dry_run_token(clients[0], big_csv(30))
    queued_before = (
        REGISTRY.get_sample_value("sourcefront_jobs_queued_total", {"job": "apply_staged_import"})
        or 0.0
    )
    barrier = threading.Barrier(copies)
    answers = []

    def press(client):
        barrier.wait()
        response = client.post("/admin/csv/apply", data={"token": token})
        answers.append((response.status_code, response.headers.get("Location")))

    threads = [threading.Thread(target=press, args=(client,)) for client in clients]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert answers == [(302, f"/admin/csv/imports/{token}")] * copies
    queued = REGISTRY.get_sample_value(
        "sourcefront_jobs_queued_total", {"job": "apply_staged_import"}
    )
    assert queued == queued_before + 1
    assert len(actions(app, csv_imports.DONE_ACTION)) == 1
    assert len(actions(app, csv_imports.BATCH_ACTION)) == 2  # 300 rows in batches of 250
    _products, variants, ledger = catalogue_state(app)
    assert len(variants) == 300 and len(ledger) == 300


# --- the progress page --------------------------------------------------------------------


def test_only_the_uploader_sees_an_import_and_only_catalogue_staff(app, manager, session, sign_in):
    client = signed_in(app)
    token = dry_run_token(client, big_csv(1))
    client.post("/admin/csv/apply", data={"token": token})
    assert client.get(f"/admin/csv/imports/{token}").status_code == 200
    assert client.get(f"/admin/csv/imports/{'0' * 32}").status_code == 404
    assert client.get("/admin/csv/imports/not-a-token").status_code == 404

    other = app.test_client()
    make_user(session, email="owner@factory.example", role="owner")
    make_user(session, email="w@factory.example", role="warehouse")
    session.commit()
    assert login(other, email="owner@factory.example").status_code == 302
    assert other.get(f"/admin/csv/imports/{token}").status_code == 404
    assert other.post("/admin/csv/apply", data={"token": token}).headers["Location"] == (
        "/admin/csv"  # not theirs: expired as far as they can tell
    )
    warehouse = app.test_client()
    assert login(warehouse, email="w@factory.example").status_code == 302
    assert warehouse.get(f"/admin/csv/imports/{token}").status_code == 403
    anonymous = app.test_client().get(f"/admin/csv/imports/{token}")
    assert anonymous.status_code == 302 and "/account/login" in anonymous.headers["Location"]


def test_a_file_with_errors_queues_nothing(app, manager):
    client = signed_in(app)
    data = big_csv(2).replace(b"School polo 1 v0", b"")  # a required name left empty

    response = upload(client, data)

    assert response.status_code == 200
    assert 'data-column="name"' in response.text
    assert 'name="token"' not in response.text
    assert actions(app, csv_imports.BATCH_ACTION) == []


# --- with Redis: a worker applies it while the page reloads itself ---------------------


@pytest.fixture
def rq_app(make_app):
    client = redis.Redis.from_url(REDIS_URL)
    client.flushdb()  # the CSV tests own it while they run
    yield make_app(REDIS_URL=REDIS_URL, CSV_IMPORT_BATCH_ROWS=100, JOBS_RETRY_INTERVALS="0")
    client.flushdb()
    client.close()


def test_with_redis_a_worker_applies_it_and_the_page_follows(rq_app, session):
    from rq.job import Job

    from shop.jobs.redis_queue import connection
    from tests.helpers.jobs import work

    make_category(session, slug="uniforms")
    user = make_user(session, email=MANAGER, role="manager")
    session.commit()
    client = signed_in(rq_app)
    uploaded = upload(client, big_csv(25), follow=False)
    token = uploaded.headers["Location"].rpartition("/")[2]
    checking = client.get(uploaded.headers["Location"]).text
    assert progress_div(checking, stage="check") == {"state": "queued", "done": "0", "total": ""}
    assert "Waiting for a worker to check the file" in checking
    assert '<meta http-equiv="refresh" content="2">' in checking

    work(rq_app)  # the check

    check = Job.fetch(csv_check.job_id(user.id, token), connection=connection(rq_app))
    assert tuple(check.meta["progress"]) == (250, 250)
    assert token_on(client.get(uploaded.headers["Location"]).text) == token
    for _ in range(2):
        answer = client.post("/admin/csv/apply", data={"token": token})
        assert answer.status_code == 302
    waiting = client.get(f"/admin/csv/imports/{token}").text
    assert progress_div(waiting)["state"] == "queued"
    assert '<meta http-equiv="refresh" content="2">' in waiting
    assert catalogue_state(rq_app)[1] == []

    work(rq_app)

    job = Job.fetch(csv_job.job_id(user.id, token), connection=connection(rq_app))
    assert job.meta["progress"] == [250, 250] or job.meta["progress"] == (250, 250)
    done = client.get(f"/admin/csv/imports/{token}").text
    assert progress_div(done)["state"] == "finished"
    assert 'data-variants-created="250"' in done
    assert "refresh" not in done
    assert len(actions(rq_app, csv_imports.BATCH_ACTION)) == 3
    assert len(catalogue_state(rq_app)[2]) == 250


def test_a_store_that_does_not_answer_gives_503_not_500(app, manager, monkeypatch):
    from shop.storage import StorageError

    client = signed_in(app)
    token = dry_run_token(client, big_csv(1))

    def refuse(*args, **kwargs):
        raise StorageError("the store is away")

    monkeypatch.setattr(csv_staging.FileStorage, "save", refuse)
    monkeypatch.setattr(csv_staging.FileStorage, "stat", refuse)

    dry_run = upload(client, big_csv(1))
    assert dry_run.status_code == 503
    assert 'name="token"' not in dry_run.text
    assert client.post("/admin/csv/apply", data={"token": token}).status_code == 503
    assert actions(app, csv_imports.BATCH_ACTION) == []


def test_a_staged_copy_damaged_or_gone_stops_the_import_before_any_row(app, manager):
    client = signed_in(app)
    damaged = dry_run_token(client, big_csv(2))
    gone = dry_run_token(client, big_csv(2))
    get_storage(app).save(csv_staging.staged_name(manager.id, damaged), b"sku\r\nX\r\n")

    page = client.post("/admin/csv/apply", data={"token": damaged}, follow_redirects=True)

    assert progress_div(page.text)["state"] == "stopped"
    assert 'data-line="1" data-column="product_slug"' in page.text
    with app.app_context():
        csv_staging.discard_staged(get_storage(), manager.id, gone)
        from shop.db import get_session

        assert csv_job.claim_apply(get_session(), manager.id, gone)
        get_session().commit()
        assert run_now(csv_job.apply_staged_import, manager.id, gone, 250) == {
            "state": "stopped",
            "rows_done": 0,
        }
    page = client.get(f"/admin/csv/imports/{gone}")
    assert "The uploaded file is gone" in page.text
    assert catalogue_state(app) == ([], [], [])


# --- the dry run as a job ---------------------------------------------------------------


def whole_file_plan(app, data: bytes):
    """What the dry run in the upload request found (``plan_import``), to compare with."""
    with app.test_request_context():
        from shop.db import get_session

        plan = csv_io.plan_import(get_session(), data)
        return (
            plan.counts,
            [{"line": p.line, "column": p.column, "message": p.message} for p in plan.problems],
            [
                [r.line, r.product_action, r.variant_action, [list(c) for c in r.changes]]
                for r in plan.changed_rows
            ],
        )


def shown_changes(result: dict) -> list:
    return [
        [r["line"], r["product_action"], r["variant_action"], r["changes"]]
        for r in result["changed"]
    ]


def stage_unchecked(app, user_id: int, data: bytes) -> str:
    """An upload whose check has not run yet (as with Redis, before a worker takes it)."""
    from shop.audit.service import record
    from shop.db import get_session

    with app.app_context():
        token = csv_staging.stage_upload(get_storage(), user_id, data)
        session = get_session()
        record(
            session,
            actor_user_id=user_id,
            action=csv_check.UPLOAD_ACTION,
            target_type=csv_check.TARGET_TYPE,
            target_id=token,
            after={"bytes": len(data)},
        )
        session.commit()
    return token


@pytest.mark.slow
def test_the_check_runs_in_batches_with_progress_and_shows_the_dry_run(app, manager, monkeypatch):
    reported = []
    original = csv_check.report_progress
    monkeypatch.setattr(
        csv_check,
        "report_progress",
        lambda done, total: (reported.append((done, total)), original(done, total)),
    )
    client = signed_in(app)
    data = big_csv(200)  # 2,000 rows, batches of 250

    uploaded = upload(client, data, follow=False)

    assert uploaded.status_code == 302
    token = uploaded.headers["Location"].rpartition("/")[2]
    assert uploaded.headers["Location"] == f"/admin/csv/imports/{token}"
    assert reported == [(0, 2000)] + [(250 * n, 2000) for n in range(1, 9)]
    page = client.get(uploaded.headers["Location"])  # without Redis: already checked
    assert page.status_code == 200
    assert 'data-testid="csv-counts" data-rows="2000" data-problems="0"' in page.text
    assert page.text.count('data-testid="csv-change"') == 100  # a page of the first 1000
    assert 'data-testid="csv-page" data-page="1" data-pages="10"' in page.text
    last = client.get(uploaded.headers["Location"] + "?page=10").text
    assert last.count('data-testid="csv-change"') == 100
    assert 'data-testid="csv-change" data-line="1001"' in last  # then counted, not listed
    assert "…and 1000 more changed rows, not listed here." in page.text
    assert "Products to create: 200, to change: 0" in page.text
    assert "Stock counts to record: 2000" in page.text
    assert token_on(page.text) == token
    assert "refresh" not in page.text
    [result] = actions(app, csv_check.CHECK_ACTION)
    counts, problems, changed = whole_file_plan(app, data)
    assert result["counts"] == counts
    assert (result["problems"], result["problem_count"]) == (problems, 0) == ([], 0)
    assert shown_changes(result) == changed[:1000]
    assert result["changes_hidden"] == 1000
    assert catalogue_state(app) == ([], [], [])  # a dry run saves nothing

    applied = client.post("/admin/csv/apply", data={"token": token}, follow_redirects=True)
    assert progress_div(applied.text) == {"state": "finished", "done": "2000", "total": "2000"}


def test_the_check_judges_rows_across_batches_as_the_whole_file_dry_run(app, manager):
    client = signed_in(app)
    client.post("/admin/csv/apply", data={"token": dry_run_token(client, big_csv(6))})
    app.config["CSV_IMPORT_BATCH_ROWS"] = 7  # each product's 10 rows span two batches
    rows = rows_of(big_csv(6, generation=1))  # every row changes its name and stock
    rows[15]["name"] = "Another name"  # polo-0001's rows are lines 12-21
    rows[45]["sku"] = rows[3]["sku"]  # a SKU already on line 5, of another product
    rows[30]["size"] = ""
    data = to_csv(rows) + b"too,few,cells\r\n"  # on line 62, after the last batch
    before = catalogue_state(app)

    uploaded = upload(client, data, follow=False)
    page = client.get(uploaded.headers["Location"])

    assert page.status_code == 200
    [result] = actions(app, csv_check.CHECK_ACTION)[1:]  # the first was the applied file's
    counts, problems, changed = whole_file_plan(app, data)
    assert result["counts"] == counts
    assert result["problems"] == problems
    assert [(p["line"], p["column"]) for p in problems] == [
        (17, "name"),
        (32, "size"),
        (47, "sku"),
        (47, "sku"),
        (62, ""),
    ]
    assert "Differs from line 12 of the same product." in page.text
    assert "Already on line 5." in page.text
    assert "1 cells, expected 27." not in page.text and "3 cells, expected 27." in page.text
    assert shown_changes(result) == changed and len(changed) == 59  # not the refused SKU
    assert 'data-rows="60" data-problems="5"' in page.text
    assert page.text.count('data-testid="csv-error"') == 5
    assert 'data-testid="csv-apply"' not in page.text and 'name="token"' not in page.text
    assert catalogue_state(app) == before
    token = uploaded.headers["Location"].rpartition("/")[2]  # never to be applied: not kept
    assert not get_storage(app).exists(csv_staging.staged_name(manager.id, token))


def test_the_check_page_is_the_uploaders_only(app, manager, session):
    client = signed_in(app)
    uploaded = upload(client, big_csv(1), follow=False)
    page = uploaded.headers["Location"]
    assert client.get(page).status_code == 200
    make_user(session, email="other@factory.example", role="manager")
    session.commit()
    other = app.test_client()
    assert login(other, email="other@factory.example").status_code == 302

    assert other.get(page).status_code == 404
    assert other.get(f"/admin/csv/imports/{'0' * 32}").status_code == 404


def test_a_check_that_has_not_run_yet_shows_rows_checked_and_reloads(app, manager, monkeypatch):
    from shop.jobs.progress import JobStatus

    token = stage_unchecked(app, manager.id, big_csv(3))
    client = signed_in(app)

    page = client.get(f"/admin/csv/imports/{token}").text
    assert progress_div(page, stage="check") == {"state": "queued", "done": "0", "total": ""}
    assert "Waiting for a worker to check the file…" in page
    assert '<meta http-equiv="refresh" content="2">' in page

    monkeypatch.setattr(csv_check, "job_status", lambda job_id: JobStatus("started", 10, 30))
    page = client.get(f"/admin/csv/imports/{token}").text
    assert progress_div(page, stage="check") == {"state": "running", "done": "10", "total": "30"}
    assert "Checking rows: 10 of 30" in page
    assert '<meta http-equiv="refresh" content="2">' in page
    assert 'name="token"' not in page

    monkeypatch.setattr(csv_check, "job_status", lambda job_id: JobStatus("failed", 10, 30))
    page = client.get(f"/admin/csv/imports/{token}").text
    assert progress_div(page, stage="check")["state"] == "failed"
    assert "The check of the file stopped before the end." in page
    assert "refresh" not in page


@pytest.mark.parametrize("copies", [1, 2, 5])
def test_the_check_run_again_or_at_once_records_one_result(app, manager, copies):
    token = stage_unchecked(app, manager.id, big_csv(30))
    barrier = threading.Barrier(copies)
    outcomes = []

    def check():
        barrier.wait()
        with app.app_context():
            outcomes.append(run_now(csv_check.check_staged_import, manager.id, token, 100))

    threads = [threading.Thread(target=check) for _ in range(copies)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    with app.app_context():  # and once more, later (a retry)
        outcomes.append(run_now(csv_check.check_staged_import, manager.id, token, 100))

    assert sorted(outcomes, key=len) == [{"state": "finished"}] * copies + [
        {"state": "finished", "rows": 300, "problems": 0}
    ]
    [result] = actions(app, csv_check.CHECK_ACTION)
    assert result["counts"]["rows"] == 300 and result["counts"]["variants_created"] == 300
    page = signed_in(app).get(f"/admin/csv/imports/{token}").text
    assert token_on(page) == token


@pytest.mark.slow
def test_a_check_of_20000_rows_holds_a_batch_not_the_file(app, manager):
    """The whole-file dry run held ~190 MB at 20,000 rows (~970 MB at 100,000); the
    check holds one batch, the counts and what it shows (bench/csv_import.py: 100,000)."""
    import tracemalloc

    token = stage_unchecked(app, manager.id, big_csv(2000))
    with app.app_context():
        tracemalloc.start()
        try:
            outcome = run_now(csv_check.check_staged_import, manager.id, token, 500)
            _now, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()

    assert outcome == {"state": "finished", "rows": 20000, "problems": 0}
    assert peak < 64 * 2**20, f"{peak / 2**20:.0f} MB"
    [result] = actions(app, csv_check.CHECK_ACTION)
    assert result["counts"]["products_created"] == 2000
    assert (len(result["changed"]), result["changes_hidden"]) == (1000, 19000)
