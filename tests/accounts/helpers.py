import re
from functools import lru_cache

from werkzeug.security import generate_password_hash

from shop.accounts.models import User
from shop.db import utcnow

PASSWORD = "correct horse battery"


@lru_cache(maxsize=16)
def quick_hash(password: str) -> str:
    """A real scrypt hash with a small work factor: the shop verifies it the usual way, in
    a millisecond instead of a tenth of a second. (The shop's own hashing is tested where
    accounts are registered through its forms.)"""
    return generate_password_hash(password, method="scrypt:1024:8:1")


def make_user(session, email="ann@example.com", role="customer", password=PASSWORD, **fields):
    user = User(
        email=email,
        name=fields.pop("name", "Ann"),
        role=role,
        password_hash=quick_hash(password),
        email_confirmed_at=utcnow(),
        **fields,
    )
    session.add(user)
    session.commit()
    return user


def login(client, email="ann@example.com", password=PASSWORD, **extra):
    return client.post("/account/login", data={"email": email, "password": password, **extra})


def link_in(message) -> str:
    """The one shop link in an email's text part, as a path."""
    text = message.get_body(("plain",)).get_content()
    url = re.search(r"https?://\S+", text).group(0)
    return re.sub(r"^https?://[^/]+", "", url)
