"""The factory admin. Each area arrives with its issue; the home page says what the
signed-in staff member's role lets them do."""

import sqlalchemy as sa
from flask import Blueprint, render_template
from flask_login import current_user

from shop.accounts.access import require_permission
from shop.accounts.permissions import ROLE_PERMISSIONS, has_permission
from shop.db import get_session
from shop.orders.messages import unread_counts
from shop.orders.models import Order

bp = Blueprint("admin", __name__, url_prefix="/admin")


@bp.get("/")
@require_permission("admin.access")
def dashboard():
    desk = None
    if has_permission(current_user, "orders.view"):
        db = get_session()
        unread = unread_counts(db)
        desk = {
            "unread_messages": sum(unread.values()),
            "orders_with_unread": len(unread),
            "needs_attention": db.scalar(
                sa.select(sa.func.count(Order.id)).where(Order.needs_attention.is_(True))
            ),
        }
    return render_template(
        "admin/dashboard.html",
        permissions=sorted(ROLE_PERMISSIONS[current_user.role]),
        desk=desk,
    )


# The areas' routes live in their own modules, on this blueprint.
from shop.admin import orders  # noqa: E402, F401
