"""Orders: the one-time key of the form that placed them (a roster confirmed twice).

A unique index rather than a constraint: SQLite adds it without rebuilding shop_order.

Revision ID: 0010_order_request_key
Revises: 0009_schools
Create Date: 2026-11-26 13:04:25.358052
"""

import sqlalchemy as sa
from alembic import op

revision = "0010_order_request_key"
down_revision = "0009_schools"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("shop_order", sa.Column("request_key", sa.String(length=64), nullable=True))
    op.create_index("ix_shop_order_request_key", "shop_order", ["request_key"], unique=True)


def downgrade() -> None:
    op.drop_index("ix_shop_order_request_key", table_name="shop_order")
    op.drop_column("shop_order", "request_key")
