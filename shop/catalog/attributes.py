"""Who a garment is for: a product's gender and age group (both optional), stored as
keys with translatable names, as ``colours`` does for colours.

The listing filters by them (``shop.catalog.listing``); staff set them in the product
form and the catalogue CSV (``gender``, ``age_group`` columns). A listing filtered on
girls' or boys' items also shows unisex ones: a unisex polo fits either.
"""

from flask_babel import lazy_gettext as _l

UNISEX = "unisex"
GENDERS = {
    "girls": _l("Girls / women"),
    "boys": _l("Boys / men"),
    UNISEX: _l("Unisex"),
}
AGE_GROUPS = {
    "kindergarten": _l("Kindergarten"),
    "primary": _l("Primary school"),
    "secondary": _l("Secondary school"),
    "adult": _l("Adults"),
}


def gender_name(key: str | None) -> str:
    label = GENDERS.get(key or "")
    return str(label) if label is not None else (key or "")


def age_group_name(key: str | None) -> str:
    label = AGE_GROUPS.get(key or "")
    return str(label) if label is not None else (key or "")
