"""Flask-Login wiring: who the current user is, and where anonymous visitors go."""

from flask import Flask
from flask_babel import lazy_gettext as _l

from shop.accounts.models import User
from shop.db import get_session
from shop.extensions import login_manager


def load_user(user_id: str) -> User | None:
    if not user_id.isdigit():
        return None
    user = get_session().get(User, int(user_id))
    return user if user is not None and user.active else None


def init_login(app: Flask) -> None:
    login_manager.init_app(app)
    login_manager.user_loader(load_user)
    login_manager.login_view = "accounts.login"
    login_manager.login_message = _l("Please sign in to see that page.")
    login_manager.session_protection = "strong"
