"""The factory admin. Each area arrives with its issue; the home page says what the
signed-in staff member's role lets them do."""

from flask import Blueprint, render_template
from flask_login import current_user

from shop.accounts.access import require_permission
from shop.accounts.permissions import ROLE_PERMISSIONS

bp = Blueprint("admin", __name__, url_prefix="/admin")


@bp.get("/")
@require_permission("admin.access")
def dashboard():
    return render_template(
        "admin/dashboard.html",
        permissions=sorted(ROLE_PERMISSIONS[current_user.role]),
    )
