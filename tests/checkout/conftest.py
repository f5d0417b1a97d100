import pytest

from tests.localstripe_server import register_webhook


@pytest.fixture
def app(make_app, stripe_settings, serve, localstripe):
    """The shop wired to localstripe, served so that localstripe's webhooks reach it."""
    app = make_app(**stripe_settings)
    register_webhook(localstripe, serve(app) + "/stripe/webhook")
    return app
