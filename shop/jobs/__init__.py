"""Background jobs: RQ on Redis when ``REDIS_URL`` is set; in-process after the commit
when it is not.

- ``enqueue_after_commit(session, job_function, *args, key=None, **kwargs)`` queues a job
  once ``session`` commits (never if it rolls back); ``key`` makes it unique.
- ``enqueue(job_function, ..., key=...)`` queues one now (the scheduler).
- ``report_progress(done, total)`` inside a job; ``job_status(job_id)`` for a page.
- ``flask --app wsgi worker`` runs the jobs (``shop.jobs.worker``); ``flask --app wsgi
  scheduler`` queues the periodic ones (``shop.jobs.scheduler``).

A job is a module-level function. It runs in an app context with its own session, which
``shop.jobs.runner`` commits when it returns (a job may commit in steps too). Jobs are
retried (``JOBS_RETRY_INTERVALS``), so a job must be safe to run again: key its effect.
"""

from flask import Flask

from shop.jobs.progress import job_status, report_progress
from shop.jobs.queue import enqueue, enqueue_after_commit
from shop.jobs.settings import check_job_settings

__all__ = ["enqueue", "enqueue_after_commit", "init_app", "job_status", "report_progress"]


def init_app(app: Flask) -> None:
    check_job_settings(app.config)
