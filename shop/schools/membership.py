"""Who manages a school's pages: its own admins (``SchoolMember`` rows) and factory staff
with ``schools.manage``. Plain functions; the user and the database session are passed in.
"""

import sqlalchemy as sa
from sqlalchemy.orm import Session, object_session

from shop.accounts.permissions import has_permission
from shop.schools.models import School, SchoolMember


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
