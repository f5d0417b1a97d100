"""Country-aware address rules: what a courier in China, Japan or Singapore needs.

Plain functions returning ``{field: problem code}``; forms turn codes into messages.
China: a province and a six-digit postcode. Japan: a prefecture and a postcode like
``123-4567``. Singapore: a six-digit postcode (no region). Both China and Japan's
couriers call ahead, so a phone number is required there. Elsewhere: free form.
"""

import re

PHONE = re.compile(r"\+?[0-9][0-9 ()-]{5,30}")


def normalise_postcode(country: str, postcode: str) -> str:
    postcode = (postcode or "").strip()
    if country == "JP":
        digits = re.sub(r"[\s\-－ー〒]", "", postcode)
        if re.fullmatch(r"[0-9]{7}", digits):
            return f"{digits[:3]}-{digits[3:]}"
    if country in ("CN", "SG"):
        return re.sub(r"\s", "", postcode)
    return postcode


def address_problems(*, country: str, region: str, postcode: str, phone: str) -> dict[str, str]:
    problems: dict[str, str] = {}
    postcode = normalise_postcode(country, postcode)
    if country in ("CN", "JP") and not region.strip():
        problems["region"] = "region_required"
    if country in ("CN", "SG") and not re.fullmatch(r"[0-9]{6}", postcode):
        problems["postcode"] = "postcode_six_digits"
    if country == "JP" and not re.fullmatch(r"[0-9]{3}-[0-9]{4}", postcode):
        problems["postcode"] = "postcode_japan"
    if country in ("CN", "JP") and not phone.strip():
        problems["phone"] = "phone_required"
    elif phone.strip() and not PHONE.fullmatch(phone.strip()):
        problems["phone"] = "phone_invalid"
    return problems
