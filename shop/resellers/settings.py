"""Changing the reseller programme's terms: the factory's defaults (staff), a category's
commission, one window's overrides (staff) and its packing slip (the reseller).

Plain functions over the session: they check the values again (a form is one caller, a
CLI could be another), flush, never commit, and write an audit row of what changed in the
same transaction — nothing when nothing changed. Rates are basis points (1000 = 10 %);
``parse_percent`` reads what a person types ("12.5") into them.
"""

from dataclasses import asdict, dataclass
from decimal import Decimal, InvalidOperation

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from shop.accounts.models import User
from shop.audit.service import record, record_changes, snapshot
from shop.catalog.models import Category
from shop.db import utcnow
from shop.exceptions import ShopError
from shop.money import MAX_AMOUNT, SUPPORTED_CURRENCIES
from shop.resellers.models import (
    MONEY_MODELS,
    CategoryCommission,
    Reseller,
    ResellerTerms,
)
from shop.resellers.program import BPS, program

MAX_COMMISSION_BPS = BPS  # 100 %
MAX_CAP_BPS = 3 * BPS  # a reseller may ask at most 300 % above the factory's price
MIN_DAYS, MAX_DAYS = 1, 365
SLIP_MESSAGE_MAX_LENGTH = 200
PROGRAM_FIELDS = (
    "money_model",
    "commission_bps",
    "price_cap_bps",
    "return_window_days",
    "attribution_days",
    "payout_minimums",
    "earn_on_school_orders",
    "earn_on_invoice_orders",
)
TERMS_FIELDS = ("money_model", "commission_bps")
SLIP_FIELDS = ("blind_slip", "slip_message")


class InvalidSetting(ShopError):
    """A value outside what the programme allows; ``field`` names it."""

    def __init__(self, field: str) -> None:
        super().__init__(f"{field} is out of range")
        self.field = field


class CategoryGone(ShopError):
    message = "That category no longer exists."


def parse_percent(text: str | None, maximum_bps: int) -> int:
    """``"12.5"`` (per cent, at most two decimals) → ``1250`` basis points, from 0 to
    ``maximum_bps``; ``ValueError`` for anything else."""
    text = (text or "").strip().rstrip("%").strip()
    if not text or len(text) > 12:
        raise ValueError("not a number")
    try:
        value = Decimal(text)
    except InvalidOperation:
        raise ValueError("not a number") from None
    if not value.is_finite():
        raise ValueError("not a number")
    bps = value * 100
    if bps != bps.to_integral_value():
        raise ValueError("too precise")
    if not 0 <= bps <= maximum_bps:
        raise ValueError("out of range")
    return int(bps)


def percent_text(bps: int | None) -> str:
    """Basis points as a person types them back: ``1250`` → ``"12.5"``, ``None`` → ``""``."""
    if bps is None:
        return ""
    return format(Decimal(bps).scaleb(-2).normalize(), "f")


@dataclass(frozen=True)
class ProgramValues:
    money_model: str
    commission_bps: int
    price_cap_bps: int
    return_window_days: int
    attribution_days: int
    payout_minimums: dict[str, int]  # minor units, one per supported currency
    earn_on_school_orders: bool
    earn_on_invoice_orders: bool


def _check_rate(field: str, bps: int | None, maximum: int) -> None:
    if bps is not None and not 0 <= bps <= maximum:
        raise InvalidSetting(field)


def _check_program(values: ProgramValues) -> None:
    if values.money_model not in MONEY_MODELS:
        raise InvalidSetting("money_model")
    _check_rate("commission_bps", values.commission_bps, MAX_COMMISSION_BPS)
    _check_rate("price_cap_bps", values.price_cap_bps, MAX_CAP_BPS)
    for field in ("return_window_days", "attribution_days"):
        if not MIN_DAYS <= getattr(values, field) <= MAX_DAYS:
            raise InvalidSetting(field)
    minimums = values.payout_minimums
    if set(minimums) != set(SUPPORTED_CURRENCIES) or not all(
        0 < amount <= MAX_AMOUNT for amount in minimums.values()
    ):
        raise InvalidSetting("payout_minimums")


