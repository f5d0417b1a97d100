"""Settings: defaults, then ``instance/config.py``, then environment variables.

Development needs nothing configured. Production (``SHOP_ENV=production``) refuses to
start without a real ``SECRET_KEY``, Stripe keys, ``SHOP_BASE_URL`` and ``REDIS_URL``.
"""

import os
from decimal import Decimal, InvalidOperation
from pathlib import Path
from urllib.parse import urlsplit

from shop.locales import is_zone

DEV_SECRET_KEY = "dev-only-not-secret"  # noqa: S105 - a deliberate, documented dev default
DEV_BASE_URL = "http://127.0.0.1:5000"
DEV_STRIPE_KEYS = {  # localstripe's; worthless anywhere else
    "STRIPE_SECRET_KEY": "sk_test_sourcefront_dev",
    "STRIPE_PUBLISHABLE_KEY": "pk_test_sourcefront_dev",
    "STRIPE_WEBHOOK_SECRET": "whsec_sourcefront_dev",
}

ENV_SETTINGS = (
    "SECRET_KEY",
    "DATABASE_URL",
    "REDIS_URL",
    "STRIPE_SECRET_KEY",
    "STRIPE_PUBLISHABLE_KEY",
    "STRIPE_WEBHOOK_SECRET",
    "STRIPE_API_BASE",
    "STRIPE_JS_URL",
    "STRIPE_TIMEOUT_SECONDS",
    "MAIL_SERVER",
    "MAIL_PORT",
    "MAIL_USE_TLS",
    "MAIL_USE_SSL",
    "MAIL_USERNAME",
    "MAIL_PASSWORD",
    "MAIL_DEFAULT_SENDER",
    "MAIL_OUTBOX",
    "SHOP_DEFAULT_CURRENCY",
    "ORDER_DEFAULT_TIME_ZONE",
    "RESERVATION_MINUTES",
    "SHOP_MESSAGES_EMAIL",
    "FACTORY_NAME",
    "FACTORY_NAME_ZH",
    "FACTORY_NAME_JA",
    "FACTORY_ADDRESS",
    "FACTORY_ADDRESS_ZH",
    "FACTORY_ADDRESS_JA",
    "FACTORY_PICKUP_ADDRESS",
    "FACTORY_PICKUP_ADDRESS_ZH",
    "FACTORY_PICKUP_ADDRESS_JA",
    "FACTORY_PICKUP_INSTRUCTIONS",
    "FACTORY_PICKUP_INSTRUCTIONS_ZH",
    "FACTORY_PICKUP_INSTRUCTIONS_JA",
    "FACTORY_TAX_ID",
    "TAX_RATE_PERCENT",
    "FACTORY_BANK_DETAILS",
    "INVOICE_ORDERS_TO_PRODUCTION",
    "SHOP_BASE_URL",
    "TRUSTED_HOSTS",
    "TRUSTED_PROXY_COUNT",
    "PAGE_CACHE",
    "PAGE_CACHE_NAMESPACE",
    "LOG_FORMAT",
    "LOG_LEVEL",
    "METRICS_TOKEN",
    "SENTRY_DSN",
    "READYZ_TIMEOUT_SECONDS",
    "STORAGE_URL",
    "STORAGE_ENDPOINT_URL",
    "STORAGE_REGION",
    "JOBS_INLINE",
    "JOBS_RETRY_INTERVALS",
    "JOBS_TIMEOUT_SECONDS",
    "SCHEDULE_EXPIRE_RESERVATIONS_SECONDS",
    "SCHEDULE_RECONCILE_PAYMENTS_SECONDS",
    "SCHEDULE_APPROVE_COMMISSIONS_SECONDS",
    "SCHEDULE_CLOSE_CAMPAIGNS_SECONDS",
    "SCHEDULE_EXPIRE_CAMPAIGN_PLACES_SECONDS",
    "SCHEDULE_FOLD_WINDOW_VISITS_SECONDS",
    "WINDOW_VISITS_SEND_SECONDS",
    "SCHEDULE_PRUNE_FACETS_SECONDS",
    "RECONCILE_MIN_AGE_MINUTES",
    "RESELLER_TERMS_VERSION",
    "RESELLER_AUTO_APPROVE",
)


class ConfigError(RuntimeError):
    """The configuration cannot run the shop; the message says what to set."""


