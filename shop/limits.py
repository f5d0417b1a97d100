"""Rate limits (Flask-Limiter; memory by default, Redis when ``REDIS_URL`` is set) and
the page a refused visitor sees: when to try again, not a bare 429."""

import math
import time

from flask import Flask
from flask_babel import gettext as _
from flask_limiter.errors import RateLimitExceeded

from shop.extensions import limiter


def minutes_until(reset_at: float, now: float | None = None) -> int:
    seconds = reset_at - (time.time() if now is None else now)
    return max(1, math.ceil(seconds / 60))


def handle_rate_limited(error: RateLimitExceeded):
    from shop.errors import render_error

    current = limiter.current_limit
    minutes = minutes_until(current.reset_at) if current else 15
    return render_error(
        429,
        _("Too many attempts"),
        _("Too many attempts. Try again in %(minutes)d minutes.", minutes=minutes),
    )


def init_app(app: Flask) -> None:
    limiter.init_app(app)
    app.register_error_handler(RateLimitExceeded, handle_rate_limited)
