"""Applying for a window from the account page: one clear reason per field, never a
server error, one window per account however many times the form is sent at once."""

import re

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session

from shop.audit.models import AuditEntry
from shop.resellers.models import Reseller
from shop.storage import get_storage
from tests.accounts.helpers import PASSWORD, login, make_user
from tests.at_once import send_at_once
from tests.helpers.admin import errors_in
from tests.helpers.images import picture
from tests.helpers.resellers import make_reseller, post_with_avatar

APPLY = "/account/window/apply"


def form(**overrides) -> dict:
    data = {
        "handle": "Ann-Picks",
        "display_name": "Ann's picks",
        "bio": "Uniforms for the kids of our street.",
        "links": "https://weibo.com/ann\nhttps://xiaohongshu.com/user/ann",
        "accept_terms": "y",
    }
    data.update(overrides)
    return {key: value for key, value in data.items() if value is not None}


@pytest.fixture
def customer(client, session):
    user = make_user(session, email="ann@example.com")
    assert login(client).status_code == 302
    return user


def resellers(app) -> list[Reseller]:
    with Session(app.extensions["sa_engine"]) as db:
        return list(db.scalars(sa.select(Reseller).order_by(Reseller.id)))


def test_the_account_page_links_to_the_window(client, customer):
    page = client.get("/account").text
    assert 'data-testid="window-link"' in page and 'href="/account/window"' in page
    apply_page = client.get("/account/window")
    assert apply_page.status_code == 200
    assert 'data-testid="apply-form"' in apply_page.text
    assert "2026-12" in apply_page.text  # the terms version the form accepts


def test_applying_records_the_profile_and_the_terms(app, client, customer):
    response = client.post(APPLY, data=form())
    assert response.status_code == 302
    assert response.headers["Location"] == "/account/window"
    [reseller] = resellers(app)
    assert reseller.user_id == customer.id
    assert reseller.handle == "ann-picks"  # lowercased
    assert reseller.display_name == "Ann's picks"
    assert reseller.social_links == ["https://weibo.com/ann", "https://xiaohongshu.com/user/ann"]
    assert reseller.terms_version == "2026-12"
    assert reseller.terms_accepted_at is not None
    assert reseller.status == "applied"
    assert reseller.status_changed_by_id == customer.id
    page = client.get("/account/window").text
    assert 'data-status="applied"' in page
    assert client.get("/w/ann-picks").status_code == 404  # not approved yet
    with Session(app.extensions["sa_engine"]) as db:
        entry = db.scalars(sa.select(AuditEntry)).one()
    assert (entry.action, entry.target_id) == ("reseller.apply", str(reseller.id))


def test_the_terms_version_is_the_setting(make_app, session_factory):
    app = make_app(RESELLER_TERMS_VERSION="2027-03")
    with session_factory(app) as db:
        make_user(db, email="ann@example.com")
    client = app.test_client()
    login(client)
    assert client.post(APPLY, data=form()).status_code == 302
    assert resellers(app)[0].terms_version == "2027-03"


def test_auto_approval_opens_the_window_at_once(make_app, session_factory):
    app = make_app(RESELLER_AUTO_APPROVE="true")
    with session_factory(app) as db:
        make_user(db, email="ann@example.com")
    client = app.test_client()
    login(client)
    assert client.post(APPLY, data=form()).status_code == 302
    [reseller] = resellers(app)
    assert reseller.status == "approved" and reseller.status_changed_by_id is None
    assert client.get("/w/ann-picks").status_code == 200


def test_auto_approval_is_off_by_default(app):
    assert app.config["RESELLER_AUTO_APPROVE"] is False


@pytest.mark.parametrize(
    ("field", "value", "reason"),
    [
        ("handle", "", "Choose a name for your window."),
        ("handle", "ab", "Use 3 to 30 characters."),
        ("handle", "admin", "That name is reserved"),
        ("handle", "ann picks", "Use lowercase letters"),
        ("handle", "x" * 5000, "Field cannot be longer than 200 characters."),
        ("display_name", "", "This field is required."),
        ("display_name", "x" * 61, "cannot be longer than 60"),
        ("bio", "x" * 281, "cannot be longer than 280"),
        ("links", "javascript:alert(1)", "starting with https://"),
        ("links", "\n".join(f"https://{n}.example" for n in range(6)), "At most 5 links."),
        ("links", "https://example.com/" + "x" * 400, "longer than 300"),
        ("accept_terms", None, "Accept the reseller terms"),
    ],
)
def test_each_bad_field_gets_its_reason_and_nothing_is_saved(
    app, client, customer, field, value, reason
):
    response = client.post(APPLY, data=form(**{field: value}))
    assert response.status_code == 400
    assert reason in errors_in(response.text)
    assert resellers(app) == []


