"""The factory's reseller programme and each reseller's terms, as the rest of the shop
reads them: which money model a window uses, the commission rate for a product, the price
cap, the return and attribution windows.

``program(session)`` always answers: the row (``id`` 1) is made on first use with the
defaults, by an insert that does nothing when another request made it first. A session
that only reads (a GET's: ``shop.db``) gets the defaults unsaved instead.
"""

from dataclasses import dataclass
from typing import Protocol

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from shop.db import READER
from shop.resellers.models import CategoryCommission, ResellerProgram, ResellerTerms

PROGRAM_ID = 1
BPS = 10_000  # basis points in one whole: 1000 bps = 10 %
DEFAULT_PAYOUT_MINIMUMS = {"CNY": 10000, "JPY": 2000, "SGD": 2000, "USD": 2000}
_UNSAVED = "reseller_program_defaults"  # session.info of a reading session
# The programme's terms until staff change them.
DEFAULTS = {
    "money_model": "referral",
    "commission_bps": 1000,
    "price_cap_bps": 3000,
    "return_window_days": 14,
    "attribution_days": 30,
    "earn_on_school_orders": False,
    "earn_on_invoice_orders": False,
}


def program(session: Session) -> ResellerProgram:
    """The programme's one row, made with the defaults when there is none yet (on a
    session that only reads: the defaults, unsaved, as ``read_program`` gives them)."""
    row = read_program(session)
    if row in session or session.connection().get_execution_options().get(READER):
        return row
    session.info.pop(_UNSAVED, None)
    insert = sqlite.insert if session.get_bind().dialect.name == "sqlite" else postgresql.insert
    session.execute(
        insert(ResellerProgram)
        .values(
            id=PROGRAM_ID,
            payout_minimums=dict(DEFAULT_PAYOUT_MINIMUMS),
            **DEFAULTS,
            updated_at=sa.func.now(),
        )
        .on_conflict_do_nothing(index_elements=["id"])
    )
    return session.get_one(ResellerProgram, PROGRAM_ID)


def read_program(session: Session) -> ResellerProgram:
    """The programme as it stands, without writing: the row, or an unsaved one with the
    defaults ``program`` would make (kept in ``session.info``: asked again in the same
    request, no query)."""
    unsaved = session.info.get(_UNSAVED)
    if unsaved is not None:
        return unsaved
    return found_program(session, session.get(ResellerProgram, PROGRAM_ID))


def found_program(session: Session, row: ResellerProgram | None) -> ResellerProgram:
    """``read_program``'s answer from the programme's row as a query of the caller's found
    it (``None``: there is none yet), so that ``read_program`` asks no more this request."""
    if row is not None:
        return row
    unsaved = session.info.get(_UNSAVED)
    if unsaved is not None:
        return unsaved
    unsaved = ResellerProgram(
        id=PROGRAM_ID, payout_minimums=dict(DEFAULT_PAYOUT_MINIMUMS), **DEFAULTS
    )
    session.info[_UNSAVED] = unsaved
    return unsaved


def terms(session: Session, reseller_id: int) -> ResellerTerms | None:
    """One reseller's overrides (``None``: the programme's defaults throughout)."""
    return session.get(ResellerTerms, reseller_id)


@dataclass(frozen=True)
class WindowTerms:
    """What applies to one window now: the money model, the commission rate when no
    category has its own, and the price cap (basis points above the factory's price)."""

    money_model: str
    commission_bps: int
    reseller_commission: bool  # the reseller has a rate of their own (beats categories)
    price_cap_bps: int
    blind_slip: bool
    slip_message: str


class BaseTerms(Protocol):
    """The programme's terms as ``combined_terms`` reads them (its row, or plain values)."""

    @property
    def money_model(self) -> str: ...
    @property
    def commission_bps(self) -> int: ...
    @property
    def price_cap_bps(self) -> int: ...


class OwnTerms(Protocol):
    """A window's own overrides as ``combined_terms`` reads them."""

    @property
    def money_model(self) -> str | None: ...
    @property
    def commission_bps(self) -> int | None: ...
    @property
    def blind_slip(self) -> bool: ...
    @property
    def slip_message(self) -> str: ...


def window_terms(session: Session, reseller_id: int) -> WindowTerms:
    return combined_terms(read_program(session), terms(session, reseller_id))


def combined_terms(base: BaseTerms, own: OwnTerms | None) -> WindowTerms:
    """A window's terms: its own overrides (``own``) over the programme's (``base``)."""
    return WindowTerms(
        money_model=(own.money_model if own and own.money_model else base.money_model),
        commission_bps=(
            own.commission_bps if own and own.commission_bps is not None else base.commission_bps
        ),
        reseller_commission=bool(own and own.commission_bps is not None),
        price_cap_bps=base.price_cap_bps,
        blind_slip=bool(own and own.blind_slip),
        slip_message=own.slip_message if own else "",
    )


def category_rates(session: Session, category_ids) -> dict[int, int]:
    """``{category_id: bps}`` for the categories among ``category_ids`` with a rate."""
    ids = {category_id for category_id in category_ids if category_id is not None}
    if not ids:
        return {}
    rows = session.execute(
        sa.select(CategoryCommission.category_id, CategoryCommission.commission_bps).where(
            CategoryCommission.category_id.in_(ids)
        )
    )
    return {category_id: bps for category_id, bps in rows}


def commission_rate(window: WindowTerms, category_rate: int | None) -> int:
    """The referral rate for one product: the reseller's own rate, else its category's,
    else the programme's default."""
    if window.reseller_commission or category_rate is None:
        return window.commission_bps
    return category_rate


def cap_amount(factory_amount: int, cap_bps: int) -> int:
    """The highest price a reseller may ask where the factory asks ``factory_amount``
    (rounded down to the minor unit: +30 % of ¥49.99 is ¥64.98, not ¥64.99)."""
    return factory_amount * (BPS + cap_bps) // BPS
