"""The one function that runs every job, in an RQ worker and in-process alike.

``run_job("shop.mail:deliver_once", args, kwargs)`` imports the job function, pushes an
app context (so the job has its own ``get_session()``, config and ``url_for``), calls the
function, commits the session (the job is the boundary; a job may also commit in steps
itself) and rolls back on an error, which it logs and raises again for RQ's retry. A job
that fails for good (no retry left) counts in ``sourcefront_jobs_failed_total``.
"""

import logging
import os
from collections.abc import Callable
from typing import Any

from flask import Flask, current_app, has_app_context
from werkzeug.utils import import_string

from shop.db import get_session
from shop.jobs.metrics import JOBS_FAILED, count
from shop.jobs.progress import CURRENT_JOB_ID, LOCAL, JobStatus

logger = logging.getLogger(__name__)

_plain_rq_app: Flask | None = None


def job_path(function: Callable) -> str:
    """``module:name`` of a module-level function: what the queue stores and runs."""
    path = f"{function.__module__}:{function.__qualname__}"
    if "<" in path or import_string(path) is not function:
        raise ValueError(f"a job must be a module-level function, not {function!r}")
    return path


def job_name(path: str) -> str:
    """The metric label and log name: the function's name."""
    return path.rpartition(":")[2]


def job_app() -> Flask:
    """The app a job runs in: the current one (``flask worker`` runs its loop inside the
    app; an in-process job is run in the app that queued it)."""
    global _plain_rq_app
    if has_app_context():
        return current_app._get_current_object()  # type: ignore[attr-defined]
    if _plain_rq_app is None:  # a plain ``rq worker`` started outside Flask
        from shop import create_app

        _plain_rq_app = create_app()
    return _plain_rq_app


def run_job(path: str, args: tuple = (), kwargs: dict | None = None) -> Any:
    """Run one job: what RQ calls (and ``run_now``)."""
    from rq import get_current_job

    rq_job = get_current_job()
    return _run(job_app(), path, args, kwargs or {}, rq_job.id if rq_job else None, rq_job)


def run_in_process(app: Flask, path: str, args: tuple, kwargs: dict, job_id: str) -> None:
    """Run a job here and now, without retries: an error is logged, never raised (the
    commit that queued it has happened; the caller's request still succeeds)."""
    LOCAL.set(job_id, JobStatus("started"))
    try:
        result = _run(app, path, args, kwargs, job_id, None)
    except Exception:  # logged and counted by _run
        LOCAL.update(job_id, state="failed")
    else:
        LOCAL.update(job_id, state="finished", result=result)


def _run(app: Flask, path: str, args: tuple, kwargs: dict, job_id, rq_job) -> Any:
    name = job_name(path)
    token = CURRENT_JOB_ID.set(job_id)
    try:
        with app.app_context():
            session = get_session()
            try:
                function = import_string(path)
                result = function(*args, **kwargs)
                session.commit()
            except Exception:
                session.rollback()
                retries_left = rq_job.retries_left if rq_job is not None else 0
                if retries_left:
                    logger.warning(
                        "jobs: %s (%s) failed; %d retries left",
                        name,
                        job_id,
                        retries_left,
                        exc_info=True,
                    )
                else:
                    count(JOBS_FAILED, name)
                    logger.exception("jobs: %s (%s) failed for good", name, job_id)
                raise
            return result
    finally:
        CURRENT_JOB_ID.reset(token)


def dispose_engine_after_fork(app: Flask) -> None:
    """A forked work horse must not share the parent's database connections."""
    engine = app.extensions["sa_engine"]
    os.register_at_fork(after_in_child=lambda: engine.dispose(close=False))


def run_now(function: Callable, *args: Any, **kwargs: Any) -> Any:
    """Run a job here and now through the same runner (the CLI commands); errors raise."""
    return run_job(job_path(function), args, kwargs)
