"""A reseller's profile: applying for a window, editing it, and staff changing its status.

Plain functions over the session: they flush, never commit, and write the audit row of
what they change. Applying is exactly once per account (``reseller.user_id`` is unique:
of two applications at the same moment the second fails at the flush, and the view finds
the first); a status change is a compare-and-set on the row (of two staff acting at the
same moment, one changes it, the other gets ``StatusChanged`` with the status it found).
"""

from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Session

from shop import images as image_store
from shop.accounts.models import User
from shop.audit.models import AuditEntry
from shop.audit.service import record, record_changes, snapshot
from shop.db import rows_changed, utcnow
from shop.exceptions import ShopError
from shop.pagination import Page, count_rows, paginate
from shop.resellers.models import STATUSES, Reseller
from shop.resellers.rules import next_status

AVATAR_FOLDER = "resellers"  # shop.images stores avatars under resellers/<hash>.<ext>
PROFILE_FIELDS = ("display_name", "bio", "social_links")
# A profile may be edited while the window is applied for or open; a suspended or closed
# window is frozen until staff reinstate it.
EDITABLE = frozenset({"applied", "approved"})


class AlreadyApplied(ShopError):
    message = "This account already has a window."


class HandleTaken(ShopError):
    message = "Another window already uses this name."


class NotEditable(ShopError):
    message = "The window is suspended or closed; it cannot be changed."


class StatusChanged(ShopError):
    """Someone changed the status first; ``status`` is what it is now."""

    def __init__(self, status: str) -> None:
        super().__init__(f"the window is {status} now")
        self.status = status


@dataclass(frozen=True)
class Application:
    """What an application says, already checked by the form (``shop.resellers.rules``)."""

    handle: str
    display_name: str
    bio: str
    social_links: list[str]
    avatar_path: str | None = None


def get_reseller_for_user(session: Session, user_id: int) -> Reseller | None:
    return session.scalar(sa.select(Reseller).where(Reseller.user_id == user_id))


def apply_for_window(
    session: Session,
    user: User,
    application: Application,
    *,
    terms_version: str,
    auto_approve: bool,
    now: datetime | None = None,
) -> Reseller:
    """A new window for ``user``: applied for, or approved at once when the factory
    approves every application (``RESELLER_AUTO_APPROVE``). Raises ``AlreadyApplied``,
    ``HandleTaken``; the same application at the same moment fails at the flush with
    ``IntegrityError`` (the caller rolls back and finds the first)."""
    if get_reseller_for_user(session, user.id) is not None:
        raise AlreadyApplied()
    owner = session.scalar(sa.select(Reseller.user_id).where(Reseller.handle == application.handle))
    if owner is not None:  # this account's own, if it applied a moment ago
        raise AlreadyApplied() if owner == user.id else HandleTaken()
    now = now or utcnow()
    reseller = Reseller(
        user_id=user.id,
        handle=application.handle,
        display_name=application.display_name,
        bio=application.bio,
        social_links=list(application.social_links),
        avatar_path=application.avatar_path,
        terms_version=terms_version,
        terms_accepted_at=now,
        status="approved" if auto_approve else "applied",
        status_changed_at=now,
        status_changed_by_id=None if auto_approve else user.id,
        created_at=now,
    )
    session.add(reseller)
    session.flush()
    if application.avatar_path:
        image_store.queue_derived_sizes(session, application.avatar_path)
    record(
        session,
        actor_user_id=user.id,
        action="reseller.apply",
        target_type="reseller",
        target_id=reseller.id,
        after={"handle": reseller.handle, "status": reseller.status},
    )
    return reseller


