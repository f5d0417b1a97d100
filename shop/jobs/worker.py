"""``flask --app wsgi worker``: an RQ worker on the queue ``sourcefront``.

Each job runs in a forked work horse (RQ's default ``Worker``; ``--simple`` runs jobs in
the worker's own process, as the tests do) through ``shop.jobs.runner.run_job``, inside
the app. The worker also runs RQ's scheduler (``--with-scheduler``, on by default), which
puts retries whose backoff is over back on the queue.

A worker that dies (``kill -9``, a lost machine) leaves its job in RQ's started registry;
once the job's heartbeat runs out (about 70 seconds; with ``--simple``, the job's timeout
and a minute) the next maintenance pass of any worker (every ``JOBS_MAINTENANCE_SECONDS``)
queues it again as a retry - an email then goes out once (see ``shop.mail``). If Redis goes
away the worker waits for it and carries on; SIGTERM stops it after the current job.
"""

import logging
import os
import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager

import redis
from flask import Flask
from rq import SimpleWorker, Worker
from rq.worker import BaseWorker

from shop.db import utcnow
from shop.jobs.redis_queue import queue
from shop.jobs.runner import dispose_engine_after_fork

logger = logging.getLogger(__name__)

JOB_MONITORING_SECONDS = 10  # how often a busy worker renews its job's heartbeat
RECONNECT_SECONDS = 5


class ShopWorkerBase(BaseWorker):
    """RQ's worker with three changes: the pub/sub thread that listens for commands (stop
    a job) wakes every second, not every minute (shutdown waits for it: with redis-py 8 a
    worker could take a minute to stop); a configurable heartbeat grace; and a SIGTERM or
    SIGINT that arrives while the worker starts, before RQ's own handlers are in place,
    stops it cleanly once they are (it used to kill it outright)."""

    PUBSUB_WAKE_SECONDS = 1
    RQ_HEARTBEAT_GRACE_SECONDS = 60  # what RQ adds to the monitoring interval
    heartbeat_grace_seconds = RQ_HEARTBEAT_GRACE_SECONDS
    signalled_while_starting = False

    def _install_signal_handlers(self) -> None:
        super()._install_signal_handlers()
        if self.signalled_while_starting:  # as RQ's handler would have: stop, not a job
            self._shutdown_requested_date = utcnow()
            self._stop_requested = True

    def get_heartbeat_ttl(self, job, working_time: float = 0.0) -> int:
        """RQ's heartbeat lifetime with ``JOBS_HEARTBEAT_GRACE_SECONDS`` in place of its
        fixed minute: once it lapses, the job's worker counts as dead and maintenance
        requeues the job (the stack test shortens it to wait less for a killed worker)."""
        ttl = super().get_heartbeat_ttl(job, working_time)
        if job.timeout and job.timeout > 0:
            ttl += self.heartbeat_grace_seconds - self.RQ_HEARTBEAT_GRACE_SECONDS
        return ttl

    def subscribe(self):
        self.pubsub = self.connection.pubsub()
        self.pubsub.subscribe(**{self.pubsub_channel_name: self.handle_payload})
        self.pubsub_thread = self.pubsub.run_in_thread(  # type: ignore[assignment]
            sleep_time=self.PUBSUB_WAKE_SECONDS,
            daemon=True,
            exception_handler=self._pubsub_exception_handler,
        )


class ShopWorker(ShopWorkerBase, Worker):
    """Each job in a forked work horse."""

    def wait_for_horse(self):
        """Once a horse has exited (done, failed or killed), drop its live gauges' files
        from ``PROMETHEUS_MULTIPROC_DIR``, as gunicorn's ``child_exit`` does for a web
        worker: a dead horse's gauge must not count, and with a horse per job its files
        would pile up. (Its counters' files stay: they hold counts a scrape adds up.)"""
        pid, status, rusage = super().wait_for_horse()
        if pid:
            forget_metrics_of(pid)
        return pid, status, rusage


class ShopSimpleWorker(ShopWorkerBase, SimpleWorker):
    """Each job in the worker's own process."""


def forget_metrics_of(pid: int) -> None:
    """``mark_process_dead`` under ``PROMETHEUS_MULTIPROC_DIR``; nothing without it."""
    if not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        return
    from prometheus_client import multiprocess

    try:
        multiprocess.mark_process_dead(pid)
    except OSError:  # a metric file is never worth a worker
        logger.warning("worker: could not remove the metrics of horse %s", pid, exc_info=True)


def make_worker(app: Flask, *, simple: bool = False) -> "ShopWorkerBase":
    """A worker on ``app``'s queue (run it inside ``app``'s context: jobs run in the
    current app)."""
    client = redis.Redis.from_url(app.config["REDIS_URL"])
    worker_class = ShopSimpleWorker if simple else ShopWorker
    worker = worker_class(
        [queue(app, client)],
        connection=client,
        maintenance_interval=app.config["JOBS_MAINTENANCE_SECONDS"],
        job_monitoring_interval=JOB_MONITORING_SECONDS,
    )
    worker.heartbeat_grace_seconds = app.config["JOBS_HEARTBEAT_GRACE_SECONDS"]
    return worker


def run_worker(
    app: Flask, *, burst: bool = False, simple: bool = False, with_scheduler: bool = True
) -> None:
    """Work until SIGTERM/SIGINT (or, with ``burst``, until the queue is empty)."""
    if not simple:
        dispose_engine_after_fork(app)
    stopping = threading.Event()
    while not stopping.is_set():
        worker = None
        try:
            worker = make_worker(app, simple=simple)
            with app.app_context(), _noted_until_rq_listens(worker):
                worker.work(burst=burst, with_scheduler=with_scheduler, logging_level="INFO")
        except redis.exceptions.ConnectionError as error:
            if burst:
                raise
            logger.error("worker: Redis does not answer (%s)", error)
        if burst or (worker is not None and worker._shutdown_requested_date is not None):
            return
        logger.warning("worker: starting again in %d seconds", RECONNECT_SECONDS)
        _wait_unless_stopped(stopping, RECONNECT_SECONDS)


@contextmanager
def _noted_until_rq_listens(worker: ShopWorkerBase) -> Iterator[None]:
    """Until RQ installs its signal handlers (``work`` registers the worker first), a
    SIGTERM or SIGINT is noted for it instead of killing the process.

    RQ forks its scheduler in between, and the child inherits this handler until it
    installs its own: there a signal (the worker's ``stop_scheduler`` sends SIGTERM) must
    still end the child, or the worker waits for it forever."""
    owner = os.getpid()

    def note(signum, _frame):
        if os.getpid() != owner:  # a forked child (RQ's scheduler): the default, death
            signal.signal(signum, signal.SIG_DFL)
            os.kill(os.getpid(), signum)
            return
        worker.signalled_while_starting = True

    previous = {sig: signal.signal(sig, note) for sig in (signal.SIGTERM, signal.SIGINT)}
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def _wait_unless_stopped(stopping: threading.Event, seconds: float) -> None:
    def stop(_signum, _frame):
        stopping.set()

    previous = {sig: signal.signal(sig, stop) for sig in (signal.SIGTERM, signal.SIGINT)}
    try:
        stopping.wait(seconds)
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
