"""Orders: what was bought, at what price, where it goes, and everything that happened.

An order keeps a snapshot of each line (SKU, name, size, colour, unit price, quantity) so
that later catalogue edits never change it. Its three statuses move only through
``shop.orders.transitions``; every move appends an ``OrderEvent`` to the timeline.
"""

from datetime import datetime
from typing import TYPE_CHECKING

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from shop.accounts.models import User
from shop.db import Base, utcnow

if TYPE_CHECKING:  # schools and payments build on orders; classes resolve by name
    from shop.payments.models import Payment, Refund
    from shop.schools.models import DeliveryRound, School


class Order(Base):
    __tablename__ = "shop_order"  # "order" is an SQL keyword
    __table_args__ = (sa.Index("ix_shop_order_request_key", "request_key", unique=True),)

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(sa.String(20), unique=True)
    user_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user_account.id"), index=True)
    email: Mapped[str] = mapped_column(sa.String(254), index=True)
    locale: Mapped[str] = mapped_column(sa.String(10), default="en")
    currency: Mapped[str] = mapped_column(sa.String(3))

    state: Mapped[str] = mapped_column(sa.String(20), default="open")
    payment_status: Mapped[str] = mapped_column(sa.String(30), default="unpaid")
    fulfilment_status: Mapped[str] = mapped_column(sa.String(30), default="unfulfilled")
    # Something staff must look at (a payment that does not match the order, say).
    needs_attention: Mapped[bool] = mapped_column(default=False)

    subtotal_amount: Mapped[int]
    shipping_amount: Mapped[int] = mapped_column(default=0)
    total_amount: Mapped[int]
    # What Stripe says has been refunded so far (charge.amount_refunded); only grows.
    refunded_amount: Mapped[int] = mapped_column(default=0)

    delivery_method: Mapped[str] = mapped_column(sa.String(20))  # courier, pickup
    recipient: Mapped[str] = mapped_column(sa.String(120), default="")
    phone: Mapped[str] = mapped_column(sa.String(40), default="")
    country: Mapped[str] = mapped_column(sa.String(2), default="")
    region: Mapped[str] = mapped_column(sa.String(120), default="")
    city: Mapped[str] = mapped_column(sa.String(120), default="")
    line1: Mapped[str] = mapped_column(sa.String(200), default="")
    line2: Mapped[str] = mapped_column(sa.String(200), default="")
    postcode: Mapped[str] = mapped_column(sa.String(20), default="")
    notes: Mapped[str] = mapped_column(sa.Text, default="")
    # School orders: the school, the delivery round it goes on (delivery_method "school"),
    # and the school's purchase-order number when it pays on invoice.
    school_id: Mapped[int | None] = mapped_column(sa.ForeignKey("school.id"), index=True)
    delivery_round_id: Mapped[int | None] = mapped_column(sa.ForeignKey("delivery_round.id"))
    po_number: Mapped[str] = mapped_column(sa.String(60), default="")
    # The one-time key of the form that placed it (a school's roster confirmation): a
    # second click of the same form finds this order instead of placing another.
    request_key: Mapped[str | None] = mapped_column(sa.String(64))

    created_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), default=utcnow)
    # Unpaid orders hold their stock until then; ``expire-reservations`` cancels them after.
    reserved_until: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))
    paid_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))
    # The PaymentIntent that paid the order by card (a second one that succeeds is refunded).
    paid_intent_id: Mapped[str | None] = mapped_column(sa.String(255))
    cancelled_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))
    # Small windows: the window the buyer came through (attribution, last click wins), the
    # money model then in force ("referral" or "price"), and whether the window earns on
    # it (not on self-referral, nor on school or invoice orders unless the factory says so).
    reseller_id: Mapped[int | None] = mapped_column(sa.ForeignKey("reseller.id"), index=True)
    reseller_model: Mapped[str | None] = mapped_column(sa.String(10))
    reseller_earns: Mapped[bool] = mapped_column(default=False)
    # The group buy this order is a participant's share of (``shop.groupbuys``).
    campaign_id: Mapped[int | None] = mapped_column(sa.ForeignKey("campaign.id"), index=True)

    user: Mapped[User | None] = relationship()
    school: Mapped["School | None"] = relationship("School")
    delivery_round: Mapped["DeliveryRound | None"] = relationship("DeliveryRound")
    lines: Mapped[list["OrderLine"]] = relationship(
        back_populates="order", order_by=lambda: OrderLine.id, cascade="all, delete-orphan"
    )
    events: Mapped[list["OrderEvent"]] = relationship(
        back_populates="order", order_by=lambda: OrderEvent.id, cascade="all, delete-orphan"
    )
    payments: Mapped[list["Payment"]] = relationship(
        back_populates="order", order_by="Payment.attempt", cascade="all, delete-orphan"
    )
    shipments: Mapped[list["Shipment"]] = relationship(
        back_populates="order", order_by=lambda: Shipment.id, cascade="all, delete-orphan"
    )
    refunds: Mapped[list["Refund"]] = relationship(
        back_populates="order", order_by="Refund.id", cascade="all, delete-orphan"
    )
    messages: Mapped[list["OrderMessage"]] = relationship(
        back_populates="order", order_by=lambda: OrderMessage.id, cascade="all, delete-orphan"
    )

    @property
    def item_count(self) -> int:
        return sum(line.quantity for line in self.lines)

    @property
    def awaiting_payment(self) -> bool:
        return self.state == "open" and self.payment_status == "unpaid"


