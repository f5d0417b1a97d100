"""Writing the audit log. Every admin action that changes data calls ``record`` in the
same transaction as the change, so the log and the data never disagree."""

from sqlalchemy.orm import Session

from shop.audit.models import AuditEntry


def snapshot(obj, fields) -> dict:
    """The named attributes of ``obj`` as JSON-friendly values (for ``before``/``after``)."""
    values = {}
    for name in fields:
        value = getattr(obj, name)
        values[name] = (
            value if isinstance(value, str | int | float | bool | type(None)) else str(value)
        )
    return values


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
