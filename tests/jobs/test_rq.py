"""With ``REDIS_URL``: jobs go on the RQ queue ``sourcefront`` after the commit, a worker
runs them in the app, failures are retried with backoff and kept when they give up."""

import logging
import multiprocessing
import threading
import time

import pytest
from prometheus_client import REGISTRY
from rq import Queue
from rq.job import Job
from rq.registry import FailedJobRegistry, FinishedJobRegistry, ScheduledJobRegistry

from shop.jobs import enqueue, enqueue_after_commit, job_status
from shop.jobs.queue import job_id_for
from tests.helpers.jobs import REDIS_URL, used_keys, work
from tests.jobs import sample_jobs


def sourcefront(client) -> Queue:
    return Queue("sourcefront", connection=client)


def test_a_job_is_queued_at_the_commit_and_run_by_the_worker(rq_app, session, redis_client):
    with rq_app.app_context():
        job_id = enqueue_after_commit(session, sample_jobs.write_key, "by-worker")
        assert sourcefront(redis_client).count == 0
        session.commit()
        assert sourcefront(redis_client).job_ids == [job_id]
        assert job_status(job_id).state == "queued"
    assert used_keys(rq_app) == []  # queued, not run

    work(rq_app)

    assert used_keys(rq_app) == ["by-worker"]
    assert sourcefront(redis_client).count == 0
    assert FinishedJobRegistry("sourcefront", connection=redis_client).get_job_ids() == [job_id]
    with rq_app.app_context():
        status = job_status(job_id)
    assert (status.state, status.result) == ("finished", "by-worker")


def test_a_rolled_back_transaction_queues_nothing(rq_app, session, redis_client):
    with rq_app.app_context():
        enqueue_after_commit(session, sample_jobs.write_key, "never")
        session.flush()
        session.rollback()
    assert sourcefront(redis_client).count == 0


def test_a_key_is_queued_once_even_after_the_job_ran(rq_app, redis_client, tmp_path):
    log = tmp_path / "runs.log"
    with rq_app.app_context():
        assert enqueue(sample_jobs.count_runs, str(log), key="k") is True
        assert enqueue(sample_jobs.count_runs, str(log), key="k") is False
    assert sourcefront(redis_client).job_ids == [job_id_for("k")]
    work(rq_app)
    with rq_app.app_context():
        assert enqueue(sample_jobs.count_runs, str(log), key="k") is False
    work(rq_app)
    assert log.read_text().splitlines() == ["run"]


