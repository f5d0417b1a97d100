"""One-time keys used by forms; the card a payment used; the PaymentIntent that paid.

``used_request_key``: every form that creates something carries a random key, and the
action that handles it claims the key here in the same transaction (primary key), so the
same form sent twice does its work once. The card's brand and last four digits let the
cancel page say where a refund goes. ``paid_intent_id`` tells the payment that paid an
order from a second one that must be given back.

Revision ID: 0012_one_time_keys_and_card
Revises: 0011_session_version
Create Date: 2026-12-04 19:20:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0012_one_time_keys_and_card"
down_revision = "0011_session_version"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "used_request_key",
        sa.Column("key", sa.String(length=120), nullable=False),
        sa.Column("used_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_used_request_key")),
    )
    op.add_column("shop_order", sa.Column("paid_intent_id", sa.String(length=255), nullable=True))
    op.add_column(
        "payment",
        sa.Column("card_brand", sa.String(length=20), nullable=False, server_default=""),
    )
    op.add_column(
        "payment",
        sa.Column("card_last4", sa.String(length=4), nullable=False, server_default=""),
    )


def downgrade() -> None:
    # In place, not batch mode: rebuilding payment on SQLite reflects user_account through
    # its foreign keys and would lose that table's lower(email) index (as in 0007, 0011).
    op.drop_column("payment", "card_last4")
    op.drop_column("payment", "card_brand")
    op.drop_column("shop_order", "paid_intent_id")
    op.drop_table("used_request_key")
