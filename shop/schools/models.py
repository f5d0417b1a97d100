"""Schools, their uniform lists, delivery rounds, school admins and invoices.

A school's names and city are kept in English, Chinese and Japanese (as products are)
and folded into ``search_text`` so the finder matches whatever a parent types. Money on
a school (credit limit, school prices, invoices) is in the school's own currency, in
minor units.
"""

from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from shop.accounts.models import User
from shop.catalog.models import Product
from shop.db import Base, utcnow
from shop.locales import country_locale, zone_for_country
from shop.orders.models import Order

SEASONS = ("summer", "winter", "pe")
GENDERS = ("any", "boys", "girls")


def _country_zone(context) -> str:
    return zone_for_country(context.get_current_parameters().get("country"))


class School(Base):
    __tablename__ = "school"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(sa.String(80), unique=True)
    name: Mapped[str] = mapped_column(sa.String(200))
    name_zh: Mapped[str | None] = mapped_column(sa.String(200))
    name_ja: Mapped[str | None] = mapped_column(sa.String(200))
    city: Mapped[str] = mapped_column(sa.String(120), default="")
    city_zh: Mapped[str | None] = mapped_column(sa.String(120))
    city_ja: Mapped[str | None] = mapped_column(sa.String(120))
    country: Mapped[str] = mapped_column(sa.String(2))
    currency: Mapped[str] = mapped_column(sa.String(3))
    # The school's clock (an IANA name): its orders, rounds and invoices are shown in it.
    # By default its country's (shop.locales.zone_for_country).
    time_zone: Mapped[str] = mapped_column(sa.String(64), default=_country_zone)
    # Grade labels in the school's own words ("1", "P3", "中学1年"), in order.
    grades: Mapped[list] = mapped_column(sa.JSON, default=list)
    logo_path: Mapped[str | None] = mapped_column(sa.String(255))

    # Where the factory delivers, and who receives it.
    delivery_recipient: Mapped[str] = mapped_column(sa.String(120), default="")
    delivery_phone: Mapped[str] = mapped_column(sa.String(40), default="")
    delivery_region: Mapped[str] = mapped_column(sa.String(120), default="")
    delivery_city: Mapped[str] = mapped_column(sa.String(120), default="")
    delivery_line1: Mapped[str] = mapped_column(sa.String(200), default="")
    delivery_line2: Mapped[str] = mapped_column(sa.String(200), default="")
    delivery_postcode: Mapped[str] = mapped_column(sa.String(20), default="")
    contact_name: Mapped[str] = mapped_column(sa.String(120), default="")
    contact_email: Mapped[str] = mapped_column(sa.String(254), default="")
    contact_phone: Mapped[str] = mapped_column(sa.String(40), default="")

    # A private school's shop opens only with its code (hashed like a password).
    access_code_hash: Mapped[str | None] = mapped_column(sa.String(255))
    verified: Mapped[bool] = mapped_column(default=False)
    invoice_terms_days: Mapped[int] = mapped_column(default=0)  # 0: no invoice payment
    credit_limit_amount: Mapped[int] = mapped_column(default=0)
    active: Mapped[bool] = mapped_column(default=True)
    search_text: Mapped[str] = mapped_column(sa.Text, default="")
    created_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), default=utcnow)

    items: Mapped[list["UniformItem"]] = relationship(
        back_populates="school",
        order_by=lambda: (UniformItem.position, UniformItem.id),
        cascade="all, delete-orphan",
    )
    rounds: Mapped[list["DeliveryRound"]] = relationship(
        back_populates="school",
        order_by=lambda: DeliveryRound.delivery_date,
        cascade="all, delete-orphan",
    )

    @property
    def private(self) -> bool:
        return self.access_code_hash is not None

    @property
    def invoice_allowed(self) -> bool:
        return self.verified and self.invoice_terms_days > 0

    @property
    def locale(self) -> str:
        """The language of the school's papers (packing lists, invoices), whatever the
        language of whoever prints them: its country's (CN, TW, HK, MO: Chinese; JP: Japanese), else
        English."""
        return country_locale(self.country)

    def refresh_search_text(self) -> None:
        parts = (self.name, self.name_zh, self.name_ja, self.city, self.city_zh, self.city_ja)
        self.search_text = " ".join(part for part in parts if part).casefold()


