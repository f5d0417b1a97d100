"""A bar chart's geometry, worked out on the server; the template draws it as inline SVG.

No script and no styles in the markup: bars carry a class that
``static/css/admin.css`` colours, and sizes are SVG presentation attributes.
Each currency gets its own chart (amounts in different currencies are never on one scale).
"""

from dataclasses import dataclass
from datetime import date

WIDTH = 600
HEIGHT = 160
PAD_TOP = 10
PAD_BOTTOM = 20  # room for the first and last day under the bars
GAP = 2


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
    width: int = WIDTH
    height: int = HEIGHT
    baseline: float = HEIGHT - PAD_BOTTOM

    @property
    def first_day(self) -> date:
        return self.bars[0].day

    @property
    def last_day(self) -> date:
        return self.bars[-1].day


def bar_chart(currency: str, days: list[date], amounts: list[int]) -> Chart:
    """One bar per day; the tallest bar fills the plot. A day with nothing (or a net
    refund, below zero) has a bar of height 0 so every day keeps its place."""
    if len(days) != len(amounts) or not days:
        raise ValueError("one amount per day, at least one day")
    plot_height = HEIGHT - PAD_TOP - PAD_BOTTOM
    slot = WIDTH / len(days)
    peak = max(max(amounts), 0)
    bars = []
    for index, (day, amount) in enumerate(zip(days, amounts, strict=True)):
        height = round(plot_height * max(amount, 0) / peak, 2) if peak else 0.0
        bars.append(
            Bar(
                day=day,
                amount=amount,
                x=round(index * slot + GAP / 2, 2),
                y=round(HEIGHT - PAD_BOTTOM - height, 2),
                width=round(slot - GAP, 2),
                height=height,
            )
        )
    return Chart(currency=currency, bars=bars, peak=peak, total=sum(amounts))
