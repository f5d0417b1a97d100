"""Settings: defaults, then ``instance/config.py``, then environment variables.

Development needs nothing configured. Production (``SHOP_ENV=production``) refuses to
start without a real ``SECRET_KEY``.
"""

import os
from pathlib import Path

DEV_SECRET_KEY = "dev-only-not-secret"  # noqa: S105 - a deliberate, documented dev default

ENV_SETTINGS = (
    "SECRET_KEY",
    "DATABASE_URL",
    "REDIS_URL",
    "STRIPE_SECRET_KEY",
    "STRIPE_PUBLISHABLE_KEY",
    "STRIPE_WEBHOOK_SECRET",
    "STRIPE_API_BASE",
    "STRIPE_JS_URL",
    "MAIL_SERVER",
    "SHOP_DEFAULT_CURRENCY",
)


class ConfigError(RuntimeError):
    """The configuration cannot run the shop; the message says what to set."""


def default_settings(instance_path: Path) -> dict:
    return {
        "SHOP_ENV": "development",
        "SECRET_KEY": None,
        "DATABASE_URL": f"sqlite:///{instance_path / 'sourcefront.sqlite3'}",
        "UPLOAD_FOLDER": str(instance_path / "uploads"),
        "PRODUCTS_PER_PAGE": 24,
        "DEMO_IMAGE_SIZE": 800,
        "SEARCH_MAX_LENGTH": 100,
        "SHOP_DEFAULT_CURRENCY": "CNY",
        "BABEL_DEFAULT_LOCALE": "en",
        "BABEL_TRANSLATION_DIRECTORIES": "translations",
        "STRIPE_JS_URL": "https://js.stripe.com/v3/",
        "WTF_CSRF_TIME_LIMIT": None,
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
    }


def load_settings(app, test_config: dict | None = None) -> None:
    """Fill ``app.config`` in order of precedence and check it can run."""
    instance_path = Path(app.instance_path)
    app.config.from_mapping(default_settings(instance_path))
    app.config.from_pyfile("config.py", silent=True)
    app.config["SHOP_ENV"] = os.environ.get("SHOP_ENV", app.config["SHOP_ENV"])
    for name in ENV_SETTINGS:
        if os.environ.get(name):
            app.config[name] = os.environ[name]
    if test_config:
        app.config.update(test_config)
    check_settings(app.config)


def check_settings(config) -> None:
    production = config["SHOP_ENV"] == "production"
    if not config.get("SECRET_KEY"):
        if production:
            raise ConfigError(
                "SECRET_KEY is not set. In production Sourcefront needs a long random "
                "SECRET_KEY, e.g. export SECRET_KEY=$(python -c 'import secrets; "
                "print(secrets.token_hex(32))')"
            )
        config["SECRET_KEY"] = DEV_SECRET_KEY
    elif production and config["SECRET_KEY"] == DEV_SECRET_KEY:
        raise ConfigError("SECRET_KEY is the development default; set a real one.")
    config["SESSION_COOKIE_SECURE"] = production