def update_profile(session: Session, user: User, reseller: Reseller, values: dict) -> list[str]:
    """Save ``PROFILE_FIELDS`` from ``values``; the names of those that changed. Raises
    ``NotEditable``. (The handle stays: links to the window are already shared.)"""
    if reseller.status not in EDITABLE:
        raise NotEditable()
    before = snapshot(reseller, PROFILE_FIELDS)
    for name in PROFILE_FIELDS:
        if name in values:
            setattr(reseller, name, values[name])
    session.flush()
    return record_changes(
        session,
        actor_user_id=user.id,
        action="reseller.profile",
        target_type="reseller",
        target_id=reseller.id,
        before=before,
        after=snapshot(reseller, PROFILE_FIELDS),
    )


def set_avatar(session: Session, user: User, reseller: Reseller, path: str) -> str | None:
    """Show the stored image ``path`` (``shop.images.store_upload`` into
    ``AVATAR_FOLDER``) as the window's avatar; returns the previous path, whose files are
    the caller's to remove once this is committed. Raises ``NotEditable``."""
    if reseller.status not in EDITABLE:
        raise NotEditable()
    previous = reseller.avatar_path
    reseller.avatar_path = path
    session.flush()
    image_store.queue_derived_sizes(session, path)
    if previous != path:
        record_changes(
            session,
            actor_user_id=user.id,
            action="reseller.avatar",
            target_type="reseller",
            target_id=reseller.id,
            before={"avatar_path": previous},
            after={"avatar_path": path},
        )
    return previous if previous != path else None


def change_status(
    session: Session,
    actor: User,
    reseller: Reseller,
    action: str,
    *,
    expected: str,
    now: datetime | None = None,
) -> str:
    """Staff's ``action`` (``rules.TRANSITIONS``) on a window they saw in status
    ``expected``; returns the new status. Raises ``InvalidTransition`` for an action the
    status does not allow, ``StatusChanged`` when the window is no longer in ``expected``
    (another member of staff acted first): one compare-and-set ``UPDATE``."""
    target = next_status(expected, action)
    now = now or utcnow()
    changed = rows_changed(
        session,
        sa.update(Reseller)
        .where(Reseller.id == reseller.id, Reseller.status == expected)
        .values(status=target, status_changed_at=now, status_changed_by_id=actor.id)
        .execution_options(synchronize_session=False),
    )
    session.refresh(reseller)
    if changed != 1:
        raise StatusChanged(reseller.status)
    record(
        session,
        actor_user_id=actor.id,
        action=f"reseller.{action}",
        target_type="reseller",
        target_id=reseller.id,
        before={"status": expected},
        after={"status": target},
    )
    return target


# --- staff's lists ---------------------------------------------------------------------


@dataclass(frozen=True)
class ResellerRow:
    reseller: Reseller
    email: str


def list_resellers(
    session: Session, *, status: str | None, q: str, page: int, per_page: int
) -> tuple[Page, list[ResellerRow]]:
    """Windows newest first, of one status (``None``: all), whose handle or display name
    holds every word of ``q`` (already cleaned and folded); a page of them."""
    query = sa.select(Reseller, User.email).join(User, User.id == Reseller.user_id)
    if status in STATUSES:
        query = query.where(Reseller.status == status)
    for term in q.split()[:8]:
        query = query.where(
            sa.or_(
                Reseller.handle.contains(term, autoescape=True),
                sa.func.lower(Reseller.display_name).contains(term, autoescape=True),
            )
        )
    shown = paginate(count_rows(session, query), page, per_page)
    rows = session.execute(
        query.order_by(Reseller.created_at.desc(), Reseller.id.desc())
        .limit(shown.per_page)
        .offset(shown.offset)
    ).all()
    return shown, [ResellerRow(reseller, email) for reseller, email in rows]


def list_status_history(session: Session, reseller: Reseller, limit: int = 50) -> list[AuditEntry]:
    """The window's audit entries (application and status changes), newest first."""
    return list(
        session.scalars(
            sa.select(AuditEntry)
            .where(AuditEntry.target_type == "reseller", AuditEntry.target_id == str(reseller.id))
            .order_by(AuditEntry.created_at.desc(), AuditEntry.id.desc())
            .limit(limit)
        )
    )