def default_settings(instance_path: Path) -> dict:
    return {
        "SHOP_ENV": "development",
        "SECRET_KEY": None,
        "DATABASE_URL": f"sqlite:///{instance_path / 'sourcefront.sqlite3'}",
        "UPLOAD_FOLDER": str(instance_path / "uploads"),
        # Uploads (shop.storage): empty = files in UPLOAD_FOLDER; s3://bucket/prefix = an
        # S3-compatible store shared by every instance (STORAGE_ENDPOINT_URL: not AWS).
        "STORAGE_URL": "",
        "STORAGE_ENDPOINT_URL": None,
        "STORAGE_REGION": None,
        "PRODUCTS_PER_PAGE": 24,
        "DEMO_IMAGE_SIZE": 800,
        "SEARCH_MAX_LENGTH": 100,
        "SHOP_DEFAULT_CURRENCY": "CNY",
        "BABEL_DEFAULT_LOCALE": "en",
        "BABEL_DEFAULT_TIMEZONE": "Asia/Shanghai",  # the factory's clock
        # An order's times are shown in its school's zone, else its delivery country's,
        # else this one (an IANA name; shop.locales).
        "ORDER_DEFAULT_TIME_ZONE": "UTC",
        "BABEL_TRANSLATION_DIRECTORIES": "translations",
        "STRIPE_JS_URL": "https://js.stripe.com/v3/",
        # Development keys: localstripe accepts any sk_/pk_ key. Production must set all three.
        "STRIPE_SECRET_KEY": DEV_STRIPE_KEYS["STRIPE_SECRET_KEY"],
        "STRIPE_PUBLISHABLE_KEY": DEV_STRIPE_KEYS["STRIPE_PUBLISHABLE_KEY"],
        "STRIPE_WEBHOOK_SECRET": DEV_STRIPE_KEYS["STRIPE_WEBHOOK_SECRET"],
        "STRIPE_API_BASE": None,
        # Each Stripe call gives up after this long in all, retries included (seconds).
        "STRIPE_TIMEOUT_SECONDS": 8,
        # Unpaid orders hold their stock this long; then expire-reservations cancels them.
        "RESERVATION_MINUTES": 30,
        # The factory's words per language: each FACTORY_<X> in English, with _ZH and _JA
        # beside it for Chinese and Japanese readers (empty: the English one); read with
        # shop.locales.factory_setting. Pick-up: where buyers collect, and how.
        "FACTORY_PICKUP_ADDRESS": "Sourcefront Garment Factory, 18 Industrial Road, Foshan",
        "FACTORY_PICKUP_ADDRESS_ZH": "Sourcefront服装厂，佛山市工业路18号",
        "FACTORY_PICKUP_ADDRESS_JA": "Sourcefront縫製工場(佛山市工業路18号)",
        "FACTORY_PICKUP_INSTRUCTIONS": (
            "Collect at the warehouse door (gate 2), Monday to Saturday, 9:00–17:30. Bring "
            "your order number; your parcel is ready one working day after payment."
        ),
        "FACTORY_PICKUP_INSTRUCTIONS_ZH": (
            "请到2号门仓库门口提货，周一至周六 9:00–17:30。请携带订单号；付款后一个工作日即可提货。"
        ),
        "FACTORY_PICKUP_INSTRUCTIONS_JA": (
            "2番ゲートの倉庫入口でお受け取りください(月曜〜土曜 9:00〜17:30)。"
            "ご注文番号をお持ちください。お支払いの翌営業日からお渡しできます。"
        ),
        # The seller on receipts. TAX_RATE_PERCENT (e.g. 13): the tax included in prices,
        # shown on receipts; 0 or unset shows no tax line.
        "FACTORY_NAME": "Sourcefront Garment Factory",
        "FACTORY_NAME_ZH": "Sourcefront服装厂",
        "FACTORY_NAME_JA": "Sourcefront縫製工場",
        "FACTORY_ADDRESS": "18 Industrial Road, Foshan, Guangdong 528000, China",
        "FACTORY_ADDRESS_ZH": "中国广东省佛山市工业路18号，邮编528000",
        "FACTORY_ADDRESS_JA": "〒528000 中国広東省佛山市工業路18号",
        "FACTORY_TAX_ID": "",
        "TAX_RATE_PERCENT": 0,
        # Printed on school invoices: where the school pays (several lines).
        "FACTORY_BANK_DETAILS": (
            "Bank: Industrial and Commercial Bank of China, Foshan Branch\n"
            "Account name: Sourcefront Garment Factory Co., Ltd.\n"
            "Account number: 6222 0200 0000 1234 567\n"
            "SWIFT: ICBKCNBJGDG"
        ),
        # Orders a school pays on invoice go into production before the invoice is paid.
        "INVOICE_ORDERS_TO_PRODUCTION": True,
        "WTF_CSRF_TIME_LIMIT": None,
        # The largest request body anywhere (forms, JSON, the webhook); image uploads and
        # the catalogue CSV import allow more on their own routes.
        "MAX_CONTENT_LENGTH": 1024 * 1024,
        "SHOP_BASE_URL": DEV_BASE_URL,
        # Hosts production answers (comma-separated; default: SHOP_BASE_URL's host).
        # Development and tests answer any host.
        "TRUSTED_HOSTS": None,
        # Proxies in front of gunicorn whose X-Forwarded-For/-Proto are believed (nginx: 1).
        "TRUSTED_PROXY_COUNT": 0,
        # The rendered-page cache of the catalogue pages (shop.pagecache); 0 turns it off.
        "PAGE_CACHE": True,
        # Keeps apart the caches of shops sharing one Redis and one database URL.
        "PAGE_CACHE_NAMESPACE": "",
        # Observability (shop.logs, shop.metrics, shop.health, shop.sentry). LOG_FORMAT:
        # json or text (unset: json in production, text elsewhere).
        "LOG_FORMAT": None,
        "LOG_LEVEL": "INFO",
        # /metrics answers only "Authorization: Bearer <METRICS_TOKEN>"; unset: a 404.
        "METRICS_TOKEN": None,
        "SENTRY_DSN": None,
        # Each /readyz check gives up after this long (seconds).
        "READYZ_TIMEOUT_SECONDS": 2,
        "RATE_LIMIT_PER_ACCOUNT": "5 per 15 minutes",
        "RATE_LIMIT_PER_ADDRESS": "20 per 15 minutes",
        # Places taken in group buys from one address (each holds pieces for 30 minutes
        # until its card comes): enough for a school's shared Wi-Fi, not for a flood.
        "RATE_LIMIT_GROUP_JOINS": "60 per 10 minutes",
        # Wrong access codes for one private school from one address.
        "RATE_LIMIT_SCHOOL_CODE": "10 per 15 minutes",
        # Wrong access codes for one private school from all addresses together.
        "RATE_LIMIT_SCHOOL_CODE_TOTAL": "30 per hour",
        "RATELIMIT_STORAGE_URI": "memory://",
        "RATELIMIT_HEADERS_ENABLED": True,
        # While Redis is away each process counts on its own (Flask-Limiter's in-memory
        # fallback) and goes back to Redis when it answers: limits still hold, politely.
        "RATELIMIT_IN_MEMORY_FALLBACK_ENABLED": True,
        "RATELIMIT_STORAGE_OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 1},
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        # Flask-Login's remember-me cookie: same flags as the session (Secure: check_settings).
        "REMEMBER_COOKIE_HTTPONLY": True,
        "REMEMBER_COOKIE_SAMESITE": "Lax",
        # Email (shop.mail): SMTP when MAIL_SERVER is set, else .eml files in MAIL_OUTBOX.
        "MAIL_SERVER": None,
        "MAIL_PORT": 587,
        "MAIL_USE_TLS": True,
        "MAIL_USE_SSL": False,
        "MAIL_USERNAME": None,
        "MAIL_PASSWORD": None,
        "MAIL_TIMEOUT": 10,
        "MAIL_DEFAULT_SENDER": "Sourcefront <shop@sourcefront.localhost>",
        "MAIL_OUTBOX": str(instance_path / "outbox"),
        # Jobs (shop.jobs): RQ on REDIS_URL, else in-process after the commit. JOBS_INLINE
        # runs them in-process even with REDIS_URL. Retries: seconds before each one.
        "JOBS_INLINE": False,
        "JOBS_RETRY_INTERVALS": "10,30,120,600,1800",
        "JOBS_TIMEOUT_SECONDS": 600,
        "JOBS_RESULT_TTL_SECONDS": 24 * 3600,  # a finished job (and its key) is kept a day
        "JOBS_FAILURE_TTL_SECONDS": 30 * 24 * 3600,  # RQ's failed registry keeps it a month
        "JOBS_MAINTENANCE_SECONDS": 60,  # workers requeue jobs of dead workers this often
        "JOBS_HEARTBEAT_GRACE_SECONDS": 60,  # RQ's: a heartbeat this late means a dead worker
        # `flask scheduler`: how often it queues expire-reservations and reconcile-payments.
        "SCHEDULE_EXPIRE_RESERVATIONS_SECONDS": 60,
        "SCHEDULE_RECONCILE_PAYMENTS_SECONDS": 300,
        "SCHEDULE_APPROVE_COMMISSIONS_SECONDS": 3600,  # resellers' commission, once an hour
        "SCHEDULE_CLOSE_CAMPAIGNS_SECONDS": 60,  # group buys past their closing time
        "SCHEDULE_EXPIRE_CAMPAIGN_PLACES_SECONDS": 300,  # group-buy places never paid for
        "SCHEDULE_FOLD_WINDOW_VISITS_SECONDS": 60,  # window visits counted in Redis
        # A process's window visits go to Redis together, this long after the first
        # (shop.resellers.visits.VisitTally; 0: each at once, by its request).
        "WINDOW_VISITS_SEND_SECONDS": 1.0,
        "SCHEDULE_PRUNE_FACETS_SECONDS": 3600,  # sizes and colours no variant has any more
        "RECONCILE_MIN_AGE_MINUTES": 5,  # reconcile-payments leaves younger payments alone
        # Small windows (shop.resellers): the version of the reseller terms an application
        # accepts (recorded with it), and whether applications are approved at once.
        "RESELLER_TERMS_VERSION": "2026-12",
        "RESELLER_AUTO_APPROVE": False,
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
    _drop_stale_translations(app.config, default_settings(instance_path))
    if app.config.get("REDIS_URL"):
        app.config["RATELIMIT_STORAGE_URI"] = app.config["REDIS_URL"]
    check_settings(app.config)


TRANSLATED_FACTORY_SETTINGS = (
    "FACTORY_NAME",
    "FACTORY_ADDRESS",
    "FACTORY_PICKUP_ADDRESS",
    "FACTORY_PICKUP_INSTRUCTIONS",
)


def _drop_stale_translations(config, defaults: dict) -> None:
    """The default Chinese and Japanese words describe the default factory: where a shop
    sets its own English ``FACTORY_ADDRESS`` (say) but no ``FACTORY_ADDRESS_ZH``, Chinese
    readers get the shop's English address, never the demo factory's Chinese one."""
    for key in TRANSLATED_FACTORY_SETTINGS:
        if config.get(key) == defaults[key]:
            continue
        for suffix in ("_ZH", "_JA"):
            if config.get(key + suffix) == defaults[key + suffix]:
                config[key + suffix] = ""


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
    check_host_settings(config, production=production)
    if production and not config.get("REDIS_URL"):
        raise ConfigError(
            "REDIS_URL is not set. In production rate limits must be shared by every "
            "worker and instance: set REDIS_URL, e.g. redis://127.0.0.1:6379/0."
        )
    check_stripe_settings(config, production=production)
    check_receipt_settings(config)
    check_storage_settings(config)
    if not is_zone(str(config.get("ORDER_DEFAULT_TIME_ZONE"))):
        raise ConfigError(
            "ORDER_DEFAULT_TIME_ZONE must be an IANA time zone name such as UTC or Asia/Tokyo."
        )
    config["INVOICE_ORDERS_TO_PRODUCTION"] = _flag(config.get("INVOICE_ORDERS_TO_PRODUCTION"))
    config["PAGE_CACHE"] = _flag(config.get("PAGE_CACHE"))
    check_reseller_settings(config)


def check_reseller_settings(config) -> None:
    """``RESELLER_TERMS_VERSION`` fits the column that records it; auto-approval a flag;
    window visits are sent to Redis within a minute."""
    config["RESELLER_AUTO_APPROVE"] = _flag(config.get("RESELLER_AUTO_APPROVE"))
    version = str(config.get("RESELLER_TERMS_VERSION") or "").strip()
    if not version or len(version) > 40:
        raise ConfigError("RESELLER_TERMS_VERSION must be a short version name, like 2026-12.")
    config["RESELLER_TERMS_VERSION"] = version
    try:
        send_after = float(config.get("WINDOW_VISITS_SEND_SECONDS", 1.0))
    except (TypeError, ValueError):
        send_after = -1.0
    if not 0 <= send_after <= 60:
        raise ConfigError("WINDOW_VISITS_SEND_SECONDS must be a number of seconds from 0 to 60.")
    config["WINDOW_VISITS_SEND_SECONDS"] = send_after


def _flag(value) -> bool:
    """A yes/no setting: ``True``, ``"1"``, ``"true"``, ``"yes"``, ``"on"`` are yes."""
    if isinstance(value, str):
        return value.strip().lower() in ("1", "true", "yes", "on")
    return bool(value)


def check_host_settings(config, *, production: bool) -> None:
    """``SHOP_BASE_URL`` (links in emails), ``TRUSTED_HOSTS`` and ``TRUSTED_PROXY_COUNT``.

    Production answers only its own hosts (Flask's ``TRUSTED_HOSTS``; a foreign ``Host``
    header gets a 400), by default the host of ``SHOP_BASE_URL``.
    """
    base = str(config.get("SHOP_BASE_URL") or "")
    parts = urlsplit(base)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ConfigError(
            f"SHOP_BASE_URL must be an absolute URL like https://shop.example, not {base!r}."
        )
    if production and base == DEV_BASE_URL:
        raise ConfigError(
            "SHOP_BASE_URL is not set: links in emails are built on it and production "
            "answers only its host. Set it to the shop's address, e.g. https://shop.example."
        )
    hosts = config.get("TRUSTED_HOSTS")
    if isinstance(hosts, str):
        hosts = [host.strip() for host in hosts.split(",") if host.strip()]
    if not hosts:
        hosts = [parts.hostname] if production else None
    config["TRUSTED_HOSTS"] = hosts
    count = str(config.get("TRUSTED_PROXY_COUNT") or 0).strip()
    if not count.isdigit():
        raise ConfigError("TRUSTED_PROXY_COUNT must be a whole number (0: no proxy, 1: nginx).")
    config["TRUSTED_PROXY_COUNT"] = int(count)


def check_stripe_settings(config, *, production: bool) -> None:
    """Production needs real Stripe keys; a live key never talks to a local stand-in."""
    if production:
        for name, dev_value in DEV_STRIPE_KEYS.items():
            if config.get(name) in (None, "", dev_value):
                raise ConfigError(f"{name} is not set; copy it from Stripe's dashboard.")
    api_base = config.get("STRIPE_API_BASE") or ""
    local = any(host in api_base for host in ("127.0.0.1", "localhost", "[::1]"))
    if local and str(config.get("STRIPE_SECRET_KEY", "")).startswith("sk_live_"):
        raise ConfigError("A live Stripe key must not be sent to a local STRIPE_API_BASE.")
    if not str(config.get("RESERVATION_MINUTES", "")).isdigit():
        raise ConfigError("RESERVATION_MINUTES must be a whole number of minutes.")
    config["RESERVATION_MINUTES"] = int(config["RESERVATION_MINUTES"])
    config["REMEMBER_COOKIE_SECURE"] = production


def check_storage_settings(config) -> None:
    """``STORAGE_URL`` and ``STORAGE_ENDPOINT_URL`` are ones ``shop.storage`` understands."""
    from shop.storage import BadStorageURL, check_endpoint_url, parse_storage_url

    try:
        parse_storage_url(config.get("STORAGE_URL"))
        check_endpoint_url(config.get("STORAGE_ENDPOINT_URL"))
    except BadStorageURL as error:
        raise ConfigError(str(error)) from None


def check_receipt_settings(config) -> None:
    """``TAX_RATE_PERCENT`` is a number from 0 to under 100 (``"13"``, ``"8.5"``)."""
    raw = config.get("TAX_RATE_PERCENT") or 0
    try:
        rate = Decimal(str(raw).strip())
    except InvalidOperation:
        rate = None
    if rate is None or not rate.is_finite() or not 0 <= rate < 100:
        raise ConfigError("TAX_RATE_PERCENT must be a number from 0 to 99.99, like 13.")
    config["TAX_RATE_PERCENT"] = rate
