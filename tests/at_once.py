"""The same request, sent several times at the same moment — a double click, two staff,
five impatient taps — as real concurrent requests with real commits.

On SQLite the copies run in threads over one app (SQLite has one writer at a time, and a
thread per request is how the shop is served there). On PostgreSQL they run in separate
worker processes, each with its own app and connections, as gunicorn's workers would.
Every copy carries the same cookies (the same browser, or the same signed-in staff
member) and the same form, and starts at the same instant.

``send_at_once(app, client, n, "POST", "/orders/…/cancel", data)`` returns one ``Answer``
per copy: the status, where it redirected, and the messages it flashed. A body made
beforehand (a multipart form with a file) is sent as ``data=<bytes>`` with its
``content_type``: a file object would be read by every copy at once.
"""

import atexit
import multiprocessing
import threading
import time
import traceback
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass

# Settings a worker process needs to build the same app (all plain values).
SHARED_SETTINGS = (
    "TESTING",
    "SECRET_KEY",
    "WTF_CSRF_ENABLED",
    "SERVER_NAME",
    "DATABASE_URL",
    "UPLOAD_FOLDER",
    "STORAGE_URL",
    "STORAGE_ENDPOINT_URL",
    "MAIL_OUTBOX",
    "STRIPE_API_BASE",
    "STRIPE_JS_URL",
    "STRIPE_SECRET_KEY",
    "STRIPE_PUBLISHABLE_KEY",
    "STRIPE_WEBHOOK_SECRET",
    "SHOP_BASE_URL",
)
START_DELAY = 0.5  # seconds for every copy to be ready before the common start
WORKERS = 5


@dataclass(frozen=True)
class Answer:
    status: int
    location: str
    flashes: tuple[tuple[str, str], ...]
    error: str = ""

    @property
    def messages(self) -> tuple[str, ...]:
        return tuple(message for _category, message in self.flashes)


def _cookies(client) -> list[tuple[str, str, str, str]]:
    return [
        (cookie.key, cookie.value, cookie.domain, cookie.path)
        for cookie in client._cookies.values()
    ]


def _request(app, cookies, method: str, path: str, data, json, content_type=None) -> Answer:
    client = app.test_client()
    for key, value, domain, cookie_path in cookies:
        client.set_cookie(key, value, domain=domain, path=cookie_path)
    response = client.open(path, method=method, data=data, json=json, content_type=content_type)
    with client.session_transaction() as browser:
        flashes = tuple(tuple(flash) for flash in browser.get("_flashes", []))
    return Answer(response.status_code, response.headers.get("Location", ""), flashes)


def _in_thread(app, cookies, request, barrier, results, index) -> None:
    try:
        barrier.wait(timeout=30)
        results[index] = _request(app, cookies, *request)
    except Exception:  # the test must hear of it, not hang
        results[index] = Answer(0, "", (), traceback.format_exc())


# --- worker processes (PostgreSQL) -----------------------------------------------------

_APPS: dict = {}


def _worker_app(settings: tuple):
    from shop import create_app

    app = _APPS.get(settings)
    if app is None:
        for old in _APPS.values():
            old.extensions["sa_engine"].dispose()
        _APPS.clear()
        app = _APPS[settings] = create_app(dict(settings))
    return app


def _warm(settings: tuple) -> None:
    _worker_app(settings)


def _in_process(settings, cookies, request, start_at) -> Answer:
    try:
        app = _worker_app(settings)
        time.sleep(max(start_at - time.time(), 0))
        answer = _request(app, cookies, *request)
        app.extensions["sa_engine"].dispose()  # no connection left open between tests
        return answer
    except Exception:
        return Answer(0, "", (), traceback.format_exc())


_pool: ProcessPoolExecutor | None = None


def _process_pool() -> ProcessPoolExecutor:
    global _pool
    if _pool is None:
        _pool = ProcessPoolExecutor(WORKERS, mp_context=multiprocessing.get_context("spawn"))
        atexit.register(_pool.shutdown, cancel_futures=True)
    return _pool


def send_at_once(
    app, client, n: int, method: str, path: str, data=None, json=None, content_type=None
):
    """Send the request ``n`` times at once as ``client`` (its cookies); the answers."""
    return send_each_at_once(app, client, [(method, path, data, json, content_type)] * n)


def send_each_at_once(app, client, requests: list[tuple]):
    """Send different requests at once — ``(method, path, data, json, content_type)``
    each, e.g. fifty people joining — as ``client``; the answers, in the same order."""
    cookies = _cookies(client)
    n = len(requests)
    if app.config["DATABASE_URL"].startswith("postgresql"):
        settings = tuple(sorted((k, app.config[k]) for k in SHARED_SETTINGS if k in app.config))
        pool = _process_pool()
        # Warm the workers (build the app) first, so the copies really start together.
        list(pool.map(_warm, [settings] * WORKERS))
        start_at = time.time() + START_DELAY
        futures = [
            pool.submit(_in_process, settings, cookies, request, start_at) for request in requests
        ]
        answers = [future.result(timeout=120) for future in futures]
    else:
        answers = [None] * n
        barrier = threading.Barrier(n)
        threads = [
            threading.Thread(
                target=_in_thread,
                args=(app, cookies, request, barrier, answers, index),
            )
            for index, request in enumerate(requests)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=120)
    errors = [answer.error for answer in answers if answer is None or answer.error]
    assert not errors, errors[0] if errors else "a copy never answered"
    return answers
