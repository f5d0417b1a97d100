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


def big_csv(products: int, sizes: int = 10, generation: int = 0) -> bytes:
    """``products`` × ``sizes`` rows, each with a stock count (a ledger row each)."""
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=csv_io.COLUMNS, lineterminator="\r\n")
    writer.writeheader()
    for number in range(products):
        for size in range(sizes):
            writer.writerow(
                {
                    **dict.fromkeys(csv_io.COLUMNS, ""),
                    "product_slug": f"polo-{number:04d}",
                    "category_slug": "uniforms",
                    "name": f"School polo {number} v{generation}",
                    "name_zh": f"校服 polo 衫 {number}",
                    "active": "yes",
                    "featured": "no",
                    "made_to_order": "no",
                    "min_order_quantity": "1",
                    "order_increment": "1",
                    "sku": f"P{number:04d}-{110 + size * 10}",
                    "size": str(110 + size * 10),
                    "colour": "navy",
                    "position": str(size),
                    "for_sale": "yes",
                    "low_stock_threshold": "5",
                    "on_hand": str(20 + generation + size),
                    "price_CNY": "1:89.00|50:79.00",
                }
            )
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")
