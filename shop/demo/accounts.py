"""Demo accounts (``data/accounts.json``): one per role, for trying the shop (README lists
them), all with the same documented password. Idempotent: an account is found by email."""

from dataclasses import dataclass

from sqlalchemy.orm import Session

from shop.accounts.models import User
from shop.accounts.passwords import hash_password
from shop.accounts.service import get_user_by_email
from shop.db import utcnow
from shop.demo.files import read_json


@dataclass(frozen=True)
class DemoAccount:
    role: str
    email: str
    name: str


_DATA = read_json("accounts.json")
DEMO_PASSWORD: str = _DATA["password"]
ACCOUNTS = [DemoAccount(**account) for account in _DATA["accounts"]]


def demo_email(role: str) -> str:
    """The email of the demo account with ``role``."""
    return next(account.email for account in ACCOUNTS if account.role == role)


def add_demo_user(session: Session, *, email: str, name: str, role: str) -> User:
    """The user with ``email``, added (confirmed, with the demo password) if missing."""
    user = get_user_by_email(session, email)
    if user is None:
        user = User(
            email=email,
            name=name,
            role=role,
            password_hash=hash_password(DEMO_PASSWORD),
            email_confirmed_at=utcnow(),
        )
        session.add(user)
        session.flush()
    return user


def seed_demo_accounts(session: Session) -> str:
    created = 0
    for account in ACCOUNTS:
        if get_user_by_email(session, account.email) is None:
            add_demo_user(session, email=account.email, name=account.name, role=account.role)
            created += 1
    session.flush()
    return f"Demo accounts: {len(ACCOUNTS)} (created {created}); password {DEMO_PASSWORD!r}."
