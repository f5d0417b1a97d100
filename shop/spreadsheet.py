"""CSV for spreadsheets: the byte-order mark Excel needs to read UTF-8, and cells that a
spreadsheet would otherwise run as formulas."""

BOM = "\ufeff"


def safe_cell(value: str) -> str:
    """Text a spreadsheet would run as a formula (``=HYPERLINK(...)`` typed as a name)
    starts with an apostrophe instead."""
    return "'" + value if value[:1] in ("=", "+", "-", "@", "\t", "\r") else value
