"""What the code and templates ask to be translated (the extraction Babel would do)."""

from pathlib import Path

from shop.i18n_catalogs import TRANSLATIONS_DIR


def extracted_message_ids(folders: tuple[str, ...] = ("shop", "templates")) -> set[str]:
    """What ``make translations-extract`` would find in the code and templates today
    (``folders``: only there)."""
    from babel.messages.extract import extract_from_dir

    root = TRANSLATIONS_DIR.parent.parent
    ids = set()
    for folder, method in (("shop", "python"), ("templates", "jinja2")):
        if folder not in folders:
            continue
        found = extract_from_dir(
            root / folder,
            method_map=[("**.py", method)] if method == "python" else [("**.html", method)],
            keywords={
                "_": None,
                "gettext": None,
                "_l": None,
                "lazy_gettext": None,
                "ngettext": (1, 2),
            },
            # Babel skips folders starting with "_" by default; templates/_macros counts.
            directory_filter=lambda path: not Path(path).name.startswith((".", "__")),
        )
        for _, _, message, _, _ in found:
            ids.add(message if isinstance(message, str) else message[0])
    return ids
