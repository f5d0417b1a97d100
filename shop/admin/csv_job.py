"""Applying a staged catalogue CSV (``shop.admin.csv_staging``) as a background job, in
batches, so that a 100,000-row file completes whatever the web server's timeout, the
worker's memory holds one batch at a time and SQLite's write lock is taken per batch.

Each batch of ``batch_rows`` rows is planned again against the catalogue as it is now
(``csv_io.plan_rows``), applied and committed on its own, with two rows in the same
transaction: the used key ``csv-import-batch:<token>:<n>`` (two runners of one batch
collide on it, so a batch is applied once) and an audit entry
``catalog.csv_import_batch`` holding the batch's counts and how far the import got. A run
that dies between batches (a killed worker, a timeout) leaves whole batches behind; the
retry reads those entries and resumes with the first batch not recorded. The rows
themselves are idempotent too (matched by SKU and slug, stock counted against what is on
hand), so applying a row again changes nothing.

The import ends with ``catalog.csv_import`` (the summed counts) and the staged file
deleted; or, when a batch no longer applies (the catalogue changed since the dry run: a
category gone, stock allocated below a count), with ``catalog.csv_import_stopped``
holding the problems: the batches before it stay saved, and uploading the file again
shows what is left to change. These entries are what the progress page reads, so it
shows the outcome on any instance and after the job's own status has expired
(``shop.catalog.csv_imports`` writes and reads them).
"""

from dataclasses import dataclass, field

from flask import current_app
from flask_babel import force_locale
from flask_babel import gettext as _
from sqlalchemy.orm import Session

from shop.admin import csv_staging
from shop.catalog import csv_io
from shop.catalog.csv_imports import read_record, record_batch, record_done, record_stopped
from shop.db import get_session
from shop.jobs import enqueue_after_commit, job_status, report_progress
from shop.jobs.progress import JobStatus
from shop.jobs.queue import job_id_for
from shop.request_keys import UsedRequestKey, claim
from shop.storage import FileMissing, get_storage

BATCH_ROWS = 1_000  # CSV_IMPORT_BATCH_ROWS: ~1 s of work per transaction on SQLite
JOB_TIMEOUT_SECONDS = 3600  # a run that takes longer is stopped, and its retry resumes
APPLY_SCOPE = "csv-import"


def job_key(user_id: int, token: str) -> str:
    return f"{APPLY_SCOPE}:{int(user_id)}-{token}"


def job_id(user_id: int, token: str) -> str:
    return job_id_for(job_key(user_id, token))


def claim_apply(session: Session, user_id: int, token: str) -> bool:
    """The "apply" of this upload, once: ``False`` if it was pressed before. Two presses
    at the same moment collide on the key's primary key (``IntegrityError``)."""
    return claim(session, APPLY_SCOPE, f"{int(user_id)}-{token}")


def is_claimed(session: Session, user_id: int, token: str) -> bool:
    return session.get(UsedRequestKey, job_key(user_id, token)) is not None


def queue_apply(session: Session, user_id: int, token: str, locale: str) -> str:
    """Queue the apply once ``session`` commits; returns the job's id. ``locale``: the
    language its problems are written in, should it stop."""
    batch_rows = int(current_app.config.get("CSV_IMPORT_BATCH_ROWS") or BATCH_ROWS)
    return enqueue_after_commit(
        session,
        apply_staged_import,
        user_id,
        token,
        batch_rows,
        locale,
        key=job_key(user_id, token),
        job_timeout=JOB_TIMEOUT_SECONDS,
    )


# --- what the progress page shows ----------------------------------------------------


@dataclass(frozen=True)
class Progress:
    """What the progress page shows."""

    state: str  # "queued", "running", "finished", "stopped" or "failed"
    rows_done: int
    rows_total: int | None
    counts: dict[str, int]
    problems: list[list] = field(default_factory=list)  # [line, column, message]
    problem_count: int = 0

    @property
    def over(self) -> bool:
        return self.state in ("finished", "stopped", "failed")