def test_a_handle_taken_in_any_case_is_a_field_error(app, client, session, customer):
    make_reseller(session, email="bo@example.com", handle="ann-picks")
    response = client.post(APPLY, data=form(handle="ANN-PICKS"))
    assert response.status_code == 400
    assert "Another window already uses this name." in errors_in(response.text)
    assert [r.user_id for r in resellers(app)] != [customer.id]
    assert len(resellers(app)) == 1


def test_applying_again_changes_nothing(app, client, customer):
    assert client.post(APPLY, data=form()).status_code == 302
    again = client.post(APPLY, data=form(handle="other-name", display_name="Other"))
    assert again.status_code == 302
    [reseller] = resellers(app)
    assert (reseller.handle, reseller.display_name) == ("ann-picks", "Ann's picks")
    assert "You have applied for a window already." in client.get("/account/window").text


@pytest.mark.parametrize("copies", [2, 5])
def test_the_same_application_sent_at_once_makes_one_window(app, client, customer, copies):
    answers = send_at_once(app, client, copies, "POST", APPLY, form())
    assert [answer.status for answer in answers] == [302] * copies
    assert len(resellers(app)) == 1
    messages = [message for answer in answers for message in answer.messages]
    assert messages.count("Thank you for applying. The factory will look at your window soon.") == 1
    assert messages.count("You have applied for a window already.") == copies - 1
    with Session(app.extensions["sa_engine"]) as db:
        assert db.scalar(sa.select(sa.func.count()).select_from(AuditEntry)) == 1


def multipart(client, data: dict, image: bytes, filename="me.png"):
    return post_with_avatar(client, APPLY, data, image, filename)


def test_an_avatar_is_checked_and_stored_like_product_images(app, client, customer):
    response = multipart(client, form(), picture("PNG", size=(200, 150), exif=True))
    assert response.status_code == 302
    [reseller] = resellers(app)
    assert re.fullmatch(r"resellers/[0-9a-f]{32}\.png", reseller.avatar_path)
    with app.app_context():
        assert get_storage().exists(reseller.avatar_path)
    with client.get(f"/media/{reseller.avatar_path}") as media:  # a public folder
        assert media.status_code == 200


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"not an image at all", "That is not a JPEG, PNG or WebP image"),
        (picture("GIF"), "That is not a JPEG, PNG or WebP image"),
        (b"", "The file is empty."),
    ],
)
def test_a_bad_avatar_is_a_field_error(app, client, customer, data, reason):
    response = multipart(client, form(), data, filename="me.gif")
    assert response.status_code == 400
    assert reason in errors_in(response.text)
    assert resellers(app) == []


def test_an_avatar_over_five_megabytes_is_refused_without_a_server_error(app, client, customer):
    response = multipart(client, form(), b"\x89PNG" + b"0" * (5 * 1024 * 1024 + 10))
    assert response.status_code in (400, 413)
    assert resellers(app) == []


def test_staff_accounts_do_not_open_windows(app, client, sign_in):
    sign_in("manager")
    assert client.get("/account/window").status_code == 403
    assert client.post(APPLY, data=form()).status_code == 403
    assert 'data-testid="window-section"' not in client.get("/account").text
    assert resellers(app) == []


def test_the_apply_form_needs_a_csrf_token(make_app, session_factory):
    app = make_app(WTF_CSRF_ENABLED=True)
    with session_factory(app) as db:
        make_user(db, email="ann@example.com")
    client = app.test_client()
    token = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/account/login").text)
    login(client, csrf_token=token.group(1))
    assert client.post(APPLY, data=form()).status_code == 400
    assert resellers(app) == []
    page = client.get("/account/window").text
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    assert client.post(APPLY, data={**form(), "csrf_token": token}).status_code == 302
    assert PASSWORD  # the account signed in with the usual password
