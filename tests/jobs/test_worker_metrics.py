"""The forking worker under ``PROMETHEUS_MULTIPROC_DIR``: a work horse's live gauges
leave with it (``shop.jobs.worker.ShopWorker.wait_for_horse``), so neither its files pile
up nor a dead horse's gauge counts."""

import os
import subprocess
import sys

import pytest
from rq.job import Job

from shop.jobs import enqueue
from shop.jobs.queue import job_id_for
from tests.helpers.jobs import REDIS_URL
from tests.jobs import metric_jobs

PROJECT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def run_worker_burst(env: dict) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "flask", "--app", "wsgi", "worker", "--burst"],
        cwd=PROJECT,
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.mark.slow
def test_a_finished_horses_gauge_files_are_removed(make_app, redis_client, tmp_path):
    metrics_dir = tmp_path / "prometheus"
    metrics_dir.mkdir()
    app = make_app(REDIS_URL=REDIS_URL)
    with app.app_context():
        for copy in ("first", "second"):
            assert enqueue(metric_jobs.set_live_gauge, str(metrics_dir), key=copy) is True

    worker = run_worker_burst(
        {
            "DATABASE_URL": app.config["DATABASE_URL"],
            "REDIS_URL": REDIS_URL,
            "PROMETHEUS_MULTIPROC_DIR": str(metrics_dir),
        }
    )

    assert worker.returncode == 0, worker.stderr
    results = [
        Job.fetch(job_id_for(copy), connection=redis_client).return_value()
        for copy in ("first", "second")
    ]
    horses = {result["pid"] for result in results}
    assert len(horses) == 2  # a horse per job
    assert all(result["gauge_file"] for result in results)  # each horse wrote its file
    left = {path.name for path in metrics_dir.iterdir()}
    assert not any(name.startswith("gauge_livesum_") for name in left), left


def test_a_dead_horses_live_gauges_go_and_its_counts_stay(tmp_path, monkeypatch):
    from shop.jobs.worker import forget_metrics_of

    for name in ("gauge_livesum_4242.db", "gauge_liveall_4242.db", "counter_4242.db"):
        (tmp_path / name).write_bytes(b"")
    (tmp_path / "gauge_livesum_4243.db").write_bytes(b"")  # another, living horse
    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", str(tmp_path))

    forget_metrics_of(4242)

    assert sorted(path.name for path in tmp_path.iterdir()) == [
        "counter_4242.db",
        "gauge_livesum_4243.db",
    ]
    monkeypatch.delenv("PROMETHEUS_MULTIPROC_DIR")
    forget_metrics_of(4243)  # without the folder setting: nothing to do, no error
    assert (tmp_path / "gauge_livesum_4243.db").exists()


def test_the_heartbeat_grace_replaces_rqs_minute(make_app, redis_client):
    """A job's heartbeat lives the monitoring interval plus the grace: after that its worker
    counts as dead and maintenance requeues the job (RQ's own grace is a fixed minute)."""
    from shop.jobs.worker import JOB_MONITORING_SECONDS, make_worker

    job = Job.create("tests.jobs.sample_jobs:write_key", connection=redis_client, timeout=600)
    # A forking worker beats every monitoring interval; a simple one cannot beat while its
    # job runs, so its heartbeat lasts the job's whole timeout.
    for grace, simple, beat in (
        (60, False, JOB_MONITORING_SECONDS),
        (15, False, 10),
        (15, True, 600),
    ):
        app = make_app(REDIS_URL=REDIS_URL, JOBS_HEARTBEAT_GRACE_SECONDS=grace)
        with app.app_context():
            worker = make_worker(app, simple=simple)
        assert worker.get_heartbeat_ttl(job) == beat + grace
