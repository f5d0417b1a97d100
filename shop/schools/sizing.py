"""The size finder: a size from a child's height (and chest), read off a product's chart.

A size chart is ``{"columns": ["Size", "Height (cm)", "Chest (cm)", ...], "rows":
[["130", "125–135", "67", ...], ...]}`` (see ``shop.demo.catalogue``): the first column is
the size label, a measure is a range (``"125–135"``, ``"125-135"``) or a single value
(``"67"``). A size fits when the child's measure plus the growth allowance is no more than
the range's top (or the single value); the smallest size that fits is recommended.
Plain functions, no database, no request.
"""

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

ALLOWANCES_CM = (0, 3, 5, 8)
# Room to grow when nobody says otherwise: the size finder's default and the roster's.
DEFAULT_ALLOWANCE_CM = 5
HEIGHT_LIMITS_CM = (50, 230)
CHEST_LIMITS_CM = (30, 200)

_NUMBER = r"\d+(?:[.,]\d+)?"
_RANGE = re.compile(rf"^\s*({_NUMBER})\s*(?:[-–—~〜]\s*({_NUMBER}))?\s*(?:cm)?\s*$")


@dataclass(frozen=True)
class Advice:
    """``size``: the recommended label, or ``None`` with ``reason``: ``too_big`` (no size
    is large enough) or ``no_measure`` (the chart has no column to judge by)."""

    size: str | None
    reason: str  # "ok", "too_big", "no_measure"


def parse_measure(cell) -> tuple[float, float] | None:
    """``"125–135"`` → ``(125, 135)``; ``"67"`` or ``67`` → ``(67, 67)``; else ``None``."""
    if isinstance(cell, bool) or cell is None:
        return None
    if isinstance(cell, int | float):
        return (float(cell), float(cell))
    match = _RANGE.match(str(cell))
    if not match:
        return None
    low = float(match.group(1).replace(",", "."))
    high = float(match.group(2).replace(",", ".")) if match.group(2) else low
    return (min(low, high), max(low, high))


def measure_column(chart: dict | None, measure: str) -> int | None:
    """The index of the column headed ``measure`` (``"height"``, ``"chest"``), if any."""
    if not chart:
        return None
    for index, heading in enumerate(chart.get("columns") or []):
        if index and str(heading).strip().casefold().startswith(measure):
            return index
    return None


def can_advise(chart: dict | None) -> bool:
    """Whether the size finder can use this chart (it has a height or chest column)."""
    return bool(chart and chart.get("rows")) and (
        measure_column(chart, "height") is not None or measure_column(chart, "chest") is not None
    )


def advise_size(
    chart: dict | None,
    height_cm: float | None,
    chest_cm: float | None = None,
    allowance_cm: float = 0,
) -> Advice:
    """The smallest size whose height (and chest, if given) is at least the child's
    measure plus ``allowance_cm``. A chart without a height column is judged by chest
    alone when a chest is given."""
    checks = []
    for name, value in (("height", height_cm), ("chest", chest_cm)):
        column = measure_column(chart, name)
        if value is not None and column is not None:
            checks.append((column, value + allowance_cm))
    if not chart or not checks:
        return Advice(None, "no_measure")

    fitting = []
    for position, row in enumerate(chart.get("rows") or []):
        if not row:
            continue
        tops = []
        for column, needed in checks:
            measure = parse_measure(row[column]) if column < len(row) else None
            if measure is None or measure[1] < needed:
                break
            tops.append(measure[1])
        else:
            fitting.append((tops, position, str(row[0])))
    if not fitting:
        return Advice(None, "too_big")
    return Advice(min(fitting)[2], "ok")


def recommend_size(
    chart: dict | None,
    height_cm: float | None,
    chest_cm: float | None = None,
    allowance_cm: float = 0,
) -> str | None:
    """The recommended size label, or ``None`` (no size fits, or nothing to judge by)."""
    return advise_size(chart, height_cm, chest_cm, allowance_cm).size


def parse_cm(raw: str | None, limits: tuple[int, int]) -> float | None:
    """A measurement typed by a parent: ``"140"``, ``"140.5"`` within ``limits``; else
    ``None`` (the caller says what is wrong when something was typed)."""
    text = (raw or "").strip().replace(",", ".")
    if not text or len(text) > 6 or not re.fullmatch(r"\d+(?:\.\d)?", text):
        return None
    value = float(text)
    return value if limits[0] <= value <= limits[1] else None


def parse_allowance(raw: str | None) -> int:
    """One of ``ALLOWANCES_CM``; anything else (nothing chosen yet) is
    ``DEFAULT_ALLOWANCE_CM``."""
    text = (raw or "").strip()
    return int(text) if text.isdigit() and int(text) in ALLOWANCES_CM else DEFAULT_ALLOWANCE_CM


# --- the colour of the recommended size ---------------------------------------------------


class Choice(Protocol):
    """One option of an item's size select (``shop.schools.uniform_list.SizeChoice``)."""

    @property
    def variant_id(self) -> int: ...
    @property
    def size(self) -> str: ...
    @property
    def colour(self) -> str: ...
    @property
    def orderable(self) -> bool: ...


@dataclass(frozen=True)
class ColourPick:
    """The variant to preselect for the recommended ``size``. ``variant_id`` is ``None``
    when the colour listed first (``wanted``) cannot be had in that size: then
    ``alternatives`` are the other colours that can, for the parent to choose from."""

    size: str
    wanted: str
    variant_id: int | None
    alternatives: tuple[str, ...] = ()

    @property
    def unavailable(self) -> bool:
        return self.variant_id is None


def pick_colour(choices: Sequence[Choice], size: str | None) -> ColourPick | None:
    """The recommended size in the colour listed first (the school's colour). Never
    another colour silently: when that colour is out of stock or not made in ``size``,
    the pick has no variant and names the colours to choose from instead. ``None`` when
    there is no size to pick or the item comes in one colour only."""
    if size is None or len({choice.colour for choice in choices}) < 2:
        return None
    wanted = choices[0].colour
    in_size = [choice for choice in choices if choice.size == size]
    for choice in in_size:
        if choice.colour == wanted and choice.orderable:
            return ColourPick(size, wanted, choice.variant_id)
    others = tuple(dict.fromkeys(c.colour for c in in_size if c.orderable and c.colour != wanted))
    return ColourPick(size, wanted, None, others)
