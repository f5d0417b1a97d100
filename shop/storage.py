"""Where uploaded files live: one small interface, two stores.

``STORAGE_URL`` chooses the store, once, at start-up (``init_app``):

- empty, or ``file://`` → ``FileStorage`` on ``UPLOAD_FOLDER`` (``instance/uploads``);
  ``file:///srv/shop/media`` → that folder. One host only.
- ``s3://bucket/prefix`` → ``S3Storage``, any S3-compatible store (AWS, MinIO, ...), so
  every instance of the shop sees the same files. ``STORAGE_ENDPOINT_URL`` points at a
  store other than AWS (else boto3's own ``AWS_ENDPOINT_URL_S3``/``AWS_ENDPOINT_URL``);
  credentials and region come from the usual AWS variables (``AWS_ACCESS_KEY_ID``,
  ``AWS_SECRET_ACCESS_KEY``, ``AWS_DEFAULT_REGION``) or an instance role, never the URL.

Names are relative, ``/``-separated, and made only of letters, digits, ``.``, ``_`` and
``-`` with no segment starting with a dot: so no ``..``, no absolute path, no NUL byte,
no hidden file. Anything else is ``InvalidName`` before a store is asked. A missing file
is ``FileMissing``; a store that does not answer is ``StorageError``.

Stores hold bytes, not policy: which names are public and for how long browsers keep
them is ``shop.assets.send_media``'s business. ``/readyz`` asks ``check()`` (``check_storage``).
"""

import hashlib
import os
import re
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import BinaryIO, Protocol
from urllib.parse import urlsplit

from flask import Flask, current_app

NAME = re.compile(r"[A-Za-z0-9_-][A-Za-z0-9._-]*(?:/[A-Za-z0-9_-][A-Za-z0-9._-]*)*")
MAX_NAME_LENGTH = 255
BUCKET = re.compile(r"[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]")
# Seconds: a store that does not answer must not hold a request (or a probe) for long.
S3_CONNECT_TIMEOUT = 5
S3_READ_TIMEOUT = 15


class InvalidName(ValueError):
    """Not a name a store may hold (traversal, NUL byte, absolute path, ...)."""


class FileMissing(LookupError):
    """No file by that name."""


class StorageError(RuntimeError):
    """The store did not answer, or refused; the message says why (for the log)."""


class BadStorageURL(ValueError):
    """``STORAGE_URL`` is not one the shop understands; the message says what to set."""


@dataclass(frozen=True)
class StoredFile:
    name: str
    size: int
    etag: str  # changes whenever the bytes may have changed; the same on every instance
    modified: datetime  # aware, UTC


class Storage(Protocol):
    def save(self, name: str, data: bytes, content_type: str | None = None) -> None:
        """Store ``data`` under ``name``, replacing what was there, all at once: a reader
        sees the old bytes or the new ones, never part of them."""

    def read(self, name: str) -> bytes: ...

    def open(self, name: str) -> tuple[StoredFile, BinaryIO]:
        """The file's details and a stream of its bytes (the caller closes it)."""

    def stat(self, name: str) -> StoredFile: ...

    def exists(self, name: str) -> bool: ...

    def delete(self, name: str) -> None:
        """Remove ``name``; a name already gone is fine."""

    def check(self) -> None:
        """Raise ``StorageError`` unless the store answers and can be written (readiness)."""


def check_name(name: str) -> str:
    if (
        not isinstance(name, str)
        or len(name) > MAX_NAME_LENGTH
        or not NAME.fullmatch(name)
        or any(part in (".", "..") for part in name.split("/"))
    ):
        raise InvalidName(f"not a storable name: {name!r}")
    return name


# --- files on this host ------------------------------------------------------------------


