"""Who manages a school's pages: its own admins (``SchoolMember`` rows) and factory staff
with ``schools.manage``. Plain functions; the user and the database session are passed in.
"""

import sqlalchemy as sa
from sqlalchemy.orm import Session, object_session

from shop.accounts.permissions import has_permission
from shop.schools.access import is_school_admin
from shop.schools.models import School, SchoolMember


def can_manage_school(user, school: School, session: Session | None = None) -> bool:
    """Whether ``user`` may see ``school``'s admin pages (dashboard, packing lists, roster
    orders). ``session`` defaults to the one ``school`` was loaded in."""
    if not getattr(user, "is_authenticated", False) or not getattr(user, "is_active", False):
        return False
    if has_permission(user, "schools.manage"):
        return True
    session = session or object_session(school)
    if session is None:
        return False
    return is_school_admin(session, user, school.id)


def schools_for(session: Session, user) -> list[School]:
    """The active schools ``user`` is an admin of, by name (none for anonymous users)."""
    if not getattr(user, "is_authenticated", False) or not getattr(user, "is_active", False):
        return []
    return list(
        session.scalars(
            sa.select(School)
            .join(SchoolMember, SchoolMember.school_id == School.id)
            .where(SchoolMember.user_id == user.id, School.active.is_(True))
            .order_by(School.name, School.id)
        )
    )
