"""The dry run of an uploaded catalogue CSV as a background job, so that the upload
request only stores the file and a 100,000-row check neither meets the web server's
timeout nor holds the whole plan in memory.

The upload stages the file (``shop.admin.csv_staging``), records ``catalog.csv_upload``
(who uploaded which token: the page's proof of ownership before the job has run) and
queues ``check_staged_import`` after its commit. The job reads the staged file in
batches (``csv_io.iter_batches``), plans each batch against the catalogue
(``csv_io.plan_rows`` with ``csv_io.SeenRows``, so that a repeated SKU, rows of one
product that disagree and new products are judged across the whole file, as
``plan_import`` judges them), rolls back and forgets the batch, and keeps only the summed
counts, the first ``CHANGES_SHOWN`` changed rows and the first ``PROBLEMS_SHOWN``
problems. It reports rows checked of total as it goes.

The result is one audit entry ``catalog.csv_check``, written with the used key
``csv-check-done:<user>-<token>`` in the same transaction: a retry, or a second run at the
same moment, leaves the one result, and the page (``/admin/csv/imports/<token>``) reads it
on any instance, long after the job's own status has expired. A file with problems is
removed from the store once its result is recorded (it can never be applied). The apply
(``shop.admin.csv_job``) reads the staged file again and is not changed by this.
"""

from dataclasses import dataclass, field

import sqlalchemy as sa
from flask import current_app
from flask_babel import force_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import Session

from shop.admin import csv_job, csv_staging
from shop.audit.models import AuditEntry
from shop.audit.service import record
from shop.catalog import csv_imports, csv_io
from shop.db import get_session
from shop.jobs import enqueue_after_commit, job_status, report_progress
from shop.jobs.queue import job_id_for
from shop.request_keys import claim
from shop.storage import FileMissing, StorageError, get_storage

BATCH_ROWS = csv_job.BATCH_ROWS  # CSV_IMPORT_BATCH_ROWS, as for the apply
JOB_TIMEOUT_SECONDS = 1800
CHANGES_SHOWN = 1_000  # the result lists this many changed rows, then counts the rest
PROBLEMS_SHOWN = 1_000  # and as many problems
TARGET_TYPE = csv_imports.TARGET_TYPE
UPLOAD_ACTION = "catalog.csv_upload"
CHECK_ACTION = "catalog.csv_check"
SCOPE = "csv-check"
NO_COUNTS = {name: 0 for name in csv_io.ImportPlan().counts}


def job_key(user_id: int, token: str) -> str:
    return f"{SCOPE}:{int(user_id)}-{token}"


def job_id(user_id: int, token: str) -> str:
    return job_id_for(job_key(user_id, token))


def queue_check(session: Session, user_id: int, token: str, size: int, locale: str) -> str:
    """Record the upload and queue its check once ``session`` commits; returns the job's
    id. ``locale``: the language the problems are written in."""
    record(
        session,
        actor_user_id=user_id,
        action=UPLOAD_ACTION,
        target_type=TARGET_TYPE,
        target_id=token,
        after={"bytes": size},
    )
    batch_rows = int(current_app.config.get("CSV_IMPORT_BATCH_ROWS") or BATCH_ROWS)
    return enqueue_after_commit(
        session,
        check_staged_import,
        user_id,
        token,
        batch_rows,
        locale,
        key=job_key(user_id, token),
        job_timeout=JOB_TIMEOUT_SECONDS,
    )


# --- what the page shows ---------------------------------------------------------------


@dataclass(frozen=True)
class Check:
    """A check as the page needs it: ``progress`` while it runs, then ``result``."""

    progress: csv_job.Progress
    result: dict | None = None


def get_check(session: Session, user_id: int, token: str) -> Check | None:
    """``None`` when this user uploaded no file with this token. One query."""
    uploaded, result = False, None
    entries = session.execute(
        sa.select(AuditEntry.action, AuditEntry.after).where(
            AuditEntry.action.in_((UPLOAD_ACTION, CHECK_ACTION)),
            AuditEntry.target_type == TARGET_TYPE,
            AuditEntry.target_id == token,
            AuditEntry.actor_user_id == user_id,
        )
    )
    for action, after in entries:
        if action == UPLOAD_ACTION:
            uploaded = True
        else:
            result = after
    if not uploaded:
        return None
    if result is not None:
        rows = result["counts"]["rows"]
        return Check(csv_job.Progress("finished", rows, rows, result["counts"]), result)
    status = job_status(job_id(user_id, token))
    if status.state in ("failed", "finished"):  # retries used up, or ended without a result
        state = "failed"
    elif status.state == "started":
        state = "running"
    else:
        state = "queued"
    return Check(csv_job.Progress(state, status.done, status.total, {}))


# --- the job ---------------------------------------------------------------------------


