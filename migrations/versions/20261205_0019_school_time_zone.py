"""Each school's time zone, filled from its country.

``school.time_zone`` (an IANA name) is the clock a school's orders, delivery rounds and
invoices are shown in. Existing schools get their country's zone (Asia/Shanghai for CN,
Asia/Tokyo for JP, Asia/Singapore for SG, UTC otherwise), the same rule as
``shop.locales.zone_for_country``, written out here so that this migration never changes
with the code.

Revision ID: 0019_school_time_zone
Revises: 0018_listing_filters
Create Date: 2026-12-05 10:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0019_school_time_zone"
down_revision = "0018_listing_filters"
branch_labels = None
depends_on = None

COUNTRY_ZONES = {"CN": "Asia/Shanghai", "JP": "Asia/Tokyo", "SG": "Asia/Singapore"}


def upgrade() -> None:
    with op.batch_alter_table("school") as batch:
        batch.add_column(sa.Column("time_zone", sa.String(64), nullable=True))
    school = sa.table("school", sa.column("country", sa.String), sa.column("time_zone", sa.String))
    for country, zone in COUNTRY_ZONES.items():
        op.execute(
            school.update().where(sa.func.upper(school.c.country) == country).values(time_zone=zone)
        )
    op.execute(school.update().where(school.c.time_zone.is_(None)).values(time_zone="UTC"))
    with op.batch_alter_table("school") as batch:
        batch.alter_column("time_zone", existing_type=sa.String(64), nullable=False)


def downgrade() -> None:
    with op.batch_alter_table("school") as batch:
        batch.drop_column("time_zone")
