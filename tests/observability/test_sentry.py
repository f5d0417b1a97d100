"""Errors go to Sentry when ``SENTRY_DSN`` is set: a real sentry-sdk client sends a real
envelope to a stand-in Sentry on a loopback port, and the test reads what arrived."""

import gzip
import json
import logging
import secrets
import sys
import threading
import uuid
import zlib
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import sentry_sdk

from shop.security import REQUEST_ID_HEADER


class FakeSentry(BaseHTTPRequestHandler):
    received: list[bytes]

    def do_POST(self):  # noqa: N802 - http.server's name
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        encoding = self.headers.get("Content-Encoding", "")
        if encoding == "gzip":
            body = gzip.decompress(body)
        elif encoding == "deflate":
            body = zlib.decompress(body)
        elif encoding == "br":
            import brotli

            body = brotli.decompress(body)
        self.server.received.append(body)
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(b"{}")

    def log_message(self, *args):
        pass


@pytest.fixture
def fake_sentry():
    server = ThreadingHTTPServer(("127.0.0.1", 0), FakeSentry)
    server.received = []
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield server
    server.shutdown()
    server.server_close()
    sentry_sdk.get_client().close()
    # No DSN and no integrations: later tests send nothing anywhere, and the integrations'
    # patches (Flask, SQLAlchemy, boto3 …), which stay for the process, step aside at once
    # instead of tracing every request and query of every later test.
    sentry_sdk.init(default_integrations=False, auto_enabling_integrations=False)


def events(received: list[bytes]) -> list[dict]:
    """The ``event`` items of the envelopes (header line, then item header/payload pairs)."""
    found = []
    for envelope in received:
        lines = envelope.split(b"\n")
        for header, payload in zip(lines[1::2], lines[2::2], strict=False):
            if json.loads(header).get("type") == "event":
                found.append(json.loads(payload))
    return found


def test_an_unhandled_error_reaches_sentry_with_the_request_id_and_no_personal_data(
    make_app, fake_sentry
):
    dsn = f"http://publickey@127.0.0.1:{fake_sentry.server_port}/1"
    app = make_app(SENTRY_DSN=dsn, PROPAGATE_EXCEPTIONS=False)

    @app.route("/boom", methods=["GET", "POST"])
    def boom():
        raise RuntimeError("kaboom for sentry")

    # Made at run time: the event carries this file's source lines as context.
    cookie, address = uuid.uuid4().hex, f"10.{secrets.randbelow(250)}.{secrets.randbelow(250)}.7"
    email = f"{uuid.uuid4().hex}@example.com"
    client = app.test_client()
    client.set_cookie("session", cookie)
    response = client.post(
        "/boom",
        data={"email": email, "recipient": "Li Wei"},
        headers={REQUEST_ID_HEADER: "sentry-1"},
        environ_base={"REMOTE_ADDR": address},
    )
    assert response.status_code == 500
    sentry_sdk.flush(timeout=5)
    [event] = [e for e in events(fake_sentry.received) if e.get("exception")]
    [error] = event["exception"]["values"]
    assert (error["type"], error["value"]) == ("RuntimeError", "kaboom for sentry")
    assert event["tags"]["request_id"] == "sentry-1"
    assert event["environment"] == "development"
    assert event["release"] == f"sourcefront@{app.extensions['page_build']}"
    sent = json.dumps(event)
    assert cookie not in sent
    assert address not in sent
    assert email not in sent
    assert event["request"]["headers"]["Cookie"] == "[Filtered]"


def test_without_a_dsn_nothing_is_set_up(make_app, fake_sentry):
    app = make_app(PROPAGATE_EXCEPTIONS=False)

    @app.get("/boom")
    def boom():
        raise RuntimeError("kaboom")

    assert app.test_client().get("/boom").status_code == 500
    sentry_sdk.flush(timeout=1)
    assert fake_sentry.received == []


def test_without_sentry_sdk_the_shop_warns_once_and_starts(make_app, monkeypatch, caplog):
    monkeypatch.setitem(sys.modules, "sentry_sdk", None)  # import sentry_sdk → ImportError
    monkeypatch.setitem(sys.modules, "sentry_sdk.integrations.flask", None)
    with caplog.at_level(logging.WARNING, logger="shop"):
        app = make_app(SENTRY_DSN="http://publickey@127.0.0.1:9/1")
    warnings = [r.getMessage() for r in caplog.records if "sentry-sdk" in r.getMessage()]
    assert len(warnings) == 1
    assert app.test_client().get("/healthz").status_code == 200