class FileStorage:
    """Files under ``root`` on this host's disk."""

    def __init__(self, root: str | os.PathLike):
        self.root = Path(root).resolve()

    def __repr__(self) -> str:
        return f"FileStorage({str(self.root)!r})"

    def _path(self, name: str) -> Path:
        path = self.root / check_name(name)
        # A symlink planted inside the folder must not lead out of it.
        if not path.resolve().is_relative_to(self.root):
            raise InvalidName(f"{name!r} leads outside the storage folder")
        return path

    def save(self, name: str, data: bytes, content_type: str | None = None) -> None:
        path = self._path(name)
        path.parent.mkdir(parents=True, exist_ok=True)
        # Written aside under a dotted name (never a valid name, so never served), then
        # renamed over the target in one step.
        temporary = path.with_name(f".{path.name}.{secrets.token_hex(8)}.tmp")
        try:
            temporary.write_bytes(data)
            os.replace(temporary, path)
        except BaseException:
            temporary.unlink(missing_ok=True)
            raise

    def _stat(self, name: str, path: Path) -> StoredFile:
        try:
            result = path.stat()
        except (FileNotFoundError, NotADirectoryError):
            raise FileMissing(name) from None
        if not path.is_file():
            raise FileMissing(name)
        tag = f"{name}\0{result.st_mtime_ns}\0{result.st_size}".encode()
        return StoredFile(
            name=name,
            size=result.st_size,
            etag=hashlib.sha256(tag).hexdigest()[:32],
            modified=datetime.fromtimestamp(result.st_mtime, UTC),
        )

    def stat(self, name: str) -> StoredFile:
        return self._stat(name, self._path(name))

    def open(self, name: str) -> tuple[StoredFile, BinaryIO]:
        path = self._path(name)
        try:
            stream = path.open("rb")
        except (FileNotFoundError, NotADirectoryError, IsADirectoryError):
            raise FileMissing(name) from None
        try:
            return self._stat(name, path), stream
        except BaseException:
            stream.close()
            raise

    def read(self, name: str) -> bytes:
        _info, stream = self.open(name)
        with stream:
            return stream.read()

    def exists(self, name: str) -> bool:
        return self._path(name).is_file()

    def delete(self, name: str) -> None:
        self._path(name).unlink(missing_ok=True)

    def check(self) -> None:
        try:
            self.root.mkdir(parents=True, exist_ok=True)
        except OSError as error:
            raise StorageError(f"cannot create {self.root}: {error}") from None
        if not os.access(self.root, os.W_OK | os.X_OK):
            raise StorageError(f"{self.root} is not writable")


# --- S3 and compatible stores ------------------------------------------------------------


class S3Storage:
    """Objects under ``prefix/`` in ``bucket`` of an S3-compatible store (boto3)."""

    def __init__(
        self,
        bucket: str,
        prefix: str = "",
        *,
        endpoint_url: str | None = None,
        region: str | None = None,
    ):
        import boto3
        from botocore.config import Config

        self.bucket = bucket
        self.prefix = prefix.strip("/")
        self.endpoint_url = endpoint_url
        config = Config(
            connect_timeout=S3_CONNECT_TIMEOUT,
            read_timeout=S3_READ_TIMEOUT,
            retries={"max_attempts": 3, "mode": "standard"},
            # Stores other than AWS (MinIO, ...) rarely have a DNS name per bucket.
            s3={"addressing_style": "path" if endpoint_url else "auto"},
        )
        self.client = boto3.client(
            "s3", endpoint_url=endpoint_url or None, region_name=region or None, config=config
        )

    def __repr__(self) -> str:
        where = f" at {self.endpoint_url}" if self.endpoint_url else ""
        return f"S3Storage(s3://{self.bucket}/{self.prefix}{where})"

    def _key(self, name: str) -> str:
        check_name(name)
        return f"{self.prefix}/{name}" if self.prefix else name

    def _call(self, name: str, operation: str, **kwargs):
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            return getattr(self.client, operation)(Bucket=self.bucket, **kwargs)
        except ClientError as error:
            code = str(error.response.get("Error", {}).get("Code", ""))
            if code in ("404", "NoSuchKey", "NotFound") and name:
                raise FileMissing(name) from None
            raise StorageError(f"{operation} s3://{self.bucket}: {code or error}") from None
        except BotoCoreError as error:
            raise StorageError(f"{operation} s3://{self.bucket}: {error}") from None

    @staticmethod
    def _details(name: str, answer: dict) -> StoredFile:
        return StoredFile(
            name=name,
            size=int(answer["ContentLength"]),
            etag=str(answer.get("ETag", "")).strip('"'),
            modified=answer["LastModified"].astimezone(UTC),
        )

    def save(self, name: str, data: bytes, content_type: str | None = None) -> None:
        extra = {"ContentType": content_type} if content_type else {}
        self._call(name, "put_object", Key=self._key(name), Body=data, **extra)

    def stat(self, name: str) -> StoredFile:
        return self._details(name, self._call(name, "head_object", Key=self._key(name)))

    def open(self, name: str) -> tuple[StoredFile, BinaryIO]:
        answer = self._call(name, "get_object", Key=self._key(name))
        return self._details(name, answer), answer["Body"]

    def read(self, name: str) -> bytes:
        _info, body = self.open(name)
        try:
            return body.read()
        finally:
            body.close()

    def exists(self, name: str) -> bool:
        try:
            self.stat(name)
        except FileMissing:
            return False
        return True

    def delete(self, name: str) -> None:
        self._call(name, "delete_object", Key=self._key(name))

    def check(self) -> None:
        self._call("", "head_bucket")


