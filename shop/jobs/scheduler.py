"""``flask --app wsgi scheduler``: queues the periodic jobs on their timetable.

Time is cut into periods of each job's length (``SCHEDULE_EXPIRE_RESERVATIONS_SECONDS``,
60; ``SCHEDULE_RECONCILE_PAYMENTS_SECONDS``, 300; ``SCHEDULE_APPROVE_COMMISSIONS_SECONDS``,
3600; ``SCHEDULE_CLOSE_CAMPAIGNS_SECONDS``, 60; ``SCHEDULE_EXPIRE_CAMPAIGN_PLACES_SECONDS``,
300; ``SCHEDULE_FOLD_WINDOW_VISITS_SECONDS``, 60; ``SCHEDULE_PRUNE_FACETS_SECONDS``, 3600),
counted from the Unix epoch, and each period's job is queued with the key
``periodic:<job>:<length>:<period number>``. Keys are unique on the queue, so two
schedulers (a spare, or two during a deploy) queue each period's job once between them. A
scheduler queues the current period's jobs when it starts, then each next one as its
period begins. SIGTERM or SIGINT stops it at once.

Without ``REDIS_URL`` the scheduler runs the jobs itself, in its own process, on the same
timetable - so a single machine without Redis needs no cron either. (Started twice
without Redis, both would run every job; the jobs are safe to run twice, but pointless.)
"""

import logging
import signal
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from flask import Flask

from shop.jobs.periodic import (
    approve_commissions,
    close_campaigns,
    expire_campaign_places,
    expire_reservations,
    fold_window_visits,
    prune_facets,
    reconcile_payments,
)
from shop.jobs.queue import enqueue

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Periodic:
    name: str
    function: Callable
    setting: str  # the period's length in seconds


TIMETABLE = (
    Periodic("expire-reservations", expire_reservations, "SCHEDULE_EXPIRE_RESERVATIONS_SECONDS"),
    Periodic("reconcile-payments", reconcile_payments, "SCHEDULE_RECONCILE_PAYMENTS_SECONDS"),
    Periodic("approve-commissions", approve_commissions, "SCHEDULE_APPROVE_COMMISSIONS_SECONDS"),
    Periodic("close-campaigns", close_campaigns, "SCHEDULE_CLOSE_CAMPAIGNS_SECONDS"),
    Periodic(
        "expire-campaign-places", expire_campaign_places, "SCHEDULE_EXPIRE_CAMPAIGN_PLACES_SECONDS"
    ),
    Periodic("fold-window-visits", fold_window_visits, "SCHEDULE_FOLD_WINDOW_VISITS_SECONDS"),
    Periodic("prune-facets", prune_facets, "SCHEDULE_PRUNE_FACETS_SECONDS"),
)


def period_key(task: Periodic, seconds: int, now: float) -> str:
    return f"periodic:{task.name}:{seconds}:{int(now // seconds)}"


def queue_due(app: Flask, now: float) -> list[str]:
    """Queue each job of the period ``now`` is in, unless queued already (by this or
    another scheduler); the names of the jobs this call queued."""
    queued = []
    with app.app_context():
        for task in TIMETABLE:
            seconds = app.config[task.setting]
            if enqueue(task.function, key=period_key(task, seconds, now)):
                queued.append(task.name)
    return queued


def seconds_to_next_period(app: Flask, now: float) -> float:
    lengths = [app.config[task.setting] for task in TIMETABLE]
    return min(length - now % length for length in lengths)


def run_scheduler(app: Flask, stop: threading.Event | None = None) -> None:
    """Queue the due jobs until ``stop`` is set (SIGTERM and SIGINT set it when this runs
    in the main thread)."""
    stop = stop or threading.Event()
    if threading.current_thread() is threading.main_thread():
        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, lambda _signum, _frame: stop.set())
    where = "on the queue" if app.config.get("REDIS_URL") else "in this process (no REDIS_URL)"
    logger.info("scheduler: started; jobs run %s", where)
    while not stop.is_set():
        now = time.time()
        try:
            for name in queue_due(app, now):
                logger.info("scheduler: queued %s", name)
        except Exception:  # a bad moment (the database away) must not end the timetable
            logger.exception("scheduler: could not queue the due jobs")
        # Wake just after the next period begins (a little late is fine, early is not).
        stop.wait(seconds_to_next_period(app, time.time()) + 0.01)
    logger.info("scheduler: stopped")
