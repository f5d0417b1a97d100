"""docs/backups.md, done for real: back up the database and the uploads, restore both
somewhere fresh, and a second shop on the copy serves an order that existed before the
backup (to its owner) and an uploaded image, and knows nothing written after the backup.

PostgreSQL: ``pg_dump -Fc`` of the suite's database, ``createdb`` a fresh one
(``<name>_restore``), ``pg_restore`` into it, dropped afterwards. SQLite: the online
backup (what the sqlite3 shell's ``.backup`` does) into a new file.
"""

import shutil
import sqlite3
import subprocess
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session

from tests.accounts.helpers import login, make_user
from tests.order_factories import make_order

IMAGE = "products/0123456789abcdef0123456789abcdef.webp"


def libpq_url(url: sa.URL) -> str:
    """The SQLAlchemy URL as the PostgreSQL tools take it (no ``+psycopg``)."""
    return url.set(drivername="postgresql").render_as_string(hide_password=False)


def run(*command: str) -> None:
    result = subprocess.run(command, capture_output=True, text=True)
    assert result.returncode == 0, f"{' '.join(command[:2])} failed:\n{result.stderr}"


def backup_and_restore_postgresql(database_url: str, folder: Path):
    """The commands of docs/backups.md; → (the restored database's URL, a cleanup)."""
    for tool in ("pg_dump", "pg_restore", "createdb", "dropdb"):
        if shutil.which(tool) is None:
            pytest.skip(f"{tool} is not installed (apt-get install postgresql-client)")
    source = sa.make_url(database_url)
    restored = source.set(database=f"{source.database}_restore")
    maintenance = libpq_url(source.set(database="postgres"))
    dump = folder / "sourcefront.dump"
    run("pg_dump", "--format=custom", f"--file={dump}", libpq_url(source))
    run("dropdb", f"--maintenance-db={maintenance}", "--if-exists", "--force", restored.database)
    run("createdb", f"--maintenance-db={maintenance}", restored.database)

    def drop():
        run("dropdb", f"--maintenance-db={maintenance}", "--force", restored.database)

    try:
        run("pg_restore", "--no-owner", "--exit-on-error", f"--dbname={libpq_url(restored)}",
            str(dump))  # fmt: skip
    except BaseException:
        drop()
        raise
    return restored.render_as_string(hide_password=False), drop


def backup_and_restore_sqlite(database_url: str, folder: Path):
    source = sa.make_url(database_url).database
    copy = folder / "restored.sqlite3"
    with sqlite3.connect(source) as live, sqlite3.connect(copy) as backup:
        live.backup(backup)
    live.close()
    backup.close()
    return f"sqlite:///{copy}", lambda: None


def test_a_restored_backup_serves_an_existing_order_and_its_uploads(
    make_app, database_url, tmp_path
):
    # given a shop with a customer's order and an uploaded image
    app = make_app()
    with Session(app.extensions["sa_engine"], expire_on_commit=False) as session:
        ann = make_user(session)
        kept = make_order(session, user=ann, lines=(("POLO-130", 2, 8900), ("CAP-M", 1, 3500)))
        session.commit()
    uploads = Path(app.config["UPLOAD_FOLDER"])
    (uploads / IMAGE).parent.mkdir(parents=True)
    (uploads / IMAGE).write_bytes(b"RIFF-an-uploaded-image")

    # when it is backed up (the database, then the upload folder) and restored elsewhere
    backup = tmp_path / "backup"
    backup.mkdir()
    restore = (
        backup_and_restore_postgresql
        if database_url.startswith("postgresql")
        else backup_and_restore_sqlite
    )
    restored_url, drop = restore(database_url, backup)
    try:
        shutil.copytree(uploads, backup / "uploads")
        with Session(app.extensions["sa_engine"], expire_on_commit=False) as session:
            later = make_order(session, user=session.merge(ann))
            session.commit()
        restored = make_app(DATABASE_URL=restored_url, UPLOAD_FOLDER=str(backup / "uploads"))
        try:
            client = restored.test_client()
            signed_in = login(client)
            page = client.get(f"/orders/{kept.number}")
            after = client.get(f"/orders/{later.number}")
            image = client.get(f"/media/{IMAGE}")
            image_data = image.get_data()
            image.close()  # the stored file, streamed
        finally:
            restored.extensions["sa_engine"].dispose()
    finally:
        drop()

    # then the copy serves the order to its owner, and the image
    assert signed_in.status_code == 302
    assert page.status_code == 200
    assert f'data-testid="order-number">{kept.number}<' in page.text
    assert 'data-sku="POLO-130"' in page.text and 'data-sku="CAP-M"' in page.text
    assert image.status_code == 200 and image_data == b"RIFF-an-uploaded-image"
    # and it is a copy: what was written after the backup is not in it
    assert after.status_code == 404
