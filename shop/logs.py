"""Log lines: text in development and tests, one-line JSON in production.

``LOG_FORMAT`` (``json`` or ``text``; default ``json`` when ``SHOP_ENV=production``)
chooses the format of the shop's handler (``shop.security.log_handler``, which already
stamps every record with the request id). A JSON line has ``time`` (UTC), ``level``,
``logger``, ``message`` and ``request_id``, an ``exception`` field with the whole
traceback, and on the access line ``method``, ``path`` (no query: it may carry a token),
``status`` and ``duration_ms``. Every request logs one access line at INFO on
``shop.access``; ``LOG_LEVEL`` (INFO) is the shop loggers' level.

In JSON mode, when nothing else configured the root logger (gunicorn does not), the
libraries' own warnings (Stripe, Redis, SQLAlchemy) are written as JSON lines too.
"""

import json
import logging
from datetime import UTC, datetime
from functools import lru_cache

from flask import Flask, Response, request
from flask.logging import wsgi_errors_stream

from shop.config import ConfigError
from shop.monitoring import elapsed_seconds
from shop.security import (
    LOG_FORMAT,
    RequestIdFilter,
    WsgiErrorsHandler,
    log_handler,
    request_id,
)

FORMATS = ("json", "text")
ACCESS_FIELDS = ("method", "path", "status", "duration_ms")
access_log = logging.getLogger("shop.access")


@lru_cache(maxsize=4)
def utc_second(seconds: int) -> str:
    """``2026-12-05T08:30:00``: a log time to the second, made once per second."""
    return datetime.fromtimestamp(seconds, UTC).strftime("%Y-%m-%dT%H:%M:%S")


# ``json.dumps(entry, default=str)``'s encoder, made once rather than for every line.
JSON_LINE = json.JSONEncoder(default=str)


class JsonFormatter(logging.Formatter):
    """One JSON object per record, on one line (newlines inside values are escaped)."""

    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": f"{utc_second(int(record.created))}.{int(record.msecs):03d}+00:00",
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "request_id": getattr(record, "request_id", "-"),
        }
        for field in ACCESS_FIELDS:
            if hasattr(record, field):
                entry[field] = getattr(record, field)
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        elif record.exc_text:
            entry["exception"] = record.exc_text
        if record.stack_info:
            entry["stack"] = self.formatStack(record.stack_info)
        return JSON_LINE.encode(entry)


class NotTheShops(logging.Filter):
    """For the root handler: the shop's records already went out through its own."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not (record.name == "shop" or record.name.startswith("shop."))


# Written to by the root logger in JSON mode (libraries' records), when nothing else is.
library_handler = WsgiErrorsHandler(wsgi_errors_stream)
library_handler.setFormatter(JsonFormatter())
library_handler.addFilter(NotTheShops())
library_handler.addFilter(RequestIdFilter())


def log_format(config) -> str:
    chosen = config.get("LOG_FORMAT") or ("json" if config["SHOP_ENV"] == "production" else "text")
    chosen = str(chosen).strip().lower()
    if chosen not in FORMATS:
        raise ConfigError(f"LOG_FORMAT must be json or text, not {config['LOG_FORMAT']!r}.")
    return chosen


def log_level(config) -> int:
    name = str(config.get("LOG_LEVEL") or "INFO").strip().upper()
    level = logging.getLevelName(name)
    if not isinstance(level, int):
        raise ConfigError(f"LOG_LEVEL must be DEBUG, INFO, WARNING or ERROR, not {name!r}.")
    return level


def log_access(response: Response) -> Response:
    """One line per request, after the response is made (its status is final)."""
    try:
        seconds = elapsed_seconds()
        duration_ms = None if seconds is None else round(seconds * 1000, 1)
        write_access_line(
            request.method, request.path, response.status_code, duration_ms, request_id()
        )
    except Exception:  # a log line never fails a request
        logging.getLogger(__name__).debug("could not write the access line", exc_info=True)
    return response


def write_access_line(
    method: str, path: str, status: int, duration_ms: float | None, request_id: str
) -> None:
    """A request's access line (``log_access``'s, and the page cache's fast path's).

    The record is made here rather than by ``access_log.info``, which would walk the
    stack to find its caller: the caller is known (``log_access``), and so are the
    request id and the fields, so no filter has to look them up again."""
    if not access_log.isEnabledFor(logging.INFO):
        return
    fields = {
        "method": method,
        "path": path,
        "status": status,
        "duration_ms": duration_ms,
        "request_id": request_id,
    }
    record = access_log.makeRecord(
        access_log.name,
        logging.INFO,
        __file__,
        ACCESS_LINE_NUMBER,
        "%s %s %s %sms",
        (method, path, status, duration_ms),
        None,
        "log_access",
        fields,
    )
    access_log.handle(record)


ACCESS_LINE_NUMBER = log_access.__code__.co_firstlineno  # where the text format says it is


def init_app(app: Flask) -> None:
    """After ``shop.security`` (its handler and request ids) and ``shop.monitoring`` (the
    request timer). Logging is per process: the last app made chooses the format."""
    chosen = log_format(app.config)
    app.config["LOG_FORMAT"] = chosen
    app.logger.setLevel(log_level(app.config))
    root = logging.getLogger()
    if chosen == "json":
        log_handler.setFormatter(JsonFormatter())
        if not root.handlers:
            root.addHandler(library_handler)
    else:
        log_handler.setFormatter(logging.Formatter(LOG_FORMAT))
        if library_handler in root.handlers:
            root.removeHandler(library_handler)
    app.after_request(log_access)
