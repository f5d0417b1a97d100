"""The record of a catalogue CSV import, kept as audit entries so that any instance can
tell how far an import got, long after its job's own status has expired.

``catalog.csv_import_batch`` holds one committed batch's counts and how far the import
got (written in the batch's transaction), ``catalog.csv_import`` the summed counts once
it finished, ``catalog.csv_import_stopped`` the problems that stopped it. The job that
applies the file (``shop.admin.csv_job``) writes them through these functions and
commits; the progress page reads them with ``read_record``.
"""

from collections.abc import Sequence
from dataclasses import dataclass, field

import sqlalchemy as sa
from sqlalchemy.orm import Session

from shop.audit.models import AuditEntry
from shop.audit.service import record

TARGET_TYPE = "csv_import"
BATCH_ACTION = "catalog.csv_import_batch"
DONE_ACTION = "catalog.csv_import"
STOPPED_ACTION = "catalog.csv_import_stopped"
ACTIONS = (BATCH_ACTION, DONE_ACTION, STOPPED_ACTION)
SHOWN_PROBLEMS = 50


@dataclass
class ImportRecord:
    """An import as its audit entries tell it."""

    batches: dict[int, dict] = field(default_factory=dict)  # index → the entry's ``after``
    done: dict | None = None  # the summed counts, once finished
    stopped: dict | None = None  # rows_done, problems, once stopped

    @property
    def rows_done(self) -> int:
        return sum(batch["rows"] for batch in self.batches.values())

    @property
    def rows_total(self) -> int | None:
        return next((batch["rows_total"] for batch in self.batches.values()), None)

    @property
    def counts(self) -> dict[str, int]:
        totals: dict[str, int] = {}
        for batch in self.batches.values():
            for name, value in batch["counts"].items():
                totals[name] = totals.get(name, 0) + value
        return totals


def read_record(session: Session, token: str) -> ImportRecord:
    """One query (the ``action`` index, then the token)."""
    entries = session.execute(
        sa.select(AuditEntry.action, AuditEntry.after)
        .where(
            AuditEntry.action.in_(ACTIONS),
            AuditEntry.target_type == TARGET_TYPE,
            AuditEntry.target_id == token,
        )
        .order_by(AuditEntry.id)
    )
    batches: dict[int, dict] = {}
    done: dict | None = None
    stopped: dict | None = None
    for action, after in entries:
        if action == BATCH_ACTION:
            batches[after["batch"]] = after
        elif action == DONE_ACTION:
            done = after
        else:
            stopped = after
    return ImportRecord(batches, done, stopped)


def record_batch(
    session: Session,
    user_id: int,
    token: str,
    *,
    index: int,
    rows: int,
    rows_total: int,
    rows_done: int,
    counts: dict[str, int],
) -> None:
    """Batch ``index`` (``rows`` rows) is applied in this transaction."""
    record(
        session,
        actor_user_id=user_id,
        action=BATCH_ACTION,
        target_type=TARGET_TYPE,
        target_id=token,
        after={
            "batch": index,
            "rows": rows,
            "rows_total": rows_total,
            "counts": counts,
            "rows_done": rows_done,
        },
    )


def record_done(session: Session, user_id: int, token: str, found: ImportRecord) -> dict:
    """The import finished with every batch in ``found``; returns the summed counts."""
    counts = {**found.counts, "rows": found.rows_done}
    record(
        session,
        actor_user_id=user_id,
        action=DONE_ACTION,
        target_type=TARGET_TYPE,
        target_id=token,
        after=counts,
    )
    return counts


def record_stopped(
    session: Session,
    user_id: int,
    token: str,
    problems: Sequence[Sequence],
    rows_done: int,
    rows_total: int | None,
) -> None:
    """The import stopped after ``rows_done`` rows because of ``problems`` (``[line,
    column, message]``; the first ``SHOWN_PROBLEMS`` are kept, and how many there were)."""
    listed = [list(problem) for problem in problems]
    record(
        session,
        actor_user_id=user_id,
        action=STOPPED_ACTION,
        target_type=TARGET_TYPE,
        target_id=token,
        after={
            "rows_done": rows_done,
            "rows_total": rows_total,
            "problems": listed[:SHOWN_PROBLEMS],
            "problem_count": len(listed),
        },
    )
