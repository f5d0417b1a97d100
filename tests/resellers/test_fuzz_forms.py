"""No input to a window's forms gives a server error: each field in turn gets text no
column holds, NUL bytes, control characters, broken URLs and numbers out of range, and
the answer is a page with a reason (or a refusal), never a 500. (tests/test_fuzz.py
walks every route besides.)"""

import pytest

from tests.accounts.helpers import login, make_user
from tests.factories import make_product
from tests.helpers.images import picture
from tests.helpers.resellers import add_picks, make_reseller, post_with_avatar

HOSTILE = (
    "",
    " ",
    "x" * 100_000,
    "a\x00b",
    "\x01\x02\x1b[31m",
    "😀" * 500,
    "<script>alert(1)</script>",
    "javascript:alert(1)",
    "https://[::1",
    "https://example.com:99999999999",
    "http://" + "a" * 5000 + ".example",
    "-1",
    str(2**31),
    str(2**63),
    "9" * 5000,
    "\r\n" * 1000,
    "ADMIN",
    "https://a.example\n" * 50,
)

APPLY_FIELDS = {
    "handle": "fuzz-me",
    "display_name": "Fuzz",
    "bio": "Bio",
    "links": "https://a.example",
    "accept_terms": "y",
}


def no_error(response):
    assert response.status_code < 500, response.status_code


@pytest.mark.parametrize("field", sorted(APPLY_FIELDS))
def test_the_apply_form_never_fails(client, session, field):
    make_reseller(session, email="taken@example.com", handle="taken-name")
    make_user(session, email="ann@example.com")
    login(client)
    for value in HOSTILE + ("taken-name", "Taken-Name"):
        no_error(client.post("/account/window/apply", data={**APPLY_FIELDS, field: value}))
    no_error(client.post("/account/window/apply", data={field: ["a", "b"]}))
    no_error(client.post("/account/window/apply", json=[APPLY_FIELDS]))
    no_error(post_with_avatar(client, "/account/window/apply", APPLY_FIELDS, b"\x00\xff" * 99))


@pytest.fixture
def signed_in_window(client, session):
    reseller = make_reseller(session)
    polo = make_product(session, slug="polo")
    session.commit()
    add_picks(session, reseller, [polo])
    login(client, email="reseller@example.com")
    return reseller


def test_the_reseller_forms_never_fail(client, session, signed_in_window):
    from shop.resellers import picks
    from shop.resellers.models import Reseller, ResellerPick

    reseller = session.get(Reseller, signed_in_window.id)
    collection = picks.create_collection(session, reseller, "C", "c")
    session.commit()
    pick_id = session.query(ResellerPick).one().id
    posts = {
        "/account/window/profile": ("display_name", "bio", "links", "request_key"),
        "/account/window/picks": ("slug", "q"),
        f"/account/window/picks/{pick_id}/note": ("note",),
        f"/account/window/picks/{pick_id}/move": ("direction", "request_key"),
        f"/account/window/picks/{pick_id}/collection": ("collection_id",),
        f"/account/window/picks/{pick_id}/remove": ("x",),
        "/account/window/collections": ("title", "slug", "request_key"),
        f"/account/window/collections/{collection.id}/rename": ("title",),
        f"/account/window/collections/{collection.id}/items/1/move": ("direction", "request_key"),
    }
    for path, names in posts.items():
        for value in HOSTILE:
            for name in names:
                no_error(client.post(path, data={name: value}))
            no_error(client.post(path, data=dict.fromkeys(names, value)))
    for value in HOSTILE:
        no_error(client.get("/account/window/add", query_string={"q": value, "page": value}))
        no_error(client.get("/w/ann-picks", query_string={"page": value}))
    fields = {"display_name": "Ann", "bio": "", "links": ""}
    no_error(post_with_avatar(client, "/account/window/profile", fields, picture("GIF")))


def test_the_staff_forms_never_fail(client, session, sign_in):
    reseller = make_reseller(session, status="applied")
    sign_in("manager")
    path = f"/admin/resellers/{reseller.id}/status"
    for value in HOSTILE:
        no_error(client.post(path, data={"action": value, "expected": "applied"}))
        no_error(client.post(path, data={"action": "approve", "expected": value}))
        no_error(client.get("/admin/resellers", query_string={"q": value, "status": value}))
