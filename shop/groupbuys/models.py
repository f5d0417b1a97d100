"""Group buys: a leader's campaign, the products it sells, its own tier ladder (when staff
approved one), the participants and the pieces each one asked for, and the factory's
group-buy terms.

Counters live on the rows the race is about: ``Campaign.reserved_pieces`` (every piece a
participant holds, paid or not: the capacity check) and ``Campaign.pieces`` /
``CampaignProduct.pieces`` (pieces whose card is authorised or charged: the price). They
change only through one conditional ``UPDATE`` each (``shop.groupbuys.service``), so fifty
people joining at once add up exactly and the maximum is never passed.
"""

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from shop.db import Base, utcnow

CAMPAIGN_STATES = ("pending_approval", "open", "closing", "closed", "failed", "rejected")
PARTICIPANT_STATES = (
    "pending",  # pieces reserved, card not yet authorised
    "held",  # card authorised (manual capture), not charged
    "charged",  # long campaign: charged at joining, the difference refunded at the close
    "left",  # left before the close (authorisation cancelled / refunded)
    "captured",  # the close charged the final price; has an order
    "payment_due",  # the close could not charge the card: 48 hours to pay on their page
    "released",  # the campaign failed: authorisation cancelled or charge refunded
    "lapsed",  # did not pay within the 48 hours
)
PAYMENT_MODES = ("hold", "charge")
DELIVERIES = ("pickup", "each")
LEADER_REWARDS = ("none", "commission", "credit")


def _known(column: str, values: tuple[str, ...], name: str) -> sa.CheckConstraint:
    listed = ", ".join(f"'{value}'" for value in values)
    return sa.CheckConstraint(f"{column} IN ({listed})", name=name)


class GroupBuyProgram(Base):
    """The factory's group-buy terms: one row (id 1), written by staff."""

    __tablename__ = "group_buy_program"
    __table_args__ = (_known("leader_reward", LEADER_REWARDS, "leader_reward_known"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    require_approval: Mapped[bool] = mapped_column(default=False)
    leader_reward: Mapped[str] = mapped_column(sa.String(12), default="none")
    # What a leader earns per piece with the "credit" reward, per currency (minor units).
    credit_per_piece: Mapped[dict] = mapped_column(sa.JSON, default=dict)
    updated_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), default=utcnow)
    updated_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user_account.id"))


class Campaign(Base):
    __tablename__ = "campaign"
    __table_args__ = (
        _known("state", CAMPAIGN_STATES, "state_known"),
        _known("payment_mode", PAYMENT_MODES, "payment_mode_known"),
        _known("delivery", DELIVERIES, "delivery_known"),
        sa.CheckConstraint("min_pieces >= 1", name="min_pieces_positive"),
        sa.CheckConstraint(
            "max_pieces IS NULL OR max_pieces >= min_pieces", name="max_not_below_min"
        ),
        sa.CheckConstraint("pieces >= 0 AND reserved_pieces >= pieces", name="counts_sane"),
        sa.CheckConstraint(
            "max_pieces IS NULL OR reserved_pieces <= max_pieces", name="within_capacity"
        ),
        sa.Index("ix_campaign_due", "state", "closes_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(sa.String(16), unique=True)  # /g/<code>, upper case
    leader_id: Mapped[int] = mapped_column(sa.ForeignKey("user_account.id"), index=True)
    title: Mapped[str] = mapped_column(sa.String(120))
    note: Mapped[str] = mapped_column(sa.String(500), default="")
    currency: Mapped[str] = mapped_column(sa.String(3))
    locale: Mapped[str] = mapped_column(sa.String(10), default="en")
    school_id: Mapped[int | None] = mapped_column(sa.ForeignKey("school.id"))
    state: Mapped[str] = mapped_column(sa.String(20), default="open")
    payment_mode: Mapped[str] = mapped_column(sa.String(8), default="hold")
    opens_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), default=utcnow)
    closes_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True))
    min_pieces: Mapped[int]
    max_pieces: Mapped[int | None]
    pieces: Mapped[int] = mapped_column(default=0)
    reserved_pieces: Mapped[int] = mapped_column(default=0)
    participant_count: Mapped[int] = mapped_column(default=0)
    # Bumped by every change a visitor of /g/<code> would see (the progress cache's key).
    version: Mapped[int] = mapped_column(default=1)
    delivery: Mapped[str] = mapped_column(sa.String(8), default="pickup")
    pickup_name: Mapped[str] = mapped_column(sa.String(120), default="")
    pickup_address: Mapped[str] = mapped_column(sa.String(300), default="")
    pickup_hours: Mapped[str] = mapped_column(sa.String(200), default="")
    # A ladder of the campaign's own (``CampaignTier``) applies only once staff approved it.
    own_ladder: Mapped[bool] = mapped_column(default=False)
    ladder_approved_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user_account.id"))
    leader_reward: Mapped[str] = mapped_column(sa.String(12), default="none")
    reseller_id: Mapped[int | None] = mapped_column(sa.ForeignKey("reseller.id"))
    closed_early: Mapped[bool] = mapped_column(default=False)
    closing_started_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))
    closed_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))
    approved_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user_account.id"))
    created_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), default=utcnow)

    products: Mapped[list["CampaignProduct"]] = relationship(
        order_by="CampaignProduct.position", cascade="all, delete-orphan"
    )
    tiers: Mapped[list["CampaignTier"]] = relationship(
        order_by="(CampaignTier.product_id, CampaignTier.min_quantity)",
        cascade="all, delete-orphan",
    )


