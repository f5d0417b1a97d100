"""Who may do what: roles as data, and the one check every view uses.

Staff roles mirror how the factory works. ``PERMISSIONS`` is the whole vocabulary;
``ROLE_PERMISSIONS`` is the table the README shows and the tests walk.
"""

from flask_babel import lazy_gettext as _l

PERMISSIONS = (
    "admin.access",  # open /admin at all
    "catalog.manage",  # listings, prices, images, categories
    "stock.manage",  # adjust stock, ledger
    "orders.view",
    "orders.manage",  # move orders, cancel, refund
    "shipping.manage",  # pick, pack, ship
    "customers.view",
    "messages.manage",
    "production.manage",  # the production queue
    "reports.view",  # dashboard figures, revenue
    "schools.manage",
    "resellers.manage",  # resellers' windows: applications, approve, suspend, close
    "campaigns.manage",  # group buys: approve, reject, their ladders, the programme
    "staff.manage",  # staff accounts and the audit log
)

STAFF_ROLES = ("owner", "manager", "warehouse", "service", "workshop")
# A school's bursar or teacher, invited by factory staff: sees only their school's pages
# (``shop.schools.access``), never the factory admin.
ROLES = ("customer", "school_admin", *STAFF_ROLES)

# Each role as people read it (the staff page, the dashboard, the audit log's sentences).
ROLE_LABELS = {
    "customer": _l("Customer"),
    "school_admin": _l("School administrator"),
    "owner": _l("Owner"),
    "manager": _l("Manager"),
    "warehouse": _l("Warehouse"),
    "service": _l("Customer service"),
    "workshop": _l("Workshop"),
}

ROLE_PERMISSIONS: dict[str, frozenset[str]] = {
    "customer": frozenset(),
    "school_admin": frozenset(),
    "owner": frozenset(PERMISSIONS),
    "manager": frozenset(PERMISSIONS) - {"staff.manage"},
    "warehouse": frozenset({"admin.access", "stock.manage", "orders.view", "shipping.manage"}),
    "service": frozenset(
        {"admin.access", "orders.view", "orders.manage", "customers.view", "messages.manage"}
    ),
    "workshop": frozenset({"admin.access", "orders.view", "production.manage"}),
}


def has_permission(user, permission: str) -> bool:
    """``user`` is anything with ``role`` and ``is_active`` (or an anonymous user)."""
    if permission not in PERMISSIONS:
        raise ValueError(f"unknown permission {permission!r}")
    if not getattr(user, "is_authenticated", False) or not getattr(user, "is_active", False):
        return False
    return permission in ROLE_PERMISSIONS.get(user.role, frozenset())