def update_program(session: Session, actor: User, values: ProgramValues) -> list[str]:
    """Save the programme's terms; the names of the fields that changed (audited as
    ``reseller_program.update``). Raises ``InvalidSetting``."""
    _check_program(values)
    row = program(session)
    before = snapshot(row, PROGRAM_FIELDS)
    before["payout_minimums"] = dict(row.payout_minimums or {})
    for name, value in asdict(values).items():
        setattr(row, name, value)
    after = snapshot(row, PROGRAM_FIELDS)
    after["payout_minimums"] = dict(values.payout_minimums)
    changed = [name for name in after if before[name] != after[name]]
    if changed:
        row.updated_at = utcnow()
        row.updated_by_id = actor.id
        session.flush()
        record_changes(
            session,
            actor_user_id=actor.id,
            action="reseller_program.update",
            target_type="reseller_program",
            target_id=row.id,
            before=before,
            after=after,
        )
    return changed


def list_category_rates(session: Session) -> list[tuple[Category, int | None]]:
    """Every category with its own commission rate (``None``: the default), by position."""
    rows = session.execute(
        sa.select(Category, CategoryCommission.commission_bps)
        .outerjoin(CategoryCommission, CategoryCommission.category_id == Category.id)
        .order_by(Category.position, Category.name, Category.id)
    ).all()
    return [(category, bps) for category, bps in rows]


def set_category_rate(session: Session, actor: User, category_id: int, bps: int | None) -> bool:
    """Give a category its own rate, or clear it (``None``: the default again). ``True``
    when something changed (audited as ``reseller_program.category``). Raises
    ``CategoryGone``, ``InvalidSetting``."""
    _check_rate("commission_bps", bps, MAX_COMMISSION_BPS)
    if session.get(Category, category_id) is None:
        raise CategoryGone()
    row = session.get(CategoryCommission, category_id)
    before = row.commission_bps if row is not None else None
    if before == bps:
        return False
    if bps is None:
        session.delete(row)
    elif row is None:
        session.add(CategoryCommission(category_id=category_id, commission_bps=bps))
    else:
        row.commission_bps = bps
    session.flush()
    record(
        session,
        actor_user_id=actor.id,
        action="reseller_program.category",
        target_type="category",
        target_id=category_id,
        before={"commission_bps": before},
        after={"commission_bps": bps},
    )
    return True


def _terms_row(session: Session, reseller_id: int) -> ResellerTerms:
    """The window's terms row, made (with no overrides) by an insert that does nothing
    when another request made it first."""
    row = session.get(ResellerTerms, reseller_id)
    if row is not None:
        return row
    insert = sqlite.insert if session.get_bind().dialect.name == "sqlite" else postgresql.insert
    session.execute(
        insert(ResellerTerms)
        .values(reseller_id=reseller_id, blind_slip=False, slip_message="")
        .on_conflict_do_nothing(index_elements=["reseller_id"])
    )
    return session.get_one(ResellerTerms, reseller_id)


def _save_terms(
    session: Session, actor: User, reseller: Reseller, action: str, fields, values: dict
) -> list[str]:
    row = _terms_row(session, reseller.id)
    before = snapshot(row, fields)
    for name in fields:
        setattr(row, name, values[name])
    session.flush()
    return record_changes(
        session,
        actor_user_id=actor.id,
        action=action,
        target_type="reseller",
        target_id=reseller.id,
        before=before,
        after=snapshot(row, fields),
    )


def set_reseller_terms(
    session: Session,
    actor: User,
    reseller: Reseller,
    *,
    money_model: str | None,
    commission_bps: int | None,
) -> list[str]:
    """Staff's overrides for one window (``None``: the programme's default); the fields
    that changed (audited as ``reseller.terms``). Raises ``InvalidSetting``."""
    if money_model is not None and money_model not in MONEY_MODELS:
        raise InvalidSetting("money_model")
    _check_rate("commission_bps", commission_bps, MAX_COMMISSION_BPS)
    values = {"money_model": money_model, "commission_bps": commission_bps}
    return _save_terms(session, actor, reseller, "reseller.terms", TERMS_FIELDS, values)


def set_packing_slip(
    session: Session, actor: User, reseller: Reseller, *, blind: bool, message: str
) -> list[str]:
    """The reseller's choice for their parcels: a blind slip (the window's name and
    ``message``, no factory prices) or the factory's own; audited as ``reseller.slip``.
    Raises ``InvalidSetting`` for a message over ``SLIP_MESSAGE_MAX_LENGTH``."""
    message = " ".join((message or "").split())
    if len(message) > SLIP_MESSAGE_MAX_LENGTH:
        raise InvalidSetting("slip_message")
    values = {"blind_slip": bool(blind), "slip_message": message}
    return _save_terms(session, actor, reseller, "reseller.slip", SLIP_FIELDS, values)
