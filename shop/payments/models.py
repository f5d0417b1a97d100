"""Payments: card attempts (Stripe PaymentIntents), refunds, and the Stripe events the
webhook has handled. The order they belong to lives in ``shop.orders.models``; what moves
the order when money arrives or leaves is ``shop.orders.lifecycle``.
"""

from datetime import datetime
from typing import TYPE_CHECKING

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from shop.db import Base, utcnow

if TYPE_CHECKING:
    from shop.orders.models import Order


class Payment(Base):
    """One attempt to pay an order by card: a Stripe PaymentIntent. A declined card that
    leaves its PaymentIntent unusable gets a new attempt on the same order."""

    __tablename__ = "payment"
    __table_args__ = (sa.UniqueConstraint("order_id", "attempt"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(sa.ForeignKey("shop_order.id"), index=True)
    attempt: Mapped[int] = mapped_column(default=1)
    intent_id: Mapped[str] = mapped_column(sa.String(255), unique=True)
    amount: Mapped[int]
    currency: Mapped[str] = mapped_column(sa.String(3))
    status: Mapped[str] = mapped_column(sa.String(40), default="requires_payment_method")
    last_error: Mapped[str] = mapped_column(sa.Text, default="")
    # The card that paid (from Stripe's charge), to say where a refund goes.
    card_brand: Mapped[str] = mapped_column(sa.String(20), default="", server_default="")
    card_last4: Mapped[str] = mapped_column(sa.String(4), default="", server_default="")
    # What the card gave but the order did not take: a group buy's hold (or charge) above
    # the price the group reached. Stripe counts it as refunded; the order does not.
    released_amount: Mapped[int] = mapped_column(default=0, server_default="0")
    created_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(
        sa.DateTime(timezone=True), default=utcnow, onupdate=utcnow
    )

    order: Mapped["Order"] = relationship(back_populates="payments")


class ProcessedStripeEvent(Base):
    """Every Stripe event id the webhook has handled; a repeat changes nothing."""

    __tablename__ = "processed_stripe_event"

    event_id: Mapped[str] = mapped_column(sa.String(255), primary_key=True)
    type: Mapped[str] = mapped_column(sa.String(80))
    received_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), default=utcnow)


class Refund(Base):
    """Money given back through Stripe. ``request_key`` makes a double-clicked refund one
    refund: it is unique here and is the idempotency key sent to Stripe."""

    __tablename__ = "refund"

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(sa.ForeignKey("shop_order.id"), index=True)
    request_key: Mapped[str] = mapped_column(sa.String(80), unique=True)
    amount: Mapped[int]
    stripe_refund_id: Mapped[str | None] = mapped_column(sa.String(255), unique=True)
    status: Mapped[str] = mapped_column(sa.String(20), default="pending")
    note: Mapped[str] = mapped_column(sa.Text, default="")
    restocked: Mapped[bool] = mapped_column(default=False)
    staff_user_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user_account.id"))
    created_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), default=utcnow)

    order: Mapped["Order"] = relationship(back_populates="refunds")
