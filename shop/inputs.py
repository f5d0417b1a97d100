"""Input that the database cannot hold is refused at the door, never a server error.

Three kinds of input anyone can send would otherwise fail deep inside a view:

- **Ids beyond their column.** Every id column is at least a PostgreSQL ``INTEGER``
  (largest 2**31-1); a bigger number in a query is an error on PostgreSQL (and above
  2**63-1 on SQLite). ``<int:…>`` in a URL rule uses ``BoundedIntConverter`` (registered
  for ``int``), so such a URL simply does not match: 404. Ids posted in forms or query
  strings go through ``parse_id``, which answers ``None`` ("no such thing") for anything
  that is not an id a row could have.
- **Text PostgreSQL cannot store**: a NUL byte (and lone surrogates, which cannot be
  encoded as UTF-8). ``check_request`` looks at the path, the query string and
  the form (names and values, and uploaded files' names, not their bodies) before any
  view runs and answers 400 with a page that says what to fix. SQLite would store a NUL;
  it is refused there too, so both databases behave alike. Uploaded files are checked by
  whatever reads them (the CSV import reports the row and column).
- **JSON where a form is expected.** Flask-WTF reads a JSON body as the form's data, so
  an array or a number posted to any form view would break the form. Only the endpoints
  in ``JSON_ENDPOINTS`` take JSON (and check its shape themselves); elsewhere a JSON
  body is answered 415 before the form is built.

``parse_id`` and ``is_storable`` are plain functions for rule modules too (the CSV import,
a school's kit form); Flask is imported only inside the request hook.

Invalid UTF-8 and broken percent-encoding need nothing here: Werkzeug decodes the path,
query string and form with replacement characters, which any column can store.
"""

import builtins
import re
from itertools import chain

from werkzeug.routing import IntegerConverter

MAX_ID = 2**31 - 1  # PostgreSQL INTEGER, the smallest id column
UNSTORABLE = re.compile("[\x00\ud800-\udfff]")
# The card confirmation the payment page posts, and Stripe's webhook (raw, signed bytes).
JSON_ENDPOINTS = frozenset(
    {
        "payments.pay_with_card",
        "payments.stripe_webhook",
        "groupbuy_pay.pay_with_card",
        "groupbuys.participant_card",
        "groupbuys.participant_check",
    }
)
SUBMIT_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})  # Flask-WTF's


class BoundedIntConverter(IntegerConverter):
    """``<int:…>`` that matches only numbers an id column can hold (0 … 2**31-1)."""

    def __init__(self, map, fixed_digits=0, min=None, max=None, signed=False):  # noqa: A002
        bounded = MAX_ID if max is None else builtins.min(max, MAX_ID)
        super().__init__(map, fixed_digits=fixed_digits, min=min, max=bounded, signed=signed)


def parse_id(raw: object) -> int | None:
    """A posted or query-string id: ``"42"`` → 42; anything no row could have (blank,
    not ASCII digits, 0, above ``MAX_ID``, not a string) → ``None``."""
    if not isinstance(raw, str):
        return None
    text = raw.strip()
    if not text or len(text) > len(str(MAX_ID)) or not text.isascii() or not text.isdigit():
        return None
    value = int(text)
    return value if 1 <= value <= MAX_ID else None


def is_storable(text: str) -> bool:
    return UNSTORABLE.search(text) is None


def _request_texts(request) -> list[str]:
    """The path, the query's and the form's names and values, the uploads' names (the
    query and the form only when there is one: parsing nothing costs time too)."""
    texts = [request.path]
    if request.query_string:
        texts.extend(chain.from_iterable(request.args.items(multi=True)))
    if request.want_form_data_parsed:  # a body with a content type: the form parser reads it
        texts.extend(chain.from_iterable(request.form.items(multi=True)))
        for name, upload in request.files.items(multi=True):
            texts += (name, upload.filename or "")
    return texts


def check_request():
    """The ``before_request`` hook: ``None`` to go on, or the refusal page."""
    from flask import request

    posted = request.method in SUBMIT_METHODS and request.url_rule is not None  # else a 404/405
    if posted and request.is_json and request.endpoint not in JSON_ENDPOINTS:
        return _refuse_json()
    # One search over all of it: a line break is storable, so joining adds no false alarm.
    if is_storable("\n".join(_request_texts(request))):
        return None
    return _refuse_unstorable()


def _refuse_json():
    from flask_babel import gettext as _

    from shop.errors import render_error

    return render_error(
        415, _("Bad request"), _("This page takes a form, not JSON. Use the page's form.")
    )


def _refuse_unstorable():
    from flask_babel import gettext as _

    from shop.errors import render_error

    return render_error(
        400,
        _("Bad request"),
        _(
            "Your input contains a character we cannot store (a NUL byte). "
            "Go back, remove it and try again."
        ),
    )


def init_app(app) -> None:
    """Before the blueprints (the converter applies to rules added afterwards) and before
    the hooks that read the form (CSRF)."""
    app.url_map.converters["int"] = BoundedIntConverter
    app.before_request(check_request)
