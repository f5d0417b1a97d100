"""Absolute links for emails and printed documents, always on ``SHOP_BASE_URL``.

Never on the request's ``Host`` header: a visitor chooses that header, so a reset link
built from it (``url_for(..., _external=True)``) could point at an attacker's site.
Works inside and outside a request (CLI commands, jobs).
"""

from urllib.parse import urlsplit

from flask import current_app


def external_url(endpoint: str, **values) -> str:
    """``url_for(endpoint, **values)`` as an absolute URL on ``SHOP_BASE_URL``."""
    base = urlsplit(current_app.config["SHOP_BASE_URL"])
    adapter = current_app.url_map.bind(
        base.netloc, script_name=base.path or "/", url_scheme=base.scheme
    )
    current_app.inject_url_defaults(endpoint, values)
    anchor = values.pop("_anchor", None)
    url = adapter.build(endpoint, values, force_external=True)
    return f"{url}#{anchor}" if anchor else url
