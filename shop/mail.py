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

``send_after_commit`` makes the email a job (``shop.jobs``): rendered now, queued when the
session commits (never if it rolls back), delivered by a worker with retries, or
in-process right after the commit without Redis. It is sent once: the job records the
email's key (its Message-ID) in ``sent_email`` in its own transaction, before it
delivers, and commits the moment the server has accepted the message (before SMTP's
QUIT). A second run of the same job - a retry, or five at once - finds the key and sends
nothing; a run that fails before the server accepts rolls the key back for the retry.
With SMTP one window remains: a crash (``kill -9``, a lost database) after the server
accepted the message and before the commit landed - a millisecond or so - leaves no key,
and the retry sends the message again, with the same Message-ID (which many mail systems
fold into one). SMTP has no way to ask "did you take this one?", so no client can close
that window; it is the price of never losing an email. The outbox closes it: it notes
each key's file before writing it (``write_to_outbox``). While one run holds the key, a second
run of the same email waits for it (PostgreSQL: that row; SQLite: the database's one
writer, so without Redis a slow SMTP server makes other writes wait, as the request that
sent it always did).
"""

import hashlib
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

import sqlalchemy as sa
from flask import current_app, has_request_context
from flask_babel import force_locale, get_locale
from sqlalchemy.orm import Mapped, Session, mapped_column

from shop.db import Base, get_session, utcnow

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
    delivered by a job once that change is committed, and never if it is rolled back."""
    from shop.jobs import enqueue_after_commit

    message = build_message(to, subject, template, locale=locale, **context)
    message_id = message["Message-ID"]
    raw_message = message.as_bytes(policy=policy.default)
    enqueue_after_commit(session, deliver_once, raw_message, message_id, key=f"email:{message_id}")


class SentEmail(Base):
    """An email that went out: its key, taken in the transaction that sent it."""

    __tablename__ = "sent_email"

    key: Mapped[str] = mapped_column(sa.String(255), primary_key=True)
    sent_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), default=utcnow)


def deliver_once(raw_message: bytes, key: str) -> bool:
    """The email job: deliver ``raw_message`` unless the email ``key`` went out before.
    ``False`` when it had (nothing sent)."""
    session = get_session()
    if not _take_key(session, key[:255]):
        logger.info("mail: %s was sent before; not again", key)
        return False
    message = BytesParser(policy=policy.default).parsebytes(raw_message)
    deliver(message, on_accepted=session.commit, key=key)
    return True


def _take_key(session: Session, key: str) -> bool:
    """Insert the key (a run of the same email at the same moment waits on it until this
    transaction ends); ``False`` if a committed run holds it already."""
    session.add(SentEmail(key=key))
    try:
        session.flush()
    except sa.exc.IntegrityError:
        session.rollback()
        return False
    return True


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


def deliver(message: EmailMessage, config=None, *, on_accepted=None, key=None) -> None:
    """Send by SMTP, or write to the outbox. ``on_accepted()`` is called the moment the
    message is the server's (or in the outbox), before the SMTP connection is closed.
    With a ``key`` the outbox takes the message once (see ``write_to_outbox``)."""
    config = config if config is not None else current_app.config
    accepted = on_accepted or (lambda: None)
    if config.get("MAIL_SERVER"):
        send_smtp(message, config, on_accepted=accepted)
        logger.info("mail: sent %r by SMTP", message["Subject"])
        return
    path = write_to_outbox(message, Path(config["MAIL_OUTBOX"]), key=key)
    accepted()
    if config.get("SHOP_ENV") == "production":
        logger.warning(
            "mail: MAIL_SERVER is not set; %r only written to %s", message["Subject"], path
        )
    else:
        logger.info("mail: %r written to %s", message["Subject"], path)


def send_smtp(message: EmailMessage, config, *, on_accepted=None) -> None:
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
        if on_accepted is not None:
            on_accepted()  # before QUIT: the less time between accepted and recorded, the better


def write_to_outbox(message: EmailMessage, folder: Path, *, key: str | None = None) -> Path:
    """Write ``<UTC timestamp>-<random>.eml``; the name sorts in sending order.

    With a ``key`` (an email job's), the name is first noted in ``.sent/<key digest>``;
    a run after a crash finds the note and writes that file only if it is missing. So the
    outbox, unlike an SMTP server, takes a keyed message exactly once, wherever a crash
    fell (runs of one key never overlap: the job holds the key's row meanwhile)."""
    folder.mkdir(parents=True, exist_ok=True)
    note = None
    if key is not None:
        note = folder / ".sent" / hashlib.sha256(key.encode()).hexdigest()
        if note.exists():
            path = folder / note.read_text()
            if not path.exists():
                _write_whole(path, message.as_bytes(policy=policy.default))
            return path
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ")
    path = folder / f"{stamp}-{secrets.token_hex(4)}.eml"
    if note is not None:
        note.parent.mkdir(exist_ok=True)
        _write_whole(note, path.name.encode())
    _write_whole(path, message.as_bytes(policy=policy.default))
    return path


def _write_whole(path: Path, data: bytes) -> None:
    partial = path.with_name(path.name + ".part")  # readers only ever see whole files
    partial.write_bytes(data)
    partial.replace(path)


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
