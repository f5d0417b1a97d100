"""Golden path for accounts: register, sign out, reset the password from the outbox
email, and sign in again — in Chromium."""

import re

import pytest
from playwright.sync_api import expect

from tests.helpers.browser import last_email_link

pytestmark = pytest.mark.browser

PASSWORD = "plum blossom in spring"
NEW_PASSWORD = "autumn leaves on the track"


def test_register_sign_out_reset_and_sign_in(app, page, live_server):
    page.goto(live_server + "/account/register")
    page.get_by_label("Your name").fill("Li Na")
    page.get_by_label("Email").fill("li.na@example.com")
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_label("Repeat password").fill(PASSWORD)
    page.get_by_role("button", name="Create account").click()
    expect(page.get_by_test_id("flash")).to_contain_text("Check your inbox")

    page.goto(last_email_link(app, live_server))
    page.get_by_role("button", name="Confirm my email address").click()  # confirm + sign in
    expect(page.get_by_test_id("account-email")).to_contain_text(
        re.compile(r"^Signed in as li\.na@example\.com")
    )
    page.get_by_role("button", name="Sign out", exact=True).click()
    expect(page.get_by_test_id("login-link")).to_be_visible()

    page.goto(live_server + "/account/reset")
    page.get_by_label("Email").fill("li.na@example.com")
    page.get_by_role("button", name="Send the link").click()
    expect(page.get_by_test_id("flash")).to_contain_text("a link to set a new password")
    page.goto(last_email_link(app, live_server))
    page.get_by_label("New password", exact=True).fill(NEW_PASSWORD)
    page.get_by_label("Repeat new password").fill(NEW_PASSWORD)
    page.get_by_role("button", name="Save the new password").click()
    expect(page.get_by_test_id("flash")).to_contain_text("Your password is changed")

    page.get_by_label("Email").fill("li.na@example.com")
    page.get_by_label("Password").fill(NEW_PASSWORD)
    page.get_by_role("button", name="Sign in").last.click()
    expect(page).to_have_url(re.compile(r"/account$"))
    expect(page.get_by_test_id("account-link")).to_be_visible()