class CampaignProduct(Base):
    """A product the campaign sells, with the pieces of it authorised so far and, once
    closed, the unit price everyone pays (``final_unit_amount``)."""

    __tablename__ = "campaign_product"
    __table_args__ = (sa.CheckConstraint("pieces >= 0", name="pieces_not_negative"),)

    campaign_id: Mapped[int] = mapped_column(sa.ForeignKey("campaign.id"), primary_key=True)
    product_id: Mapped[int] = mapped_column(sa.ForeignKey("product.id"), primary_key=True)
    position: Mapped[int] = mapped_column(default=0)
    pieces: Mapped[int] = mapped_column(default=0)
    final_unit_amount: Mapped[int | None]


class CampaignTier(Base):
    """A step of the campaign's own ladder for one product (staff approve it)."""

    __tablename__ = "campaign_tier"

    campaign_id: Mapped[int] = mapped_column(sa.ForeignKey("campaign.id"), primary_key=True)
    product_id: Mapped[int] = mapped_column(sa.ForeignKey("product.id"), primary_key=True)
    min_quantity: Mapped[int] = mapped_column(primary_key=True)
    unit_amount: Mapped[int]


class Participant(Base):
    """Someone who joined: their pieces, their card's PaymentIntent and, after the close,
    their order. ``token`` is the secret in the link to their own page (change, leave,
    pay after a failed capture); ``join_key`` the one-time key of the form that joined,
    so the same form sent twice is one participant."""

    __tablename__ = "campaign_participant"
    __table_args__ = (
        _known("state", PARTICIPANT_STATES, "state_known"),
        sa.CheckConstraint("pieces >= 1", name="pieces_positive"),
        sa.Index("ix_campaign_participant_state", "campaign_id", "state"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(sa.ForeignKey("campaign.id"))
    user_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user_account.id"), index=True)
    email: Mapped[str] = mapped_column(sa.String(254))
    name: Mapped[str] = mapped_column(sa.String(120))
    phone: Mapped[str] = mapped_column(sa.String(40), default="")
    locale: Mapped[str] = mapped_column(sa.String(10), default="en")
    token: Mapped[str] = mapped_column(sa.String(64), unique=True)
    join_key: Mapped[str] = mapped_column(sa.String(64), unique=True)
    state: Mapped[str] = mapped_column(sa.String(12), default="pending")
    pieces: Mapped[int]
    bag_number: Mapped[int]  # the label on their bag at the pick-up point, 1, 2, …
    # What the card was authorised (or charged) for at joining, at the price then.
    authorised_amount: Mapped[int] = mapped_column(default=0)
    intent_id: Mapped[str | None] = mapped_column(sa.String(255), unique=True)
    captured_amount: Mapped[int | None]
    order_id: Mapped[int | None] = mapped_column(sa.ForeignKey("shop_order.id"), unique=True)
    payment_due_until: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))
    last_error: Mapped[str] = mapped_column(sa.String(300), default="")
    # A change of pieces is a new participant that replaces this one once its card is
    # authorised (the old hold is kept until then).
    replaces_id: Mapped[int | None] = mapped_column(sa.ForeignKey("campaign_participant.id"))
    # Delivery to each participant: their address (pick-up needs none).
    country: Mapped[str] = mapped_column(sa.String(2), default="")
    region: Mapped[str] = mapped_column(sa.String(120), default="")
    city: Mapped[str] = mapped_column(sa.String(120), default="")
    line1: Mapped[str] = mapped_column(sa.String(200), default="")
    line2: Mapped[str] = mapped_column(sa.String(200), default="")
    postcode: Mapped[str] = mapped_column(sa.String(20), default="")
    created_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(
        sa.DateTime(timezone=True), default=utcnow, onupdate=utcnow
    )

    lines: Mapped[list["ParticipantLine"]] = relationship(
        order_by="ParticipantLine.variant_id", cascade="all, delete-orphan"
    )

    @property
    def first_name(self) -> str:
        """What the leader sees of who they are."""
        return (self.name.split() or [""])[0]


class ParticipantLine(Base):
    """Pieces of one variant a participant asked for, and the unit price when they
    joined (``joined_unit_amount``: never more is charged, whatever happens later)."""

    __tablename__ = "campaign_participant_line"

    participant_id: Mapped[int] = mapped_column(
        sa.ForeignKey("campaign_participant.id"), primary_key=True
    )
    variant_id: Mapped[int] = mapped_column(sa.ForeignKey("variant.id"), primary_key=True)
    product_id: Mapped[int] = mapped_column(sa.ForeignKey("product.id"))
    quantity: Mapped[int]
    joined_unit_amount: Mapped[int]
    allocated: Mapped[bool] = mapped_column(default=False)  # stocked: pieces held for them


class LeaderCredit(Base):
    """What a leader earned per piece for one closed campaign (the "credit" reward):
    written once, by the close."""

    __tablename__ = "campaign_leader_credit"

    campaign_id: Mapped[int] = mapped_column(sa.ForeignKey("campaign.id"), primary_key=True)
    leader_id: Mapped[int] = mapped_column(sa.ForeignKey("user_account.id"), index=True)
    currency: Mapped[str] = mapped_column(sa.String(3))
    pieces: Mapped[int]
    amount: Mapped[int]
    created_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), default=utcnow)
