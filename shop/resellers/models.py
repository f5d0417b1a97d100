"""A reseller's window: the profile (one per account), its picks and its collections.

The profile is the role: an account with a ``Reseller`` row is a reseller, whatever its
``User.role`` (a reseller still buys as a customer). Only ``service.change_status`` and
``service.apply_for_window`` set ``status``. Money (commission, reseller prices, the
ledger) comes in later tables that point at ``reseller.id``.
"""

from dataclasses import dataclass
from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from shop.catalog.models import Product
from shop.db import Base, utcnow

STATUSES = ("applied", "approved", "suspended", "closed")


class Reseller(Base):
    __tablename__ = "reseller"
    __table_args__ = (
        sa.CheckConstraint(
            "status IN ('applied', 'approved', 'suspended', 'closed')", name="status_known"
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("user_account.id"), unique=True)
    # Lowercase only (``service.handle_problem``), so unique whatever case it was typed in.
    handle: Mapped[str] = mapped_column(sa.String(30), unique=True)
    display_name: Mapped[str] = mapped_column(sa.String(60))
    bio: Mapped[str] = mapped_column(sa.String(280), default="")
    avatar_path: Mapped[str | None] = mapped_column(sa.String(255))  # shop.images, "resellers/"
    social_links: Mapped[list] = mapped_column(sa.JSON, default=list)  # http(s) URLs, ≤ 5
    terms_version: Mapped[str] = mapped_column(sa.String(40))
    terms_accepted_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True))
    status: Mapped[str] = mapped_column(sa.String(20), default="applied", index=True)
    # Who made the last status change (None: the shop itself, e.g. auto-approval) and when.
    status_changed_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True))
    status_changed_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user_account.id"))
    created_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), default=utcnow)


@dataclass(frozen=True)
class WindowProfile:
    """What a window's public pages show of it (the header, the link preview, the share
    links), as plain values: read with the window's lookup by handle
    (``shop.resellers.marking``), so a window's page loads no ``Reseller``."""

    id: int
    handle: str
    display_name: str
    bio: str
    avatar_path: str | None
    social_links: tuple[str, ...]


class ResellerPick(Base):
    """A product the reseller shows, at ``position`` in the window, with a one-line note."""

    __tablename__ = "reseller_pick"
    __table_args__ = (
        sa.UniqueConstraint("reseller_id", "product_id", name="uq_reseller_pick_product"),
        sa.Index("ix_reseller_pick_order", "reseller_id", "position", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    reseller_id: Mapped[int] = mapped_column(sa.ForeignKey("reseller.id"))
    product_id: Mapped[int] = mapped_column(sa.ForeignKey("product.id"), index=True)
    position: Mapped[int] = mapped_column(default=0)
    note: Mapped[str] = mapped_column(sa.String(120), default="")
    created_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), default=utcnow)

    product: Mapped[Product] = relationship()


class ResellerCollection(Base):
    """A named group of picks ("Back to school"), at ``/w/<handle>/c/<slug>``."""

    __tablename__ = "reseller_collection"
    __table_args__ = (
        sa.UniqueConstraint("reseller_id", "slug", name="uq_reseller_collection_slug"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    reseller_id: Mapped[int] = mapped_column(sa.ForeignKey("reseller.id"))
    slug: Mapped[str] = mapped_column(sa.String(60))
    title: Mapped[str] = mapped_column(sa.String(80))
    position: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), default=utcnow)


