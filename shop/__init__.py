"""Sourcefront: a storefront for source-factory direct sales."""

import os
from collections import ChainMap
from pathlib import Path

from flask import Flask, Request
from flask.templating import Environment

from shop.i18n import WTFormsTranslations

PROJECT_ROOT = Path(__file__).resolve().parent.parent


class TemplateGlobals(ChainMap):
    """A template's globals over the environment's, as Jinja keeps them (a ``ChainMap``),
    whose ``keys()`` are a plain dict's: Jinja subtracts them from a set on every
    ``{% from ... import %}`` (``Template._get_default_module``), which a ``ChainMap``'s
    answered by looking each name up through every map, ~90 µs an import (two on a
    window's page); a dict's keys are subtracted in C."""

    def keys(self):
        merged: dict = {}
        for mapping in reversed(self.maps):
            merged.update(mapping)
        return merged.keys()


class ShopEnvironment(Environment):
    """Flask's Jinja environment, its templates' globals a ``TemplateGlobals``."""

    def make_globals(self, d):
        return TemplateGlobals({} if d is None else d, self.globals)


class ShopRequest(Request):
    """Flask's request, holding WTForms' messages where Flask-WTF looks for them first."""

    wtforms_translations = WTFormsTranslations()


class Shop(Flask):
    """Flask, remembering which hooks and views are plain functions: Flask asks
    ``inspect`` whether each one is a coroutine function on every call, some fifteen
    times a request."""

    jinja_environment = ShopEnvironment
    request_class = ShopRequest

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._plain_functions: set = set()

    def ensure_sync(self, func):
        try:
            if func in self._plain_functions:
                return func
        except TypeError:  # an unhashable callable: asked every time, as Flask does
            return super().ensure_sync(func)
        wrapped = super().ensure_sync(func)
        if wrapped is func:
            self._plain_functions.add(func)
        return wrapped


def create_app(test_config: dict | None = None) -> Flask:
    app = Shop(
        __name__,
        instance_path=os.environ.get("SHOP_INSTANCE_PATH", str(PROJECT_ROOT / "instance")),
        instance_relative_config=True,
        template_folder=str(PROJECT_ROOT / "templates"),
        static_folder=str(PROJECT_ROOT / "static"),
    )
    from shop.config import load_settings

    load_settings(app, test_config)
    Path(app.instance_path).mkdir(parents=True, exist_ok=True)
    register_extensions(app)
    register_blueprints(app)
    register_error_handlers(app)
    register_commands(app)
    return app


def register_extensions(app: Flask) -> None:
    from shop import (
        assets,
        db,
        inputs,
        jobs,
        limits,
        logs,
        monitoring,
        pagecache,
        security,
        sentry,
        sessions,
        storage,
        templating,
    )
    from shop.accounts.session import init_login
    from shop.extensions import babel, csrf
    from shop.i18n import babel_locale

    security.init_app(app)  # first: its request id is there for every later hook
    sessions.init_app(app)  # the session cookie, signed as Flask does with a kept signer
    monitoring.init_app(app)  # its timer starts before every other hook
    logs.init_app(app)  # JSON or text lines, one access line per request
    inputs.init_app(app)  # before the blueprints' rules and CSRF read the input
    db.init_app(app)
    jobs.init_app(app)  # after db: jobs queued by a commit run on the app's engine
    storage.init_app(app)  # uploads: files under instance/ or an S3-compatible store
    csrf.init_app(app)
    babel.init_app(app, locale_selector=babel_locale)
    limits.init_app(app)
    init_login(app)
    templating.init_app(app)
    assets.init_app(app)  # before the page cache: its build hash covers the static files
    pagecache.init_app(app)  # after CSRF: its csrf_token() global stands in for Flask-WTF's
    sentry.init_app(app)  # after the page cache: the build id is Sentry's release


def register_blueprints(app: Flask) -> None:
    from shop.accounts.views import bp as accounts_bp

    # The admin's and the schools' routes live in several modules on one blueprint each.
    from shop.admin import (  # noqa: F401
        campaigns,
        invoices,
        orders,
        production,
        products,
        reseller_payouts,
        reseller_program,
        resellers,
        schools,
        staff,
        stock,
    )
    from shop.admin import search as admin_search  # noqa: F401
    from shop.admin import views as admin_views  # noqa: F401
    from shop.admin.blueprint import bp as admin_bp
    from shop.cart.views import bp as cart_bp
    from shop.catalog.views import bp as catalog_bp
    from shop.checkout.views import bp as checkout_bp
    from shop.groupbuys.leader_views import bp as campaigns_bp
    from shop.groupbuys.pay_views import bp as groupbuy_pay_bp
    from shop.groupbuys.views import bp as groupbuys_bp
    from shop.health import bp as health_bp
    from shop.main.views import bp as main_bp
    from shop.monitoring import bp as monitoring_bp
    from shop.orders.views import bp as orders_bp
    from shop.payments.views import bp as payments_bp
    from shop.resellers import (  # noqa: F401 - routes on the resellers blueprint
        dashboard_views,
        earnings_views,
        price_views,
        share_views,
    )
    from shop.resellers.views import bp as resellers_bp
    from shop.schools import invoice_views, school_admin_views  # noqa: F401
    from shop.schools import views as school_views  # noqa: F401
    from shop.schools.blueprint import bp as schools_bp

    app.register_blueprint(health_bp)
    app.register_blueprint(monitoring_bp)
    app.register_blueprint(main_bp)
    app.register_blueprint(catalog_bp)
    app.register_blueprint(schools_bp)
    app.register_blueprint(accounts_bp)
    app.register_blueprint(admin_bp)
    app.register_blueprint(cart_bp)
    app.register_blueprint(checkout_bp)
    app.register_blueprint(payments_bp)
    app.register_blueprint(orders_bp)
    app.register_blueprint(resellers_bp)
    app.register_blueprint(groupbuy_pay_bp)
    app.register_blueprint(campaigns_bp)
    app.register_blueprint(groupbuys_bp)


def register_error_handlers(app: Flask) -> None:
    from shop.errors import register_error_handlers as register

    register(app)


def register_commands(app: Flask) -> None:
    from shop.cli import register_commands as register

    register(app)
