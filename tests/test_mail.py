"""Email: template pairs rendered in the right language, written to the outbox or sent
by SMTP to a real (local, aiosmtpd) server."""

import email
import logging
import re
import smtplib
from email import policy
from email.utils import parsedate_to_datetime
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword
from flask_babel import lazy_gettext as _l

from shop.config import default_settings
from shop.mail import read_outbox, send_email
from tests.helpers.settings import PRODUCTION_SETTINGS
from tests.localstripe_server import free_port

SMTP_USER = "shop"
SMTP_PASSWORD = "s3cret-pw"  # noqa: S105 - a test server's password


@pytest.fixture
def outbox_dir(tmp_path) -> Path:
    return tmp_path / "mail-outbox"


@pytest.fixture
def mail_app(make_app, outbox_dir):
    return make_app(MAIL_OUTBOX=str(outbox_dir))


def send_test_message(to="ann@example.com", subject="Testing delivery", **context):
    context = {"name": "Ann", "amount": 12345, "currency": "CNY", **context}
    send_email(to, subject, "test_message", **context)


def parts(message) -> dict[str, str]:
    return {part.get_content_type(): part.get_content() for part in message.iter_parts()}


# --- the outbox (no MAIL_SERVER) -------------------------------------------------------


def test_without_a_mail_server_the_message_is_written_to_the_outbox(mail_app, outbox_dir):
    with mail_app.app_context():
        send_test_message()

    [path] = outbox_dir.glob("*.eml")
    assert re.fullmatch(r"\d{8}T\d{12}Z-[0-9a-f]{8}\.eml", path.name)
    [message] = read_outbox(outbox_dir)
    assert message["Subject"] == "Testing delivery"
    assert message["To"] == "ann@example.com"
    assert message["From"] == "Sourcefront <shop@sourcefront.localhost>"
    assert parsedate_to_datetime(message["Date"]).tzinfo is not None
    assert re.fullmatch(r"<[^@<>]+@sourcefront\.localhost>", message["Message-ID"])
    assert message.get_content_type() == "multipart/alternative"
    text, html = parts(message)["text/plain"], parts(message)["text/html"]
    assert list(parts(message)) == ["text/plain", "text/html"]
    assert text.startswith("Hello Ann,\n")
    assert "Sample amount: CN¥123.45" in text
    assert "<p>Hello Ann,</p>" in html
    assert "<p>Sample amount: CN¥123.45</p>" in html
    assert ">Sourcefront</td>" in html and "uniforms straight from the factory floor" in html


def test_html_part_escapes_what_the_text_part_shows_as_typed(mail_app, outbox_dir):
    with mail_app.app_context():
        send_test_message(name="<script>alert(1)</script> & Co")

    [message] = read_outbox(outbox_dir)
    assert "Hello <script>alert(1)</script> & Co," in parts(message)["text/plain"]
    html = parts(message)["text/html"]
    assert "Hello &lt;script&gt;alert(1)&lt;/script&gt; &amp; Co," in html
    assert "<script>" not in html


def test_sender_comes_from_config(make_app, outbox_dir):
    app = make_app(MAIL_OUTBOX=str(outbox_dir), MAIL_DEFAULT_SENDER="Uniforms <sales@factory.test>")
    with app.app_context():
        send_test_message()
    [message] = read_outbox(outbox_dir)
    assert message["From"] == "Uniforms <sales@factory.test>"
    assert message["Message-ID"].endswith("@factory.test>")


def test_outbox_reads_oldest_first(mail_app, outbox_dir):
    with mail_app.app_context():
        for number in range(1, 6):
            send_test_message(subject=f"Message {number}")
    assert [m["Subject"] for m in read_outbox(outbox_dir)] == [f"Message {n}" for n in range(1, 6)]


def test_an_outbox_nothing_was_sent_to_is_empty(tmp_path):
    assert read_outbox(tmp_path / "never-created") == []


def test_outbox_defaults_to_the_instance_folder(tmp_path):
    assert default_settings(tmp_path)["MAIL_OUTBOX"] == str(tmp_path / "outbox")


@pytest.mark.parametrize(
    ("to", "subject"),
    [
        ("ann@example.com", "Hi\r\nBcc: victim@example.com"),
        ("ann@example.com\nBcc: victim@example.com", "Hi"),
    ],
)
def test_line_breaks_in_headers_are_refused_and_nothing_is_sent(mail_app, outbox_dir, to, subject):
    with mail_app.app_context(), pytest.raises(ValueError):
        send_test_message(to=to, subject=subject)
    assert read_outbox(outbox_dir) == []


def test_production_without_a_mail_server_warns(make_app, outbox_dir, caplog):
    app = make_app(**PRODUCTION_SETTINGS, MAIL_OUTBOX=str(outbox_dir))
    with app.app_context(), caplog.at_level(logging.WARNING, logger="shop.mail"):
        send_test_message()
    assert "MAIL_SERVER is not set" in caplog.text
    assert len(read_outbox(outbox_dir)) == 1


# --- language --------------------------------------------------------------------------


def test_outside_a_request_the_default_language_is_used(mail_app, outbox_dir):
    with mail_app.app_context():
        send_test_message()
    [message] = read_outbox(outbox_dir)
    assert '<html lang="en">' in parts(message)["text/html"]


