"""The ledger's kinds and states in words, for the reseller's pages and statements."""

from flask_babel import lazy_gettext as _l

KIND_LABELS = {"commission": _l("Commission"), "reversal": _l("Reversal")}
STATE_LABELS = {"pending": _l("Pending"), "approved": _l("Approved"), "paid": _l("Paid")}
