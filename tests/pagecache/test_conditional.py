"""``pages.conditional``: a request that sends no condition gets exactly what werkzeug's
``make_conditional`` would give it, without the parsing; one that sends any is answered
by ``make_conditional`` itself."""

from datetime import UTC, datetime

import pytest
from werkzeug.test import EnvironBuilder
from werkzeug.wrappers import Request, Response

from shop.pagecache import pages

MODIFIED = datetime(2026, 12, 1, 8, 30, tzinfo=UTC)


def answered(method: str, headers: dict, *, spared: bool) -> Response:
    environ = EnvironBuilder(path="/products", method=method, headers=headers).get_environ()
    request = Request(environ)
    response = Response("<p>page</p>" * 50, headers={"Cache-Control": "private, no-cache"})
    if spared:
        return pages.conditional(response, request, "abc", MODIFIED)
    response.set_etag("abc", weak=True)
    response.last_modified = MODIFIED
    return response.make_conditional(request)


def comparable(response: Response) -> tuple:
    headers = [(name, value) for name, value in response.headers if name != "Date"]
    return response.status_code, sorted(headers), "Date" in response.headers, response.data


@pytest.mark.parametrize("method", ["GET", "HEAD", "POST"])
def test_a_request_without_conditions_gets_what_make_conditional_gives(method):
    assert comparable(answered(method, {}, spared=True)) == comparable(
        answered(method, {}, spared=False)
    )
    assert answered(method, {}, spared=True).headers["ETag"] == 'W/"abc"'


@pytest.mark.parametrize(
    ("headers", "status"),
    [
        ({"If-None-Match": 'W/"abc"'}, 304),
        ({"If-None-Match": 'W/"other"'}, 200),
        ({"If-Modified-Since": "Tue, 01 Dec 2026 08:30:00 GMT"}, 304),
        ({"If-Modified-Since": "Mon, 30 Nov 2026 08:30:00 GMT"}, 200),
        ({"If-Match": '"other"'}, 412),
    ],
)
def test_a_request_with_conditions_is_answered_by_make_conditional(headers, status):
    spared = answered("GET", headers, spared=True)

    assert spared.status_code == status
    assert comparable(spared) == comparable(answered("GET", headers, spared=False))
