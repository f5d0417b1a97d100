"""The job counters, by job name (``send_email``, ``expire_reservations``, ...).

Plain ``prometheus_client`` counters: under ``PROMETHEUS_MULTIPROC_DIR`` every process
(web workers, RQ workers and their work horses) writes its counts there and ``/metrics``
(``shop.metrics``) adds them up.
"""

from prometheus_client import Counter

JOBS_QUEUED = Counter(
    "sourcefront_jobs_queued",
    "Jobs accepted after their commit: put on the RQ queue, or run in-process without Redis.",
    ("job",),
)
JOBS_FAILED = Counter(
    "sourcefront_jobs_failed",
    "Jobs that failed for good (no retry left; in-process jobs have none).",
    ("job",),
)


def count(counter: Counter, job: str) -> None:
    """A metric never fails a job."""
    try:
        counter.labels(job).inc()
    except Exception:  # pragma: no cover - prometheus_client raises only on misuse
        import logging

        logging.getLogger(__name__).exception("could not count job %s", job)
