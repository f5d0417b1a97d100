"""Who may see a school's shop, and which private shops this browser has unlocked.

A private school's shop opens with its access code; the schools this browser unlocked are
kept (by id) in the signed Flask session. Factory staff who manage schools and the
school's own admins see it without the code. Plain functions: the session mapping, the
user and the database session are passed in.
"""

from collections.abc import MutableMapping

import sqlalchemy as sa
from sqlalchemy.orm import Session
from werkzeug.security import check_password_hash

from shop.accounts.permissions import has_permission
from shop.schools.models import School, SchoolMember

SESSION_KEY = "unlocked_schools"
MAX_REMEMBERED = 50
MAX_CODE_LENGTH = 100


def get_school(session: Session, slug: str) -> School | None:
    """The active school with ``slug``; ``None`` for unknown or inactive ones."""
    return session.scalars(
        sa.select(School).where(School.slug == slug, School.active.is_(True))
    ).first()


def is_school_admin(session: Session, user, school_id: int) -> bool:
    """Whether ``user`` is one of the school's own admins (a ``SchoolMember``)."""
    if not getattr(user, "is_authenticated", False) or not getattr(user, "is_active", False):
        return False
    member_id = session.scalar(
        sa.select(SchoolMember.id).where(
            SchoolMember.school_id == school_id, SchoolMember.user_id == user.id
        )
    )
    return member_id is not None


def code_matches(school: School, code: str | None) -> bool:
    """The access code against the school's hash; any malformed input is simply wrong."""
    if not school.access_code_hash or not code or len(code) > MAX_CODE_LENGTH:
        return False
    return check_password_hash(school.access_code_hash, code.strip())


def is_unlocked(flask_session: MutableMapping, school_id: int) -> bool:
    return school_id in flask_session.get(SESSION_KEY, [])


def remember_unlocked(flask_session: MutableMapping, school_id: int) -> None:
    unlocked = [i for i in flask_session.get(SESSION_KEY, []) if i != school_id]
    unlocked.append(school_id)
    flask_session[SESSION_KEY] = unlocked[-MAX_REMEMBERED:]


def can_see_shop(session: Session, school: School, *, user, flask_session) -> bool:
    """A public shop: anyone. A private one: unlocked in this browser, staff with
    ``schools.manage``, or the school's own admins."""
    if not school.private:
        return True
    if is_unlocked(flask_session, school.id):
        return True
    if has_permission(user, "schools.manage"):
        return True
    return is_school_admin(session, user, school.id)
