"""Uploaded catalogue CSVs waiting for their "apply", kept in the shop's store
(``shop.storage``: this host's disk, or S3 shared by every instance), so that the instance
or worker that applies a file need not be the one that received it.

A file is ``csv-imports/<uploader's id>-<token>.csv``: the token is random (128 bits) and
the uploader's id is part of the name, so only the person who saw the dry run can apply
it. ``/media/`` serves only the store's public folders (``shop.assets``), never this one.
A file older than ``KEEP_SECONDS`` counts as gone; on S3 a lifecycle rule on the prefix
removes abandoned ones, on disk each new upload sweeps them.
"""

import re
import secrets
import time
from datetime import UTC, datetime

from shop.storage import FileMissing, FileStorage, Storage

PREFIX = "csv-imports"
KEEP_SECONDS = 24 * 3600
TOKEN = re.compile(r"[0-9a-f]{32}")


def staged_name(user_id: int, token: str) -> str:
    if not TOKEN.fullmatch(token):
        raise ValueError(f"not an import token: {token!r}")
    return f"{PREFIX}/{int(user_id)}-{token}.csv"


def stage_upload(storage: Storage, user_id: int, data: bytes) -> str:
    """Keep ``data`` for its apply; returns the new token."""
    _sweep(storage)
    token = secrets.token_hex(16)
    storage.save(staged_name(user_id, token), data, content_type="text/csv")
    return token


def is_staged(storage: Storage, user_id: int, token: str) -> bool:
    """The file is there and young enough to apply."""
    try:
        stored = storage.stat(staged_name(user_id, token))
    except FileMissing:
        return False
    return (datetime.now(UTC) - stored.modified).total_seconds() < KEEP_SECONDS


def read_staged(storage: Storage, user_id: int, token: str) -> bytes:
    """The file's bytes; ``FileMissing`` when it is gone."""
    return storage.read(staged_name(user_id, token))


def discard_staged(storage: Storage, user_id: int, token: str) -> None:
    storage.delete(staged_name(user_id, token))


def _sweep(storage: Storage) -> None:
    """On disk, remove the uploads nobody applied (a store has no listing; S3 has
    lifecycle rules for this)."""
    if not isinstance(storage, FileStorage):
        return
    cutoff = time.time() - KEEP_SECONDS
    for path in (storage.root / PREFIX).glob("*.csv"):
        try:
            if path.stat().st_mtime < cutoff:
                path.unlink(missing_ok=True)
        except OSError:  # another process swept it first
            continue
