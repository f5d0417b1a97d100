"""Without ``REDIS_URL``: a job runs in-process, in the committing thread, right after the
commit; never for a rollback; an error is logged and the commit stands."""

import logging
import threading

import pytest
from prometheus_client import REGISTRY

from shop.jobs import enqueue, enqueue_after_commit, job_status
from shop.jobs.queue import job_id_for
from tests.helpers.jobs import used_keys
from tests.jobs import sample_jobs


def failed_count(job: str) -> float:
    return REGISTRY.get_sample_value("sourcefront_jobs_failed_total", {"job": job}) or 0.0


def queued_count(job: str) -> float:
    return REGISTRY.get_sample_value("sourcefront_jobs_queued_total", {"job": job}) or 0.0


def test_a_job_runs_after_the_commit_in_the_same_thread(app, session):
    ran_in = []

    with app.app_context():
        job_id = enqueue_after_commit(session, sample_jobs.write_key, "after-commit")
        session.info["probe"] = threading.get_ident()
        assert used_keys(app) == []  # nothing yet: not committed
        session.commit()
        ran_in.append(threading.get_ident())

    assert used_keys(app) == ["after-commit"]  # committed by the job's own session
    assert ran_in == [session.info["probe"]]
    with app.app_context():
        assert job_status(job_id).state == "finished"
        assert job_status(job_id).result == "after-commit"


def test_a_rolled_back_transaction_queues_nothing(app, session):
    queued_before = queued_count("write_key")
    with app.app_context():
        enqueue_after_commit(session, sample_jobs.write_key, "rolled-back")
        session.rollback()
        session.commit()  # a later commit of the same session does not bring it back
    assert used_keys(app) == []
    assert queued_count("write_key") == queued_before


def test_a_savepoint_rolled_back_keeps_the_outer_transactions_jobs(app, session):
    with app.app_context():
        enqueue_after_commit(session, sample_jobs.write_key, "outer")
        savepoint = session.begin_nested()
        savepoint.rollback()
        session.commit()
    assert used_keys(app) == ["outer"]


def test_a_savepoint_committed_waits_for_the_outer_commit(app, session):
    """Releasing a savepoint fires SQLAlchemy's ``after_commit`` too: the job must still
    wait for the real commit (and go with its rollback)."""
    with app.app_context():
        enqueue_after_commit(session, sample_jobs.write_key, "inner")
        session.begin_nested().commit()
        assert used_keys(app) == []
        session.rollback()
        session.commit()
    assert used_keys(app) == []
    with app.app_context():
        enqueue_after_commit(session, sample_jobs.write_key, "outer")
        session.begin_nested().commit()
        session.commit()
    assert used_keys(app) == ["outer"]


def test_a_failing_job_is_logged_counted_and_its_writes_undone(app, session, caplog):
    failed_before = failed_count("write_then_fail")
    with app.app_context(), caplog.at_level(logging.ERROR, logger="shop.jobs.runner"):
        job_id = enqueue_after_commit(session, sample_jobs.write_then_fail, "undone")
        session.commit()  # does not raise
        assert job_status(job_id).state == "failed"
    assert "write_then_fail" in caplog.text and "fails after writing" in caplog.text
    assert used_keys(app) == []
    assert failed_count("write_then_fail") == failed_before + 1


def test_a_key_runs_once_in_a_process(app, tmp_path):
    log = tmp_path / "runs.log"
    with app.app_context():
        assert enqueue(sample_jobs.count_runs, str(log), key="once") is True
        assert enqueue(sample_jobs.count_runs, str(log), key="once") is False
        assert enqueue(sample_jobs.count_runs, str(log), key="another") is True
    assert log.read_text().splitlines() == ["run", "run"]


@pytest.mark.parametrize("copies", [2, 5])
def test_the_same_key_at_the_same_moment_runs_once(app, session_factory, copies):
    barrier = threading.Barrier(copies)
    errors = []

    def commit_one(index):
        try:
            with app.app_context(), session_factory(app) as session:
                enqueue_after_commit(session, sample_jobs.write_key, "raced", key="race")
                barrier.wait(timeout=10)
                session.commit()
        except Exception as error:  # the test must hear of it
            errors.append(error)

    threads = [threading.Thread(target=commit_one, args=(i,)) for i in range(copies)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert errors == []
    assert used_keys(app) == ["raced"]


def test_progress_is_reported_for_a_page(app, session):
    with app.app_context():
        job_id = enqueue_after_commit(session, sample_jobs.count_to, 3, key="count")
        assert job_id == job_id_for("count")
        assert job_status(job_id).state == "unknown"  # not committed: no such job yet
        session.commit()
        status = job_status(job_id)
    assert (status.state, status.done, status.total, status.over) == ("finished", 3, 3, True)
    assert status.result == "counted to 3"


def test_a_job_must_be_a_module_level_function(app, session):
    def local_job():
        pass

    with app.app_context(), pytest.raises(ValueError, match="module-level"):
        enqueue_after_commit(session, local_job)
