"""The RQ side: the queue ``sourcefront`` on ``REDIS_URL``, and how jobs go on it."""

import redis
from flask import Flask
from redis.backoff import NoBackoff
from redis.retry import Retry as RedisRetry
from rq import Queue, Retry
from rq.exceptions import DuplicateJobError

from shop.jobs.runner import job_name, run_job

QUEUE_NAME = "sourcefront"
EXTENSION = "jobs_redis"
# Queueing happens while a request waits: a Redis that is down must answer fast.
CONNECT_TIMEOUT_SECONDS = 1
COMMAND_TIMEOUT_SECONDS = 5


class RedisUnavailable(Exception):
    """Redis refused or dropped the connection, or did not answer in time."""


def connection(app: Flask) -> redis.Redis:
    """The app's Redis client for queueing (one pool per app; no retries: a caller that
    cannot queue runs the job itself rather than keep the request waiting)."""
    client = app.extensions.get(EXTENSION)
    if client is None:
        client = redis.Redis.from_url(
            app.config["REDIS_URL"],
            socket_connect_timeout=CONNECT_TIMEOUT_SECONDS,
            socket_timeout=COMMAND_TIMEOUT_SECONDS,
            retry=RedisRetry(NoBackoff(), 0),
        )
        app.extensions[EXTENSION] = client
    return client


def queue(app: Flask, client: redis.Redis | None = None) -> Queue:
    return Queue(QUEUE_NAME, connection=client or connection(app))


def retry_policy(app: Flask) -> Retry | None:
    intervals = list(app.config["JOBS_RETRY_INTERVALS"])
    return Retry(max=len(intervals), interval=intervals) if intervals else None


def enqueue_on_rq(pending) -> bool:
    """``True`` if queued; ``False`` if a job with this key is already held by RQ."""
    config = pending.app.config
    try:
        queue(pending.app).enqueue_call(
            run_job,
            args=(pending.path, pending.args, pending.kwargs),
            timeout=pending.timeout or config["JOBS_TIMEOUT_SECONDS"],
            result_ttl=config["JOBS_RESULT_TTL_SECONDS"],
            failure_ttl=config["JOBS_FAILURE_TTL_SECONDS"],
            description=job_name(pending.path),
            job_id=pending.job_id,
            retry=retry_policy(pending.app),
            unique=pending.unique,
        )
    except DuplicateJobError:
        return False
    except (
        redis.exceptions.ConnectionError,
        redis.exceptions.TimeoutError,
        redis.exceptions.ResponseError,  # e.g. OOM: a full Redis under noeviction
    ) as error:
        raise RedisUnavailable(str(error)) from error
    return True