def get_progress(session: Session, user_id: int, token: str) -> Progress:
    """The database's record first (true on every instance, and forever); the job's
    own status for what is still moving."""
    found = read_record(session, token)
    if found.done is not None:
        return Progress("finished", found.done["rows"], found.done["rows"], found.done)
    if found.stopped is not None:
        stopped = found.stopped
        return Progress(
            "stopped",
            stopped["rows_done"],
            stopped["rows_total"],
            found.counts,
            stopped["problems"],
            stopped["problem_count"],
        )
    status: JobStatus = job_status(job_id(user_id, token))
    done = max(status.done, found.rows_done)
    total = status.total or found.rows_total
    if status.state == "failed" or (status.state == "finished" and found.done is None):
        state = "failed"  # retries used up, or a run that ended without finishing
    elif status.state == "started" or found.batches:
        state = "running"
    else:
        state = "queued"
    return Progress(state, done, total, found.counts)


# --- the job --------------------------------------------------------------------------


def apply_staged_import(
    user_id: int, token: str, batch_rows: int = BATCH_ROWS, locale: str = "en"
) -> dict:
    """The job: apply the staged file batch by batch, resuming after the last batch a
    previous run committed. Returns the outcome (also recorded in the audit log)."""
    with force_locale(locale):
        return _apply_batches(user_id, token, batch_rows)


def _apply_batches(user_id: int, token: str, batch_rows: int) -> dict:
    session = get_session()
    storage = get_storage()
    found = read_record(session, token)
    if found.done is not None or found.stopped is not None:
        return {"state": "finished" if found.done else "stopped"}
    session.rollback()  # hold no snapshot or lock while reading the file
    try:
        data = csv_staging.read_staged(storage, user_id, token)
    except FileMissing:
        gone = str(_("The uploaded file is gone: upload it again."))
        return _stop(session, user_id, token, [(0, "", gone)])

    problems: list[csv_io.Problem] = []  # in the file itself: a damaged copy
    total = found.rows_total
    if total is None:  # a first run: count the rows (a quick pass, for the progress)
        total = sum(len(batch) for batch in csv_io.iter_batches(data, batch_rows, problems))
        if problems:
            return _stop(session, user_id, token, problems, 0, total)
    done = found.rows_done
    report_progress(done, total)
    for index, batch in enumerate(csv_io.iter_batches(data, batch_rows, problems)):
        if index in found.batches:
            continue
        plan = csv_io.plan_rows(session, batch)
        if plan.problems:
            session.rollback()
            return _stop(session, user_id, token, plan.problems, done, total)
        if not claim(session, "csv-import-batch", f"{token}:{index}"):
            session.rollback()  # another run has committed this batch meanwhile
            done += len(batch)
            continue
        counts = csv_io.apply_plan(session, plan, actor_user_id=user_id)
        done += len(batch)
        record_batch(
            session,
            user_id,
            token,
            index=index,
            rows=len(batch),
            rows_total=total,
            rows_done=done,
            counts=counts,
        )
        session.commit()
        session.expunge_all()  # the batch's rows go; memory holds one batch
        report_progress(done, total)
    if problems:
        return _stop(session, user_id, token, problems, done, total)

    found = read_record(session, token)
    if not claim(session, "csv-import-done", token):
        session.rollback()
        return {"state": "finished"}
    counts = record_done(session, user_id, token, found)
    session.commit()
    csv_staging.discard_staged(storage, user_id, token)
    return {"state": "finished", **counts}


def _stop(session, user_id, token, problems, done=0, total=None) -> dict:
    """End the import where it stands, saying why (once)."""
    if not claim(session, "csv-import-done", token):
        session.rollback()
        return {"state": "stopped"}
    listed = [
        [p.line, p.column, p.message] if isinstance(p, csv_io.Problem) else list(p)
        for p in problems
    ]
    record_stopped(session, user_id, token, listed, done, total)
    session.commit()
    return {"state": "stopped", "rows_done": done}
