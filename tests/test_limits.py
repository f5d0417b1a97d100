"""Flask-Limiter's per-request check runs only where a limit can apply
(``shop.limits.may_be_limited``); the limits themselves are tested with the forms they
guard (tests/accounts/test_limits_and_cli.py, tests/test_outages.py)."""

from flask import request

from shop.extensions import limiter
from shop.limits import may_be_limited


def test_a_route_with_a_limit_is_checked_and_a_route_without_one_is_not(app):
    with app.test_request_context("/account/login", method="POST"):
        assert may_be_limited(request.endpoint)
    with app.test_request_context("/products"):
        assert not may_be_limited(request.endpoint)


def test_an_app_wide_limit_puts_every_route_under_the_check(app, monkeypatch):
    monkeypatch.setattr(limiter, "_meta_limits", ["1 per day"])

    with app.test_request_context("/products"):
        assert may_be_limited(request.endpoint)


def test_a_request_no_route_matches_is_not_checked(app):
    with app.test_request_context("/no-such-page"):
        assert not may_be_limited(request.endpoint)
