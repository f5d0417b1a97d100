"""Who may see a school's shop, which private shops this browser has unlocked, and
setting or clearing a school's access code.

A private school's shop opens with its access code; the schools this browser unlocked are
kept (by id) in the signed Flask session. Factory staff who manage schools and the
school's own admins see it without the code. The code is hashed like a password and never
shown back. Plain functions: the session mapping, the user and the database session are
passed in; the writes flush, never commit, and record the change in the audit log.
"""

import unicodedata
from collections.abc import MutableMapping

import sqlalchemy as sa
from sqlalchemy.orm import Session
from werkzeug.security import check_password_hash

from shop.accounts.models import User
from shop.accounts.passwords import hash_password
from shop.audit.service import record
from shop.schools.membership import can_manage_school
from shop.schools.models import School

SESSION_KEY = "unlocked_schools"
MAX_REMEMBERED = 50
MAX_CODE_LENGTH = 100


def get_school(session: Session, slug: str) -> School | None:
    """The active school with ``slug``; ``None`` for unknown or inactive ones."""
    return session.scalars(
        sa.select(School).where(School.slug == slug, School.active.is_(True))
    ).first()


UNLOCK_ENDPOINT = "schools.school_unlock"


def code_tries_key(slug: str) -> str:
    """The rate-limit key counting wrong codes for one school from all addresses."""
    return f"school-code-total:{slug}"


def normalise_code(code: str) -> str:
    """An access code as it is hashed and compared: case and spaces do not count, and
    full-width letters and digits (typed with a Chinese or Japanese keyboard) are their
    plain selves: ``" ab12 cd"``, ``"ＡＢ１２ＣＤ"`` and ``"AB12CD"`` are one code."""
    return "".join(unicodedata.normalize("NFKC", code).split()).upper()


def code_matches(school: School, code: str | None) -> bool:
    """The access code against the school's hash; any malformed input is simply wrong."""
    return _matching_form(school, code) is not None


def _matching_form(school: School, code: str | None) -> str | None:
    """Which form of ``code`` the school's hash was made from: the normalised one (codes
    set since codes ignore case and spaces), or, for a code set before, the code as typed
    (stripped) or its lower case. ``None``: no form matches."""
    if not school.access_code_hash or not code or len(code) > MAX_CODE_LENGTH:
        return None
    normalised = normalise_code(code)
    if not normalised:
        return None
    for form in dict.fromkeys((normalised, code.strip(), normalised.lower())):
        if check_password_hash(school.access_code_hash, form):
            return form
    return None


def unlock(session: Session, school: School, code: str | None) -> bool:
    """Whether ``code`` opens ``school``'s shop. A code set before codes ignored case and
    spaces, typed exactly, is hashed again in its normalised form (flushed): from then on
    it too ignores case and spaces."""
    form = _matching_form(school, code)
    if form is None:
        return False
    if form != normalise_code(form):
        school.access_code_hash = hash_password(normalise_code(form))
        session.flush()
    return True


def is_unlocked(flask_session: MutableMapping, school_id: int) -> bool:
    return school_id in flask_session.get(SESSION_KEY, [])


def remember_unlocked(flask_session: MutableMapping, school_id: int) -> None:
    unlocked = [i for i in flask_session.get(SESSION_KEY, []) if i != school_id]
    unlocked.append(school_id)
    flask_session[SESSION_KEY] = unlocked[-MAX_REMEMBERED:]


def can_see_shop(session: Session, school: School, *, user, flask_session) -> bool:
    """A public shop: anyone. A private one: unlocked in this browser, staff with
    ``schools.manage``, or the school's own admins."""
    return (
        not school.private
        or is_unlocked(flask_session, school.id)
        or can_manage_school(user, school, session)
    )


def set_access_code(session: Session, actor: User, school: School, code: str) -> None:
    """Make ``school`` private behind ``code`` (normalised, then hashed with scrypt; the
    log says only that a code was set)."""
    was_private = school.private
    school.access_code_hash = hash_password(normalise_code(code))
    session.flush()
    record(
        session,
        actor_user_id=actor.id,
        action="school.access_code_set",
        target_type="school",
        target_id=school.id,
        before={"private": was_private},
        after={"private": True},
    )


def clear_access_code(session: Session, actor: User, school: School) -> bool:
    """Make ``school`` public. ``False`` when it already was."""
    if not school.private:
        return False
    school.access_code_hash = None
    session.flush()
    record(
        session,
        actor_user_id=actor.id,
        action="school.access_code_clear",
        target_type="school",
        target_id=school.id,
        before={"private": True},
        after={"private": False},
    )
    return True
