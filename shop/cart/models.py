"""Carts: a guest's is found by a random token kept in the signed session cookie, a
signed-in customer's by their account. Lines hold variants and quantities only; prices
are always computed afresh (``shop.cart.pricing.price_cart``)."""

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from shop.catalog.models import Variant
from shop.db import Base, utcnow


class Cart(Base):
    __tablename__ = "cart"

    id: Mapped[int] = mapped_column(primary_key=True)
    token: Mapped[str] = mapped_column(sa.String(64), unique=True)
    user_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user_account.id"), unique=True)
    created_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(
        sa.DateTime(timezone=True), default=utcnow, onupdate=utcnow
    )

    lines: Mapped[list["CartLine"]] = relationship(
        back_populates="cart", order_by=lambda: CartLine.id, cascade="all, delete-orphan"
    )


class CartLine(Base):
    __tablename__ = "cart_line"
    __table_args__ = (
        sa.UniqueConstraint("cart_id", "variant_id", "student_name", "class_name"),
        sa.CheckConstraint("quantity >= 1", name="quantity_positive"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    cart_id: Mapped[int] = mapped_column(sa.ForeignKey("cart.id"), index=True)
    variant_id: Mapped[int] = mapped_column(sa.ForeignKey("variant.id"))
    quantity: Mapped[int]
    # A line bought for a child at a school: priced at the school's price where it has one.
    school_id: Mapped[int | None] = mapped_column(sa.ForeignKey("school.id"))
    student_name: Mapped[str] = mapped_column(sa.String(120), default="")
    class_name: Mapped[str] = mapped_column(sa.String(40), default="")

    cart: Mapped[Cart] = relationship(back_populates="lines")
    variant: Mapped[Variant] = relationship()
