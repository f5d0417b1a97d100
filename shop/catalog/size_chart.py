"""Size-chart column headings, translated. Charts store English headings; known ones are
shown in the visitor's language, anything else as stored."""

from collections.abc import Iterable

from flask_babel import lazy_gettext as _l

HEADINGS = {
    "Size": _l("Size"),
    "Age": _l("Age"),
    "Height (cm)": _l("Height (cm)"),
    "Chest (cm)": _l("Chest (cm)"),
    "Waist (cm)": _l("Waist (cm)"),
    "Hip (cm)": _l("Hip (cm)"),
    "Length (cm)": _l("Length (cm)"),
    "Sleeve (cm)": _l("Sleeve (cm)"),
    "Shoulder (cm)": _l("Shoulder (cm)"),
    "Inside leg (cm)": _l("Inside leg (cm)"),
    "Head (cm)": _l("Head (cm)"),
    "Shoe size (EU)": _l("Shoe size (EU)"),
    "Shoe size (CN)": _l("Shoe size (CN)"),
    "Fits": _l("Fits"),
}


def heading_label(heading: str) -> str:
    label = HEADINGS.get(heading)
    return str(label) if label is not None else heading


_labels: dict[str, dict[str, str]] = {}


def heading_labels(headings: Iterable[str], locale: str) -> list[str]:
    """``heading_label`` of each heading, for a request in ``locale``: the known headings
    are translated once per language per process (a lazy string translates afresh each
    time it is read)."""
    labels = _labels.get(locale)
    if labels is None:
        labels = _labels[locale] = {heading: str(label) for heading, label in HEADINGS.items()}
    return [labels.get(heading, heading) for heading in headings]
