"""Small windows, the money (issue 17): the factory's reseller programme, per-category
commission, per-reseller terms, reseller prices, visits, the commission ledger, payouts,
and the order's window.

``reseller_program``: one row of the factory's terms (money model, default commission,
price cap, return window, attribution days, payout minimums, whether school and invoice
orders earn). ``reseller_category_commission``: a category's own referral rate.
``reseller_terms``: one reseller's overrides and packing slip. ``reseller_price``: a
reseller's price per product and currency. ``reseller_visit``: arrivals per window and
day. ``commission_line``: the ledger, one row per commission or reversal (``key`` unique:
written once), its state moving pending → approved → paid. ``reseller_payout``: money
sent, with the lines it covers. ``shop_order.reseller_id``/``reseller_model``/
``reseller_earns`` and ``order_line.factory_unit_amount``: the window an order came
through and what the factory's price was where a reseller price was charged.

Revision ID: 0024_reseller_money
Revises: 0023_resellers
Create Date: 2026-12-06 16:00:00
"""

import warnings
from contextlib import contextmanager

import sqlalchemy as sa
from alembic import op

revision = "0024_reseller_money"
down_revision = "0023_resellers"
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
        "reseller_program",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("money_model", sa.String(length=10), nullable=False),
        sa.Column("commission_bps", sa.Integer(), nullable=False),
        sa.Column("price_cap_bps", sa.Integer(), nullable=False),
        sa.Column("return_window_days", sa.Integer(), nullable=False),
        sa.Column("attribution_days", sa.Integer(), nullable=False),
        sa.Column("payout_minimums", sa.JSON(), nullable=False),
        sa.Column("earn_on_school_orders", sa.Boolean(), nullable=False),
        sa.Column("earn_on_invoice_orders", sa.Boolean(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_by_id", sa.Integer(), nullable=True),
        sa.CheckConstraint(
            "money_model IN ('referral', 'price')",
            name=op.f("ck_reseller_program_money_model_known"),
        ),
        sa.ForeignKeyConstraint(
            ["updated_by_id"],
            ["user_account.id"],
            name=op.f("fk_reseller_program_updated_by_id_user_account"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_reseller_program")),
    )
    op.create_table(
        "reseller_category_commission",
        sa.Column("category_id", sa.Integer(), nullable=False),
        sa.Column("commission_bps", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["category_id"],
            ["category.id"],
            name=op.f("fk_reseller_category_commission_category_id_category"),
        ),
        sa.PrimaryKeyConstraint("category_id", name=op.f("pk_reseller_category_commission")),
    )
    op.create_table(
        "reseller_terms",
        sa.Column("reseller_id", sa.Integer(), nullable=False),
        sa.Column("money_model", sa.String(length=10), nullable=True),
        sa.Column("commission_bps", sa.Integer(), nullable=True),
        sa.Column("blind_slip", sa.Boolean(), nullable=False),
        sa.Column("slip_message", sa.String(length=200), nullable=False),
        sa.ForeignKeyConstraint(
            ["reseller_id"], ["reseller.id"], name=op.f("fk_reseller_terms_reseller_id_reseller")
        ),
        sa.PrimaryKeyConstraint("reseller_id", name=op.f("pk_reseller_terms")),
    )
    op.create_table(
        "reseller_price",
        sa.Column("reseller_id", sa.Integer(), nullable=False),
        sa.Column("product_id", sa.Integer(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("unit_amount", sa.Integer(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["product_id"], ["product.id"], name=op.f("fk_reseller_price_product_id_product")
        ),
        sa.ForeignKeyConstraint(
            ["reseller_id"], ["reseller.id"], name=op.f("fk_reseller_price_reseller_id_reseller")
        ),
        sa.PrimaryKeyConstraint(
            "reseller_id", "product_id", "currency", name=op.f("pk_reseller_price")
        ),
    )
    op.create_table(
        "reseller_visit",
        sa.Column("reseller_id", sa.Integer(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("visits", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["reseller_id"], ["reseller.id"], name=op.f("fk_reseller_visit_reseller_id_reseller")
        ),
        sa.PrimaryKeyConstraint("reseller_id", "day", name=op.f("pk_reseller_visit")),
    )
    op.create_table(
        "reseller_payout",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("reseller_id", sa.Integer(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("amount", sa.Integer(), nullable=False),
        sa.Column("line_count", sa.Integer(), nullable=False),
        sa.Column("reference", sa.String(length=80), nullable=False),
        sa.Column("request_key", sa.String(length=64), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["created_by_id"],
            ["user_account.id"],
            name=op.f("fk_reseller_payout_created_by_id_user_account"),
        ),
        sa.ForeignKeyConstraint(
            ["reseller_id"], ["reseller.id"], name=op.f("fk_reseller_payout_reseller_id_reseller")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_reseller_payout")),
        sa.UniqueConstraint("request_key", name=op.f("uq_reseller_payout_request_key")),
    )
    op.create_index(
        op.f("ix_reseller_payout_reseller_id"), "reseller_payout", ["reseller_id"], unique=False
    )
    op.create_table(
        "commission_line",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=80), nullable=False),
        sa.Column("reseller_id", sa.Integer(), nullable=False),
        sa.Column("order_id", sa.Integer(), nullable=False),
        sa.Column("order_line_id", sa.Integer(), nullable=True),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("amount", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=12), nullable=False),
        sa.Column("state", sa.String(length=10), nullable=False),
        sa.Column("note", sa.String(length=200), nullable=False),
        sa.Column("payout_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("approved_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "kind IN ('commission', 'reversal')", name=op.f("ck_commission_line_kind_known")
        ),
        sa.CheckConstraint(
            "state IN ('pending', 'approved', 'paid')",
            name=op.f("ck_commission_line_state_known"),
        ),
        sa.ForeignKeyConstraint(
            ["order_id"], ["shop_order.id"], name=op.f("fk_commission_line_order_id_shop_order")
        ),
        sa.ForeignKeyConstraint(
            ["order_line_id"],
            ["order_line.id"],
            name=op.f("fk_commission_line_order_line_id_order_line"),
        ),
        sa.ForeignKeyConstraint(
            ["payout_id"],
            ["reseller_payout.id"],
            name=op.f("fk_commission_line_payout_id_reseller_payout"),
        ),
        sa.ForeignKeyConstraint(
            ["reseller_id"], ["reseller.id"], name=op.f("fk_commission_line_reseller_id_reseller")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_commission_line")),
        sa.UniqueConstraint("key", name=op.f("uq_commission_line_key")),
    )
    op.create_index(
        "ix_commission_line_balance",
        "commission_line",
        ["reseller_id", "currency", "state"],
        unique=False,
    )
    op.create_index(
        op.f("ix_commission_line_order_id"), "commission_line", ["order_id"], unique=False
    )
    op.create_index(
        op.f("ix_commission_line_payout_id"), "commission_line", ["payout_id"], unique=False
    )

    with rebuilding("shop_order") as batch:
        batch.add_column(sa.Column("reseller_id", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("reseller_model", sa.String(length=10), nullable=True))
        batch.add_column(
            sa.Column("reseller_earns", sa.Boolean(), nullable=False, server_default=sa.false())
        )
        batch.create_foreign_key(
            batch.f("fk_shop_order_reseller_id_reseller"), "reseller", ["reseller_id"], ["id"]
        )
        batch.create_index(batch.f("ix_shop_order_reseller_id"), ["reseller_id"], unique=False)
    with rebuilding("order_line") as batch:
        batch.add_column(sa.Column("factory_unit_amount", sa.Integer(), nullable=True))


def downgrade() -> None:
    with rebuilding("order_line") as batch:
        batch.drop_column("factory_unit_amount")
    with rebuilding("shop_order") as batch:
        batch.drop_index(batch.f("ix_shop_order_reseller_id"))
        batch.drop_constraint(batch.f("fk_shop_order_reseller_id_reseller"), type_="foreignkey")
        batch.drop_column("reseller_earns")
        batch.drop_column("reseller_model")
        batch.drop_column("reseller_id")
    op.drop_table("commission_line")
    op.drop_table("reseller_payout")
    op.drop_table("reseller_visit")
    op.drop_table("reseller_price")
    op.drop_table("reseller_terms")
    op.drop_table("reseller_category_commission")
    op.drop_table("reseller_program")
