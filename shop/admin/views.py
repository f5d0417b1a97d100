"""The factory admin. The home page (``/admin/``) is shaped by the signed-in staff
member's role: sales figures for those who see reports, the work waiting at the order
desk for everyone, low stock for those who keep it, unread messages for those who answer
them. The figures are worked out in ``shop.admin.dashboard`` and the chart's geometry in
``shop.admin.chart``; this module only asks and renders."""

from datetime import UTC, datetime

from flask import render_template, url_for
from flask_login import current_user

from shop.accounts.access import require_permission
from shop.accounts.permissions import ROLE_LABELS, ROLE_PERMISSIONS, has_permission
from shop.admin import dashboard as figures
from shop.admin.blueprint import bp
from shop.admin.chart import bar_chart
from shop.db import get_session
from shop.i18n import shop_today, shop_zone
from shop.orders.messages import unread_counts


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
    low_stock_total = None
    if may("stock.manage") or may("catalog.manage"):
        low_stock_total = figures.count_low_stock(db)
    # The stock list filtered to low stock; the product list's filter for catalogue staff.
    low_stock_link = (
        url_for("admin.stock", low="1")
        if may("stock.manage")
        else url_for("admin.product_list", low="1")
    )
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
        role_label=ROLE_LABELS.get(current_user.role, current_user.role),
        sales=sales,
        charts=charts,
        waiting=waiting,
        waiting_filters=figures.WAITING_FILTERS,
        low_stock_total=low_stock_total,
        low_stock_link=low_stock_link,
        unread=unread,
        can_answer=may("messages.manage"),
        can_stock=may("stock.manage"),
    )