class UniformItem(Base):
    """One line of a school's uniform list: a product, who needs it and how many."""

    __tablename__ = "uniform_item"
    __table_args__ = (
        sa.CheckConstraint("quantity_per_child >= 1", name="quantity_positive"),
        sa.CheckConstraint("season IN ('summer', 'winter', 'pe')", name="season_known"),
        sa.CheckConstraint("gender IN ('any', 'boys', 'girls')", name="gender_known"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    school_id: Mapped[int] = mapped_column(sa.ForeignKey("school.id"), index=True)
    product_id: Mapped[int] = mapped_column(sa.ForeignKey("product.id"), index=True)
    required: Mapped[bool] = mapped_column(default=True)
    # Grade labels this item is for; empty means every grade.
    grades: Mapped[list] = mapped_column(sa.JSON, default=list)
    gender: Mapped[str] = mapped_column(sa.String(10), default="any")
    season: Mapped[str] = mapped_column(sa.String(10), default="summer")
    quantity_per_child: Mapped[int] = mapped_column(default=1)
    # The school's negotiated unit price in the school's currency; None: catalogue tiers.
    school_price_amount: Mapped[int | None]
    position: Mapped[int] = mapped_column(default=0)

    school: Mapped[School] = relationship(back_populates="items")
    product: Mapped[Product] = relationship()

    def applies_to(self, grade: str | None, gender: str | None) -> bool:
        """Whether a child of ``grade`` and ``gender`` needs this item (None: any)."""
        if grade and self.grades and grade not in self.grades:
            return False
        return not gender or gender == "any" or self.gender in ("any", gender)


class DeliveryRound(Base):
    """A date the factory delivers to the school; orders placed before the cut-off go."""

    __tablename__ = "delivery_round"
    __table_args__ = (sa.UniqueConstraint("school_id", "delivery_date"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    school_id: Mapped[int] = mapped_column(sa.ForeignKey("school.id"), index=True)
    delivery_date: Mapped[date]
    cutoff_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True))

    school: Mapped[School] = relationship(back_populates="rounds")


class SchoolMember(Base):
    """A school admin's link to their school (a user with the ``school_admin`` role)."""

    __tablename__ = "school_member"
    __table_args__ = (sa.UniqueConstraint("school_id", "user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    school_id: Mapped[int] = mapped_column(sa.ForeignKey("school.id"), index=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("user_account.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), default=utcnow)

    school: Mapped[School] = relationship()
    user: Mapped[User] = relationship()


class Invoice(Base):
    """What a school owes for an order paid on invoice, and what it has paid so far."""

    __tablename__ = "invoice"

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(sa.String(30), unique=True)
    order_id: Mapped[int] = mapped_column(sa.ForeignKey("shop_order.id"), unique=True)
    school_id: Mapped[int] = mapped_column(sa.ForeignKey("school.id"), index=True)
    issued_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), default=utcnow)
    due_date: Mapped[date]
    amount: Mapped[int]
    currency: Mapped[str] = mapped_column(sa.String(3))
    paid_amount: Mapped[int] = mapped_column(default=0)
    paid_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))

    school: Mapped[School] = relationship()
    order: Mapped[Order] = relationship()
    payments: Mapped[list["InvoicePayment"]] = relationship(
        back_populates="invoice",
        order_by=lambda: InvoicePayment.id,
        cascade="all, delete-orphan",
    )

    @property
    def outstanding_amount(self) -> int:
        return self.amount - self.paid_amount


class InvoicePayment(Base):
    """Money a school paid against an invoice, recorded by staff with its reference."""

    __tablename__ = "invoice_payment"
    __table_args__ = (sa.CheckConstraint("amount >= 1", name="amount_positive"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    invoice_id: Mapped[int] = mapped_column(sa.ForeignKey("invoice.id"), index=True)
    amount: Mapped[int]
    reference: Mapped[str] = mapped_column(sa.String(120))
    recorded_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user_account.id"))
    recorded_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), default=utcnow)

    invoice: Mapped[Invoice] = relationship(back_populates="payments")
