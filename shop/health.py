"""Liveness (``/healthz``) and readiness (``/readyz``) for load balancers and orchestrators.

- ``/healthz``: the process answers. No database, Redis, Stripe or file: a liveness probe
  that depended on them would have a healthy process restarted during someone else's
  outage.
- ``/readyz``: whether this instance can serve the shop now — the database answers
  ``SELECT 1``, its Alembic revision is the scripts' head, Redis answers a ping (when
  ``REDIS_URL`` is set), and every check registered with ``register_check`` (storage
  registers its own) passes. 200 when all pass, else 503 naming the failing parts; JSON
  either way, with each check's status and time in ms.

Each check runs in a thread of its own and gets ``READYZ_TIMEOUT_SECONDS`` (2 s) in all,
so a hung database cannot hang the probe. A check still running from an earlier probe is
waited for again rather than started twice, so a hung part holds one thread per check,
however often the probe asks. Stripe is in neither: without it cards wait, but browsing,
carts and invoices go on, and taking every instance out of service would stop those too.
"""

import logging
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future
from concurrent.futures import TimeoutError as FutureTimeout
from functools import cache

import sqlalchemy as sa
from flask import Blueprint, Flask, current_app, jsonify

log = logging.getLogger(__name__)

DEFAULT_TIMEOUT_SECONDS = 2.0
RUNNING = "readyz_running"  # app.extensions: name → the Future of a check under way

Check = Callable[[], object]
_registered: dict[str, Check] = {}

bp = Blueprint("health", __name__)


class CheckFailed(Exception):
    """A check's refusal: ``reason`` is shown in the public ``/readyz`` body, ``detail``
    only in the log."""

    def __init__(self, reason: str, detail: str = ""):
        super().__init__(reason)
        self.reason = reason
        self.detail = detail


def register_check(name: str, func: Check) -> None:
    """Add a readiness check: ``func()`` runs inside the app's context (``current_app``
    works), passes by returning and fails by raising. Registering a name again
    replaces it."""
    _registered[name] = func


def unregister_check(name: str) -> None:
    _registered.pop(name, None)


# --- the built-in checks ---------------------------------------------------------------------


def check_database() -> None:
    with current_app.extensions["sa_engine"].connect() as connection:
        connection.execute(sa.text("SELECT 1"))


@cache
def script_heads() -> frozenset[str]:
    """The head revision(s) of ``migrations/`` (read once: the scripts ship with the code)."""
    from alembic.script import ScriptDirectory

    from shop.migrate import alembic_config

    return frozenset(ScriptDirectory.from_config(alembic_config("")).get_heads())


def check_migrations() -> None:
    from alembic.runtime.migration import MigrationContext

    with current_app.extensions["sa_engine"].connect() as connection:
        current = frozenset(MigrationContext.configure(connection).get_current_heads())
    heads = script_heads()
    if current != heads:
        detail = f"database at {sorted(current)}, scripts at {sorted(heads)}"
        raise CheckFailed("not at head", detail)


def check_redis() -> None:
    import redis

    url = current_app.config["REDIS_URL"]
    client = redis.Redis.from_url(url, socket_timeout=1, socket_connect_timeout=1)
    try:
        client.ping()
    finally:
        client.close()


def checks_for(app: Flask) -> dict[str, Check]:
    checks: dict[str, Check] = {"database": check_database, "migrations": check_migrations}
    if app.config.get("REDIS_URL"):
        checks["redis"] = check_redis
    checks.update(_registered)
    return checks


# --- running them, each with a deadline ----------------------------------------------------


def _run(app: Flask, func: Check, future: Future) -> None:
    """Run one check; its Future gets ``(ms, None)`` or ``(ms, the exception)``."""
    started = time.perf_counter()
    error: Exception | None = None
    try:
        with app.app_context():
            func()
    except BaseException as raised:  # reported, never raised: the probe answers 503
        error = raised if isinstance(raised, Exception) else RuntimeError(repr(raised))
    future.set_result(((time.perf_counter() - started) * 1000, error))


_start_lock = threading.Lock()


def _start(app: Flask, name: str, func: Check) -> Future:
    """The check's Future: the one still running from an earlier probe, or a new one."""
    running: dict[str, Future] = app.extensions.setdefault(RUNNING, {})
    with _start_lock:
        future = running.get(name)
        if future is None or future.done():
            future = Future()
            future.set_running_or_notify_cancel()
            thread = threading.Thread(
                target=_run, args=(app, func, future), name=f"readyz-{name}", daemon=True
            )
            try:
                thread.start()
            except RuntimeError as error:  # no thread to be had: report it, do not fail
                future.set_result((0.0, error))
            running[name] = future
    return future


def run_checks(app: Flask, timeout: float) -> dict[str, dict]:
    deadline = time.perf_counter() + timeout
    futures = {name: _start(app, name, func) for name, func in checks_for(app).items()}
    return {name: _outcome(name, future, deadline, timeout) for name, future in futures.items()}


def _outcome(name: str, future: Future, deadline: float, timeout: float) -> dict:
    try:
        ms, error = future.result(timeout=max(0.0, deadline - time.perf_counter()))
    except FutureTimeout:
        log.warning("readyz: %s did not answer within %.1f s", name, timeout)
        return {"status": "error", "error": "timeout", "ms": round(timeout * 1000)}
    if error is None:
        return {"status": "ok", "ms": round(ms, 1)}
    if isinstance(error, CheckFailed):
        log.warning("readyz: %s failed: %s", name, error.detail or error.reason)
        return {"status": "error", "error": error.reason, "ms": round(ms, 1)}
    log.warning("readyz: %s failed: %r", name, error)
    return {"status": "error", "error": type(error).__name__, "ms": round(ms, 1)}


def readiness_timeout(app: Flask) -> float:
    try:
        seconds = float(app.config.get("READYZ_TIMEOUT_SECONDS") or DEFAULT_TIMEOUT_SECONDS)
    except (TypeError, ValueError):
        seconds = DEFAULT_TIMEOUT_SECONDS
    return seconds if 0 < seconds <= 30 else DEFAULT_TIMEOUT_SECONDS


# --- the endpoints -----------------------------------------------------------------------------


def _no_store(response):
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/healthz")
def healthz():
    return _no_store(jsonify(status="ok"))


@bp.get("/readyz")
def readyz():
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    checks = run_checks(app, readiness_timeout(app))
    failing = sorted(name for name, result in checks.items() if result["status"] != "ok")
    if failing:
        body = jsonify(status="unavailable", failing=failing, checks=checks)
        return _no_store(body), 503
    return _no_store(jsonify(status="ok", checks=checks))
