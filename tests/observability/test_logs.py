"""One-line JSON logs with the request id on every line, one access line per request, and
the request id on every error page."""

import io
import json
import logging

import pytest
from flask import abort

from shop.config import ConfigError
from shop.security import REQUEST_ID_HEADER
from tests.helpers.settings import PRODUCTION_SETTINGS


@pytest.fixture
def bare_logging(monkeypatch):
    """``bare_logging()`` in the test's body (pytest adds its capture handlers per phase):
    no capture handlers, so lines reach the shop's own handler only, as under gunicorn.
    The text format is back for the tests after this one."""
    from shop.security import LOG_FORMAT, log_handler

    def bare():
        monkeypatch.setattr(logging.getLogger(), "handlers", [])
        monkeypatch.setattr(logging.getLogger("shop"), "handlers", [])

    yield bare
    log_handler.setFormatter(logging.Formatter(LOG_FORMAT))


def json_app(make_app, **settings):
    app = make_app(LOG_FORMAT="json", PROPAGATE_EXCEPTIONS=False, **settings)

    @app.get("/boom")
    def boom():
        logging.getLogger("shop.catalog").warning("about to fail\nwith a second line")
        raise RuntimeError("kaboom")

    @app.get("/note")
    def note():
        logging.getLogger("shop.catalog").warning("stock looks low")
        return "ok"

    return app


def get_lines(app, path, **headers) -> tuple:
    errors = io.StringIO()
    response = app.test_client().get(
        path, headers=headers, environ_overrides={"wsgi.errors": errors}
    )
    return response, [json.loads(line) for line in errors.getvalue().splitlines()]


def test_a_request_logs_one_json_access_line_with_the_incoming_id(make_app, bare_logging):
    bare_logging()
    app = json_app(make_app)
    response, lines = get_lines(app, "/healthz", **{REQUEST_ID_HEADER: "edge-7f3a"})
    assert response.status_code == 200
    [line] = lines
    assert line["logger"] == "shop.access"
    assert line["level"] == "INFO"
    assert line["request_id"] == "edge-7f3a"
    assert (line["method"], line["path"], line["status"]) == ("GET", "/healthz", 200)
    assert isinstance(line["duration_ms"], int | float) and line["duration_ms"] >= 0
    assert line["message"].startswith("GET /healthz 200 ")
    assert line["time"].endswith("+00:00")


def test_every_line_of_a_failing_request_carries_its_id_and_the_traceback_is_one_field(
    make_app, bare_logging
):
    bare_logging()
    app = json_app(make_app)
    response, lines = get_lines(app, "/boom", **{REQUEST_ID_HEADER: "edge-500"})
    assert response.status_code == 500
    assert "Reference: edge-500" in response.text
    assert [line["request_id"] for line in lines] == ["edge-500"] * 3
    warning, error, access = lines
    assert (warning["logger"], warning["message"]) == (
        "shop.catalog",
        "about to fail\nwith a second line",
    )
    assert error["level"] == "ERROR" and error["message"] == "Exception on /boom [GET]"
    assert "RuntimeError: kaboom" in error["exception"]
    assert "Traceback (most recent call last)" in error["exception"]
    assert (access["logger"], access["status"]) == ("shop.access", 500)


def test_the_access_line_leaves_out_the_query_string(make_app, bare_logging):
    bare_logging()
    app = json_app(make_app)
    _response, lines = get_lines(app, "/note?t=secret-order-token")
    assert [line["path"] for line in lines if line["logger"] == "shop.access"] == ["/note"]
    assert "secret-order-token" not in json.dumps(lines)


def test_requests_get_one_access_line_each(make_app, bare_logging):
    bare_logging()
    app = json_app(make_app)
    errors = io.StringIO()
    client = app.test_client()
    for path in ("/healthz", "/note", "/no/such/page", "/readyz"):
        client.get(path, environ_overrides={"wsgi.errors": errors})
    lines = [json.loads(line) for line in errors.getvalue().splitlines()]
    access = [line for line in lines if line["logger"] == "shop.access"]
    assert [(line["path"], line["status"]) for line in access] == [
        ("/healthz", 200),
        ("/note", 200),
        ("/no/such/page", 404),
        ("/readyz", 200),
    ]
    assert len({line["request_id"] for line in access}) == 4


def test_production_logs_json_development_text(make_app):
    assert make_app(**PRODUCTION_SETTINGS).config["LOG_FORMAT"] == "json"
    assert make_app().config["LOG_FORMAT"] == "text"
    assert make_app(**PRODUCTION_SETTINGS, LOG_FORMAT="text").config["LOG_FORMAT"] == "text"


@pytest.mark.parametrize("settings", [{"LOG_FORMAT": "xml"}, {"LOG_LEVEL": "LOUD"}])
def test_an_unknown_log_setting_stops_start_up(make_app, settings):
    with pytest.raises(ConfigError):
        make_app(**settings)


@pytest.mark.parametrize("status", [400, 403, 404, 405, 409, 429, 503])
def test_every_error_page_shows_the_request_id(make_app, status):
    app = make_app()

    @app.route("/fail", methods=["GET", "POST"])
    def fail():
        abort(status)

    response = app.test_client().get("/fail", headers={REQUEST_ID_HEADER: f"ref-{status}"})
    assert response.status_code == status
    assert f"Reference: ref-{status}" in response.text
    assert response.headers[REQUEST_ID_HEADER] == f"ref-{status}"


def test_a_refused_input_page_shows_the_request_id_too(client):
    response = client.post(
        "/cart/add", data={"variant_id": "1\x00"}, headers={REQUEST_ID_HEADER: "nul-1"}
    )
    assert response.status_code == 400
    assert "Reference: nul-1" in response.text
