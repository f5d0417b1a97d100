"""Files the browser saves (CSV exports, receipts, invoices, packing lists)."""

from flask import Response


def attachment(body: bytes | str, filename: str, mimetype: str) -> Response:
    """``body`` as a download named ``filename`` (ASCII). Never cached: these files hold
    someone's orders."""
    return Response(
        body,
        mimetype=mimetype,
        headers={
            "Content-Disposition": f'attachment; filename="{filename}"',
            "Cache-Control": "private, no-store",
        },
    )
