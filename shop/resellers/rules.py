"""The rules of a window that need no database: what makes a handle, a social link and a
status change valid. Forms and services ask these, so a rule is written once."""

import re
from urllib.parse import urlsplit

from flask_babel import lazy_gettext as _l

from shop.catalog.rules import SLUG_PATTERN
from shop.exceptions import ShopError

HANDLE_MIN_LENGTH = 3
HANDLE_MAX_LENGTH = 30
DISPLAY_NAME_MAX_LENGTH = 60
BIO_MAX_LENGTH = 280
NOTE_MAX_LENGTH = 120
MAX_LINKS = 5
LINK_MAX_LENGTH = 300
COLLECTION_SLUG_MAX_LENGTH = 60
COLLECTION_TITLE_MAX_LENGTH = 80
# A window shows at most this many picks, in at most this many collections: the owner's
# pages and the renumbering of positions stay small.
MAX_PICKS = 500
MAX_COLLECTIONS = 20

_HANDLE = re.compile(SLUG_PATTERN)
# Words a handle may not be: the shop's own top-level URL segments (a test walks the URL
# map and checks that every one is here) and words that would pass for the factory.
RESERVED_HANDLES = frozenset(
    {
        # the shop's top-level paths
        "account", "admin", "cart", "checkout", "g", "healthz", "media", "metrics",
        "orders", "preferences", "products", "readyz", "schools", "static", "stripe",
        "track", "w",
        # words of URLs and of the web
        "api", "new", "edit", "delete", "settings", "login", "logout", "register",
        "signin", "signup", "reset", "search", "help", "support", "about", "contact",
        "terms", "privacy", "legal", "www", "mail", "email", "ftp", "cdn", "assets",
        "images", "img", "css", "js", "null", "none", "undefined", "root",
        # words that would pass for the factory
        "shop", "store", "factory", "official", "sourcefront", "staff", "owner",
        "manager", "system", "reseller", "resellers", "window", "windows",
    }
)  # fmt: skip


def clean_handle(raw: str | None) -> str:
    """A handle as typed, trimmed and lowercased (``" Ann-Shop "`` → ``"ann-shop"``)."""
    return (raw or "").strip().lower()


def handle_problem(handle: str) -> str | None:
    """Why ``handle`` (cleaned) cannot name a window, or ``None`` when it can."""
    if not HANDLE_MIN_LENGTH <= len(handle) <= HANDLE_MAX_LENGTH:
        return str(
            _l(
                "Use %(min)d to %(max)d characters.",
                min=HANDLE_MIN_LENGTH,
                max=HANDLE_MAX_LENGTH,
            )
        )
    if not handle.isascii() or not _HANDLE.fullmatch(handle):
        return str(_l("Use lowercase letters, digits and single hyphens only (like ann-picks)."))
    if handle in RESERVED_HANDLES:
        return str(_l("That name is reserved; choose another."))
    return None


def split_links(text: str | None) -> list[str]:
    """One link per line (blank lines dropped, each trimmed), in the order typed."""
    return [line.strip() for line in (text or "").splitlines() if line.strip()]


def link_problem(url: str) -> str | None:
    """Why ``url`` is not a link a window may show (``https://weibo.com/ann``), or
    ``None``: http or https with a host, no spaces, no credentials."""
    if len(url) > LINK_MAX_LENGTH:
        return str(_l("A link is longer than %(limit)d characters.", limit=LINK_MAX_LENGTH))
    refused = str(_l("Enter each link as a full web address starting with https://."))
    if not url.isprintable() or " " in url:
        return refused
    try:
        parts = urlsplit(url)
        host, _port = parts.hostname, parts.port
    except ValueError:  # a broken IPv6 host, a port out of range
        return refused
    if parts.scheme.lower() not in ("http", "https") or not host or "@" in parts.netloc:
        return refused
    return None


def links_problem(links: list[str]) -> str | None:
    """Why this list of links cannot be saved, or ``None``."""
    if len(links) > MAX_LINKS:
        return str(_l("At most %(n)d links.", n=MAX_LINKS))
    for link in links:
        problem = link_problem(link)
        if problem:
            return problem
    return None


def slug_from_title(title: str) -> str:
    """A collection's web address from its title: ``"Back to school!"`` →
    ``"back-to-school"``; ``""`` for a title without Latin letters or digits (开学季)."""
    words = re.findall(r"[a-z0-9]+", title.lower())
    return "-".join(words)[:COLLECTION_SLUG_MAX_LENGTH].strip("-")


def free_slug(wanted: str, taken: set[str]) -> str:
    """``wanted`` (``"collection"`` when empty), or with ``-2``, ``-3`` … the first free."""
    base = wanted or "collection"
    if base not in taken:
        return base
    number = 2
    while f"{base[: COLLECTION_SLUG_MAX_LENGTH - 8]}-{number}" in taken:
        number += 1
    return f"{base[: COLLECTION_SLUG_MAX_LENGTH - 8]}-{number}"


# --- status --------------------------------------------------------------------------

# action → (the statuses it may start from, the status it leads to)
TRANSITIONS = {
    "approve": (frozenset({"applied"}), "approved"),
    "suspend": (frozenset({"approved"}), "suspended"),
    "reinstate": (frozenset({"suspended", "closed"}), "approved"),
    "close": (frozenset({"applied", "approved", "suspended"}), "closed"),
}


class InvalidTransition(ShopError):
    message = "That change of status is not possible from the window's status."


def next_status(current: str, action: str) -> str:
    """The status ``action`` leads to from ``current``; ``InvalidTransition`` if none."""
    sources, target = TRANSITIONS.get(action, (frozenset(), ""))
    if current not in sources:
        raise InvalidTransition(f"{action} from {current}")
    return target


def available_actions(current: str) -> list[str]:
    """The actions staff may take on a window in ``current``, in ``TRANSITIONS`` order."""
    return [action for action, (sources, _target) in TRANSITIONS.items() if current in sources]
