import re

from shop.accounts.models import User
from shop.accounts.passwords import hash_password
from shop.db import utcnow

PASSWORD = "correct horse battery"


def make_user(session, email="ann@example.com", role="customer", password=PASSWORD, **fields):
    user = User(
        email=email,
        name=fields.pop("name", "Ann"),
        role=role,
        password_hash=hash_password(password),
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