def test_a_given_locale_translates_body_filters_and_a_lazy_subject(mail_app, outbox_dir):
    with mail_app.app_context():
        send_email(
            "ken@example.jp",
            _l("Page not found"),
            "test_message",
            locale="ja",
            name="Ken",
            amount=12345,
            currency="CNY",
        )
    [message] = read_outbox(outbox_dir)
    assert message["Subject"] == "ページが見つかりません"
    html = parts(message)["text/html"]
    assert '<html lang="ja">' in html
    assert "工場直送の制服" in html
    assert "CN¥123.45" in parts(message)["text/plain"]


def test_in_a_request_the_visitors_language_is_used(mail_app, outbox_dir):
    with mail_app.test_request_context("/?lang=zh_CN"):
        send_test_message()
    [message] = read_outbox(outbox_dir)
    assert "制服工厂直供" in parts(message)["text/html"]


# --- SMTP ------------------------------------------------------------------------------


class Recorder:
    """An aiosmtpd handler and authenticator that keeps what it accepted."""

    def __init__(self):
        self.envelopes = []
        self.logins = []

    async def handle_DATA(self, server, session, envelope):
        self.envelopes.append(envelope)
        return "250 Message accepted for delivery"

    def __call__(self, server, session, envelope, mechanism, auth_data):
        ok = (
            isinstance(auth_data, LoginPassword)
            and auth_data.login == SMTP_USER.encode()
            and auth_data.password == SMTP_PASSWORD.encode()
        )
        if ok:
            self.logins.append(SMTP_USER)
        return AuthResult(success=ok, handled=False)  # handled=False: aiosmtpd answers 535


@pytest.fixture
def smtp_server():
    """A real SMTP server on loopback that checks logins and offers no STARTTLS."""
    recorder = Recorder()
    controller = Controller(
        recorder,
        hostname="127.0.0.1",
        port=free_port(),
        authenticator=recorder,
        auth_require_tls=False,  # offer AUTH without TLS: loopback, in a test
    )
    controller.start()
    yield controller, recorder
    controller.stop()


def smtp_settings(controller, **overrides) -> dict:
    return {
        "MAIL_SERVER": controller.hostname,
        "MAIL_PORT": controller.port,
        "MAIL_USE_TLS": False,
        "MAIL_USERNAME": SMTP_USER,
        "MAIL_PASSWORD": SMTP_PASSWORD,
        "MAIL_TIMEOUT": 5,
        **overrides,
    }


def test_with_a_mail_server_the_message_goes_by_smtp(make_app, smtp_server, outbox_dir):
    controller, recorder = smtp_server
    app = make_app(MAIL_OUTBOX=str(outbox_dir), **smtp_settings(controller))
    with app.app_context():
        send_test_message(name="<b>Ann</b>")

    assert recorder.logins == [SMTP_USER]
    [envelope] = recorder.envelopes
    assert envelope.mail_from == "shop@sourcefront.localhost"
    assert envelope.rcpt_tos == ["ann@example.com"]
    message = email.message_from_bytes(envelope.original_content, policy=policy.default)
    assert message["Subject"] == "Testing delivery"
    assert message["From"] == "Sourcefront <shop@sourcefront.localhost>"
    assert "Hello <b>Ann</b>," in parts(message)["text/plain"]
    assert "Hello &lt;b&gt;Ann&lt;/b&gt;," in parts(message)["text/html"]
    assert read_outbox(outbox_dir) == []


def test_a_wrong_smtp_password_raises_and_sends_nothing(make_app, smtp_server, outbox_dir):
    controller, recorder = smtp_server
    app = make_app(MAIL_OUTBOX=str(outbox_dir), **smtp_settings(controller, MAIL_PASSWORD="no"))
    with app.app_context(), pytest.raises(smtplib.SMTPAuthenticationError):
        send_test_message()
    assert recorder.logins == [] and recorder.envelopes == []
    assert read_outbox(outbox_dir) == []


def test_tls_on_by_default_never_falls_back_to_plain_text(make_app, smtp_server):
    """MAIL_USE_TLS defaults to true: a server without STARTTLS gets no password, no mail."""
    controller, recorder = smtp_server
    settings = smtp_settings(controller)
    del settings["MAIL_USE_TLS"]
    app = make_app(**settings)
    with app.app_context(), pytest.raises(smtplib.SMTPNotSupportedError):
        send_test_message()
    assert recorder.logins == [] and recorder.envelopes == []


def test_smtp_settings_from_the_environment_are_understood(make_app, smtp_server, monkeypatch):
    controller, recorder = smtp_server
    monkeypatch.setenv("MAIL_SERVER", controller.hostname)
    monkeypatch.setenv("MAIL_PORT", str(controller.port))
    monkeypatch.setenv("MAIL_USE_TLS", "false")
    monkeypatch.setenv("MAIL_USERNAME", SMTP_USER)
    monkeypatch.setenv("MAIL_PASSWORD", SMTP_PASSWORD)
    monkeypatch.setenv("MAIL_DEFAULT_SENDER", "Factory <factory@example.com>")
    app = make_app()
    with app.app_context():
        send_test_message()
    assert recorder.logins == [SMTP_USER]
    [envelope] = recorder.envelopes
    assert envelope.mail_from == "factory@example.com"
