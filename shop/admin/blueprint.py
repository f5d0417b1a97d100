"""The ``admin`` blueprint (``/admin``) and its navigation. Each area's routes live in its
own module (``views`` for the dashboard, ``orders``, ``invoices``, ``products``, ``stock``,
``production``, ``schools``, ``resellers``, ``campaigns``, ``staff``, ``search`` for the search
synonyms), which imports ``bp`` from here; ``shop.create_app`` imports them before it
registers the blueprint."""

from flask import Blueprint
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from shop.accounts.permissions import PERMISSIONS, has_permission

bp = Blueprint("admin", __name__, url_prefix="/admin")

# The admin's areas: the page's endpoint, its label, and the permission that opens it.
NAV = (
    ("admin.dashboard", _l("Dashboard"), "admin.access"),
    ("admin.order_list", _l("Orders"), "orders.view"),
    ("admin.invoice_list", _l("Invoices"), "orders.view"),
    ("admin.product_list", _l("Products"), "catalog.manage"),
    ("admin.category_list", _l("Categories"), "catalog.manage"),
    ("admin.search_synonyms_list", _l("Search synonyms"), "catalog.manage"),
    ("admin.stock", _l("Stock"), "stock.manage"),
    ("admin.csv", _l("CSV"), "catalog.manage"),
    ("admin.production_queue", _l("Production"), "production.manage"),
    ("admin.school_list", _l("Schools"), "schools.manage"),
    ("admin.reseller_list", _l("Resellers"), "resellers.manage"),
    ("admin.campaign_list", _l("Group buys"), "campaigns.manage"),
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
