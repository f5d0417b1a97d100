"""The colours garments come in: a stored key, a translatable name and a swatch."""

import unicodedata
from functools import cache
from pathlib import Path

from babel.support import Translations
from flask_babel import lazy_gettext as _l

TRANSLATIONS_DIR = Path(__file__).resolve().parent.parent / "translations"
CATALOGUE_LOCALES = ("zh_Hans_CN", "ja")
# What people write besides the shop's own names (a school's list says 紺, not ネイビー).
SPOKEN_NAMES = {
    "藏蓝": "navy",
    "藏蓝色": "navy",
    "深蓝": "navy",
    "深蓝色": "navy",
    "紺": "navy",
    "紺色": "navy",
    "黒": "black",
    "黒色": "black",
    "赤": "red",
    "緑": "green",
    "深緑": "green",
    "水色": "sky",
    "えんじ": "maroon",
    "チャコール": "charcoal",
    "グレイ": "grey",
}

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


@cache
def colour_aliases() -> dict[str, str]:
    """Every way a spreadsheet may name a colour → its key: the key, its English name
    and its Chinese and Japanese names (as the shop shows them), casefolded and NFKC
    normalised; a Chinese name ending in 色 also without it ("白色" and "白"). Read from
    the translation catalogues themselves (no request or app needed)."""
    aliases: dict[str, str] = {}

    def add(name: str, key: str) -> None:
        text = unicodedata.normalize("NFKC", name).strip().casefold()
        if text:
            aliases.setdefault(text, key)

    catalogues = [Translations.load(str(TRANSLATIONS_DIR), [code]) for code in CATALOGUE_LOCALES]
    for key, (name, _swatch) in COLOURS.items():
        add(key, key)
        # The msgid itself: str() would be in whatever language the first caller reads.
        english = getattr(name, "_args", (str(name),))[0]
        add(english, key)
        for catalogue in catalogues:
            translated = catalogue.gettext(english)
            add(translated, key)
            if len(translated) > 1 and translated.endswith("色"):
                add(translated[:-1], key)
    for name, key in SPOKEN_NAMES.items():
        add(name, key)
    return aliases


def colour_key(text: str) -> str | None:
    """The colour key a typed name means (``"藏青色"``, ``"ネイビー"``, ``"Navy"``), if any."""
    return colour_aliases().get(unicodedata.normalize("NFKC", text).strip().casefold())
