"""A reseller's window: the profile (one per account), its picks and its collections.

The profile is the role: an account with a ``Reseller`` row is a reseller, whatever its
``User.role`` (a reseller still buys as a customer). Only ``service.change_status`` and
``service.apply_for_window`` set ``status``. Money (commission, reseller prices, the
ledger) comes in later tables that point at ``reseller.id``.
"""

from datetime import datetime

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
