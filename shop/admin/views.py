"""The factory admin. The home page (``/admin/``) is shaped by the signed-in staff
member's role: sales figures for those who see reports, the work waiting at the order
desk for everyone, low stock for those who keep it, unread messages for those who answer
them. The figures are worked out in ``shop.admin.dashboard`` and the chart's geometry in
``shop.admin.chart``; this module only asks and renders."""

from datetime import UTC, datetime

from flask import Blueprint, render_template
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from shop.accounts.access import require_permission
from shop.accounts.permissions import PERMISSIONS, ROLE_PERMISSIONS, has_permission
from shop.admin import dashboard as figures
from shop.admin.chart import bar_chart
from shop.db import get_session
from shop.i18n import shop_today, shop_zone
from shop.orders.messages import unread_counts

bp = Blueprint("admin", __name__, url_prefix="/admin")

# The admin's areas: the page's endpoint, its label, and the permission that opens it.
NAV = (
    ("admin.dashboard", _l("Dashboard"), "admin.access"),
    ("admin.order_list", _l("Orders"), "orders.view"),
    ("admin.invoice_list", _l("Invoices"), "orders.view"),
    ("admin.product_list", _l("Products"), "catalog.manage"),
    ("admin.category_list", _l("Categories"), "catalog.manage"),
    ("admin.stock", _l("Stock"), "stock.manage"),
    ("admin.csv", _l("CSV"), "catalog.manage"),
    ("admin.production_queue", _l("Production"), "production.manage"),
    ("admin.school_list", _l("Schools"), "schools.manage"),
    ("admin.staff", _l("Staff"), "staff.manage"),
    ("admin.audit", _l("Audit log"), "staff.manage"),
)
for _endpoint, _label, _permission in NAV:
    if _permission not in PERMISSIONS:
        raise ValueError(f"unknown permission {_permission!r} for {_endpoint}")


def nav_items(user) -> list[tuple[str, str]]:
    """``(endpoint, label)`` for each area ``user`` may open."""
    return [
        (endpoint, label) for endpoint, label, permission in NAV if has_permission(user, permission)
    ]


@bp.context_processor
def admin_navigation():
    """Every admin page's template gets ``admin_nav`` for ``admin/_nav.html``."""
    return {"admin_nav": nav_items(current_user)}


@bp.get("/")
@require_permission("admin.access")
def dashboard():
    db = get_session()

    def may(permission: str) -> bool:
        return has_permission(current_user, permission)

    sales = charts = None
    if may("reports.view"):
        sales = figures.sales(db, datetime.now(UTC), shop_zone())
        charts = [
            bar_chart(currency, sales.days, amounts) for currency, amounts in sales.daily.items()
        ]
    today = shop_today()
    waiting = figures.waiting(db, today) if may("orders.view") else None
    low_stock = low_stock_total = None
    if may("stock.manage") or may("catalog.manage"):
        low_stock, low_stock_total = figures.low_stock(db)
    # Unread customer messages: everyone who works the order desk sees how many wait (the
    # order desk's own tests count on it for the workshop); those who answer them get the
    # link to the orders that have them.
    unread = None
    if may("orders.view"):
        counts = unread_counts(db)
        unread = {"messages": sum(counts.values()), "orders": len(counts)}
    return render_template(
        "admin/dashboard.html",
        permissions=sorted(ROLE_PERMISSIONS[current_user.role]),
        sales=sales,
        charts=charts,
        waiting=waiting,
        waiting_filters=figures.WAITING_FILTERS,
        low_stock=low_stock,
        low_stock_total=low_stock_total,
        unread=unread,
        can_answer=may("messages.manage"),
        can_stock=may("stock.manage"),
    )


# The areas' routes live in their own modules, on this blueprint: one line each (the
# I001 waiver keeps a formatter from merging them into one shared statement).
from shop.admin import orders  # noqa: E402, F401, I001
from shop.admin import staff  # noqa: E402, F401
from shop.admin import stock  # noqa: E402, F401
from shop.admin import products  # noqa: E402, F401
from shop.admin import production  # noqa: E402, F401
from shop.admin import schools  # noqa: E402, F401
from shop.admin import invoices  # noqa: E402, F401
