"""Errors to Sentry when ``SENTRY_DSN`` is set and ``sentry-sdk`` is installed (the
optional ``sentry`` extra: ``pip install '.[sentry]'``).

Events carry the environment (``SHOP_ENV``), the release (``SENTRY_RELEASE``, else the
build id of the code and templates) and the request id as a tag, so an event, a log line
and a customer's "Reference: …" meet. No personal data: no cookies, user or IP address,
no local variables in stack frames (the WSGI environ, a buyer's details) and no request
bodies (checkout forms), on sentry-sdk 2 and 3 alike (their options differ; see
``sentry_options``). The tests check what actually arrives.
Without the package the shop logs one warning and goes on.
"""

import os

from flask import Flask, has_request_context

from shop.security import request_id


def tag_request_id(event: dict, hint: dict) -> dict:
    if has_request_context():
        event.setdefault("tags", {})["request_id"] = request_id()
    return event


def sentry_options(app: Flask, sdk_version: str) -> dict:
    """The client's options for sentry-sdk ``sdk_version`` (2.x or 3.x).

    A shop's frames and forms hold names, addresses, emails: the stack trace goes without
    local variables, and no request body is sent. sentry-sdk 3 says so in one
    ``data_collection`` option, whose defaults would also send the visitor's IP address
    and cookies; 2.x has separate options and sends neither unless asked.
    """
    build = app.extensions.get("page_build")
    release = os.environ.get("SENTRY_RELEASE") or (f"sourcefront@{build}" if build else None)
    options = {
        "dsn": app.config["SENTRY_DSN"],
        "environment": app.config["SHOP_ENV"],
        "release": release,
        "before_send": tag_request_id,
        "max_request_body_size": "never",
    }
    if int(sdk_version.split(".")[0]) >= 3:
        options["data_collection"] = {
            "user_info": False,
            "cookies": {"mode": "off"},
            "http_bodies": [],
            "stack_frame_variables": False,
        }
    else:
        options["include_local_variables"] = False
    return options


def init_app(app: Flask) -> None:
    if not app.config.get("SENTRY_DSN"):
        return
    try:
        import sentry_sdk
        from sentry_sdk.integrations.flask import FlaskIntegration
    except ImportError:
        app.logger.warning(
            "SENTRY_DSN is set but sentry-sdk is not installed (pip install '.[sentry]'): "
            "errors are only logged."
        )
        return
    sentry_sdk.init(integrations=[FlaskIntegration()], **sentry_options(app, sentry_sdk.VERSION))
