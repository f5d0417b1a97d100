"""Page numbers from untrusted query strings, and the arithmetic of a page."""

from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.orm import Session

MAX_PAGE = 100_000


def parse_page(raw: str | None) -> int:
    """``"3"`` → 3; anything else (``"-1"``, ``"abc"``, ``"1e9"``, ``None``) → 1."""
    if raw is None:
        return 1
    raw = raw.strip()
    if not raw.isascii() or not raw.isdigit():
        return 1
    if len(raw.lstrip("0")) > len(str(MAX_PAGE)):  # int() refuses over 4,300 digits
        return MAX_PAGE
    return min(max(int(raw), 1), MAX_PAGE)


@dataclass(frozen=True)
class Page:
    """Page ``number`` of ``total`` items. ``more``: the count stopped at ``total`` and there
    are more items than that ("1,000+"); only the first ``total`` are paged."""

    number: int
    per_page: int
    total: int
    more: bool = False

    @property
    def pages(self) -> int:
        return max((self.total + self.per_page - 1) // self.per_page, 1)

    @property
    def offset(self) -> int:
        return (self.number - 1) * self.per_page

    @property
    def has_previous(self) -> bool:
        return self.number > 1

    @property
    def has_next(self) -> bool:
        return self.number < self.pages

    @property
    def previous_number(self) -> int:
        return max(self.number - 1, 1)

    @property
    def next_number(self) -> int:
        return min(self.number + 1, self.pages)

    @property
    def first_item(self) -> int:
        return self.offset + 1 if self.total else 0

    @property
    def last_item(self) -> int:
        return min(self.offset + self.per_page, self.total)

    def window(self, size: int = 2) -> list[int | None]:
        """Page numbers to link, with ``None`` for a gap: ``[1, None, 4, 5, 6, None, 20]``."""
        shown = {1, self.pages} | set(
            range(max(self.number - size, 1), min(self.number + size, self.pages) + 1)
        )
        numbers: list[int | None] = []
        previous = 0
        for number in sorted(shown):
            if number - previous > 1:
                numbers.append(None)
            numbers.append(number)
            previous = number
        return numbers


def count_rows(session: Session, query: sa.Select) -> int:
    """How many rows ``query`` returns (its ordering dropped: a count needs none)."""
    subquery = query.order_by(None).subquery()
    return session.scalar(sa.select(sa.func.count()).select_from(subquery)) or 0


def paginate(total: int, requested: int, per_page: int, *, more: bool = False) -> Page:
    """A page of ``total`` items; a page past the end shows the last page. ``more``: there
    are more than ``total`` items, but only ``total`` are paged (a capped count)."""
    page = Page(1, per_page, total)
    return Page(min(max(requested, 1), page.pages), per_page, total, more)
