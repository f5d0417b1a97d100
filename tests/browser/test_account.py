"""Golden path for accounts: register, sign out, reset the password from the outbox
email, and sign in again — in Chromium."""

import re

import pytest

from shop.mail import read_outbox

pytestmark = pytest.mark.browser

PASSWORD = "plum blossom in spring"
NEW_PASSWORD = "autumn leaves on the track"


def last_link(app) -> str:
    message = read_outbox(app.config["MAIL_OUTBOX"])[-1]
    return re.search(r"https?://\S+", message.get_body(("plain",)).get_content()).group(0)


def test_register_sign_out_reset_and_sign_in(app, page, live_server):
    page.goto(live_server + "/account/register")
    page.get_by_label("Your name").fill("Li Na")
    page.get_by_label("Email").fill("li.na@example.com")
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_label("Repeat password").fill(PASSWORD)
    page.get_by_role("button", name="Create account").click()
    assert "Check your inbox" in page.locator('[data-testid="flash"]').inner_text()

    page.goto(last_link(app).replace(app.config["SHOP_BASE_URL"], live_server))
    page.get_by_role("button", name="Confirm my email address").click()  # confirm + sign in
    assert (
        page.locator('[data-testid="account-email"]')
        .inner_text()
        .startswith("Signed in as li.na@example.com")
    )
    page.get_by_role("button", name="Sign out", exact=True).click()
    assert page.locator('[data-testid="login-link"]').is_visible()

    page.goto(live_server + "/account/reset")
    page.get_by_label("Email").fill("li.na@example.com")
    page.get_by_role("button", name="Send the link").click()
    page.goto(last_link(app).replace(app.config["SHOP_BASE_URL"], live_server))
    page.get_by_label("New password", exact=True).fill(NEW_PASSWORD)
    page.get_by_label("Repeat new password").fill(NEW_PASSWORD)
    page.get_by_role("button", name="Save the new password").click()

    page.get_by_label("Email").fill("li.na@example.com")
    page.get_by_label("Password").fill(NEW_PASSWORD)
    page.get_by_role("button", name="Sign in").last.click()
    assert page.url.endswith("/account")
    assert page.locator('[data-testid="account-link"]').is_visible()
