"""The colours garments come in: a stored key, a translatable name and a swatch."""

from flask_babel import lazy_gettext as _l

COLOURS = {
    "white": (_l("White"), "#ffffff"),
    "navy": (_l("Navy"), "#1f2a44"),
    "black": (_l("Black"), "#1b1b1b"),
    "grey": (_l("Grey"), "#8a8d91"),
    "charcoal": (_l("Charcoal"), "#3c4043"),
    "sky": (_l("Sky blue"), "#8ec5e8"),
    "royal": (_l("Royal blue"), "#2851a3"),
    "red": (_l("Red"), "#b3261e"),
    "maroon": (_l("Maroon"), "#6d1f2f"),
    "green": (_l("Bottle green"), "#1e5b3a"),
    "khaki": (_l("Khaki"), "#b8a77a"),
    "tartan": (_l("Tartan"), "#5a3d5c"),
    "orange": (_l("Safety orange"), "#e8711c"),
    "yellow": (_l("Hi-vis yellow"), "#d9e021"),
}


def colour_name(key: str) -> str:
    entry = COLOURS.get(key)
    return str(entry[0]) if entry else key
