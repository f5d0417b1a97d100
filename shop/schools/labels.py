"""The words for a uniform item's season and who it is for, in every language."""

from flask_babel import lazy_gettext as _l

from shop.schools.models import GENDERS, SEASONS

SEASON_LABELS = {"summer": _l("Summer"), "winter": _l("Winter"), "pe": _l("PE")}
GENDER_LABELS = {"any": _l("Any"), "boys": _l("Boys"), "girls": _l("Girls")}
assert set(GENDER_LABELS) == set(GENDERS) and set(SEASON_LABELS) == set(SEASONS)
