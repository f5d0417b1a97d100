"""Browser tests: Playwright driving Debian's Chromium against a live server.

Never ``playwright install``: the browser is ``/usr/bin/chromium`` (or ``CHROMIUM_PATH``).
Without it the tests skip, except in CI, where a skip would hide a broken install.
"""

import os
import shutil

import pytest

from tests.factories import make_product
from tests.helpers.browser import WAIT_MS
from tests.localstripe_server import register_webhook

CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def chromium_path() -> str | None:
    return os.environ.get("CHROMIUM_PATH") or shutil.which("chromium")


@pytest.fixture(scope="session")
def browser():
    path = chromium_path()
    if path is None:
        if os.environ.get("CI"):
            pytest.fail("Chromium is not installed; CI must run the browser tests.")
        pytest.skip("Chromium is not installed (apt-get install -y chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=path, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="en-GB")
    page = context.new_page()
    yield page
    context.close()


@pytest.fixture
def app(make_app, stripe_settings):
    """The shop wired to localstripe (the browser loads localstripe's stand-in Stripe.js)."""
    return make_app(**stripe_settings)


@pytest.fixture
def live_server(app, serve, localstripe):
    """The app served once, with localstripe's webhook pointed at that same server."""
    url = serve(app)
    register_webhook(localstripe, url + "/stripe/webhook")
    return url


@pytest.fixture
def polo(session):
    product = make_product(
        session,
        slug="summer-polo",
        name="Summer school polo",
        tiers=((1, 8900), (10, 7900)),
        sizes=("120", "130", "140"),
        colours=("white", "navy"),
        on_hand=50,
    )
    session.commit()
    return product


@pytest.fixture
def watched(page, live_server):
    """The page, recording what it posts to the shop and what the console complains of."""
    posted: list[str] = []
    problems: list[str] = []

    def on_request(request):
        if request.url.startswith(live_server) and request.method == "POST":
            posted.append(request.post_data or "")

    def on_console(message):
        if message.type == "error":
            problems.append(message.text)

    page.on("request", on_request)
    page.on("console", on_console)
    page.on("pageerror", lambda error: problems.append(str(error)))
    page.set_default_timeout(WAIT_MS)
    return page, posted, problems
