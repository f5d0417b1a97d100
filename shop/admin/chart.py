"""A bar chart's geometry, worked out on the server; the template draws it as inline SVG.

No script and no styles in the markup: bars carry a class that
``static/css/admin.css`` colours, and sizes are SVG presentation attributes.
Each currency gets its own chart (amounts in different currencies are never on one scale).
"""

from dataclasses import dataclass
from datetime import date

WIDTH = 600
HEIGHT = 180
PAD_TOP = 10
PAD_BOTTOM = 20  # room for the first and last day under the bars
PAD_LEFT = 96  # room for the value axis's amounts ("¥1,234,567" at 11px)
GAP = 2
TICKS = 4  # at most this many steps up the value axis


@dataclass(frozen=True)
class Tick:
    """A line across the plot at ``amount`` (minor units), labelled on the value axis."""

    amount: int
    y: float


def nice_step(peak: int, steps: int = TICKS) -> int:
    """A round step (1, 2 or 5 times a power of ten, in minor units) that reaches
    ``peak`` in at most ``steps`` steps; 0 for nothing to show."""
    if peak <= 0:
        return 0
    magnitude = 1
    while True:
        for factor in (1, 2, 5):
            step = factor * magnitude
            if step * steps >= peak:
                return step
        magnitude *= 10


@dataclass(frozen=True)
class Bar:
    day: date
    amount: int
    x: float
    y: float
    width: float
    height: float


@dataclass(frozen=True)
class Chart:
    currency: str
    bars: list[Bar]
    peak: int
    total: int
    ticks: list[Tick]
    width: int = WIDTH
    height: int = HEIGHT
    baseline: float = HEIGHT - PAD_BOTTOM
    left: int = PAD_LEFT

    @property
    def first_day(self) -> date:
        return self.bars[0].day

    @property
    def last_day(self) -> date:
        return self.bars[-1].day


def bar_chart(currency: str, days: list[date], amounts: list[int]) -> Chart:
    """One bar per day, right of a value axis whose round steps (``ticks``, from 0 to
    just above the tallest bar) are labelled with amounts. A day with nothing (or a net
    refund, below zero) has a bar of height 0 so every day keeps its place."""
    if len(days) != len(amounts) or not days:
        raise ValueError("one amount per day, at least one day")
    plot_height = HEIGHT - PAD_TOP - PAD_BOTTOM
    slot = (WIDTH - PAD_LEFT) / len(days)
    peak = max(max(amounts), 0)
    step = nice_step(peak)
    top = step * -(-peak // step) if step else 0  # the first step at or above the peak
    ticks = (
        [
            Tick(amount, round(HEIGHT - PAD_BOTTOM - plot_height * amount / top, 2))
            for amount in range(0, top + 1, step)
        ]
        if step
        else [Tick(0, HEIGHT - PAD_BOTTOM)]
    )
    bars = []
    for index, (day, amount) in enumerate(zip(days, amounts, strict=True)):
        height = round(plot_height * max(amount, 0) / top, 2) if top else 0.0
        bars.append(
            Bar(
                day=day,
                amount=amount,
                x=round(PAD_LEFT + index * slot + GAP / 2, 2),
                y=round(HEIGHT - PAD_BOTTOM - height, 2),
                width=round(slot - GAP, 2),
                height=height,
            )
        )
    return Chart(currency=currency, bars=bars, peak=peak, total=sum(amounts), ticks=ticks)
