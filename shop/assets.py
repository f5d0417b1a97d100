"""Static files under content-hashed names, kept by browsers for a year.

``url_for('static', filename='css/shop.css')`` gives ``/static/css/shop.3f9a2c1b7d.css``:
the name changes whenever the file's content does, so the file can be sent with
``Cache-Control: public, max-age=31536000, immutable`` and a deploy never meets a stale
copy. The manifest (name → hashed name) is built once at start-up. A plain name still
works (old pages, hand-typed links) but is kept for an hour only.

Uploaded product images are stored under random names that are never reused
(``shop.admin.images``), so they get the year too; other files under the upload folder
(the demo catalogue's drawings, whose names stay the same) a day.
"""

import hashlib
import re
from pathlib import Path

from flask import Flask, current_app, send_from_directory

YEAR = 365 * 24 * 3600
PLAIN_NAME_MAX_AGE = 3600
HASH_LENGTH = 10
UPLOADED_NAME = re.compile(r"(?:.*/)?[0-9a-f]{32}\.[a-z0-9]+")


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
    folder = Path(app.static_folder)
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
    """A year for an uploaded image (a random name never reused), a day for the rest."""
    return YEAR if UPLOADED_NAME.fullmatch(filename) else 24 * 3600


def send_media(filename: str):
    response = send_from_directory(
        current_app.config["UPLOAD_FOLDER"], filename, max_age=media_max_age(filename)
    )
    if response.cache_control.max_age == YEAR:
        response.cache_control.immutable = True
    return response
