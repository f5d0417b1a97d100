"""The Redis databases (on 127.0.0.1:6379) the tests use, one per purpose.

Tests flush their database, and ``.ci/run`` runs the SQLite and the PostgreSQL suites at
the same moment: each suite gets its own four databases, from ``TEST_REDIS_DB_BASE``
(default 8: databases 8-11; ``.ci/run`` gives the PostgreSQL suite 2: databases 2-5).
The benchmarks use 13 and 14. ``TEST_REDIS_PORT`` points the tests at another Redis on
loopback (a private one, for several checkouts testing at once).

Under pytest-xdist (``make test-fast``) each worker takes the next four, round the 16
Redis has: gw0 8-11, gw1 12-15, gw2 0-3 (gw3 would be 4-7, beside the 2-5 of CI's
PostgreSQL suite: not both at once)."""

import os

WORKER = int(os.environ.get("PYTEST_XDIST_WORKER", "gw0").removeprefix("gw"))
BASE = (int(os.environ.get("TEST_REDIS_DB_BASE", "8")) + 4 * WORKER) % 16
PORT = int(os.environ.get("TEST_REDIS_PORT", "6379"))


def redis_url(slot: int) -> str:
    return f"redis://127.0.0.1:{PORT}/{BASE + slot}"


ROSTER = redis_url(0)  # tests/schools/test_roster_job.py
CSV_AND_HEALTH = redis_url(1)  # the CSV jobs, /readyz and /metrics tests
JOBS = redis_url(2)  # tests/jobs, thumbnails
SHARED = redis_url(3)  # rate limits and the page cache of production-like apps
