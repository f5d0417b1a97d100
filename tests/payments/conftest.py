import pytest


@pytest.fixture
def app(live_app):
    """Every test here pays, or is paid for, through localstripe."""
    return live_app