# --- choosing the store ------------------------------------------------------------------


@dataclass(frozen=True)
class Location:
    scheme: str  # "file" or "s3"
    path: str = ""  # file: the folder ("" = UPLOAD_FOLDER)
    bucket: str = ""
    prefix: str = ""


def parse_storage_url(url: str | None) -> Location:
    """``STORAGE_URL`` → where files go; ``BadStorageURL`` says what is wrong."""
    url = (url or "").strip()
    if not url:
        return Location("file")
    parts = urlsplit(url)
    if parts.query or parts.fragment or "@" in parts.netloc:
        raise BadStorageURL(
            f"STORAGE_URL {url!r} must be just file:///folder or s3://bucket/prefix "
            "(credentials come from the AWS_* variables, never the URL)."
        )
    if parts.scheme == "file":
        if parts.netloc not in ("", "localhost"):
            raise BadStorageURL(
                f"STORAGE_URL {url!r}: a file URL needs an absolute folder, "
                "like file:///srv/shop/uploads."
            )
        return Location("file", path=parts.path)
    if parts.scheme == "s3":
        bucket, prefix = parts.netloc, parts.path.strip("/")
        if not BUCKET.fullmatch(bucket) or ".." in bucket:
            raise BadStorageURL(
                f"STORAGE_URL {url!r}: {bucket!r} is not a bucket name "
                "(3 to 63 lower-case letters, digits, dots and hyphens)."
            )
        if prefix:
            try:
                check_name(prefix)
            except InvalidName:
                raise BadStorageURL(
                    f"STORAGE_URL {url!r}: the prefix {prefix!r} may hold only letters, "
                    "digits, '.', '_', '-' and '/'."
                ) from None
        return Location("s3", bucket=bucket, prefix=prefix)
    raise BadStorageURL(
        f"STORAGE_URL {url!r}: use file:///folder (the default, this host's disk) or "
        "s3://bucket/prefix (an S3-compatible store)."
    )


def check_endpoint_url(url: str | None) -> None:
    if not url:
        return
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise BadStorageURL(
            f"STORAGE_ENDPOINT_URL must be an http(s) URL like http://minio:9000, not {url!r}."
        )


def build_storage(config) -> Storage:
    location = parse_storage_url(config.get("STORAGE_URL"))
    if location.scheme == "s3":
        return S3Storage(
            location.bucket,
            location.prefix,
            endpoint_url=config.get("STORAGE_ENDPOINT_URL") or None,
            region=config.get("STORAGE_REGION") or None,
        )
    return FileStorage(location.path or config["UPLOAD_FOLDER"])


def init_app(app: Flask) -> None:
    from shop.health import register_check

    app.extensions["storage"] = build_storage(app.config)
    register_check("storage", check_storage)


def check_storage() -> None:
    """``/readyz``: the app's store answers (the public reason says no more than that)."""
    from shop.health import CheckFailed

    try:
        get_storage().check()
    except StorageError as error:
        raise CheckFailed("unreachable", str(error)) from None


def get_storage(app: Flask | None = None) -> Storage:
    """The app's store (``app`` or the current one)."""
    return (app or current_app).extensions["storage"]
