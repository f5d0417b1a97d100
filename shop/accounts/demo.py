"""Demo accounts: one per role, for trying the shop (README lists them). Idempotent."""

from sqlalchemy.orm import Session

from shop.accounts.models import User
from shop.accounts.passwords import hash_password
from shop.accounts.permissions import ROLES
from shop.accounts.service import get_user_by_email
from shop.db import utcnow

DEMO_PASSWORD = "sourcefront-demo"  # noqa: S105 - a documented demo password


def demo_email(role: str) -> str:
    return f"{role}@demo.sourcefront.test"


def seed_demo_accounts(session: Session) -> str:
    created = 0
    for role in ROLES:
        if get_user_by_email(session, demo_email(role)) is not None:
            continue
        session.add(
            User(
                email=demo_email(role),
                name=f"Demo {role}",
                role=role,
                password_hash=hash_password(DEMO_PASSWORD),
                email_confirmed_at=utcnow(),
            )
        )
        created += 1
    session.flush()
    return f"Demo accounts: {len(ROLES)} (created {created}); password {DEMO_PASSWORD!r}."
