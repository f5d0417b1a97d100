"""The application shell: settings, health, error pages, preferences and CSRF."""

import re

import pytest

from shop import create_app
from shop.config import ConfigError
from tests.helpers.settings import PRODUCTION_SETTINGS


def test_production_without_secret_key_refuses_to_start(monkeypatch, tmp_path):
    monkeypatch.setenv("SHOP_ENV", "production")
    monkeypatch.delenv("SECRET_KEY", raising=False)
    monkeypatch.setenv("SHOP_INSTANCE_PATH", str(tmp_path))
    with pytest.raises(ConfigError, match="SECRET_KEY is not set"):
        create_app()


def test_production_refuses_the_development_secret(monkeypatch, tmp_path):
    monkeypatch.setenv("SHOP_ENV", "production")
    monkeypatch.setenv("SECRET_KEY", "dev-only-not-secret")
    monkeypatch.setenv("SHOP_INSTANCE_PATH", str(tmp_path))
    with pytest.raises(ConfigError):
        create_app()


def production_env(monkeypatch, **extra):
    for name, value in {**PRODUCTION_SETTINGS, "SECRET_KEY": "a" * 64, **extra}.items():
        monkeypatch.setenv(name, value)


def test_production_with_secret_key_starts_with_secure_cookies(monkeypatch, tmp_path):
    production_env(monkeypatch)
    monkeypatch.setenv("SHOP_INSTANCE_PATH", str(tmp_path))
    app = create_app()
    assert app.config["SESSION_COOKIE_SECURE"] is True
    app.extensions["sa_engine"].dispose()


@pytest.mark.parametrize("missing", ["STRIPE_SECRET_KEY", "STRIPE_WEBHOOK_SECRET"])
def test_production_refuses_to_start_without_stripe_keys(monkeypatch, tmp_path, missing):
    production_env(monkeypatch, SHOP_INSTANCE_PATH=str(tmp_path))
    monkeypatch.delenv(missing)
    with pytest.raises(ConfigError, match=missing):
        create_app()


@pytest.mark.parametrize("missing", ["REDIS_URL", "SHOP_BASE_URL"])
def test_production_refuses_to_start_without_redis_or_its_address(monkeypatch, tmp_path, missing):
    """Without Redis every gunicorn worker would count rate limits on its own."""
    production_env(monkeypatch, SHOP_INSTANCE_PATH=str(tmp_path))
    monkeypatch.delenv(missing)
    with pytest.raises(ConfigError, match=missing):
        create_app()


