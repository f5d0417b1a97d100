"""Who manages a school's pages: its own admins (``SchoolMember`` rows) and factory staff
with ``schools.manage``; and inviting or removing a school's admins. Plain functions; the
user and the database session are passed in. The writes flush, never commit, and record
the change in the audit log.

A school admin is invited like a staff member (``shop.accounts.invitations``): a new
account gets an unusable password and a set-password link by email; an existing customer
account is reused. Staff accounts are never turned into school admins.
"""

import sqlalchemy as sa
from sqlalchemy.orm import Session, object_session, selectinload

from shop.accounts import invitations
from shop.accounts.models import User
from shop.accounts.permissions import has_permission
from shop.audit.service import record, snapshot
from shop.exceptions import ShopError
from shop.schools.models import School, SchoolMember

INVITABLE_ROLES = ("customer", "school_admin")


class NotInvitable(ShopError):
    message = "That email belongs to a staff account; it cannot become a school admin."


def _signed_in(user) -> bool:
    return getattr(user, "is_authenticated", False) and getattr(user, "is_active", False)


def is_school_admin(session: Session, user, school_id: int) -> bool:
    """Whether ``user`` is one of the school's own admins (a ``SchoolMember``)."""
    if not _signed_in(user):
        return False
    member_id = session.scalar(
        sa.select(SchoolMember.id).where(
            SchoolMember.school_id == school_id, SchoolMember.user_id == user.id
        )
    )
    return member_id is not None


def can_manage_school(user, school: School, session: Session | None = None) -> bool:
    """Whether ``user`` may see ``school``'s admin pages (dashboard, packing lists, roster
    orders) and its shop without the code. ``session`` defaults to the one ``school`` was
    loaded in."""
    if has_permission(user, "schools.manage"):
        return True
    session = session or object_session(school)
    return session is not None and is_school_admin(session, user, school.id)


def schools_for(session: Session, user) -> list[School]:
    """The active schools ``user`` is an admin of, by name (none for anonymous users)."""
    if not _signed_in(user):
        return []
    return list(
        session.scalars(
            sa.select(School)
            .join(SchoolMember, SchoolMember.school_id == School.id)
            .where(SchoolMember.user_id == user.id, School.active.is_(True))
            .order_by(School.name, School.id)
        )
    )


def list_members(session: Session, school: School) -> list[SchoolMember]:
    """The school's admins, by email."""
    return list(
        session.scalars(
            sa.select(SchoolMember)
            .join(SchoolMember.user)
            .where(SchoolMember.school_id == school.id)
            .options(selectinload(SchoolMember.user))
            .order_by(User.email)
        )
    )


def invite_school_admin(
    session: Session, actor: User, school: School, *, email: str, name: str = ""
) -> tuple[User, bool, bool]:
    """Make the account for ``email`` (new, or an existing customer or school admin) a
    school admin of ``school``. Returns ``(user, created, joined)`` — ``joined`` is
    ``False`` when they already were this school's admin. Raises ``InvalidEmail`` or
    ``NotInvitable`` (a staff account); nothing is changed then."""
    existing = invitations.find_invitee(session, email)
    if existing is not None and existing.role not in INVITABLE_ROLES:
        raise NotInvitable()
    before = snapshot(existing, invitations.ACCOUNT_FIELDS) if existing else None
    user, created = invitations.save_invitee(session, email=email, role="school_admin", name=name)
    member = session.scalar(
        sa.select(SchoolMember).where(
            SchoolMember.school_id == school.id, SchoolMember.user_id == user.id
        )
    )
    joined = member is None
    if member is None:
        member = SchoolMember(school=school, user=user)
        session.add(member)
        session.flush()
    record(
        session,
        actor_user_id=actor.id,
        action="school.admin_invite",
        target_type="school",
        target_id=school.id,
        before=before,
        after={
            **snapshot(user, invitations.ACCOUNT_FIELDS),
            "user_id": user.id,
            "member_id": member.id,
        },
    )
    return user, created, joined


def remove_school_admin(session: Session, actor: User, member: SchoolMember) -> None:
    """Take a school admin off the school. Their account stays; with no school left it
    becomes a customer account again."""
    record(
        session,
        actor_user_id=actor.id,
        action="school.admin_remove",
        target_type="school",
        target_id=member.school_id,
        before={"user_id": member.user_id, "email": member.user.email, "member_id": member.id},
    )
    user = member.user
    session.delete(member)
    session.flush()
    if user.role == "school_admin" and not session.scalar(
        sa.select(SchoolMember.id).where(SchoolMember.user_id == user.id).limit(1)
    ):
        user.role = "customer"
        session.flush()
