"""Accounts: a session version in every session and remember-me cookie.

Bumping it ends every session of the account at once (sign-out, password change or reset,
"sign out of all devices"). Existing accounts start at 0; sessions from before this
revision carry a bare user id and are refused once, so everyone signs in again.

Revision ID: 0011_session_version
Revises: 0010_order_request_key
Create Date: 2026-12-04 19:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0011_session_version"
down_revision = "0010_order_request_key"
branch_labels = None
depends_on = None


# Not batch mode (like 0007's production_updates): on SQLite a batch rebuild of
# user_account would drop its lower(email) unique index, which reflection cannot see.
# Both databases add and drop the column in place (SQLite 3.35+ drops columns itself).


def upgrade() -> None:
    op.add_column(
        "user_account",
        sa.Column("session_version", sa.Integer(), nullable=False, server_default="0"),
    )


def downgrade() -> None:
    op.drop_column("user_account", "session_version")