def test_development_keeps_rate_limits_in_memory(monkeypatch, tmp_path):
    for name in ("SHOP_ENV", "REDIS_URL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("SHOP_INSTANCE_PATH", str(tmp_path))
    app = create_app()
    assert app.config["RATELIMIT_STORAGE_URI"] == "memory://"
    app.extensions["sa_engine"].dispose()


def test_a_live_stripe_key_is_never_sent_to_a_local_stand_in(monkeypatch, tmp_path):
    monkeypatch.setenv("SHOP_INSTANCE_PATH", str(tmp_path))
    monkeypatch.setenv("STRIPE_SECRET_KEY", "sk_live_123")
    monkeypatch.setenv("STRIPE_API_BASE", "http://127.0.0.1:8420")
    with pytest.raises(ConfigError, match="live Stripe key"):
        create_app()


def test_development_needs_nothing_configured(monkeypatch, tmp_path):
    for name in ("SHOP_ENV", "SECRET_KEY", "DATABASE_URL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("SHOP_INSTANCE_PATH", str(tmp_path))
    app = create_app()
    assert app.config["SECRET_KEY"]
    assert app.config["DATABASE_URL"] == f"sqlite:///{tmp_path / 'sourcefront.sqlite3'}"
    assert app.config["SESSION_COOKIE_SECURE"] is False
    app.extensions["sa_engine"].dispose()


def test_instance_config_then_environment(monkeypatch, tmp_path):
    for name in ("SHOP_ENV", "SECRET_KEY", "DATABASE_URL"):
        monkeypatch.delenv(name, raising=False)
    (tmp_path / "config.py").write_text("PRODUCTS_PER_PAGE = 12\nSECRET_KEY = 'from-file'\n")
    monkeypatch.setenv("SHOP_INSTANCE_PATH", str(tmp_path))
    monkeypatch.setenv("SECRET_KEY", "from-env")
    monkeypatch.setenv("DATABASE_URL", "postgres://u@127.0.0.1/db")
    app = create_app()
    assert app.config["PRODUCTS_PER_PAGE"] == 12
    assert app.config["SECRET_KEY"] == "from-env"
    assert str(app.extensions["sa_engine"].url).startswith("postgresql+psycopg://u@")


def test_healthz_says_the_process_answers_and_nothing_more(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json == {"status": "ok"}


def test_an_unreachable_database_fails_readiness_not_liveness(make_app, tmp_path):
    app = make_app(DATABASE_URL=f"sqlite:///{tmp_path}/missing-dir/x.sqlite3")
    client = app.test_client()
    assert client.get("/healthz").status_code == 200
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json["checks"]["database"]["status"] == "error"


def test_unknown_page_is_a_404_in_the_shop_layout(client):
    response = client.get("/no/such/page")
    assert response.status_code == 404
    assert "Page not found" in response.text
    assert 'href="/products"' in response.text


def test_wrong_method_is_a_405_page(client):
    response = client.post("/products")
    assert response.status_code == 405
    assert 'class="site-header"' in response.text


def test_server_error_shows_a_friendly_page(make_app):
    app = make_app(PROPAGATE_EXCEPTIONS=False)

    @app.get("/boom")
    def boom():
        raise RuntimeError("kaboom")

    response = app.test_client().get("/boom")
    assert response.status_code == 500
    assert "Something went wrong" in response.text
    assert "kaboom" not in response.text


def test_preferences_set_language_and_currency_and_return(client):
    response = client.post(
        "/preferences", data={"locale": "zh_CN", "currency": "JPY", "next": "/products?q=polo"}
    )
    assert response.status_code == 302
    assert response.headers["Location"] == "/products?q=polo"
    page = client.get("/products")
    assert '<html lang="zh-CN">' in page.text
    assert re.search(r'<option value="JPY" title="[^"]*" selected>JPY</option>', page.text)


def test_preferences_refuse_unknown_values_and_foreign_next(client):
    response = client.post(
        "/preferences", data={"locale": "xx", "currency": "BTC", "next": "//evil.example"}
    )
    assert response.headers["Location"] == "/"
    with client.session_transaction() as browser_session:
        assert "locale" not in browser_session and "currency" not in browser_session
        assert browser_session["_flashes"][0][1] == "That language or currency is not available."


def test_accept_language_picks_the_interface_language(client):
    response = client.get("/", headers={"Accept-Language": "ja,en;q=0.5"})
    assert '<html lang="ja">' in response.text
    response = client.get("/", headers={"Accept-Language": "zh-CN,zh;q=0.9"})
    assert '<html lang="zh-CN">' in response.text


def test_post_without_csrf_token_is_refused_with_a_clear_page(make_app):
    app = make_app(WTF_CSRF_ENABLED=True)
    client = app.test_client()
    response = client.post("/preferences", data={"locale": "ja", "currency": "JPY"})
    assert response.status_code == 400
    assert "security token" in response.text
    with client.session_transaction() as browser_session:
        assert "locale" not in browser_session


def test_media_serves_uploads_and_refuses_traversal(app, client, tmp_path):
    folder = tmp_path / "uploads" / "products"
    folder.mkdir(parents=True)
    (folder / "x.png").write_bytes(b"\x89PNG fake")
    with client.get("/media/products/x.png") as response:
        assert response.data == b"\x89PNG fake"
        assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert client.get("/media/../config.py").status_code == 404
    assert client.get("/media/products/missing.png").status_code == 404


@pytest.mark.parametrize("when", ["flush", "commit"])
def test_a_unique_clash_at_the_same_moment_is_a_409_page_and_nothing_is_saved(
    make_app, session_factory, when
):
    """Two staff saving the same new slug at once: the loser's save is undone and told so
    (the check-then-insert race; here the insert simply skips the check)."""
    from shop.catalog.models import Category
    from shop.db import commits, get_session

    app = make_app(PROPAGATE_EXCEPTIONS=False)
    with session_factory(app) as session:
        session.add(Category(slug="polos", name="Polos"))
        session.commit()

    @app.post("/clash")
    @commits
    def clash():
        db = get_session()
        db.add(Category(slug="polos", name="Polos again"))
        if when == "flush":
            db.flush()
        return "saved"

    response = app.test_client().post("/clash")
    assert response.status_code == 409
    assert "Saved by someone else first" in response.text
    with session_factory(app) as session:
        assert session.query(Category).filter_by(slug="polos").one().name == "Polos"


def test_a_get_that_writes_is_an_error_and_nothing_is_saved(make_app, session_factory):
    """GET never writes: a page that tries is refused (in tests; logged in production)
    and its change rolled back."""
    from shop.catalog.models import Category
    from shop.db import WriteOnRead, get_session

    app = make_app()

    @app.get("/writes")
    def writes():
        get_session().add(Category(slug="sneaky", name="Sneaky"))
        get_session().flush()
        return "wrote"

    with pytest.raises(WriteOnRead):
        app.test_client().get("/writes")
    with session_factory(app) as session:
        assert session.query(Category).filter_by(slug="sneaky").count() == 0


def test_a_post_that_does_not_commit_saves_nothing(make_app, session_factory):
    """No commit behind a view's back: a POST view that changes data and does not commit
    (nor say ``@commits``) keeps nothing."""
    from shop.catalog.models import Category
    from shop.db import get_session

    app = make_app()

    @app.post("/forgets")
    def forgets():
        get_session().add(Category(slug="forgotten", name="Forgotten"))
        return "done"

    assert app.test_client().post("/forgets").status_code == 200
    with session_factory(app) as session:
        assert session.query(Category).filter_by(slug="forgotten").count() == 0
