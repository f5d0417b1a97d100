"""The web side of ``shop.metrics``: every request counted and timed, and ``/metrics``.

Protection: ``/metrics`` answers only a request carrying
``Authorization: Bearer <METRICS_TOKEN>``; with no token configured, or to any other
request, it is a plain 404, as if there were no such page. (Not "loopback may scrape":
behind a proxy without ``TRUSTED_PROXY_COUNT`` every visitor seems to come from loopback.)
Metrics never make a request fail: what cannot be recorded is logged and skipped, and a
scrape that cannot be collected answers 503.
"""

import hmac
import logging
import time

from flask import Blueprint, Flask, Response, abort, current_app, g, request
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from shop.metrics import HTTP_DURATION, HTTP_REQUESTS, KNOWN_METHODS, UNROUTED, scrape_registry

log = logging.getLogger(__name__)

STARTED = "request_started"  # g: when the request began (time.perf_counter)

bp = Blueprint("monitoring", __name__)


# --- requests ------------------------------------------------------------------------------


def start_timer() -> None:
    g.setdefault(STARTED, time.perf_counter())


def endpoint_label() -> str:
    return request.endpoint or UNROUTED


def elapsed_seconds() -> float | None:
    started = g.get(STARTED)
    return None if started is None else time.perf_counter() - started


def observe_request(response: Response) -> Response:
    try:
        endpoint = endpoint_label()
        method = request.method if request.method in KNOWN_METHODS else "other"
        HTTP_REQUESTS.labels(endpoint, method, str(response.status_code)).inc()
        seconds = elapsed_seconds()
        if seconds is not None:
            HTTP_DURATION.labels(endpoint).observe(seconds)
    except Exception:
        log.exception("could not record the request's metrics")
    return response


# --- the page ----------------------------------------------------------------------------------


def may_scrape() -> bool:
    token = current_app.config.get("METRICS_TOKEN") or ""
    if not token:
        return False
    sent = request.headers.get("Authorization", "")
    expected = f"Bearer {token}"
    return hmac.compare_digest(sent.encode("utf-8", "replace"), expected.encode())


@bp.get("/metrics")
def metrics():
    if not may_scrape():
        abort(404)
    try:
        body = generate_latest(scrape_registry(current_app.config.get("REDIS_URL")))
    except Exception:
        log.exception("metrics: could not collect")
        return Response("metrics unavailable\n", status=503, mimetype="text/plain")
    response = Response(body, content_type=CONTENT_TYPE_LATEST)
    response.headers["Cache-Control"] = "no-store"
    return response


def init_app(app: Flask) -> None:
    # First of the before_request hooks, so the timer covers the others (a refused host too).
    app.before_request_funcs.setdefault(None, []).insert(0, start_timer)
    app.after_request(observe_request)
