"""The shop's languages, how translated columns are read, and the time zones of
countries, schools and orders. No Flask here."""

from functools import lru_cache
from zoneinfo import available_timezones

LANGUAGES = {"en": "English", "zh_CN": "简体中文", "ja": "日本語"}


def localized(obj, field: str, locale: str) -> str:
    """``obj.<field>_<lang>`` when set for the locale, else the English ``obj.<field>``."""
    language = locale.split("_")[0]
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
