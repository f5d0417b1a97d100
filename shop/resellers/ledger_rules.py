"""The commission ledger's arithmetic, without a database: what one order line earns, how
much of it a refund takes back, what a balance is, when a line is due for approval, and
which month a statement covers. ``shop.resellers.ledger`` applies these to the tables.

Amounts are integers in the order's minor unit (JPY has none), and every division rounds
down, so a window is never paid a fraction of a minor unit it did not earn.

The balance buckets (``Balance``), chosen so that the ledger's invariant holds exactly::

    sum of every ledger line == pending + approved + paid - reversed

``pending``, ``approved`` and ``paid`` add up the *commission* lines (all > 0) in that
state; ``reversed`` is what the *reversal* lines (all < 0) took back, as a positive
number, whatever their state. What the next payout would be is ``payable``: the net of
every approved line, reversals included (a refund after a payout is deducted there).
"""

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from shop.resellers.program import BPS

NO_COMMISSION = 0


def line_commission(
    *,
    model: str,
    unit_amount: int,
    quantity: int,
    line_amount: int,
    factory_unit_amount: int | None,
    rate_bps: int,
) -> int:
    """What one order line earns its window.

    ``price``: the reseller's margin, (their unit price − the factory's) × quantity; a line
    sold at the factory's own price (no ``factory_unit_amount``) earns nothing.
    ``referral``: ``rate_bps`` of the line's amount, rounded down."""
    if model == "price":
        if factory_unit_amount is None:
            return NO_COMMISSION
        return max((unit_amount - factory_unit_amount) * quantity, NO_COMMISSION)
    if model == "referral":
        return max(line_amount * rate_bps // BPS, NO_COMMISSION)
    return NO_COMMISSION


def reversal_target(earned: int, refunded: int, total: int, *, cancelled: bool = False) -> int:
    """How much of ``earned`` should be reversed in all once ``refunded`` of the order's
    ``total`` has gone back (a cancelled order: all of it). Grows with ``refunded`` and
    never exceeds ``earned``."""
    if cancelled or (refunded > 0 and total <= 0):
        return earned
    if refunded <= 0:
        return 0
    return earned * min(refunded, total) // total


def reversal_due(
    earned: int, refunded: int, total: int, already_reversed: int, *, cancelled: bool = False
) -> int:
    """The amount (≥ 0) still to reverse now, given what earlier reversals took back."""
    return max(reversal_target(earned, refunded, total, cancelled=cancelled) - already_reversed, 0)


def reversal_state(commission_state: str) -> str:
    """A reversal of a pending commission is pending too (it is approved with it); of an
    approved or paid one it is approved at once: deducted from the next payout."""
    return "pending" if commission_state == "pending" else "approved"


@dataclass
class Balance:
    """One window's ledger in one currency (see the module for the buckets)."""

    currency: str
    pending: int = 0
    approved: int = 0
    paid: int = 0
    reversed: int = 0
    payable: int = 0  # the net of the approved lines: what a payout would send now
    line_count: int = 0

    @property
    def total(self) -> int:
        return self.pending + self.approved + self.paid - self.reversed

    def add(self, kind: str, state: str, amount: int, count: int = 1) -> None:
        self.line_count += count
        if state == "approved":
            self.payable += amount
        if kind == "reversal":
            self.reversed -= amount
        elif state == "pending":
            self.pending += amount
        elif state == "approved":
            self.approved += amount
        else:
            self.paid += amount


def balances_from(rows) -> dict[str, Balance]:
    """``{currency: Balance}`` from ``(currency, kind, state, amount, count)`` rows."""
    found: dict[str, Balance] = {}
    for currency, kind, state, amount, count in rows:
        found.setdefault(currency, Balance(currency)).add(kind, state, int(amount), int(count))
    return dict(sorted(found.items()))


def may_pay(payable_amount: int, minimum: int | None) -> bool:
    """A payout goes out only for a positive amount of at least the currency's minimum."""
    return payable_amount > 0 and payable_amount >= (minimum or 0)


def approval_due(delivered_at: datetime, return_window_days: int, now: datetime) -> bool:
    """The return window after delivery has passed."""
    return delivered_at + timedelta(days=return_window_days) <= now


def approval_cutoff(return_window_days: int, now: datetime) -> datetime:
    """Orders delivered at or before this moment are past their return window."""
    return now - timedelta(days=return_window_days)


MIN_YEAR, MAX_YEAR = 2000, 2999


def parse_month(text: str) -> tuple[datetime, datetime] | None:
    """``"2026-03"`` → the month's start and the next month's start (UTC); ``None`` for
    anything else."""
    digits = text[:4] + text[5:]
    if len(text) != 7 or text[4] != "-" or not (digits.isascii() and digits.isdigit()):
        return None
    year, month = int(text[:4]), int(text[5:])
    if not (MIN_YEAR <= year <= MAX_YEAR and 1 <= month <= 12):
        return None
    start = datetime(year, month, 1, tzinfo=UTC)
    end = datetime(year + month // 12, month % 12 + 1, 1, tzinfo=UTC)
    return start, end


def recent_months(today: date, count: int) -> list[str]:
    """``count`` months up to ``today``'s, newest first: ``["2026-03", "2026-02", ...]``."""
    months = []
    year, month = today.year, today.month
    for _ in range(count):
        months.append(f"{year:04d}-{month:02d}")
        year, month = (year, month - 1) if month > 1 else (year - 1, 12)
    return months
