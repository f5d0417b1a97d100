"""Order numbers: public, easy to read aloud, and impossible to guess or enumerate.

``SF-`` and ten characters from Crockford's base 32 (no I, L, O or U), drawn from the
operating system's random source: 50 bits, so a guessed number is a miss, and nothing
about one order tells you the next. The database's unique constraint is the backstop.
"""

import re
import secrets

ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
PATTERN = re.compile(r"SF-[0-9A-HJKMNP-TV-Z]{5}-[0-9A-HJKMNP-TV-Z]{5}")


def new_order_number() -> str:
    chars = "".join(secrets.choice(ALPHABET) for _ in range(10))
    return f"SF-{chars[:5]}-{chars[5:]}"


def normalise(text: str) -> str | None:
    """What a person typed (``sf 7k3m9-qx2pd``) as an order number, or ``None``."""
    cleaned = re.sub(r"[\s-]", "", text or "").upper().removeprefix("SF")
    cleaned = cleaned.translate(str.maketrans("ILO", "110"))
    candidate = f"SF-{cleaned[:5]}-{cleaned[5:]}"
    return candidate if PATTERN.fullmatch(candidate) else None
