"""Static files under content-hashed names, kept by browsers for a year.

``url_for('static', filename='css/shop.css')`` gives ``/static/css/shop.3f9a2c1b7d.css``:
the name changes whenever the file's content does, so the file can be sent with
``Cache-Control: public, max-age=31536000, immutable`` and a deploy never meets a stale
copy. The manifest (name → hashed name) is built once at start-up. A plain name still
works (old pages, hand-typed links) but is kept for an hour only.

Uploads are served from the store (``shop.storage``: this host's disk or S3, streamed
through the app, so URLs and the CSP stay the same) under ``/media/``, only from the public
folders. Uploaded images are named after their bytes (``shop.images``): a name
always means the same bytes, so they and their thumbnails get the year too; other files
(the demo catalogue's drawings, whose names stay the same) a day. Every answer carries an
ETag and Last-Modified, and a conditional request that still matches gets a 304 without
the bytes being fetched. A thumbnail not made yet (its job is queued) is answered with its
original, which caches must check again.
"""

import hashlib
import mimetypes
import re
from pathlib import Path

from flask import Flask, Response, abort, current_app, request, send_from_directory
from werkzeug.http import is_resource_modified
from werkzeug.wsgi import wrap_file

from shop.images import original_of
from shop.storage import (
    FileMissing,
    InvalidName,
    Storage,
    StorageError,
    StoredFile,
    get_storage,
)

YEAR = 365 * 24 * 3600
PLAIN_NAME_MAX_AGE = 3600
HASH_LENGTH = 10
UPLOADED_NAME = re.compile(r"(?:.*/)?[0-9a-f]{32}(?:-thumb)?\.[a-z0-9]+")
# The store's top folders that /media/ serves; anything else stored stays private.
PUBLIC_MEDIA_FOLDERS = frozenset({"products", "schools", "resellers"})
MEDIA_CHUNK_BYTES = 64 * 1024


def hashed_name(relative: str, content: bytes) -> str:
    digest = hashlib.sha256(content).hexdigest()[:HASH_LENGTH]
    stem, dot, suffix = relative.rpartition(".")
    return f"{stem}.{digest}.{suffix}" if dot else f"{relative}.{digest}"


def build_manifest(folder: Path) -> dict[str, tuple[str, int]]:
    """Each file's name → (hashed name, modification time when hashed)."""
    manifest = {}
    for path in sorted(folder.rglob("*")):
        if path.is_file():
            relative = path.relative_to(folder).as_posix()
            manifest[relative] = (hashed_name(relative, path.read_bytes()), path.stat().st_mtime_ns)
    return manifest


def init_app(app: Flask) -> None:
    folder = Path(app.static_folder or "static")
    manifest = build_manifest(folder)
    names = {name: hashed for name, (hashed, _mtime) in manifest.items()}
    originals = {hashed: name for name, (hashed, _mtime) in manifest.items()}
    app.extensions["static_manifest"] = names

    @app.url_defaults
    def use_hashed_name(endpoint: str, values: dict) -> None:
        if endpoint == "static" and values.get("filename") in names:
            values["filename"] = names[values["filename"]]

    def static(filename: str):
        original = originals.get(filename)
        if original is None or _edited_since_hashed(folder / original, manifest[original][1]):
            # A plain name, or a file edited while the shop runs (development): its hash
            # no longer matches, so it must not be kept.
            name = original or filename
            return send_from_directory(
                folder, name, max_age=PLAIN_NAME_MAX_AGE if original is None else 0
            )
        response = send_from_directory(folder, original, max_age=YEAR)
        response.cache_control.immutable = True
        response.cache_control.public = True
        return response

    app.view_functions["static"] = static


def _edited_since_hashed(path: Path, mtime_ns: int) -> bool:
    try:
        return path.stat().st_mtime_ns != mtime_ns
    except OSError:
        return False


def media_max_age(filename: str) -> int:
    """A year for an uploaded image or its thumbnail (named after its bytes), a day for
    the rest."""
    return YEAR if UPLOADED_NAME.fullmatch(filename) else 24 * 3600


def send_media(filename: str) -> Response:
    """A stored file of a public folder, streamed from the store. 404 for a missing file
    or a name no store may hold, 503 (never a 500) while the store does not answer.

    A derived size (a thumbnail) is made by a job after its upload: until it exists, its
    name is answered with the original image marked ``no-cache`` (every cache asks again),
    so a page shown meanwhile has a working picture and gets the thumbnail once it exists."""
    if filename.partition("/")[0] not in PUBLIC_MEDIA_FOLDERS:
        abort(404)
    storage = get_storage()
    try:
        try:
            return _stored_response(storage, filename, media_max_age(filename))
        except FileMissing:
            original = original_of(filename)
            if original is None:
                raise
            return _stored_response(storage, original, max_age=None)
    except (InvalidName, FileMissing):
        abort(404)
    except StorageError as failure:
        current_app.logger.error("media %s: the store failed: %s", filename, failure)
        abort(503)


def _stored_response(storage: Storage, name: str, max_age: int | None) -> Response:
    """The stored file ``name`` (or a 304); ``max_age`` ``None``: revalidate every time."""
    if request.if_none_match or request.if_modified_since:
        details = storage.stat(name)
        if not is_resource_modified(
            request.environ, etag=details.etag, last_modified=details.modified
        ):
            return _with_cache_headers(Response(status=304), details, max_age)
    details, stream = storage.open(name)
    mimetype = mimetypes.guess_type(name)[0] or "application/octet-stream"
    response = Response(
        wrap_file(request.environ, stream, MEDIA_CHUNK_BYTES),
        mimetype=mimetype,
        direct_passthrough=True,
    )
    response.content_length = details.size
    return _with_cache_headers(response, details, max_age)


def _with_cache_headers(response: Response, details: StoredFile, max_age: int | None) -> Response:
    response.set_etag(details.etag)
    response.last_modified = details.modified
    response.cache_control.public = True
    if max_age is None:
        response.cache_control.no_cache = True
    else:
        response.cache_control.max_age = max_age
    if max_age == YEAR:
        response.cache_control.immutable = True
    return response
