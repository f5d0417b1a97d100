"""A window's statuses and staff's actions on it, in words, in every language."""

from flask_babel import lazy_gettext as _l

from shop.resellers.models import STATUSES
from shop.resellers.rules import TRANSITIONS

STATUS_LABELS = {
    "applied": _l("Applied"),
    "approved": _l("Approved"),
    "suspended": _l("Suspended"),
    "closed": _l("Closed"),
}
ACTION_LABELS = {
    "approve": _l("Approve"),
    "suspend": _l("Suspend"),
    "reinstate": _l("Reinstate"),
    "close": _l("Close"),
}
assert set(STATUS_LABELS) == set(STATUSES) and set(ACTION_LABELS) == set(TRANSITIONS)
