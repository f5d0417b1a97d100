"""Writing and reading the audit log. Every admin action that changes data calls
``record`` in the same transaction as the change, so the log and the data never disagree;
``audit_query`` selects entries by who, what and when."""

from datetime import UTC, date, datetime, time, timedelta, tzinfo

import sqlalchemy as sa
from sqlalchemy.orm import Session

from shop.audit.models import AuditEntry


def _plain(value):
    if isinstance(value, str | int | float | bool | type(None)):
        return value
    if isinstance(value, list | tuple):  # a copy: later edits of the list must not show
        return [_plain(item) for item in value]
    return str(value)


def snapshot(obj, fields) -> dict:
    """The named attributes of ``obj`` as JSON-friendly values (for ``before``/``after``)."""
    return {name: _plain(getattr(obj, name)) for name in fields}


def record_changes(
    session: Session,
    *,
    actor_user_id: int | None,
    action: str,
    target_type: str,
    target_id: str | int,
    before: dict,
    after: dict,
) -> list[str]:
    """Record only the fields that differ between two snapshots (nothing when none do);
    returns their names."""
    changed = [name for name in after if before.get(name) != after[name]]
    if changed:
        record(
            session,
            actor_user_id=actor_user_id,
            action=action,
            target_type=target_type,
            target_id=target_id,
            before={name: before.get(name) for name in changed},
            after={name: after[name] for name in changed},
        )
    return changed


def record(
    session: Session,
    *,
    actor_user_id: int | None,
    action: str,
    target_type: str,
    target_id: str | int = "",
    before: dict | None = None,
    after: dict | None = None,
) -> AuditEntry:
    entry = AuditEntry(
        actor_user_id=actor_user_id,
        action=action,
        target_type=target_type,
        target_id=str(target_id),
        before=before,
        after=after,
    )
    session.add(entry)
    session.flush()
    return entry


def audit_query(
    *,
    actor_id: int | None,
    action: str,
    date_from: date | None,
    date_to: date | None,
    zone: tzinfo,
) -> sa.Select[AuditEntry]:
    """The audit entries matching the filters, newest first; the dates are whole days
    (both included) on ``zone``'s calendar."""
    query = sa.select(AuditEntry)
    if actor_id is not None:
        query = query.where(AuditEntry.actor_user_id == actor_id)
    if action:
        query = query.where(AuditEntry.action == action)
    if date_from:
        start = datetime.combine(date_from, time.min, tzinfo=zone).astimezone(UTC)
        query = query.where(AuditEntry.created_at >= start)
    if date_to:
        end = datetime.combine(date_to + timedelta(days=1), time.min, tzinfo=zone)
        query = query.where(AuditEntry.created_at < end.astimezone(UTC))
    return query.order_by(AuditEntry.created_at.desc(), AuditEntry.id.desc())
