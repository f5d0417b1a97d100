"""The shop's languages and how translated columns are read. No Flask here."""

LANGUAGES = {"en": "English", "zh_CN": "简体中文", "ja": "日本語"}


def localized(obj, field: str, locale: str) -> str:
    """``obj.<field>_<lang>`` when set for the locale, else the English ``obj.<field>``."""
    language = locale.split("_")[0]
    if language != "en":
        value = getattr(obj, f"{field}_{language}", None)
        if value:
            return value
    return getattr(obj, field)