@dataclass
class Summary:
    """What a check keeps while it reads: counts, and a bounded list of what to show."""

    counts: dict[str, int] = field(default_factory=lambda: dict(NO_COUNTS))
    changed: list[dict] = field(default_factory=list)
    changed_count: int = 0
    problems: list[dict] = field(default_factory=list)
    problem_count: int = 0

    def add_plan(self, plan: csv_io.ImportPlan) -> None:
        for name, value in plan.counts.items():
            self.counts[name] += value
        for row in plan.rows:
            if not row.changed:
                continue
            self.changed_count += 1
            if len(self.changed) < CHANGES_SHOWN:
                self.changed.append(
                    {
                        "line": row.line,
                        "product_slug": row.product_slug,
                        "sku": row.sku,
                        "product_action": row.product_action,
                        "variant_action": row.variant_action,
                        "changes": [list(change) for change in row.changes],
                        "cells": {
                            name: row.cells.get(name, "")
                            for name in ("name", "size", "colour", "on_hand")
                        },
                    }
                )
        self.add_problems(plan.problems)

    def add_problems(self, problems: list[csv_io.Problem]) -> None:
        self.problem_count += len(problems)
        room = PROBLEMS_SHOWN - len(self.problems)
        self.problems.extend(
            {"line": p.line, "column": p.column, "message": p.message} for p in problems[:room]
        )

    def as_result(self) -> dict:
        return {
            "counts": self.counts,
            "changed": self.changed,
            "changes_hidden": self.changed_count - len(self.changed),
            "problems": self.problems,
            "problem_count": self.problem_count,
        }


def check_staged_import(
    user_id: int, token: str, batch_rows: int = BATCH_ROWS, locale: str = "en"
) -> dict:
    """The job: the dry run of the staged file, batch by batch; its result is recorded
    once (a second run finds it, or loses the race for it, and records nothing)."""
    with force_locale(locale):
        return _check(user_id, token, batch_rows)


def _has_result(session: Session, user_id: int, token: str) -> bool:
    return (
        session.scalar(
            sa.select(AuditEntry.id).where(
                AuditEntry.action == CHECK_ACTION,
                AuditEntry.target_type == TARGET_TYPE,
                AuditEntry.target_id == token,
                AuditEntry.actor_user_id == user_id,
            )
        )
        is not None
    )


def _check(user_id: int, token: str, batch_rows: int) -> dict:
    session = get_session()
    if _has_result(session, user_id, token):
        return {"state": "finished"}
    session.rollback()  # hold no snapshot while reading the file
    summary = Summary()
    try:
        data = csv_staging.read_staged(get_storage(), user_id, token)
    except FileMissing:
        gone = str(_("The uploaded file is gone: upload it again."))
        summary.add_problems([csv_io.Problem(0, "", gone)])
        return _save(session, user_id, token, summary)

    total, unreadable = csv_io.scan_rows(data)
    if unreadable:  # not UTF-8, or too many rows: plan_import reads no row either
        summary.add_problems(unreadable)
        return _save(session, user_id, token, summary)
    report_progress(0, total)
    seen = csv_io.SeenRows()
    read_problems: list[csv_io.Problem] = []
    for batch in csv_io.iter_batches(data, batch_rows, read_problems, stop_at_problem=False):
        problems = read_problems[:]  # the reading problems of this batch's lines
        read_problems.clear()
        plan = csv_io.plan_rows(session, batch, problems, seen=seen)
        summary.add_plan(plan)
        session.rollback()
        session.expunge_all()  # the batch's rows go; memory holds one batch
        report_progress(summary.counts["rows"], total)
    summary.add_problems(read_problems)  # after the last batch (a bad header: all of them)
    if summary.counts["rows"] == 0 and not summary.problem_count:
        summary.add_problems([csv_io.Problem(2, "", str(_l("The file has no rows.")))])
    return _save(session, user_id, token, summary)


def _save(session: Session, user_id: int, token: str, summary: Summary) -> dict:
    result = summary.as_result()
    try:
        if not claim(session, f"{SCOPE}-done", f"{int(user_id)}-{token}"):
            session.rollback()
            return {"state": "finished"}
        record(
            session,
            actor_user_id=user_id,
            action=CHECK_ACTION,
            target_type=TARGET_TYPE,
            target_id=token,
            after=result,
        )
        session.commit()
    except sa.exc.IntegrityError:  # another run recorded it at the same moment
        session.rollback()
        return {"state": "finished"}
    if summary.problem_count:  # it can never be applied: nothing to keep it for
        try:
            csv_staging.discard_staged(get_storage(), user_id, token)
        except StorageError:  # the sweep (or S3's lifecycle rule) removes it later
            current_app.logger.warning("CSV check: could not remove %s", token, exc_info=True)
    return {
        "state": "finished",
        "rows": result["counts"]["rows"],
        "problems": summary.problem_count,
    }
