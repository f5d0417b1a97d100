"""The catalogue CSV: reading an export, writing an import, and uploading one."""

import csv
import io
import re

from shop.catalog import csv_io


def rows_of(data: bytes) -> list[dict[str, str]]:
    assert data.startswith("\ufeff".encode())
    return list(csv.DictReader(io.StringIO(data.decode("utf-8-sig"), newline="")))


def to_csv(rows: list[dict[str, str]]) -> bytes:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=csv_io.COLUMNS, lineterminator="\r\n")
    writer.writeheader()
    writer.writerows(rows)
    return buffer.getvalue().encode("utf-8")


def upload(client, data: bytes, *, follow: bool = True):
    """Upload a file; by default follow the redirect to its page, where (without Redis)
    the dry run has already run."""
    return client.post(
        "/admin/csv/import",
        data={"file": (io.BytesIO(data), "catalogue.csv")},
        content_type="multipart/form-data",
        follow_redirects=follow,
    )


def token_on(page: str) -> str:
    found = re.search(r'name="token" type="hidden" value="([0-9a-f]{32})"', page)
    assert found, "no import token on the page"
    return found.group(1)
