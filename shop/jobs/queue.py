"""Putting jobs on the queue: after a commit, or now (the scheduler).

With ``REDIS_URL`` a job goes on the RQ queue ``sourcefront`` and a worker runs it, with
retries (``JOBS_RETRY_INTERVALS``). Without it (``make run``, most tests) or with
``JOBS_INLINE`` the job runs in-process, in the same thread, right after the commit. If
Redis does not answer when a job is queued, the job runs in-process too and a warning is
logged: the request that caused it still succeeds, and a job that is keyed against
repeating its effect (an email) stays once-only whoever runs it.

A ``key`` makes a job unique: a second job with the same key, even queued at the same
moment from another process, queues nothing. The key becomes the RQ job id, and RQ's
atomic ``unique`` enqueue refuses an id it already holds - queued, running, scheduled for
a retry, finished (for ``JOBS_RESULT_TTL_SECONDS``) or failed (for
``JOBS_FAILURE_TTL_SECONDS``). In-process, a process remembers keys for as long.
"""

import hashlib
import logging
import threading
import time
import uuid
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from flask import Flask, current_app
from sqlalchemy import event
from sqlalchemy.orm import Session

from shop.jobs.metrics import JOBS_QUEUED, count
from shop.jobs.runner import job_name, job_path, run_in_process

logger = logging.getLogger(__name__)

PENDING = "shop.jobs.pending"  # session.info: jobs waiting for the commit


@dataclass(frozen=True)
class PendingJob:
    app: Flask
    path: str
    args: tuple
    kwargs: dict
    job_id: str
    unique: bool
    timeout: int | None


def enqueue_after_commit(
    session: Session,
    job_function: Callable,
    *args: Any,
    key: str | None = None,
    job_timeout: int | None = None,
    **kwargs: Any,
) -> str:
    """Queue ``job_function(*args, **kwargs)`` once ``session`` commits; never if it rolls
    back. Returns the job's id (known now, so a page can point at the job's progress)."""
    pending = _pending_job(job_function, args, kwargs, key, job_timeout)
    if not session.in_transaction():
        session.begin()  # so that a rollback before any SQL still ends it (and drops the job)
    session.info.setdefault(PENDING, []).append(pending)
    return pending.job_id


def enqueue(
    job_function: Callable,
    *args: Any,
    key: str | None = None,
    job_timeout: int | None = None,
    **kwargs: Any,
) -> bool:
    """Queue a job now (nothing to commit first: the scheduler). ``False`` when a job with
    the same key is already there."""
    return dispatch(_pending_job(job_function, args, kwargs, key, job_timeout))


def job_id_for(key: str) -> str:
    """The job id of a key: RQ allows only letters, digits, ``-`` and ``_`` in ids."""
    return "k-" + hashlib.sha256(key.encode()).hexdigest()[:40]


def _pending_job(job_function, args, kwargs, key, job_timeout) -> PendingJob:
    return PendingJob(
        app=current_app._get_current_object(),  # type: ignore[attr-defined]
        path=job_path(job_function),
        args=tuple(args),
        kwargs=dict(kwargs),
        job_id=job_id_for(key) if key is not None else "j-" + uuid.uuid4().hex,
        unique=key is not None,
        timeout=job_timeout,
    )


@event.listens_for(Session, "after_commit")
def _dispatch_pending(session: Session) -> None:
    """After the real commit. SQLAlchemy fires ``after_commit`` when a savepoint is
    released too, with the outer transaction still open: the jobs wait for that one."""
    if session.get_nested_transaction() is not None:
        return
    for pending in session.info.pop(PENDING, []):
        try:
            dispatch(pending)
        except Exception:  # the change is committed; a lost job must not undo the page
            logger.exception("jobs: %s (%s) failed", job_name(pending.path), pending.job_id)


@event.listens_for(Session, "after_transaction_end")
def _drop_pending(session: Session, transaction) -> None:
    """The outermost transaction ended without a commit (a commit has taken its jobs by
    now): what it queued never happened. A savepoint's end keeps them."""
    if transaction.parent is None and not transaction.nested:
        session.info.pop(PENDING, None)


def dispatch(pending: PendingJob) -> bool:
    """Put the job on RQ, or run it here; ``False`` if its key was already taken."""
    from shop.jobs.redis_queue import RedisUnavailable, enqueue_on_rq

    config = pending.app.config
    if config.get("REDIS_URL") and not config["JOBS_INLINE"]:
        try:
            queued = enqueue_on_rq(pending)
        except RedisUnavailable as error:
            logger.warning(
                "jobs: Redis did not answer (%s); running %s (%s) in this process",
                error,
                job_name(pending.path),
                pending.job_id,
            )
        else:
            if queued:
                count(JOBS_QUEUED, job_name(pending.path))
            return queued
    if pending.unique and not LOCAL_KEYS.claim(pending.job_id, config["JOBS_RESULT_TTL_SECONDS"]):
        logger.info("jobs: %s (%s) already ran here", job_name(pending.path), pending.job_id)
        return False
    count(JOBS_QUEUED, job_name(pending.path))
    run_in_process(pending.app, pending.path, pending.args, pending.kwargs, pending.job_id)
    return True


class LocalKeys:
    """The keys of jobs run in this process, each remembered for a while (bounded)."""

    LIMIT = 10_000

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._until: OrderedDict[str, float] = OrderedDict()

    def claim(self, job_id: str, seconds: float) -> bool:
        now = time.monotonic()
        with self._lock:
            until = self._until.get(job_id)
            if until is not None and until > now:
                return False
            self._until[job_id] = now + seconds
            self._until.move_to_end(job_id)
            while len(self._until) > self.LIMIT:
                self._until.popitem(last=False)
            return True

    def clear(self) -> None:
        with self._lock:
            self._until.clear()


LOCAL_KEYS = LocalKeys()
