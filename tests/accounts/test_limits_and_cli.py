"""Rate limits on sign-in, registration and reset; create-staff; demo accounts; CSRF."""

import re
import uuid

import pytest
import sqlalchemy as sa

from shop.accounts.models import User
from shop.accounts.permissions import ROLES
from shop.demo.accounts import DEMO_PASSWORD, demo_email
from tests.accounts.helpers import PASSWORD, login, make_user
from tests.redis_dbs import SHARED


def test_five_failed_logins_lock_the_account_for_a_while(client, session):
    make_user(session)
    for _ in range(5):
        assert login(client, password="wrong password").status_code == 401
    refused = login(client)  # even the right password now
    assert refused.status_code == 429
    assert re.search(r"Try again in \d+ minutes", refused.text)
    assert "Retry-After" in refused.headers
    # another account from the same address is not locked
    make_user(session, email="bob@example.com")
    assert login(client, email="bob@example.com").status_code == 302


def test_wrong_passwords_from_one_address_do_not_lock_the_holder_out_elsewhere(client, session):
    """An attacker who knows alice's email cannot lock her out of her own devices: the
    per-account count is per account AND address."""
    make_user(session, email="alice@example.com")
    attacker = {"REMOTE_ADDR": "198.51.100.9"}
    for _ in range(5):
        response = client.post(
            "/account/login",
            data={"email": "alice@example.com", "password": "guess"},
            environ_base=attacker,
        )
        assert response.status_code == 401
    locked = client.post(
        "/account/login",
        data={"email": "alice@example.com", "password": PASSWORD},
        environ_base=attacker,
    )
    assert locked.status_code == 429
    at_home = client.post(
        "/account/login",
        data={"email": "alice@example.com", "password": PASSWORD},
        environ_base={"REMOTE_ADDR": "192.0.2.20"},
    )
    assert at_home.status_code == 302


def test_successful_logins_do_not_count(client, session):
    make_user(session)
    for _ in range(7):
        assert login(client).status_code == 302
        client.post("/account/logout")


@pytest.mark.slow
def test_twenty_failures_from_one_address_are_refused(make_app):
    app = make_app(RATE_LIMIT_PER_ACCOUNT="100 per 15 minutes")
    client = app.test_client()
    for number in range(20):
        assert login(client, email=f"user{number}@example.com").status_code == 401
    assert login(client, email="someone@example.com").status_code == 429


def test_reset_requests_are_limited_per_address(make_app):
    client = make_app(RATE_LIMIT_PER_ADDRESS="3 per 15 minutes").test_client()
    for _ in range(3):
        assert client.post("/account/reset", data={"email": "a@example.com"}).status_code == 302
    assert client.post("/account/reset", data={"email": "a@example.com"}).status_code == 429


def test_create_staff_prints_a_working_set_password_link(app, session):
    result = app.test_cli_runner().invoke(
        args=["create-staff", "--email", "Mei@Factory.example", "--role", "warehouse"]
    )
    assert result.exit_code == 0, result.output
    assert "Created Mei@factory.example as warehouse." in result.output
    path = re.sub(r"^https?://[^/]+", "", re.search(r"https?://\S+", result.output).group(0))
    client = app.test_client()
    password = "a long staff password"
    assert client.post(path, data={"password": password, "confirm": password}).status_code == 302
    assert (
        login(client, email="Mei@factory.example", password=password).headers["Location"]
        == "/admin/"
    )

    again = app.test_cli_runner().invoke(
        args=["create-staff", "--email", "mei@factory.example", "--role", "manager"]
    )
    assert "Updated Mei@factory.example as manager." in again.output
    session.expire_all()
    assert session.scalars(sa.select(User.role)).all() == ["manager"]


def test_create_staff_refuses_an_unknown_role(app, session):
    result = app.test_cli_runner().invoke(
        args=["create-staff", "--email", "x@example.com", "--role", "emperor"]
    )
    assert result.exit_code != 0
    assert session.scalar(sa.select(sa.func.count(User.id))) == 0


@pytest.mark.slow
def test_seed_demo_creates_one_account_per_role(make_app, session_factory):
    app = make_app(DEMO_IMAGE_SIZE=64)
    app.test_cli_runner().invoke(args=["seed-demo"])
    with session_factory(app) as session:
        # One of each role, plus the demo schools' own bursars.
        assert set(session.scalars(sa.select(User.role))) == set(ROLES)
        for role in ROLES:
            assert session.scalar(sa.select(User.id).where(User.email == demo_email(role)))
    client = app.test_client()
    assert login(client, email=demo_email("owner"), password=DEMO_PASSWORD).status_code == 302


@pytest.mark.parametrize(
    ("url", "data"),
    [
        ("/account/login", {"email": "ann@example.com", "password": PASSWORD}),
        ("/account/register", {"name": "A", "email": "b@example.com", "password": "x" * 12}),
        ("/account/reset", {"email": "ann@example.com"}),
        ("/account/logout", {}),
    ],
)
def test_account_forms_refuse_a_post_without_csrf_token(make_app, session_factory, url, data):
    app = make_app(WTF_CSRF_ENABLED=True)
    with session_factory(app) as session:
        make_user(session)
    response = app.test_client().post(url, data=data)
    assert response.status_code == 400
    assert "security token" in response.text


@pytest.fixture
def redis_url():
    """The shared test Redis database for rate limits; afterwards only the keys this test made (they
    carry ``REDIS_MARK``) are deleted. (Not a RATELIMIT_KEY_PREFIX: the shared limiter
    would keep it for every later app.)"""
    redis = pytest.importorskip("redis")
    url = SHARED
    client = redis.Redis.from_url(url)
    try:
        client.ping()
    except redis.exceptions.ConnectionError:
        pytest.skip(f"no Redis at {SHARED}")
    yield url
    for pattern in (f"*{REDIS_MARK}*", f"*/{REDIS_ADDRESS}/*"):
        for key in client.keys(pattern):
            client.delete(key)
    client.close()


REDIS_MARK = f"redis-{uuid.uuid4().hex[:12]}"
REDIS_ADDRESS = "10.{}.{}.{}".format(*uuid.uuid4().bytes[:3])  # the per-address key's own


def test_limits_live_in_redis_when_redis_url_is_set(make_app, session_factory, redis_url):
    import redis

    email = f"{REDIS_MARK}@example.com"
    app = make_app(REDIS_URL=redis_url, JOBS_INLINE=True)  # no worker runs here
    with session_factory(app) as session:
        make_user(session, email=email)
    client = app.test_client()
    client.environ_base["REMOTE_ADDR"] = REDIS_ADDRESS
    for _ in range(5):
        login(client, email=email, password="wrong password")
    assert login(client, email=email).status_code == 429
    with redis.Redis.from_url(redis_url) as server:
        assert server.keys(f"*{REDIS_MARK}*")
    # a second app (another gunicorn worker) sees the same counts
    other_worker = make_app(REDIS_URL=redis_url, JOBS_INLINE=True).test_client()
    other_worker.environ_base["REMOTE_ADDR"] = REDIS_ADDRESS
    assert login(other_worker, email=email).status_code == 429
