"""Invitations: factory staff and school admins get an account from someone else.

The account is made (or an existing one given its new role, active again) through
``shop.accounts.service.save_staff`` - the same call as the ``create-staff`` command - so a
new account has an unusable password. The invitation email carries a set-password link,
valid for an hour; the caller builds that absolute link (on ``SHOP_BASE_URL``, never on
the request's Host header) and passes it in. Plain functions: they flush, never commit,
and the email goes out only once the session commits.
"""

from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import Session

from shop.accounts import service as accounts
from shop.accounts.models import User
from shop.mail import send_after_commit

# What the audit log shows of an invited account, before and after.
ACCOUNT_FIELDS = ("email", "name", "role", "active")


def find_invitee(session: Session, email: str) -> User | None:
    """The account already using ``email``, if any. Raises ``InvalidEmail``."""
    return accounts.get_user_by_email(session, accounts.normalise_email(email))


def save_invitee(session: Session, *, email: str, role: str, name: str = "") -> tuple[User, bool]:
    """The account for ``email`` with ``role``, made when there is none; an existing
    account without a name takes the one typed on the invitation. Returns
    ``(user, created)``. Raises ``InvalidEmail`` or ``UnknownRole``."""
    user, created = accounts.save_staff(session, email=email, role=role, name=name)
    if not created and not user.name and name:
        user.name = name
    return user, created


def send_invitation(
    session: Session,
    user: User,
    role: str,
    *,
    link: str,
    subject: Any = None,
    template: str = "account_staff_invite",
    **context: Any,
) -> None:
    """Email ``user`` the set-password ``link`` of an invitation (``role``: its label) once
    ``session`` commits (never if it rolls back). Without a subject and template this is
    the staff email; other invitations (school admins) pass their own subject and
    ``email/`` template, which get ``user``, ``role``, ``link`` and ``context``."""
    send_after_commit(
        session,
        user.email,
        subject or _l("Your Sourcefront staff account"),
        template,
        user=user,
        role=role,
        link=link,
        **context,
    )
