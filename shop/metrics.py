"""Prometheus metrics: what is counted, and how a scrape collects it. (The ``/metrics``
page and the per-request hooks: ``shop.monitoring``.)

- Requests are labelled by endpoint name (``catalog.product_detail``), never by path, so
  the number of series stays bounded; a request no route matched is ``"404"``. Methods
  outside the usual few are ``"other"``.
- Business counters move only when their transaction commits: a rule module calls
  ``count_on_commit(session, ORDERS_PLACED)`` where the thing happens, and the count is
  made after the outermost commit (a rollback forgets it). So a refused or retried
  request never counts, whichever boundary — view, webhook, job, CLI — commits.
- Queue depth is read from RQ when scraped (queue ``sourcefront``; 0 without Redis).
- Under gunicorn set ``PROMETHEUS_MULTIPROC_DIR`` (an empty folder, emptied before every
  start) in the environment of every process — web workers and RQ workers alike: each
  writes its counts there and a scrape of any worker adds them all up. gunicorn's
  ``child_exit`` hook calls ``prometheus_client.multiprocess.mark_process_dead``.

No Flask here: rule modules import this to count.
"""

import logging
import os

import sqlalchemy as sa
from prometheus_client import REGISTRY, CollectorRegistry, Counter, Histogram
from prometheus_client.core import GaugeMetricFamily
from sqlalchemy.orm import Session

log = logging.getLogger(__name__)

QUEUE_NAME = "sourcefront"  # the RQ queue of shop.jobs
UNROUTED = "404"  # the endpoint label of a request no route matched
KNOWN_METHODS = frozenset(("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"))
PENDING = "shop.metrics.pending"  # session.info: counters to move after the commit

HTTP_REQUESTS = Counter(
    "sourcefront_http_requests",
    "HTTP requests answered, by endpoint, method and status.",
    ("endpoint", "method", "status"),
)
HTTP_DURATION = Histogram(
    "sourcefront_http_request_duration_seconds",
    "Time from the first hook to the response, by endpoint.",
    ("endpoint",),
)
ORDERS_PLACED = Counter("sourcefront_orders_placed", "Orders written (card or invoice).")
ORDERS_PAID = Counter("sourcefront_orders_paid", "Orders whose payment status became paid.")
PAYMENTS_FAILED = Counter("sourcefront_payments_failed", "Card payments reported failed.")


# --- business counters, after the commit ---------------------------------------------------


def count_on_commit(session: Session, counter: Counter) -> None:
    """Add one to ``counter`` once ``session``'s outermost transaction commits. (A
    stand-in without ``info``, as pure rule tests use, never commits: nothing to count.
    A savepoint rolled back inside a committed transaction is not subtracted: no counted
    action runs inside one.)"""
    info = getattr(session, "info", None)
    if isinstance(info, dict):
        info.setdefault(PENDING, []).append(counter)


@sa.event.listens_for(Session, "after_commit")
def _count_committed(session: Session) -> None:
    for counter in session.info.pop(PENDING, ()):
        try:
            counter.inc()
        except Exception:  # a metric never fails a commit that already happened
            log.exception("could not count %s", counter)


@sa.event.listens_for(Session, "after_transaction_end")
def _forget_rolled_back(session: Session, transaction) -> None:
    if transaction.parent is None:  # after_commit has run by now; what is left was undone
        session.info.pop(PENDING, None)


# --- the queue, read when scraped ------------------------------------------------------------


class QueueDepth:
    """``sourcefront_queue_depth``: jobs waiting in RQ's queue (0 without Redis)."""

    def __init__(self, redis_url: str | None):
        self.redis_url = redis_url

    def collect(self):
        family = GaugeMetricFamily(
            "sourcefront_queue_depth", "Jobs waiting in the queue.", labels=("queue",)
        )
        depth = self.depth()
        if depth is not None:  # Redis did not answer: no sample rather than a false 0
            family.add_metric((QUEUE_NAME,), depth)
        yield family

    def depth(self) -> int | None:
        if not self.redis_url:
            return 0
        import redis
        from rq import Queue

        client = redis.Redis.from_url(self.redis_url, socket_timeout=1, socket_connect_timeout=1)
        try:
            return Queue(QUEUE_NAME, connection=client).count
        except Exception:
            log.warning("metrics: could not read the queue depth", exc_info=True)
            return None
        finally:
            client.close()


class ThisProcess:
    """The default registry's metrics, when there is one process to ask."""

    def collect(self):
        yield from REGISTRY.collect()


def scrape_registry(redis_url: str | None) -> CollectorRegistry:
    registry = CollectorRegistry(auto_describe=False)
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        multiprocess.MultiProcessCollector(registry)
    else:
        registry.register(ThisProcess())
    registry.register(QueueDepth(redis_url))
    return registry
