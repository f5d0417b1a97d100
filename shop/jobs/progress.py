"""A job's state and progress, for a page that waits on it (a roster order, a catalogue
import): the page gets the job id from ``enqueue_after_commit`` and asks ``job_status``.

With RQ the state is RQ's and the progress lives in the job's ``meta``; a job run
in-process (no Redis) keeps both in this process's memory, which is where the page that
asks is served when there is no Redis.
"""

import logging
import threading
from collections import OrderedDict
from contextvars import ContextVar
from dataclasses import dataclass, replace
from typing import Any

from flask import current_app

logger = logging.getLogger(__name__)

CURRENT_JOB_ID: ContextVar[str | None] = ContextVar("shop_job_id", default=None)

# RQ's states, as a page needs them: a job waiting for a retry is still to come.
STATES = {"queued": "queued", "deferred": "queued", "scheduled": "queued", "started": "started"}


@dataclass(frozen=True)
class JobStatus:
    state: str  # "queued", "started", "finished", "failed" or "unknown"
    done: int = 0
    total: int | None = None
    result: Any = None

    @property
    def over(self) -> bool:
        return self.state in ("finished", "failed")


UNKNOWN = JobStatus("unknown")


def report_progress(done: int, total: int | None = None) -> None:
    """Inside a job: ``done`` of ``total`` steps are done (rows, pupils...)."""
    from rq import get_current_job

    rq_job = get_current_job()
    if rq_job is not None:
        rq_job.meta["progress"] = (done, total)
        try:
            rq_job.save_meta()
        except Exception:  # progress is for show: never fail the job over it
            logger.warning("jobs: could not save the progress of %s", rq_job.id, exc_info=True)
        return
    job_id = CURRENT_JOB_ID.get()
    if job_id is not None:
        LOCAL.update(job_id, done=done, total=total)


def job_status(job_id: str) -> JobStatus:
    """What a job is doing now; ``unknown`` for an id nobody knows (or Redis away)."""
    config = current_app.config
    if config.get("REDIS_URL") and not config["JOBS_INLINE"]:
        status = _rq_status(job_id)
        if status is not UNKNOWN:
            return status
    return LOCAL.get(job_id)  # in-process, or run here while Redis was away


def _rq_status(job_id: str) -> JobStatus:
    from rq.exceptions import NoSuchJobError
    from rq.job import Job

    from shop.jobs.redis_queue import connection

    app = current_app._get_current_object()  # type: ignore[attr-defined]
    try:
        job = Job.fetch(job_id, connection=connection(app))
        rq_state = job.get_status(refresh=False)
    except NoSuchJobError:
        return UNKNOWN
    except Exception:
        logger.warning("jobs: could not read job %s from Redis", job_id, exc_info=True)
        return UNKNOWN
    state = str(getattr(rq_state, "value", rq_state))
    done, total = job.meta.get("progress", (0, None))
    result = job.return_value() if state == "finished" else None
    return JobStatus(STATES.get(state, state), done, total, result)


class LocalStatuses:
    """The states of the jobs run in this process (the latest few hundred)."""

    LIMIT = 500

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._statuses: OrderedDict[str, JobStatus] = OrderedDict()

    def get(self, job_id: str) -> JobStatus:
        with self._lock:
            return self._statuses.get(job_id, UNKNOWN)

    def set(self, job_id: str, status: JobStatus) -> None:
        with self._lock:
            self._statuses[job_id] = status
            self._statuses.move_to_end(job_id)
            while len(self._statuses) > self.LIMIT:
                self._statuses.popitem(last=False)

    def update(self, job_id: str, **changes) -> None:
        with self._lock:
            current = self._statuses.get(job_id, JobStatus("started"))
            self._statuses[job_id] = replace(current, **changes)


LOCAL = LocalStatuses()
