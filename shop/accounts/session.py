"""Flask-Login wiring: who the current user is, and where anonymous visitors go.

The id Flask-Login keeps in the session and in the remember-me cookie is
``"<user id>:<session version>"`` (``User.get_id``). A cookie whose version is not the
account's current one is refused, so bumping the version (``service.end_sessions``) ends
every session and remember-me cookie of the account at once, copies included.
"""

import re

from flask import Flask, current_app, g, request, session
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_login.config import AUTH_HEADER_NAME, COOKIE_NAME
from flask_login.utils import _get_user, _user_context_processor

from shop.accounts.models import User
from shop.db import get_session
from shop.extensions import login_manager
from shop.inputs import parse_id

SESSION_ID = re.compile(r"(\d{1,18}):(\d{1,18})")


def load_user(user_id: str) -> User | None:
    match = SESSION_ID.fullmatch(user_id or "")
    if match is None:  # includes bare ids from before session versions
        return None
    user_key = parse_id(match.group(1))
    user = get_session().get(User, user_key) if user_key is not None else None
    if user is None or not user.active or user.session_version != int(match.group(2)):
        return None
    return user


def maybe_signed_in() -> bool:
    """Whether this request may belong to a signed-in user, known without loading one:
    a user id in the session, or a remember-me cookie Flask-Login would sign in from.
    Pages for visitors who are plainly anonymous skip the user lookup (and Flask-Login's
    session protection, which rewrites the session cookie on every such request)."""
    remember_cookie = current_app.config.get("REMEMBER_COOKIE_NAME", "remember_token")
    return "_user_id" in session or bool(request.cookies.get(remember_cookie))


def signed_in_user() -> User | None:
    """The signed-in user, or ``None``; a plainly anonymous visitor (``maybe_signed_in``)
    is known without asking Flask-Login."""
    if maybe_signed_in() and current_user.is_authenticated:
        return current_user._get_current_object()
    return None


def user_context() -> dict:
    """Flask-Login's context processor (``current_user`` in every template), answering a
    new visitor (an empty session, no remember-me cookie, no ``Authorization`` header)
    without Flask-Login's lookup: for such a request Flask-Login finds the anonymous user
    and changes nothing (its session protection passes an empty session by), after
    hashing the visitor's address and browser for that protection. The same user is kept
    on ``g`` where Flask-Login keeps it."""
    app_g = g._get_current_object()
    if "_login_user" not in app_g and not session and _no_credentials(request.cookies):
        login_manager._update_request_context_with_user()  # the anonymous user, on g
    return {"current_user": _get_user()}


def _no_credentials(cookies) -> bool:
    config = current_app.config
    return config.get("REMEMBER_COOKIE_NAME", COOKIE_NAME) not in cookies and (
        config.get("AUTH_HEADER_NAME", AUTH_HEADER_NAME) not in request.headers
    )


def init_login(app: Flask) -> None:
    login_manager.init_app(app)
    processors = app.template_context_processors[None]
    processors[processors.index(_user_context_processor)] = user_context
    login_manager.user_loader(load_user)
    login_manager.login_view = "accounts.login"
    login_manager.login_message = _l("Please sign in to see that page.")
    login_manager.session_protection = "strong"
