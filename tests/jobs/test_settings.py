"""The job settings, from config or the environment (text)."""

import pytest

from shop.config import ConfigError


def test_settings_from_the_environment_become_numbers(make_app, monkeypatch):
    monkeypatch.setenv("JOBS_RETRY_INTERVALS", " 5, 60 ,600")
    monkeypatch.setenv("SCHEDULE_EXPIRE_RESERVATIONS_SECONDS", "30")
    monkeypatch.setenv("JOBS_INLINE", "yes")
    app = make_app()
    assert app.config["JOBS_RETRY_INTERVALS"] == (5, 60, 600)
    assert app.config["SCHEDULE_EXPIRE_RESERVATIONS_SECONDS"] == 30
    assert app.config["JOBS_INLINE"] is True


def test_no_retries_is_allowed(make_app):
    assert make_app(JOBS_RETRY_INTERVALS="").config["JOBS_RETRY_INTERVALS"] == ()


@pytest.mark.parametrize(
    "settings",
    [
        {"JOBS_RETRY_INTERVALS": "10,soon"},
        {"JOBS_RETRY_INTERVALS": "10,-1"},
        {"JOBS_TIMEOUT_SECONDS": "ten"},
        {"SCHEDULE_RECONCILE_PAYMENTS_SECONDS": "0"},
    ],
)
def test_a_bad_setting_stops_start_up_with_its_name(make_app, settings):
    [name] = settings
    with pytest.raises(ConfigError, match=name):
        make_app(**settings)
