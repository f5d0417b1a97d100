"""Rate limits (Flask-Limiter; memory by default, Redis when ``REDIS_URL`` is set, which
production requires) and the page a refused visitor sees: when to try again, not a bare
429. The page and the ``Retry-After`` header come from one number of seconds, so they
always agree ("15 minutes" and 900), on every limited route.
"""

import math
import time
from datetime import UTC, datetime

from flask import Flask, current_app, g, make_response, request
from flask_babel import gettext as _
from flask_limiter.errors import RateLimitExceeded
from flask_limiter.util import get_qualified_name
from limits import parse

from shop.extensions import limiter

DEFAULT_RETRY_SECONDS = 15 * 60


def seconds_until(reset_at: float, now: float | None = None) -> int:
    """Whole seconds until ``reset_at`` (at least 1), as ``Retry-After`` counts them."""
    return max(1, int(reset_at - (time.time() if now is None else now)))


def minutes_for(seconds: int) -> int:
    """The minutes a person is told to wait: never less than the header says."""
    return max(1, math.ceil(seconds / 60))


def handle_rate_limited(error: RateLimitExceeded):
    from shop.errors import render_error

    current = limiter.current_limit
    seconds = seconds_until(current.reset_at) if current else DEFAULT_RETRY_SECONDS
    g.retry_after = seconds
    response = make_response(
        render_error(
            429,
            _("Too many attempts"),
            _("Too many attempts. Try again in %(minutes)d minutes.", minutes=minutes_for(seconds)),
        )
    )
    response.headers["Retry-After"] = str(seconds)
    return response


def keep_retry_after(response):
    """Flask-Limiter recomputes ``Retry-After`` a moment later (and may land a second
    lower); this runs after it and puts back the number the page was written with."""
    if "retry_after" in g:
        response.headers["Retry-After"] = str(g.retry_after)
    return response


def exhausted_until(limit: str, key: str, endpoint: str) -> datetime | None:
    """When a limit decorated on ``endpoint`` with ``key_func`` → ``key`` opens again,
    if it is used up now (``None`` when tries are left). For showing a lockout to staff."""
    if not current_app.config.get("RATELIMIT_ENABLED", True):
        return None  # limits are off (some tests): nothing is ever used up
    item = parse(limit)
    prefix = current_app.config.get("RATELIMIT_KEY_PREFIX", "")
    args = [prefix, key, endpoint] if prefix else [key, endpoint]
    try:
        reset_at, remaining = limiter.limiter.get_window_stats(item, *args)
    except Exception:  # the shared store (Redis) is away: nothing to show  # noqa: BLE001
        current_app.logger.warning("rate-limit store unavailable: lockout not shown")
        return None
    if remaining > 0:
        return None
    return datetime.fromtimestamp(reset_at, UTC)


def has_app_wide_limits() -> bool:
    """Whether any limit could apply to a route that was not given one: application,
    default, meta, blueprint or in-memory fallback limits (the shop sets none; a route's
    own limits are checked by its decorator)."""
    manager = limiter.limit_manager
    return bool(
        manager.application_limits
        or manager.default_limits
        or manager._blueprint_limits
        or limiter._meta_limits
        or limiter._in_memory_fallback
    )


def may_be_limited(endpoint: str | None) -> bool:
    """Whether Flask-Limiter's per-request check could find a limit for ``endpoint``: a
    route decorated with ``@limiter.limit`` (or a helper it calls), or any app-wide
    limit. Every other request skips the check, which would find nothing to count."""
    if has_app_wide_limits():
        return True
    if endpoint is None:  # no route matched (a 404): Flask-Limiter exempts it anyway
        return False
    if limiter.limit_manager.has_hints(endpoint):
        return True
    view = current_app.view_functions.get(endpoint)
    return view is not None and get_qualified_name(view) in limiter._marked_for_limiting


def checked_only_where_limited(check):
    """Flask-Limiter's ``before_request`` check, run only for ``may_be_limited`` routes."""

    def check_request_limit():
        if may_be_limited(request.endpoint):
            return check()
        return None

    return check_request_limit


def init_app(app: Flask) -> None:
    # Registered before the limiter's own after_request, so it runs after it.
    app.after_request(keep_retry_after)
    limiter.init_app(app)
    hooks = app.before_request_funcs.setdefault(None, [])
    hooks[:] = [
        checked_only_where_limited(hook) if hook == limiter._check_request_limit else hook
        for hook in hooks
    ]
    app.register_error_handler(RateLimitExceeded, handle_rate_limited)
