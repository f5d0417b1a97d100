"""Round trips on the wire to PostgreSQL per request (``bench/round_trips.py``)."""

from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[2] / "bench"
# psycopg prepares a statement on its fifth run, in a round trip of its own when not in a
# pipeline (a process's first listing page runs its page's statement apart, in a pipeline
# with the menus): requests after that many show the steady cost.
WARM_UP = 8


def round_trip_counter(app, database_url: str, monkeypatch):
    """A ``RoundTrips`` on the app's engine, which it empties of connections (give back
    any a session holds first); the test is skipped on SQLite (no wire)."""
    if not database_url.startswith("postgresql"):
        pytest.skip("round trips to a server: PostgreSQL only")
    monkeypatch.syspath_prepend(str(BENCH))
    from round_trips import RoundTrips

    return RoundTrips(app.extensions["sa_engine"])


def round_trips_of(client, counter, path: str) -> tuple[int, int]:
    """(round trips, statements) of ``GET path``, once warmed up."""
    for _ in range(WARM_UP):
        client.get(path)
    counter.take()
    assert client.get(path).status_code == 200
    counted = counter.take()
    return counted["round_trips"], counted["statements"]
