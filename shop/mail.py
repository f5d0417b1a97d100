"""Email: ``.txt``/``.html`` template pairs, sent by SMTP or written to an outbox folder.

``send_email(to, subject, "account_reset", user=user, link=link)`` renders
``templates/email/account_reset.txt`` and ``.html`` with the app's Jinja filters and
``_()`` in the current locale (the request's; pass ``locale=`` to write in the
recipient's language, e.g. from a job, where there is no request). A lazy subject
(``lazy_gettext``) is translated in that locale too.

Delivery: SMTP when ``MAIL_SERVER`` is set (``MAIL_PORT``, ``MAIL_USE_TLS`` for STARTTLS,
``MAIL_USE_SSL`` for SMTPS, ``MAIL_USERNAME``/``MAIL_PASSWORD``, ``MAIL_TIMEOUT``);
otherwise each message becomes an ``.eml`` file in ``MAIL_OUTBOX`` (``instance/outbox``),
which ``read_outbox`` reads back for the demo and the tests. A failed SMTP delivery raises.
"""

import logging
import secrets
import smtplib
import ssl
from datetime import UTC, datetime
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from email.utils import format_datetime, make_msgid, parseaddr
from pathlib import Path
from typing import Any

from flask import current_app, has_request_context
from flask_babel import force_locale, get_locale
from sqlalchemy import event
from sqlalchemy.orm import Session

logger = logging.getLogger(__name__)

TRUE_WORDS = frozenset({"1", "true", "yes", "on"})


def send_email(
    to: str, subject: str, template: str, *, locale: str | None = None, **context: Any
) -> None:
    """Render ``email/<template>.txt`` and ``.html`` and deliver them to ``to``."""
    message = build_message(to, subject, template, locale=locale, **context)
    deliver(message)


def send_after_commit(
    session: Session,
    to: str,
    subject: str,
    template: str,
    *,
    locale: str | None = None,
    **context: Any,
) -> None:
    """Like ``send_email`` for an email about a change in ``session``: rendered now,
    delivered only once that change is committed, and never if it is rolled back."""
    message = build_message(to, subject, template, locale=locale, **context)
    mail_settings = {name: value for name, value in current_app.config.items() if _mail(name)}
    session.info.setdefault(PENDING, []).append((message, mail_settings))


PENDING = "shop.mail.pending"


def _mail(setting: str) -> bool:
    return setting.startswith("MAIL_") or setting == "SHOP_ENV"


@event.listens_for(Session, "after_commit")
def _deliver_pending(session: Session) -> None:
    for message, mail_settings in session.info.pop(PENDING, []):
        try:
            deliver(message, mail_settings)
        except Exception:  # the change is committed; a lost email must not undo the page
            logger.exception("mail: %r to %s not delivered", message["Subject"], message["To"])


@event.listens_for(Session, "after_soft_rollback")
def _drop_pending(session: Session, previous_transaction) -> None:
    session.info.pop(PENDING, None)


def build_message(
    to: str, subject: str, template: str, *, locale: str | None = None, **context: Any
) -> EmailMessage:
    config = current_app.config
    if locale is None:
        locale = str(get_locale()) if has_request_context() else config["BABEL_DEFAULT_LOCALE"]
    with force_locale(locale):
        context = {"email_locale": locale, **context}
        text = render(f"email/{template}.txt", context)
        html = render(f"email/{template}.html", context)
        subject = str(subject)
    sender = config["MAIL_DEFAULT_SENDER"]
    message = EmailMessage()
    # Header values with line breaks raise ValueError here: no header injection.
    message["Subject"] = subject
    message["From"] = sender
    message["To"] = to
    message["Date"] = format_datetime(datetime.now(UTC))
    message["Message-ID"] = make_msgid(domain=_domain_of(sender))
    message.set_content(text)
    message.add_alternative(html, subtype="html")
    return message


def render(template_name: str, context: dict[str, Any]) -> str:
    """Render with the app's Jinja environment (filters, ``_``) but no request globals.

    Not ``render_template``: its context processors read the request, and emails are
    also sent from jobs and the CLI. Autoescaping follows the extension (``.html`` only).
    """
    return current_app.jinja_env.get_template(template_name).render(context)


def deliver(message: EmailMessage, config=None) -> None:
    config = config if config is not None else current_app.config
    if config.get("MAIL_SERVER"):
        send_smtp(message, config)
        logger.info("mail: sent %r by SMTP", message["Subject"])
        return
    path = write_to_outbox(message, Path(config["MAIL_OUTBOX"]))
    if config.get("SHOP_ENV") == "production":
        logger.warning(
            "mail: MAIL_SERVER is not set; %r only written to %s", message["Subject"], path
        )
    else:
        logger.info("mail: %r written to %s", message["Subject"], path)


def send_smtp(message: EmailMessage, config) -> None:
    host = config["MAIL_SERVER"]
    port = int(config.get("MAIL_PORT") or 587)
    timeout = float(config.get("MAIL_TIMEOUT") or 10)
    use_ssl = _flag(config.get("MAIL_USE_SSL"))
    smtp: smtplib.SMTP
    if use_ssl:
        smtp = smtplib.SMTP_SSL(host, port, timeout=timeout, context=ssl.create_default_context())
    else:
        smtp = smtplib.SMTP(host, port, timeout=timeout)
    with smtp:
        if not use_ssl and _flag(config.get("MAIL_USE_TLS")):
            smtp.starttls(context=ssl.create_default_context())
        if config.get("MAIL_USERNAME"):
            smtp.login(config["MAIL_USERNAME"], config.get("MAIL_PASSWORD") or "")
        smtp.send_message(message)


def write_to_outbox(message: EmailMessage, folder: Path) -> Path:
    """Write ``<UTC timestamp>-<random>.eml``; the name sorts in sending order."""
    folder.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ")
    path = folder / f"{stamp}-{secrets.token_hex(4)}.eml"
    partial = path.with_suffix(".part")  # readers only ever see whole messages
    partial.write_bytes(message.as_bytes(policy=policy.default))
    partial.replace(path)
    return path


def read_outbox(folder: str | Path) -> list[EmailMessage]:
    """The messages in an outbox folder, oldest first; empty if nothing was sent."""
    parser = BytesParser(policy=policy.default)
    messages = []
    for path in sorted(Path(folder).glob("*.eml")):
        with path.open("rb") as file:
            messages.append(parser.parse(file))
    return messages


def _flag(value: Any) -> bool:
    """A boolean setting from config (``True``) or the environment (``"true"``, ``"0"``)."""
    if isinstance(value, str):
        return value.strip().lower() in TRUE_WORDS
    return bool(value)


def _domain_of(sender: str) -> str:
    address = parseaddr(sender)[1]
    return address.rpartition("@")[2] or "sourcefront.localhost"
