"""Campaign and participant states, payment modes and deliveries as people read them (the
leader's and staff's pages)."""

from flask_babel import lazy_gettext as _l

from shop.groupbuys.models import CAMPAIGN_STATES, DELIVERIES, LEADER_REWARDS, PARTICIPANT_STATES

CAMPAIGN_STATE_LABELS = {
    "pending_approval": _l("Waiting for approval"),
    "open": _l("Open"),
    "closing": _l("Closing"),
    "closed": _l("Closed"),
    "failed": _l("Did not reach its minimum"),
    "rejected": _l("Not approved"),
}
PARTICIPANT_STATE_LABELS = {
    "pending": _l("Card not given yet"),
    "held": _l("Card held"),
    "charged": _l("Paid at joining"),
    "left": _l("Left"),
    "captured": _l("Paid"),
    "payment_due": _l("Not paid yet"),
    "released": _l("Released"),
    "lapsed": _l("Did not pay in time"),
}
DELIVERY_LABELS = {
    "pickup": _l("Pick-up point"),
    "each": _l("To each participant"),
}
REWARD_LABELS = {
    "none": _l("Nothing"),
    "commission": _l("A commission through the reseller ledger"),
    "credit": _l("A credit per piece"),
}
for _labels, _known in (
    (CAMPAIGN_STATE_LABELS, CAMPAIGN_STATES),
    (PARTICIPANT_STATE_LABELS, PARTICIPANT_STATES),
    (DELIVERY_LABELS, DELIVERIES),
    (REWARD_LABELS, LEADER_REWARDS),
):
    if set(_labels) != set(_known):
        raise ValueError("a group-buy state without a label")
