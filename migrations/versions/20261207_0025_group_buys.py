"""Group buys (issue 18): the factory's group-buy terms, a leader's campaigns, the
products each sells and its own tier ladder, participants and their pieces, a leader's
credit per closed campaign; ``shop_order.campaign_id`` (the campaign an order is a
participant's share of) and ``payment.released_amount`` (what a card gave above the price
the group reached, which Stripe counts as refunded and the order does not).

Revision ID: 0025_group_buys
Revises: 0024_reseller_money
Create Date: 2026-12-07 10:00:00
"""

import warnings
from contextlib import contextmanager

import sqlalchemy as sa
from alembic import op

revision = "0025_group_buys"
down_revision = "0024_reseller_money"
branch_labels = None
depends_on = None


@contextmanager
def rebuilding(table):
    """Batch mode, without the noise of user_account's unreflectable index (see 0008)."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", "Skipped unsupported reflection", sa.exc.SAWarning)
        with op.batch_alter_table(table) as batch:
            yield batch


def upgrade() -> None:
    op.create_table(
        "group_buy_program",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("require_approval", sa.Boolean(), nullable=False),
        sa.Column("leader_reward", sa.String(length=12), nullable=False),
        sa.Column("credit_per_piece", sa.JSON(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_by_id", sa.Integer(), nullable=True),
        sa.CheckConstraint(
            "leader_reward IN ('none', 'commission', 'credit')",
            name=op.f("ck_group_buy_program_leader_reward_known"),
        ),
        sa.ForeignKeyConstraint(
            ["updated_by_id"],
            ["user_account.id"],
            name=op.f("fk_group_buy_program_updated_by_id_user_account"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_group_buy_program")),
    )
    op.create_table(
        "campaign",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=16), nullable=False),
        sa.Column("leader_id", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=120), nullable=False),
        sa.Column("note", sa.String(length=500), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("locale", sa.String(length=10), nullable=False),
        sa.Column("school_id", sa.Integer(), nullable=True),
        sa.Column("state", sa.String(length=20), nullable=False),
        sa.Column("payment_mode", sa.String(length=8), nullable=False),
        sa.Column("opens_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("closes_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("min_pieces", sa.Integer(), nullable=False),
        sa.Column("max_pieces", sa.Integer(), nullable=True),
        sa.Column("pieces", sa.Integer(), nullable=False),
        sa.Column("reserved_pieces", sa.Integer(), nullable=False),
        sa.Column("participant_count", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("delivery", sa.String(length=8), nullable=False),
        sa.Column("pickup_name", sa.String(length=120), nullable=False),
        sa.Column("pickup_address", sa.String(length=300), nullable=False),
        sa.Column("pickup_hours", sa.String(length=200), nullable=False),
        sa.Column("own_ladder", sa.Boolean(), nullable=False),
        sa.Column("ladder_approved_by_id", sa.Integer(), nullable=True),
        sa.Column("leader_reward", sa.String(length=12), nullable=False),
        sa.Column("reseller_id", sa.Integer(), nullable=True),
        sa.Column("closed_early", sa.Boolean(), nullable=False),
        sa.Column("closing_started_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("approved_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "delivery IN ('pickup', 'each')", name=op.f("ck_campaign_delivery_known")
        ),
        sa.CheckConstraint(
            "payment_mode IN ('hold', 'charge')", name=op.f("ck_campaign_payment_mode_known")
        ),
        sa.CheckConstraint(
            "state IN ('pending_approval', 'open', 'closing', 'closed', 'failed', 'rejected')",
            name=op.f("ck_campaign_state_known"),
        ),
        sa.CheckConstraint(
            "max_pieces IS NULL OR max_pieces >= min_pieces",
            name=op.f("ck_campaign_max_not_below_min"),
        ),
        sa.CheckConstraint(
            "max_pieces IS NULL OR reserved_pieces <= max_pieces",
            name=op.f("ck_campaign_within_capacity"),
        ),
        sa.CheckConstraint("min_pieces >= 1", name=op.f("ck_campaign_min_pieces_positive")),
        sa.CheckConstraint(
            "pieces >= 0 AND reserved_pieces >= pieces", name=op.f("ck_campaign_counts_sane")
        ),
        sa.ForeignKeyConstraint(
            ["approved_by_id"],
            ["user_account.id"],
            name=op.f("fk_campaign_approved_by_id_user_account"),
        ),
        sa.ForeignKeyConstraint(
            ["ladder_approved_by_id"],
            ["user_account.id"],
            name=op.f("fk_campaign_ladder_approved_by_id_user_account"),
        ),
        sa.ForeignKeyConstraint(
            ["leader_id"], ["user_account.id"], name=op.f("fk_campaign_leader_id_user_account")
        ),
        sa.ForeignKeyConstraint(
            ["reseller_id"], ["reseller.id"], name=op.f("fk_campaign_reseller_id_reseller")
        ),
        sa.ForeignKeyConstraint(
            ["school_id"], ["school.id"], name=op.f("fk_campaign_school_id_school")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_campaign")),
        sa.UniqueConstraint("code", name=op.f("uq_campaign_code")),
    )
    with op.batch_alter_table("campaign", schema=None) as batch_op:
        batch_op.create_index("ix_campaign_due", ["state", "closes_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_campaign_leader_id"), ["leader_id"], unique=False)

    op.create_table(
        "campaign_leader_credit",
        sa.Column("campaign_id", sa.Integer(), nullable=False),
        sa.Column("leader_id", sa.Integer(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("pieces", sa.Integer(), nullable=False),
        sa.Column("amount", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["campaign_id"],
            ["campaign.id"],
            name=op.f("fk_campaign_leader_credit_campaign_id_campaign"),
        ),
        sa.ForeignKeyConstraint(
            ["leader_id"],
            ["user_account.id"],
            name=op.f("fk_campaign_leader_credit_leader_id_user_account"),
        ),
        sa.PrimaryKeyConstraint("campaign_id", name=op.f("pk_campaign_leader_credit")),
    )
    with op.batch_alter_table("campaign_leader_credit", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_campaign_leader_credit_leader_id"), ["leader_id"], unique=False
        )

    op.create_table(
        "campaign_product",
        sa.Column("campaign_id", sa.Integer(), nullable=False),
        sa.Column("product_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("pieces", sa.Integer(), nullable=False),
        sa.Column("final_unit_amount", sa.Integer(), nullable=True),
        sa.CheckConstraint("pieces >= 0", name=op.f("ck_campaign_product_pieces_not_negative")),
        sa.ForeignKeyConstraint(
            ["campaign_id"], ["campaign.id"], name=op.f("fk_campaign_product_campaign_id_campaign")
        ),
        sa.ForeignKeyConstraint(
            ["product_id"], ["product.id"], name=op.f("fk_campaign_product_product_id_product")
        ),
        sa.PrimaryKeyConstraint("campaign_id", "product_id", name=op.f("pk_campaign_product")),
    )
    op.create_table(
        "campaign_tier",
        sa.Column("campaign_id", sa.Integer(), nullable=False),
        sa.Column("product_id", sa.Integer(), nullable=False),
        sa.Column("min_quantity", sa.Integer(), nullable=False),
        sa.Column("unit_amount", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["campaign_id"], ["campaign.id"], name=op.f("fk_campaign_tier_campaign_id_campaign")
        ),
        sa.ForeignKeyConstraint(
            ["product_id"], ["product.id"], name=op.f("fk_campaign_tier_product_id_product")
        ),
        sa.PrimaryKeyConstraint(
            "campaign_id", "product_id", "min_quantity", name=op.f("pk_campaign_tier")
        ),
    )
    op.create_table(
        "campaign_participant",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("campaign_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("email", sa.String(length=254), nullable=False),
        sa.Column("name", sa.String(length=120), nullable=False),
        sa.Column("phone", sa.String(length=40), nullable=False),
        sa.Column("locale", sa.String(length=10), nullable=False),
        sa.Column("token", sa.String(length=64), nullable=False),
        sa.Column("join_key", sa.String(length=64), nullable=False),
        sa.Column("state", sa.String(length=12), nullable=False),
        sa.Column("pieces", sa.Integer(), nullable=False),
        sa.Column("bag_number", sa.Integer(), nullable=False),
        sa.Column("authorised_amount", sa.Integer(), nullable=False),
        sa.Column("intent_id", sa.String(length=255), nullable=True),
        sa.Column("captured_amount", sa.Integer(), nullable=True),
        sa.Column("order_id", sa.Integer(), nullable=True),
        sa.Column("payment_due_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_error", sa.String(length=300), nullable=False),
        sa.Column("replaces_id", sa.Integer(), nullable=True),
        sa.Column("country", sa.String(length=2), nullable=False),
        sa.Column("region", sa.String(length=120), nullable=False),
        sa.Column("city", sa.String(length=120), nullable=False),
        sa.Column("line1", sa.String(length=200), nullable=False),
        sa.Column("line2", sa.String(length=200), nullable=False),
        sa.Column("postcode", sa.String(length=20), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "state IN ('pending', 'held', 'charged', 'left', 'captured', 'payment_due', "
            "'released', 'lapsed')",
            name=op.f("ck_campaign_participant_state_known"),
        ),
        sa.CheckConstraint("pieces >= 1", name=op.f("ck_campaign_participant_pieces_positive")),
        sa.ForeignKeyConstraint(
            ["campaign_id"],
            ["campaign.id"],
            name=op.f("fk_campaign_participant_campaign_id_campaign"),
        ),
        sa.ForeignKeyConstraint(
            ["order_id"],
            ["shop_order.id"],
            name=op.f("fk_campaign_participant_order_id_shop_order"),
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["user_account.id"],
            name=op.f("fk_campaign_participant_user_id_user_account"),
        ),
        sa.ForeignKeyConstraint(
            ["replaces_id"],
            ["campaign_participant.id"],
            name=op.f("fk_campaign_participant_replaces_id_campaign_participant"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_campaign_participant")),
        sa.UniqueConstraint("intent_id", name=op.f("uq_campaign_participant_intent_id")),
        sa.UniqueConstraint("join_key", name=op.f("uq_campaign_participant_join_key")),
        sa.UniqueConstraint("order_id", name=op.f("uq_campaign_participant_order_id")),
        sa.UniqueConstraint("token", name=op.f("uq_campaign_participant_token")),
    )
    with op.batch_alter_table("campaign_participant", schema=None) as batch_op:
        batch_op.create_index(
            "ix_campaign_participant_state", ["campaign_id", "state"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_campaign_participant_user_id"), ["user_id"], unique=False
        )

    op.create_table(
        "campaign_participant_line",
        sa.Column("participant_id", sa.Integer(), nullable=False),
        sa.Column("variant_id", sa.Integer(), nullable=False),
        sa.Column("product_id", sa.Integer(), nullable=False),
        sa.Column("quantity", sa.Integer(), nullable=False),
        sa.Column("joined_unit_amount", sa.Integer(), nullable=False),
        sa.Column("allocated", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["participant_id"],
            ["campaign_participant.id"],
            name=op.f("fk_campaign_participant_line_participant_id_campaign_participant"),
        ),
        sa.ForeignKeyConstraint(
            ["product_id"],
            ["product.id"],
            name=op.f("fk_campaign_participant_line_product_id_product"),
        ),
        sa.ForeignKeyConstraint(
            ["variant_id"],
            ["variant.id"],
            name=op.f("fk_campaign_participant_line_variant_id_variant"),
        ),
        sa.PrimaryKeyConstraint(
            "participant_id", "variant_id", name=op.f("pk_campaign_participant_line")
        ),
    )
    with rebuilding("payment") as batch_op:
        batch_op.add_column(
            sa.Column("released_amount", sa.Integer(), server_default="0", nullable=False)
        )

    with rebuilding("shop_order") as batch_op:
        batch_op.add_column(sa.Column("campaign_id", sa.Integer(), nullable=True))
        batch_op.create_index(
            batch_op.f("ix_shop_order_campaign_id"), ["campaign_id"], unique=False
        )
        batch_op.create_foreign_key(
            batch_op.f("fk_shop_order_campaign_id_campaign"), "campaign", ["campaign_id"], ["id"]
        )


def downgrade() -> None:
    with rebuilding("shop_order") as batch_op:
        batch_op.drop_constraint(
            batch_op.f("fk_shop_order_campaign_id_campaign"), type_="foreignkey"
        )
        batch_op.drop_index(batch_op.f("ix_shop_order_campaign_id"))
        batch_op.drop_column("campaign_id")

    with rebuilding("payment") as batch_op:
        batch_op.drop_column("released_amount")

    op.drop_table("campaign_participant_line")
    with op.batch_alter_table("campaign_participant", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_campaign_participant_user_id"))
        batch_op.drop_index("ix_campaign_participant_state")

    op.drop_table("campaign_participant")
    op.drop_table("campaign_tier")
    op.drop_table("campaign_product")
    with op.batch_alter_table("campaign_leader_credit", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_campaign_leader_credit_leader_id"))

    op.drop_table("campaign_leader_credit")
    with op.batch_alter_table("campaign", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_campaign_leader_id"))
        batch_op.drop_index("ix_campaign_due")

    op.drop_table("campaign")
    op.drop_table("group_buy_program")
