"""Account rules: plain functions over the session. They flush, never commit."""

import secrets

import sqlalchemy as sa
from sqlalchemy.orm import Session

from shop.accounts import passwords, tokens
from shop.accounts.models import Address, User
from shop.accounts.permissions import ROLES, STAFF_ROLES
from shop.db import utcnow
from shop.exceptions import ShopError


class InvalidEmail(ShopError):
    message = "That does not look like an email address."


class WeakPassword(ShopError):
    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


class UnknownRole(ShopError):
    message = "There is no such role."


def normalise_email(raw: str) -> str:
    """Trimmed, domain case-folded; the local part kept as typed (it may be case-sensitive)."""
    email = (raw or "").strip()
    local, at, domain = email.rpartition("@")
    if (
        not at
        or not local
        or "." not in domain
        or len(email) > 254
        or any(ch.isspace() or ord(ch) < 32 for ch in email)
        or domain.startswith(".")
        or domain.endswith(".")
    ):
        raise InvalidEmail()
    return f"{local}@{domain.casefold()}"


def get_user_by_email(session: Session, email: str) -> User | None:
    """Addresses are one account whatever their case (a unique index on ``lower(email)``
    backs this), though the address is kept as the person typed it."""
    return session.scalars(
        sa.select(User).where(sa.func.lower(User.email) == email.lower())
    ).first()


def check_password_rules(password: str) -> None:
    reason = passwords.password_problem(password)
    if reason:
        raise WeakPassword(reason)


def register_user(session: Session, *, email: str, password: str, name: str) -> User | None:
    """Create a customer; ``None`` when the email is taken (the caller answers the same
    way either way, and emails the owner of the address instead). The password is hashed
    either way, so a taken address answers no faster than a new one."""
    check_password_rules(password)
    email = normalise_email(email)
    password_hash = passwords.hash_password(password)
    if get_user_by_email(session, email) is not None:
        return None
    user = User(email=email, name=name.strip(), password_hash=password_hash)
    session.add(user)
    session.flush()
    return user


def authenticate(session: Session, email: str, password: str) -> User | None:
    """The user if the password is right and the account active; same cost otherwise."""
    try:
        email = normalise_email(email)
    except InvalidEmail:
        passwords.verify_password(passwords.dummy_hash(), password)
        return None
    user = get_user_by_email(session, email)
    if user is None:
        passwords.verify_password(passwords.dummy_hash(), password)
        return None
    if not passwords.verify_password(user.password_hash, password) or not user.active:
        return None
    user.last_login_at = utcnow()
    return user


def end_sessions(session: Session, user: User) -> None:
    """End every session and remember-me cookie of ``user``, in every browser: their id
    carries the session version (``User.get_id``), bumped here in one atomic UPDATE.
    A browser that should stay signed in signs in again with the new id."""
    user.session_version = User.session_version + 1
    session.flush()  # the UPDATE runs now; the next read of the attribute loads the new value


def set_password(session: Session, user: User, password: str) -> None:
    """A new password ends every session of the account (``end_sessions``)."""
    check_password_rules(password)
    user.password_hash = passwords.hash_password(password)
    end_sessions(session, user)


def change_password(session: Session, user: User, current: str, new: str) -> bool:
    """``False`` when ``current`` is wrong (nothing changes)."""
    if not passwords.verify_password(user.password_hash, current):
        return False
    set_password(session, user, new)
    return True


def reset_token(secret_key: str, user: User) -> str:
    return tokens.make_token(secret_key, "reset", user.id, user.password_hash)


def reset_password_with_token(session: Session, secret_key: str, token: str, password: str):
    """Set a new password from a reset link; raises ``tokens.InvalidToken`` or
    ``WeakPassword``. The old link stops working because the hash it is bound to changed."""
    user = user_for_reset_token(session, secret_key, token)
    set_password(session, user, password)
    return user


def _token_user(session, secret_key, purpose, token, max_age, bound_to) -> tuple[User, dict]:
    """The active user a link is for, once its signature, age and binding check out;
    ``bound_to(user)`` is what the link was made against."""
    payload = tokens.read_token(secret_key, purpose, token, max_age)
    user = session.get(User, payload["u"])
    if user is None or not user.active:
        raise tokens.InvalidToken("no such user")
    tokens.check_binding(payload, bound_to(user))
    return user, payload


def user_for_reset_token(session: Session, secret_key: str, token: str) -> User:
    user, _ = _token_user(
        session, secret_key, "reset", token, tokens.RESET_MAX_AGE, lambda u: u.password_hash
    )
    return user


def email_change_token(secret_key: str, user: User, new_email: str) -> str:
    return tokens.make_token(secret_key, "email", user.id, user.email, e=new_email)


def confirm_email_token(secret_key: str, user: User) -> str:
    return tokens.make_token(secret_key, "confirm", user.id, user.email)


def confirm_email(session: Session, secret_key: str, token: str) -> User:
    user, _ = _token_user(
        session, secret_key, "confirm", token, tokens.CONFIRM_MAX_AGE, lambda u: u.email
    )
    if user.email_confirmed_at is None:
        user.email_confirmed_at = utcnow()
    return user


def apply_email_change(session: Session, secret_key: str, token: str) -> User:
    """Switch to the new address from a confirmation link; the link is single use."""
    user, payload = _token_user(
        session, secret_key, "email", token, tokens.CONFIRM_MAX_AGE, lambda u: u.email
    )
    new_email = normalise_email(payload.get("e", ""))
    if get_user_by_email(session, new_email) is not None:
        raise tokens.InvalidToken("address taken")
    user.email = new_email
    user.email_confirmed_at = utcnow()
    session.flush()
    return user


def add_address(user: User, **fields) -> Address:
    address = Address(**fields)
    user.addresses.append(address)
    return address


def get_own_address(session: Session, user: User, address_id: int) -> Address | None:
    """The address if it belongs to ``user``; anyone else's is as good as missing."""
    address = session.get(Address, address_id)
    return address if address is not None and address.user_id == user.id else None


def update_address(address: Address, **fields) -> None:
    for name, value in fields.items():
        setattr(address, name, value)


def remove_address(session: Session, user: User, address_id: int) -> bool:
    address = get_own_address(session, user, address_id)
    if address is None:
        return False
    session.delete(address)
    return True


def save_staff(session: Session, *, email: str, role: str, name: str = "") -> tuple[User, bool]:
    """Create a staff account or change an existing account's role. A new account gets
    an unusable random password; the caller hands out a set-password link."""
    if role not in STAFF_ROLES and role not in ROLES:
        raise UnknownRole()
    email = normalise_email(email)
    found = get_user_by_email(session, email)
    created = found is None
    if found is None:
        user = User(
            email=email,
            name=name,
            password_hash=passwords.hash_password(secrets.token_urlsafe(32)),
        )
        session.add(user)
    else:
        user = found
    user.role = role
    user.active = True
    session.flush()
    return user, created
