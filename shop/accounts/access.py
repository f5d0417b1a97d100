"""The one permission check for views: ``@require_permission("orders.view")``.

Anonymous visitors go to the login page with a safe ``next``; signed-in users without
the permission get the 403 page in the shop's layout.
"""

from functools import wraps

from flask import abort, redirect, request, url_for
from flask_login import current_user

from shop.accounts.permissions import PERMISSIONS, has_permission


def _to_login():
    return redirect(url_for("accounts.login", next=request.full_path.rstrip("?")))


def require_permission(permission: str):
    if permission not in PERMISSIONS:
        raise ValueError(f"unknown permission {permission!r}")

    def decorator(view):
        @wraps(view)
        def wrapped(*args, **kwargs):
            if not current_user.is_authenticated:
                return _to_login()
            if not has_permission(current_user, permission):
                abort(403)
            return view(*args, **kwargs)

        return wrapped

    return decorator


def require_login(view):
    @wraps(view)
    def wrapped(*args, **kwargs):
        if not current_user.is_authenticated:
            return _to_login()
        return view(*args, **kwargs)

    return wrapped