class CollectionPick(Base):
    """A product of the reseller's picks shown in a collection, at ``position``."""

    __tablename__ = "reseller_collection_pick"
    __table_args__ = (
        sa.UniqueConstraint("collection_id", "product_id", name="uq_collection_pick_product"),
        sa.Index("ix_collection_pick_order", "collection_id", "position", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    collection_id: Mapped[int] = mapped_column(sa.ForeignKey("reseller_collection.id"))
    product_id: Mapped[int] = mapped_column(sa.ForeignKey("product.id"), index=True)
    position: Mapped[int] = mapped_column(default=0)


# ---------------------------------------------------------------------------------------
# The money (migration 0024): the factory's programme, reseller prices, attribution, the
# commission ledger and payouts. Amounts are integers in the currency's minor unit.

MONEY_MODELS = ("referral", "price")
LEDGER_STATES = ("pending", "approved", "paid")
LEDGER_KINDS = ("commission", "reversal")


class ResellerProgram(Base):
    """The factory's terms for every window (one row, ``id`` 1; ``shop.resellers.program``
    reads it and makes it on first use). Rates are basis points: 1000 = 10 %."""

    __tablename__ = "reseller_program"
    __table_args__ = (
        sa.CheckConstraint("money_model IN ('referral', 'price')", name="money_model_known"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    money_model: Mapped[str] = mapped_column(sa.String(10), default="referral")
    commission_bps: Mapped[int] = mapped_column(default=1000)  # referral: default rate
    price_cap_bps: Mapped[int] = mapped_column(default=3000)  # reseller price: at most +30 %
    return_window_days: Mapped[int] = mapped_column(default=14)
    attribution_days: Mapped[int] = mapped_column(default=30)
    # ``{"CNY": 10000, ...}``: the smallest approved balance paid out, per currency.
    payout_minimums: Mapped[dict] = mapped_column(sa.JSON, default=dict)
    earn_on_school_orders: Mapped[bool] = mapped_column(default=False)
    earn_on_invoice_orders: Mapped[bool] = mapped_column(default=False)
    updated_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), default=utcnow)
    updated_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user_account.id"))


class CategoryCommission(Base):
    """The referral commission for products of one category, instead of the default."""

    __tablename__ = "reseller_category_commission"

    category_id: Mapped[int] = mapped_column(sa.ForeignKey("category.id"), primary_key=True)
    commission_bps: Mapped[int]


class ResellerTerms(Base):
    """What one reseller gets instead of the programme's defaults (``None``: the default),
    and how their parcels are packed."""

    __tablename__ = "reseller_terms"

    reseller_id: Mapped[int] = mapped_column(sa.ForeignKey("reseller.id"), primary_key=True)
    money_model: Mapped[str | None] = mapped_column(sa.String(10))
    commission_bps: Mapped[int | None]
    # A "blind" packing slip: the window's name and this thank-you line, no factory prices.
    blind_slip: Mapped[bool] = mapped_column(default=False)
    slip_message: Mapped[str] = mapped_column(sa.String(200), default="")


class ResellerPrice(Base):
    """The reseller's price for one product in one currency: what the product's first tier
    costs a buyer through the window (between the factory's price and the cap). The
    other tiers scale by the same ratio (``shop.resellers.prices``)."""

    __tablename__ = "reseller_price"

    reseller_id: Mapped[int] = mapped_column(sa.ForeignKey("reseller.id"), primary_key=True)
    product_id: Mapped[int] = mapped_column(sa.ForeignKey("product.id"), primary_key=True)
    currency: Mapped[str] = mapped_column(sa.String(3), primary_key=True)
    unit_amount: Mapped[int]
    updated_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), default=utcnow)


class ResellerVisit(Base):
    """Visits that arrived through a window or share link, counted per window and day."""

    __tablename__ = "reseller_visit"

    reseller_id: Mapped[int] = mapped_column(sa.ForeignKey("reseller.id"), primary_key=True)
    day: Mapped[date] = mapped_column(sa.Date, primary_key=True)
    visits: Mapped[int] = mapped_column(default=0)


class CommissionLine(Base):
    """One line of a reseller's ledger. Its amount never changes: a refund writes a
    negative ``reversal`` line; ``state`` only moves forward (pending → approved → paid),
    each move a compare-and-set. ``key`` makes each line written once, however often the
    event behind it is processed (``c:<order line>``, ``r:<refund>:<order line>``...)."""

    __tablename__ = "commission_line"
    __table_args__ = (
        sa.CheckConstraint("state IN ('pending', 'approved', 'paid')", name="state_known"),
        sa.CheckConstraint("kind IN ('commission', 'reversal')", name="kind_known"),
        sa.Index("ix_commission_line_balance", "reseller_id", "currency", "state"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(sa.String(80), unique=True)
    reseller_id: Mapped[int] = mapped_column(sa.ForeignKey("reseller.id"))
    order_id: Mapped[int] = mapped_column(sa.ForeignKey("shop_order.id"), index=True)
    order_line_id: Mapped[int | None] = mapped_column(sa.ForeignKey("order_line.id"))
    currency: Mapped[str] = mapped_column(sa.String(3))
    amount: Mapped[int]  # > 0 for a commission, < 0 for a reversal
    kind: Mapped[str] = mapped_column(sa.String(12), default="commission")
    state: Mapped[str] = mapped_column(sa.String(10), default="pending")
    note: Mapped[str] = mapped_column(sa.String(200), default="")
    payout_id: Mapped[int | None] = mapped_column(sa.ForeignKey("reseller_payout.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), default=utcnow)
    approved_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))


class ResellerPayout(Base):
    """Money sent to a reseller: the approved lines it covers (``CommissionLine.payout_id``)
    and the bank's reference. ``request_key`` makes one press of the form one payout."""

    __tablename__ = "reseller_payout"

    id: Mapped[int] = mapped_column(primary_key=True)
    reseller_id: Mapped[int] = mapped_column(sa.ForeignKey("reseller.id"), index=True)
    currency: Mapped[str] = mapped_column(sa.String(3))
    amount: Mapped[int]
    line_count: Mapped[int]
    reference: Mapped[str] = mapped_column(sa.String(80))
    request_key: Mapped[str | None] = mapped_column(sa.String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user_account.id"))
