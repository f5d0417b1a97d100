"""The shop's languages, how translated columns are read, and the time zones of
countries, schools and orders. No Flask here."""

from functools import lru_cache
from zoneinfo import available_timezones

LANGUAGES = {"en": "English", "zh_CN": "简体中文", "ja": "日本語"}
# The language of a school's papers (packing lists, invoices, roster templates) by its
# country; elsewhere English.
COUNTRY_LOCALES = {"CN": "zh_CN", "TW": "zh_CN", "HK": "zh_CN", "MO": "zh_CN", "JP": "ja"}


def country_locale(country: str | None) -> str:
    return COUNTRY_LOCALES.get((country or "").upper(), "en")


def column_language(locale: str) -> str:
    """The suffix of a locale's translated columns: ``"zh"`` for ``zh_CN``/``zh_Hans_CN``,
    ``"ja"``, or ``"en"`` (the untranslated column)."""
    return locale.split("_")[0]


def translated(obj, field: str, locale: str) -> str | None:
    """``obj.<field>`` in the locale's language, or ``None`` where it has none (English:
    the field itself, ``None`` when empty)."""
    language = column_language(locale)
    name = field if language == "en" else f"{field}_{language}"
    return getattr(obj, name, None) or None


def factory_setting(config, key: str, locale: str) -> str:
    """The factory's ``key`` setting (``FACTORY_ADDRESS``, ``FACTORY_PICKUP_ADDRESS``...)
    in the locale's language: ``<key>_ZH``/``<key>_JA`` when set, else the English one."""
    language = column_language(locale)
    if language != "en":
        value = config.get(f"{key}_{language.upper()}")
        if value:
            return value
    return config.get(key) or ""


def localized(obj, field: str, locale: str) -> str:
    """``obj.<field>_<lang>`` when set for the locale, else the English ``obj.<field>``."""
    language = column_language(locale)
    if language != "en":
        value = getattr(obj, f"{field}_{language}", None)
        if value:
            return value
    return getattr(obj, field)


# Time zones. Each school and each order is shown in its own zone, named (``shop.i18n``
# names them; ``shop.templating.local_datetime`` formats in them). A school's zone is an
# IANA name kept on the school, by default its country's; where a country has no zone
# here, UTC.
COUNTRY_ZONES = {"CN": "Asia/Shanghai", "JP": "Asia/Tokyo", "SG": "Asia/Singapore"}
DEFAULT_ZONE = "UTC"


def zone_for_country(country: str | None) -> str:
    """``"JP"`` → ``"Asia/Tokyo"``; a country with no zone here → ``"UTC"``."""
    return COUNTRY_ZONES.get((country or "").upper(), DEFAULT_ZONE)


def order_zone(school_zone: str | None, country: str | None, default: str) -> str:
    """The zone an order is shown in: its school's, else its delivery country's, else
    ``default`` (the shop's ``ORDER_DEFAULT_TIME_ZONE``)."""
    if school_zone:
        return school_zone
    return COUNTRY_ZONES.get((country or "").upper(), default)


def is_zone(name: str) -> bool:
    """Whether ``name`` is an IANA time zone this machine knows (``"Asia/Tokyo"``)."""
    return name in _zones()


@lru_cache(maxsize=1)
def _zones() -> frozenset[str]:
    return frozenset(available_timezones())


def image_alt(image, product, locale: str) -> str:
    """A product picture's alt text for the locale: its own in that language; else the
    product's name in that language; else the English alt text; else the English name.
    ``image`` has ``alt_text``/``alt_text_zh``/``alt_text_ja``, ``product`` ``name``/
    ``name_zh``/``name_ja`` (rows or models alike)."""
    own = translated(image, "alt_text", locale)
    if own:
        return own
    return translated(product, "name", locale) or image.alt_text or product.name
