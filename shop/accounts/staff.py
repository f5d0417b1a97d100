"""Staff accounts (``/admin/staff``): inviting, changing roles, deactivating.

Plain functions over the session: they take the acting staff member, flush, never
commit, and write the audit row in the same transaction as the change. An owner cannot
demote or deactivate themselves, and the shop never goes without an active owner.
Inviting a deactivated member again reactivates them.
"""

import sqlalchemy as sa
from sqlalchemy.orm import Session

from shop.accounts import invitations
from shop.accounts import service as accounts
from shop.accounts.models import User
from shop.accounts.permissions import STAFF_ROLES
from shop.audit.service import record, snapshot
from shop.exceptions import ShopError

STAFF_FIELDS = invitations.ACCOUNT_FIELDS


class SelfDemotion(ShopError):
    message = "You cannot change your own role or deactivate yourself."


class LastOwner(ShopError):
    message = "The shop needs at least one active owner."


class NotStaff(ShopError):
    message = "That account is not a staff account."


def _other_active_owners(session: Session, user: User) -> int:
    return (
        session.scalar(
            sa.select(sa.func.count(User.id)).where(
                User.role == "owner", User.active.is_(True), User.id != user.id
            )
        )
        or 0
    )


def _check_removal(session: Session, actor: User, user: User, new_role: str, active: bool) -> None:
    """Refuse a change that takes ``user`` out of the owners (or out of the shop) if it
    is the actor themselves or the last active owner."""
    losing_owner = user.role == "owner" and user.active and (new_role != "owner" or not active)
    if user.id == actor.id and (new_role != user.role or not active):
        raise SelfDemotion()
    if losing_owner and _other_active_owners(session, user) == 0:
        raise LastOwner()


def list_staff(session: Session) -> list[User]:
    return list(
        session.scalars(
            sa.select(User)
            .where(User.role.in_(STAFF_ROLES))
            .order_by(User.active.desc(), User.email)
        )
    )


def invite_staff(
    session: Session, actor: User, *, email: str, role: str, name: str = ""
) -> tuple[User, bool]:
    """Create a staff account (or make an existing account staff with ``role``, active
    again). Returns ``(user, created)``. Raises ``InvalidEmail``, ``UnknownRole``,
    ``SelfDemotion`` or ``LastOwner``; nothing is changed then."""
    if role not in STAFF_ROLES:
        raise accounts.UnknownRole()
    existing = invitations.find_invitee(session, email)
    before = None
    if existing is not None:
        _check_removal(session, actor, existing, role, True)
        before = snapshot(existing, STAFF_FIELDS)
    user, created = invitations.save_invitee(session, email=email, role=role, name=name)
    record(
        session,
        actor_user_id=actor.id,
        action="staff.invite",
        target_type="user",
        target_id=user.id,
        before=before,
        after=snapshot(user, STAFF_FIELDS),
    )
    return user, created


def change_role(session: Session, actor: User, user: User, role: str) -> bool:
    """Give staff member ``user`` another role. ``False`` when it already was theirs."""
    if role not in STAFF_ROLES:
        raise accounts.UnknownRole()
    if user.role not in STAFF_ROLES:
        raise NotStaff()
    if role == user.role:
        return False
    _check_removal(session, actor, user, role, user.active)
    before = snapshot(user, STAFF_FIELDS)
    user.role = role
    session.flush()
    record(
        session,
        actor_user_id=actor.id,
        action="staff.role",
        target_type="user",
        target_id=user.id,
        before=before,
        after=snapshot(user, STAFF_FIELDS),
    )
    return True


def deactivate_staff(session: Session, actor: User, user: User) -> bool:
    """Close a staff member's access (the account stays, for the audit log's sake).
    ``False`` when it already was inactive."""
    if user.role not in STAFF_ROLES:
        raise NotStaff()
    if not user.active:
        return False
    _check_removal(session, actor, user, user.role, False)
    before = snapshot(user, STAFF_FIELDS)
    user.active = False
    session.flush()
    record(
        session,
        actor_user_id=actor.id,
        action="staff.deactivate",
        target_type="user",
        target_id=user.id,
        before=before,
        after=snapshot(user, STAFF_FIELDS),
    )
    return True
