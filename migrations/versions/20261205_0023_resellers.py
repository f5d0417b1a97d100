"""Small windows (issue 17): a reseller's profile, picks and collections.

``reseller``: one per account (``user_id`` unique), its handle (lowercase, unique: the
window's address ``/w/<handle>``), profile, the reseller terms it accepted, and its status
with who changed it last and when. ``reseller_pick``: a product in the window at a
position with a one-line note, once per window. ``reseller_collection`` and
``reseller_collection_pick``: named groups of picks, each in its own order. The order
indexes (``ix_reseller_pick_order``, ``ix_collection_pick_order``) serve a page of a
window in its order.

Revision ID: 0023_resellers
Revises: 0021_search_terms
Create Date: 2026-12-07 10:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0023_resellers"
down_revision = "0021_search_terms"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "reseller",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("handle", sa.String(length=30), nullable=False),
        sa.Column("display_name", sa.String(length=60), nullable=False),
        sa.Column("bio", sa.String(length=280), nullable=False),
        sa.Column("avatar_path", sa.String(length=255), nullable=True),
        sa.Column("social_links", sa.JSON(), nullable=False),
        sa.Column("terms_version", sa.String(length=40), nullable=False),
        sa.Column("terms_accepted_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("status_changed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("status_changed_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "status IN ('applied', 'approved', 'suspended', 'closed')",
            name=op.f("ck_reseller_status_known"),
        ),
        sa.ForeignKeyConstraint(
            ["status_changed_by_id"],
            ["user_account.id"],
            name=op.f("fk_reseller_status_changed_by_id_user_account"),
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["user_account.id"], name=op.f("fk_reseller_user_id_user_account")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_reseller")),
        sa.UniqueConstraint("handle", name=op.f("uq_reseller_handle")),
        sa.UniqueConstraint("user_id", name=op.f("uq_reseller_user_id")),
    )
    op.create_index(op.f("ix_reseller_status"), "reseller", ["status"], unique=False)

    op.create_table(
        "reseller_collection",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("reseller_id", sa.Integer(), nullable=False),
        sa.Column("slug", sa.String(length=60), nullable=False),
        sa.Column("title", sa.String(length=80), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["reseller_id"],
            ["reseller.id"],
            name=op.f("fk_reseller_collection_reseller_id_reseller"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_reseller_collection")),
        sa.UniqueConstraint("reseller_id", "slug", name="uq_reseller_collection_slug"),
    )

    op.create_table(
        "reseller_pick",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("reseller_id", sa.Integer(), nullable=False),
        sa.Column("product_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("note", sa.String(length=120), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["product_id"], ["product.id"], name=op.f("fk_reseller_pick_product_id_product")
        ),
        sa.ForeignKeyConstraint(
            ["reseller_id"], ["reseller.id"], name=op.f("fk_reseller_pick_reseller_id_reseller")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_reseller_pick")),
        sa.UniqueConstraint("reseller_id", "product_id", name="uq_reseller_pick_product"),
    )
    op.create_index(
        "ix_reseller_pick_order", "reseller_pick", ["reseller_id", "position", "id"], unique=False
    )
    op.create_index(
        op.f("ix_reseller_pick_product_id"), "reseller_pick", ["product_id"], unique=False
    )

    op.create_table(
        "reseller_collection_pick",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("collection_id", sa.Integer(), nullable=False),
        sa.Column("product_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["collection_id"],
            ["reseller_collection.id"],
            name=op.f("fk_reseller_collection_pick_collection_id_reseller_collection"),
        ),
        sa.ForeignKeyConstraint(
            ["product_id"],
            ["product.id"],
            name=op.f("fk_reseller_collection_pick_product_id_product"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_reseller_collection_pick")),
        sa.UniqueConstraint("collection_id", "product_id", name="uq_collection_pick_product"),
    )
    op.create_index(
        "ix_collection_pick_order",
        "reseller_collection_pick",
        ["collection_id", "position", "id"],
        unique=False,
    )
    op.create_index(
        op.f("ix_reseller_collection_pick_product_id"),
        "reseller_collection_pick",
        ["product_id"],
        unique=False,
    )


def downgrade() -> None:
    op.drop_table("reseller_collection_pick")
    op.drop_table("reseller_pick")
    op.drop_table("reseller_collection")
    op.drop_table("reseller")