@pytest.mark.parametrize("copies", [2, 5])
def test_the_same_key_from_many_threads_at_once_is_queued_once(
    rq_app, session_factory, redis_client, copies
):
    barrier = threading.Barrier(copies)
    errors = []

    def commit_one():
        try:
            with rq_app.app_context(), session_factory(rq_app) as session:
                enqueue_after_commit(session, sample_jobs.write_key, "raced", key="race")
                barrier.wait(timeout=10)
                session.commit()
        except Exception as error:
            errors.append(error)

    threads = [threading.Thread(target=commit_one) for _ in range(copies)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert errors == []
    assert sourcefront(redis_client).job_ids == [job_id_for("race")]
    work(rq_app)
    assert used_keys(rq_app) == ["raced"]


def _enqueue_in_process(settings: dict, start_at: float, log: str, answers) -> None:
    from shop import create_app

    app = create_app(settings)
    time.sleep(max(start_at - time.time(), 0))
    with app.app_context():
        answers.put(enqueue(sample_jobs.count_runs, log, key="two-processes"))


@pytest.mark.slow
@pytest.mark.parametrize("copies", [2, 5])
def test_the_same_key_from_processes_at_once_is_queued_once(rq_app, redis_client, tmp_path, copies):
    context = multiprocessing.get_context("spawn")
    answers = context.Queue()
    settings = {
        name: rq_app.config[name]
        for name in ("TESTING", "SECRET_KEY", "DATABASE_URL", "REDIS_URL", "MAIL_OUTBOX")
    }
    start_at = time.time() + 4  # time for every process to import and build its app
    log = str(tmp_path / "runs.log")
    processes = [
        context.Process(target=_enqueue_in_process, args=(settings, start_at, log, answers))
        for _ in range(copies)
    ]
    for process in processes:
        process.start()
    for process in processes:
        process.join(timeout=60)
    assert [process.exitcode for process in processes] == [0] * copies
    results = sorted(answers.get(timeout=5) for _ in range(copies))
    assert results == [False] * (copies - 1) + [True]
    assert sourcefront(redis_client).job_ids == [job_id_for("two-processes")]


def test_a_failing_job_is_retried_until_it_succeeds(rq_app, redis_client, tmp_path):
    log = tmp_path / "runs.log"
    with rq_app.app_context():
        enqueue(sample_jobs.fail_first, str(log), 2, key="flaky")

    work(rq_app)  # retries at once (interval 0): one burst runs all three

    assert len(log.read_text().splitlines()) == 3
    assert used_keys(rq_app) == ["after-3-runs"]
    job = Job.fetch(job_id_for("flaky"), connection=redis_client)
    assert job.get_status().value == "finished"
    assert FailedJobRegistry("sourcefront", connection=redis_client).count == 0


def failed_count(job: str) -> float:
    return REGISTRY.get_sample_value("sourcefront_jobs_failed_total", {"job": job}) or 0.0


def test_retries_wait_their_backoff_then_the_job_is_kept_as_failed(
    make_app, redis_client, tmp_path, caplog
):
    app = make_app(REDIS_URL=REDIS_URL, JOBS_RETRY_INTERVALS="1,2")
    log = tmp_path / "runs.log"
    failed_before = failed_count("fail_first")
    with app.app_context():
        enqueue(sample_jobs.fail_first, str(log), 99, key="hopeless")
    job_id = job_id_for("hopeless")
    scheduled = ScheduledJobRegistry("sourcefront", connection=redis_client)

    # Bounds from the clock around each run, never a guess at how long a run takes: the
    # machine may be slow (CI runs two suites at once). RQ keeps whole seconds.
    with caplog.at_level(logging.WARNING, logger="shop.jobs.runner"):
        started = time.time()
        work(app)  # run 1 fails: the retry waits 1 second
        finished = time.time()
        assert len(log.read_text().splitlines()) == 1
        assert scheduled.get_job_ids() == [job_id]
        retry_at = scheduled.get_expiration_time(Job.fetch(job_id, connection=redis_client))
        assert started <= retry_at.timestamp() <= finished + 2  # 1 s, a second of slack
        if time.time() < retry_at.timestamp() - 0.2:
            work(app)  # too early: nothing runs
            assert len(log.read_text().splitlines()) == 1

        time.sleep(max(retry_at.timestamp() + 1 - time.time(), 0) + 0.2)
        started = time.time()
        work(app)  # run 2 fails: the next retry waits 2 seconds
        finished = time.time()
        assert len(log.read_text().splitlines()) == 2
        retry_at = scheduled.get_expiration_time(Job.fetch(job_id, connection=redis_client))
        assert started + 1 <= retry_at.timestamp() <= finished + 3  # 2 s, a second of slack
        time.sleep(max(retry_at.timestamp() + 1 - time.time(), 0) + 0.2)
        work(app)  # run 3 fails: no retry left

    assert len(log.read_text().splitlines()) == 3
    assert FailedJobRegistry("sourcefront", connection=redis_client).get_job_ids() == [job_id]
    assert scheduled.count == 0
    assert failed_count("fail_first") == failed_before + 1
    assert "1 retries left" in caplog.text and "failed for good" in caplog.text
    with app.app_context():
        assert job_status(job_id).state == "failed"
        # A failed job keeps its key: the same key queues nothing until it is let go.
        assert enqueue(sample_jobs.fail_first, str(log), 99, key="hopeless") is False


def test_progress_is_saved_on_the_job(rq_app, session, redis_client):
    with rq_app.app_context():
        job_id = enqueue_after_commit(session, sample_jobs.count_to, 4)
        session.commit()
        assert job_status(job_id).done == 0
    work(rq_app)
    with rq_app.app_context():
        status = job_status(job_id)
    assert (status.state, status.done, status.total) == ("finished", 4, 4)
    assert status.result == "counted to 4"
