"""Password rules and hashing (Werkzeug's scrypt, a slow KDF)."""

from functools import cache
from pathlib import Path

from werkzeug.security import check_password_hash, generate_password_hash

MIN_LENGTH = 10
COMMON_PASSWORDS_FILE = Path(__file__).with_name("common_passwords.txt")


@cache
def common_passwords() -> frozenset[str]:
    lines = COMMON_PASSWORDS_FILE.read_text(encoding="utf-8").splitlines()
    return frozenset(
        line.strip().casefold() for line in lines if line.strip() and not line.startswith("#")
    )


def password_problem(password: str) -> str | None:
    """Why ``password`` is refused, as a message key for the form; ``None`` if fine."""
    if len(password) < MIN_LENGTH:
        return "too_short"
    if password.casefold() in common_passwords():
        return "too_common"
    return None


# Werkzeug's scrypt with its default work factor. The test suite lowers it (the same KDF,
# cheaper): thousands of tests each hashing a password would spend minutes on it.
HASH_METHOD = "scrypt"


def hash_password(password: str) -> str:
    """A password, an access code: any secret the shop keeps only to check."""
    return generate_password_hash(password, method=HASH_METHOD)


def verify_password(password_hash: str, password: str) -> bool:
    return check_password_hash(password_hash, password)


@cache
def dummy_hash() -> str:
    """A real hash to check when an email is unknown, so that a login for a missing
    account takes as long as one for an existing account (no enumeration by timing)."""
    return hash_password("not-a-real-password-8a1f3c")
