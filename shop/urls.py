"""Redirect targets: only paths on this site."""

from urllib.parse import unquote, urlsplit


def safe_next_path(target: str | None, default: str = "/") -> str:
    """Return ``target`` if it is a local path, else ``default``.

    Refuses absolute and scheme-relative URLs, backslashes and their percent-encoded
    forms, and control characters that browsers strip before resolving.
    """
    if not target:
        return default
    decoded = target
    for _ in range(3):  # catch double-encoded //, \\ and schemes
        decoded = unquote(decoded)
    if any(ord(ch) < 32 for ch in decoded) or "\\" in decoded:
        return default
    if not decoded.startswith("/") or decoded.startswith("//"):
        return default
    parts = urlsplit(decoded)
    if parts.scheme or parts.netloc:
        return default
    return target
