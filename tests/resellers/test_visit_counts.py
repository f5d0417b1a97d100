"""Window visits with Redis (``shop.resellers.visits``): a visitor's page writes nothing to
the database; ``fold-window-visits`` moves the counts there, each visit once, however many
folds run at once; a fold that died is finished by a later one; a Redis that does not
answer sends the visit to the database."""

import threading
import time
from datetime import date

import pytest
import sqlalchemy as sa
from redis.exceptions import ConnectionError as RedisConnectionError

from shop.jobs.scheduler import TIMETABLE
from shop.resellers import visits as window_visits
from shop.resellers.models import ResellerVisit
from tests.at_once import send_at_once
from tests.helpers.resellers import stored_visits, window_with_a_pick
from tests.redis_dbs import SHARED


@pytest.fixture
def app(make_app):
    app = make_app(REDIS_URL=SHARED, JOBS_INLINE=True)
    yield app
    with app.app_context():
        client = window_visits._redis()
        for key in client.scan_iter(match=f"{window_visits._prefix()}*"):
            client.delete(key)


@pytest.fixture
def window(app, session):
    return window_with_a_pick(session)


def counted_in_redis(app, reseller_id: int) -> int:
    with app.app_context():
        client = window_visits._redis()
        keys = client.keys(f"{window_visits._prefix()}*")
        return sum(int(client.hget(key, str(reseller_id)) or 0) for key in keys)


def fold(app) -> int:
    with app.app_context():
        return window_visits.fold_visits()


def test_a_visit_waits_in_redis_until_the_fold(app, client, session, window):
    assert client.get("/w/ann-picks").status_code == 200
    assert stored_visits(session, window) == 0
    assert counted_in_redis(app, window) == 1
    assert fold(app) == 1
    assert stored_visits(session, window) == 1
    assert counted_in_redis(app, window) == 0
    assert fold(app) == 0  # nothing twice
    assert stored_visits(session, window) == 1


@pytest.mark.parametrize("n", [2, 5])
def test_visitors_at_the_same_moment_all_count(app, client, session, window, n):
    answers = send_at_once(app, client, n, "GET", "/products/polo?via=ann-picks")
    assert [answer.status for answer in answers] == [200] * n
    fold(app)
    assert stored_visits(session, window) == n


@pytest.mark.parametrize("n", [2, 5])
def test_folds_at_once_move_each_visit_once(app, session, window, n):
    day = date(2026, 12, 5)
    with app.app_context():
        for _ in range(7):
            window_visits.count_visit(app, window, day)
    moved = [0] * n
    barrier = threading.Barrier(n)

    def run(index):
        barrier.wait()
        moved[index] = fold(app)

    threads = [threading.Thread(target=run, args=(index,)) for index in range(n)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sum(moved) == 7
    assert stored_visits(session, window) == 7


def test_a_claim_left_by_a_dead_fold_is_folded_later(app, session, window):
    day = date(2026, 12, 4)
    with app.app_context():
        window_visits.count_visit(app, window, day)
        window_visits.count_visit(app, window, day)
        client = window_visits._redis()
        prefix = window_visits._prefix()
        # A fold that claimed the day's count and died before adding it.
        claimed_at = int(time.time())
        client.rename(f"{prefix}{day.isoformat()}", f"{prefix}claim:{claimed_at}-dead:{day}")
        assert window_visits.fold_visits() == 0  # another fold may still be at work on it
        later = claimed_at + window_visits.STALE_CLAIM_SECONDS + 1
        assert window_visits.fold_visits(now=later) == 2
    assert stored_visits(session, window) == 2
    assert session.scalar(sa.select(ResellerVisit.day)) == day


def test_a_key_that_is_not_a_day_is_left_alone(app, session, window):
    with app.app_context():
        client = window_visits._redis()
        client.hset(f"{window_visits._prefix()}not-a-day", str(window), 3)
        assert window_visits.fold_visits() == 0
        assert client.exists(f"{window_visits._prefix()}not-a-day")
    assert stored_visits(session, window) == 0


def test_without_an_answer_from_redis_the_visit_goes_to_the_database(
    app, client, session, window, monkeypatch
):
    with app.app_context():
        redis_client = window_visits._redis()

    def refuse(*args, **kwargs):
        raise RedisConnectionError("Redis is away")

    monkeypatch.setattr(redis_client, "hincrby", refuse)
    assert client.get("/w/ann-picks").status_code == 200
    assert stored_visits(session, window) == 1


def test_without_redis_a_visit_is_stored_at_once_and_the_fold_has_nothing(make_app, session):
    app = make_app()
    with app.app_context():
        assert window_visits.fold_visits() == 0


def test_the_scheduler_folds_every_minute_and_the_command_folds_now(app, session, window):
    task = next(task for task in TIMETABLE if task.name == "fold-window-visits")
    assert app.config[task.setting] == 60
    with app.app_context():
        window_visits.count_visit(app, window, date(2026, 12, 5))
    result = app.test_cli_runner().invoke(args=["fold-window-visits"])
    assert result.exit_code == 0, result.output
    assert "Moved 1 window visit(s)" in result.output
    assert stored_visits(session, window) == 1
