"""Jobs for the tests: module-level functions, as every job must be."""

from pathlib import Path

from shop.db import get_session
from shop.jobs import report_progress
from shop.request_keys import UsedRequestKey


def write_key(key: str) -> str:
    """An effect in the job's own session, committed by the runner."""
    get_session().add(UsedRequestKey(key=key))
    return key


def count_runs(log: str, note: str = "run") -> int:
    """Append a line to ``log``; the number of runs so far."""
    path = Path(log)
    with path.open("a") as file:
        file.write(note + "\n")
    return len(path.read_text().splitlines())


def fail_first(log: str, failures: int) -> int:
    """Fail the first ``failures`` runs, then succeed (and write a key)."""
    runs = count_runs(log)
    if runs <= failures:
        raise RuntimeError(f"run {runs} fails on purpose")
    get_session().add(UsedRequestKey(key=f"after-{runs}-runs"))
    return runs


def write_then_fail(key: str) -> None:
    """Its write must be rolled back by the runner."""
    session = get_session()
    session.add(UsedRequestKey(key=key))
    session.flush()
    raise RuntimeError("fails after writing")


def count_to(total: int) -> str:
    for done in range(1, total + 1):
        report_progress(done, total)
    return f"counted to {total}"
