"""Emails that went out, by key (the Message-ID): a retried email job sends nothing twice.

Revision ID: 0016_sent_email
Revises: 0015_product_image_order
Create Date: 2026-12-05 04:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0016_sent_email"
down_revision = "0015_product_image_order"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "sent_email",
        sa.Column("key", sa.String(length=255), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_sent_email")),
    )


def downgrade() -> None:
    op.drop_table("sent_email")
