"""Error pages in the shop's layout."""

from contextlib import suppress

from flask import Flask, current_app, g, make_response, render_template, request
from flask_babel import gettext as _
from flask_wtf.csrf import CSRFError
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError
from sqlalchemy.exc import IntegrityError, OperationalError
from werkzeug.exceptions import HTTPException, InternalServerError

from shop.security import request_id


def render_error(status: int, title: str, message: str, reference: str | None = None):
    """An error page; every one shows the request id as its reference, so a customer can
    quote it and staff find the request's log lines."""
    page = render_template(
        "errors/error.html",
        status=status,
        title=title,
        message=message,
        reference=reference or request_id(),
    )
    return page, status


def handle_http_error(error: HTTPException):
    messages = {
        400: (_("Bad request"), _("The request could not be understood.")),
        403: (_("Not allowed"), _("You do not have permission to see this page.")),
        404: (_("Page not found"), _("We could not find that page. It may have moved.")),
        405: (_("Not allowed"), _("That action is not available here.")),
        413: (_("Too large"), _("What you sent is too large. Go back and send less.")),
    }
    status = error.code or 500
    title, message = messages.get(status, (error.name, error.description or ""))
    return render_error(status, title, message)


def handle_csrf_error(error: CSRFError):
    return render_error(
        400,
        _("Form expired"),
        _("This form was missing its security token or it expired. Go back, reload and try again."),
    )


def handle_server_error(error: InternalServerError):
    # Flask has already logged the exception (app.logger, with the request id); the page
    # shows the same id so a customer can quote it.
    return render_error(
        500,
        _("Something went wrong"),
        _("Sorry, something broke on our side. Nothing you entered was charged; please try again."),
    )


def conflict_page():
    """Two people saved the same unique thing (a slug, a SKU) at the same moment: the
    second save is undone and told so, instead of a server error."""
    session = g.get("db_session")
    if session is not None:
        session.rollback()
    return render_error(
        409,
        _("Saved by someone else first"),
        _(
            "Someone saved the same name or code at the same moment, so your change was not "
            "saved. Go back, check the form and save again."
        ),
    )


def handle_integrity_error(error: IntegrityError):
    return conflict_page()


UNAVAILABLE_RETRY_SECONDS = 5


def handle_backend_unavailable(error: Exception):
    """The database or Redis did not answer (a restart, a failover): a 503 that says to
    try again shortly, instead of a server error. What the request began is rolled back."""
    current_app.logger.error("a backing service did not answer: %s", error)
    session = g.get("db_session")
    if session is not None:
        with suppress(Exception):  # the connection may be the thing that is gone
            session.rollback()
    # "Try again" reloads a page; after a form, the visitor goes back to it themselves.
    retry_path = request.full_path.rstrip("?") if request.method == "GET" else "/"
    page = render_template("errors/unavailable.html", reference=request_id(), retry_path=retry_path)
    response = make_response(page, 503)
    response.headers["Retry-After"] = str(UNAVAILABLE_RETRY_SECONDS)
    response.headers["Cache-Control"] = "no-store"
    return response


def register_error_handlers(app: Flask) -> None:
    # Connection trouble only: OperationalError is "could not connect / server closed the
    # connection / database is locked", never a bug in a statement.
    for unavailable in (OperationalError, RedisConnectionError, RedisTimeoutError):
        app.register_error_handler(unavailable, handle_backend_unavailable)
    app.register_error_handler(IntegrityError, handle_integrity_error)
    app.register_error_handler(CSRFError, handle_csrf_error)
    app.register_error_handler(InternalServerError, handle_server_error)
    app.register_error_handler(HTTPException, handle_http_error)
