"""A process's window visits go to Redis together (``shop.resellers.visits.VisitTally``):
a new visitor's page makes no round trip for its visit; a timer sends the tally within
``WINDOW_VISITS_SEND_SECONDS``, each visit once however many arrive at once; what Redis
does not take goes to the database; what is left at the process's exit is sent then; a
forked child leaves its parent's visits to the parent."""

import json
import os
import subprocess
import sys
import threading
import time
from datetime import date

import pytest

from shop.config import ConfigError
from shop.resellers import visits as window_visits
from tests.helpers.resellers import make_reseller, stored_visits, window_with_a_pick
from tests.localstripe_server import free_port
from tests.redis_dbs import SHARED

DAY = date(2026, 12, 6)
WAIT_SECONDS = 10  # the longest a test waits for a timer (a loaded CI machine)


@pytest.fixture
def make_tally_app(make_app):
    made = []

    def factory(interval: float, redis_url: str = SHARED):
        app = make_app(REDIS_URL=redis_url, WINDOW_VISITS_SEND_SECONDS=interval)
        made.append(app)
        return app

    yield factory
    for app in made:
        with app.app_context():
            tally = window_visits.tally_for(app)
            tally.interval = 0  # nothing left for a timer after the test
            if app.config["REDIS_URL"] == SHARED:
                tally.send()
                client = window_visits._redis()
                for key in client.scan_iter(match=f"{window_visits._prefix()}*"):
                    client.delete(key)


@pytest.fixture
def window(session):
    return window_with_a_pick(session)


def in_redis(app, reseller_id: int) -> int:
    with app.app_context():
        client = window_visits._redis()
        keys = client.keys(f"{window_visits._prefix()}*")
        return sum(int(client.hget(key, str(reseller_id)) or 0) for key in keys)


def wait_for_redis(app, reseller_id: int, expected: int) -> int:
    deadline = time.monotonic() + WAIT_SECONDS
    while (found := in_redis(app, reseller_id)) < expected and time.monotonic() < deadline:
        time.sleep(0.05)
    return found


def test_new_visitors_pages_wait_for_no_count_and_the_timer_sends_them(
    make_tally_app, session, window
):
    app = make_tally_app(interval=3)
    for _ in range(3):  # three new visitors (no cookie)
        assert app.test_client().get("/w/ann-picks").status_code == 200
    assert in_redis(app, window) == 0  # in the process's tally, not sent yet
    assert wait_for_redis(app, window, 3) == 3
    time.sleep(0.2)
    assert in_redis(app, window) == 3  # sent once
    assert stored_visits(session, window) == 0  # the fold's to move, as before


@pytest.mark.parametrize("copies", [2, 5])
def test_visitors_at_the_same_moment_are_each_counted_once(make_tally_app, session, window, copies):
    app = make_tally_app(interval=0.2)
    start = threading.Barrier(copies)
    statuses = []

    def visit():
        client = app.test_client()
        start.wait()
        statuses.append(client.get("/w/ann-picks").status_code)

    threads = [threading.Thread(target=visit) for _ in range(copies)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert statuses == [200] * copies
    assert wait_for_redis(app, window, copies) == copies
    time.sleep(0.4)  # a second timer would have sent again by now
    assert in_redis(app, window) == copies


def test_visits_added_while_the_timer_sends_are_each_sent_once(make_tally_app, session):
    app = make_tally_app(interval=0.02)
    tally = window_visits.tally_for(app)
    start = threading.Barrier(5)

    def add_many(reseller_id: int):
        start.wait()
        for _ in range(200):
            tally.add(reseller_id, DAY)

    threads = [threading.Thread(target=add_many, args=(90001 + n % 2,)) for n in range(5)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert wait_for_redis(app, 90001, 600) == 600  # three threads' visits
    assert wait_for_redis(app, 90002, 400) == 400  # two threads'
    assert tally.send() == 0  # nothing left behind
    assert (in_redis(app, 90001), in_redis(app, 90002)) == (600, 400)


def test_a_tally_redis_does_not_take_goes_to_the_database(make_tally_app, session, window):
    nobody = f"redis://127.0.0.1:{free_port()}/0"  # no Redis listens there
    app = make_tally_app(interval=60, redis_url=nobody)
    ben = make_reseller(session, email="ben@example.com", handle="ben-picks")
    session.commit()
    tally = window_visits.tally_for(app)
    for reseller_id, day in [
        (window, DAY),
        (window, DAY),
        (ben.id, DAY),
        (window, date(2026, 12, 7)),
    ]:
        tally.add(reseller_id, day)
    assert stored_visits(session, window) == 0
    assert tally.send() == 4  # two windows, two days: one transaction in the database
    assert (stored_visits(session, window), stored_visits(session, ben.id)) == (3, 1)
    assert tally.send() == 0


EXITING_PROCESS = """
import json, sys
from datetime import date
from shop import create_app
from shop.resellers.visits import tally_for
settings, reseller_id = json.loads(sys.argv[1]), int(sys.argv[2])
app = create_app(settings)
for _ in range(4):
    tally_for(app).add(reseller_id, date(2026, 12, 6))
"""


def test_what_a_process_holds_at_its_exit_is_sent(make_tally_app, session, window):
    app = make_tally_app(interval=60)  # no timer would send within the test
    settings = {
        name: app.config[name]
        for name in ("TESTING", "SECRET_KEY", "DATABASE_URL", "REDIS_URL", "SERVER_NAME")
    }
    settings |= {"PAGE_CACHE_NAMESPACE": app.config["PAGE_CACHE_NAMESPACE"]}
    settings |= {"WINDOW_VISITS_SEND_SECONDS": 60, "UPLOAD_FOLDER": app.config["UPLOAD_FOLDER"]}
    done = subprocess.run(
        [sys.executable, "-c", EXITING_PROCESS, json.dumps(settings), str(window)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert in_redis(app, window) == 4


@pytest.mark.skipif(not hasattr(os, "fork"), reason="fork: POSIX only")
def test_a_forked_child_leaves_its_parents_visits_to_the_parent(make_tally_app, session, window):
    app = make_tally_app(interval=60)
    tally = window_visits.tally_for(app)
    tally.add(window, DAY)
    tally.add(window, DAY)
    child = os.fork()
    if child == 0:  # the child: what a worker forked now would send at its exit
        os._exit(window_visits.VisitTally.send(tally))
    _pid, status = os.waitpid(child, 0)
    assert os.waitstatus_to_exitcode(status) == 0  # the child had nothing to send
    assert in_redis(app, window) == 0
    assert tally.send() == 2
    assert in_redis(app, window) == 2


def test_the_interval_is_read_as_seconds_and_a_bad_one_stops_start_up(make_app):
    assert make_app(WINDOW_VISITS_SEND_SECONDS=" 0.5 ").config["WINDOW_VISITS_SEND_SECONDS"] == 0.5
    for bad in ("soon", "-1", "61", "nan"):
        with pytest.raises(ConfigError, match="WINDOW_VISITS_SEND_SECONDS"):
            make_app(WINDOW_VISITS_SEND_SECONDS=bad)
