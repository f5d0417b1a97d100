"""A backing service that does not answer: the database (PostgreSQL restarting, SQLite
locked) gives a friendly 503 page with ``Retry-After``, never a 500; Redis gone leaves the
catalogue served (rendered without the page cache) and rate limits counted per process.
The stack test (tests/stack) does the same to a real PostgreSQL and Redis behind nginx."""

import pytest

from tests.factories import make_product
from tests.localstripe_server import free_port


@pytest.fixture
def database_gone(make_app):
    """An app whose PostgreSQL refuses every connection (nothing listens on the port)."""
    return make_app(DATABASE_URL=f"postgresql+psycopg://postgres@127.0.0.1:{free_port()}/shop")


# (Pages that need no data, such as the sign-in form or an empty cart, are still served.)
@pytest.mark.parametrize("path", ["/products", "/products/polo", "/products?q=polo", "/schools"])
def test_pages_answer_a_friendly_503_while_the_database_is_away(database_gone, path):
    response = database_gone.test_client().get(path)

    assert response.status_code == 503
    assert response.headers["Retry-After"] == "5"
    assert response.headers["Cache-Control"] == "no-store"
    assert 'data-testid="unavailable"' in response.text
    assert 'data-testid="error-reference"' in response.text
    assert f'href="{path}"' in response.text  # "Try again" reloads the page


def test_a_form_posted_while_the_database_is_away_is_503_too(database_gone):
    client = database_gone.test_client()
    response = client.post("/account/login", data={"email": "a@example.com", "password": "x"})
    assert response.status_code == 503
    assert 'href="/"' in response.text


def test_the_catalogue_is_served_without_the_page_cache_while_redis_is_away(make_app, session):
    make_product(session, slug="polo", name="Redisless polo")
    session.commit()
    app = make_app(PAGE_CACHE=True, REDIS_URL=f"redis://127.0.0.1:{free_port()}/0")
    client = app.test_client()

    for path in ("/products", "/products/polo", "/products?q=polo"):
        response = client.get(path)
        assert response.status_code == 200, path
        assert "Redisless polo" in response.text


def test_rate_limits_still_count_while_redis_is_away(make_app, session):
    app = make_app(
        REDIS_URL=f"redis://127.0.0.1:{free_port()}/0",
        RATELIMIT_ENABLED=True,
        RATELIMIT_STORAGE_URI=f"redis://127.0.0.1:{free_port()}/0",
        RATE_LIMIT_PER_ACCOUNT="2 per 15 minutes",
    )
    client = app.test_client()
    statuses = [
        client.post(
            "/account/login", data={"email": "ann@example.com", "password": "wrong"}
        ).status_code
        for _ in range(4)
    ]
    assert 500 not in statuses and 503 not in statuses
    assert statuses[-1] == 429
