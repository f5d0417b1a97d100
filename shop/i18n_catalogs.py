"""Compile the gettext catalogues (``.po`` → ``.mo``) shipped in ``shop/translations``.

The ``.mo`` files are build products and not in git; ``make`` and the test suite call
``compile_catalogs`` so a fresh clone works.
"""

from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

TRANSLATIONS_DIR = Path(__file__).resolve().parent / "translations"


def compile_catalogs(directory: Path = TRANSLATIONS_DIR) -> list[Path]:
    """Write each ``messages.mo`` whose ``.po`` is newer; returns what was written."""
    written = []
    for po_path in sorted(directory.glob("*/LC_MESSAGES/messages.po")):
        mo_path = po_path.with_suffix(".mo")
        if mo_path.exists() and mo_path.stat().st_mtime >= po_path.stat().st_mtime:
            continue
        with po_path.open("rb") as po_file:
            catalog = read_po(po_file, locale=po_path.parent.parent.name)
        with mo_path.open("wb") as mo_file:
            write_mo(mo_file, catalog)
        written.append(mo_path)
    return written