class OrderLine(Base):
    __tablename__ = "order_line"
    __table_args__ = (sa.CheckConstraint("quantity >= 1", name="quantity_positive"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(sa.ForeignKey("shop_order.id"), index=True)
    variant_id: Mapped[int | None] = mapped_column(sa.ForeignKey("variant.id"))
    product_id: Mapped[int | None] = mapped_column(sa.ForeignKey("product.id"))
    sku: Mapped[str] = mapped_column(sa.String(64))
    product_name: Mapped[str] = mapped_column(sa.String(200))
    size: Mapped[str] = mapped_column(sa.String(40), default="")
    colour: Mapped[str] = mapped_column(sa.String(60), default="")
    unit_amount: Mapped[int]
    quantity: Mapped[int]
    line_amount: Mapped[int]
    made_to_order: Mapped[bool] = mapped_column(default=False)
    lead_time_days: Mapped[int | None]
    # Sold at a reseller's price: what the factory's own price was (the margin is the rest).
    factory_unit_amount: Mapped[int | None]
    # Whose kit this is, for orders placed for children (packed per student and class).
    student_name: Mapped[str] = mapped_column(sa.String(120), default="")
    class_name: Mapped[str] = mapped_column(sa.String(40), default="")
    # Stock held for this line (stocked variants only); sold or released exactly once.
    allocated: Mapped[bool] = mapped_column(default=False)
    # Pieces put back on the shelf after a refund or cancellation (a ledger row each).
    returned_quantity: Mapped[int] = mapped_column(default=0)
    # Made-to-order lines in the workshop: the batch making them, and when they were done.
    production_batch_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("production_batch.id"), index=True
    )
    produced_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))

    order: Mapped[Order] = relationship(back_populates="lines")


class OrderEvent(Base):
    """One entry of an order's timeline: who did what, when, and whether the customer
    sees it."""

    __tablename__ = "order_event"

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(sa.ForeignKey("shop_order.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), default=utcnow)
    kind: Mapped[str] = mapped_column(sa.String(40))
    note: Mapped[str] = mapped_column(sa.Text, default="")
    actor_user_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user_account.id"))
    visible_to_customer: Mapped[bool] = mapped_column(default=True)

    order: Mapped[Order] = relationship(back_populates="events")


class Shipment(Base):
    """A parcel: some quantities of some lines, with a carrier and a tracking number."""

    __tablename__ = "shipment"

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(sa.ForeignKey("shop_order.id"), index=True)
    carrier: Mapped[str] = mapped_column(sa.String(30))  # a key of shop.orders.carriers
    carrier_name: Mapped[str] = mapped_column(sa.String(80), default="")  # for "other"
    tracking_number: Mapped[str] = mapped_column(sa.String(64), default="")
    shipped_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), default=utcnow)
    staff_user_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user_account.id"))

    order: Mapped[Order] = relationship(back_populates="shipments")
    lines: Mapped[list["ShipmentLine"]] = relationship(
        back_populates="shipment", order_by=lambda: ShipmentLine.id, cascade="all, delete-orphan"
    )


class ShipmentLine(Base):
    __tablename__ = "shipment_line"
    __table_args__ = (sa.CheckConstraint("quantity >= 1", name="quantity_positive"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    shipment_id: Mapped[int] = mapped_column(sa.ForeignKey("shipment.id"), index=True)
    order_line_id: Mapped[int] = mapped_column(sa.ForeignKey("order_line.id"), index=True)
    quantity: Mapped[int]

    shipment: Mapped[Shipment] = relationship(back_populates="lines")
    order_line: Mapped[OrderLine] = relationship()


class OrderMessage(Base):
    """One message in an order's thread, from the customer or from the factory. Plain
    text, escaped when shown."""

    __tablename__ = "order_message"

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(sa.ForeignKey("shop_order.id"), index=True)
    from_staff: Mapped[bool] = mapped_column(default=False)
    author_user_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user_account.id"))
    body: Mapped[str] = mapped_column(sa.Text)
    created_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), default=utcnow)
    read_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))

    order: Mapped[Order] = relationship(back_populates="messages")


class SentNotification(Base):
    """An email sent about an order event; the unique key makes each one go out once,
    however often the event that causes it is processed."""

    __tablename__ = "sent_notification"

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(sa.ForeignKey("shop_order.id"), index=True)
    key: Mapped[str] = mapped_column(sa.String(120), unique=True)
    sent_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), default=utcnow)


class ProductionBatch(Base):
    """A run in the workshop: the made-to-order lines it makes, started and finished."""

    __tablename__ = "production_batch"

    id: Mapped[int] = mapped_column(primary_key=True)
    status: Mapped[str] = mapped_column(sa.String(20), default="open")  # open, finished
    created_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user_account.id"))
    finished_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))
    note: Mapped[str] = mapped_column(sa.Text, default="")

    lines: Mapped[list[OrderLine]] = relationship(order_by=lambda: OrderLine.id)


# Payments and refunds are their own package's tables; importing them here registers them
# for the relationships above wherever orders are used.
from shop.payments import models as _payment_models  # noqa: E402, F401
