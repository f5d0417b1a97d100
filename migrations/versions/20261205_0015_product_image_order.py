"""A product's images indexed in gallery order.

``ix_product_image_order`` (product_id, position, id) replaces ``ix_product_image_product_id``
(product_id): a listing reads each card's first image in the page's one statement, and
with this index that is a lookup that stops at the first entry instead of a sort of the
product's images.

Revision ID: 0015_product_image_order
Revises: 0014_search_bigrams
Create Date: 2026-12-05 02:00:00
"""

from alembic import op

revision = "0015_product_image_order"
down_revision = "0014_search_bigrams"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_product_image_order", "product_image", ["product_id", "position", "id"])
    op.drop_index("ix_product_image_product_id", table_name="product_image")


def downgrade() -> None:
    op.create_index("ix_product_image_product_id", "product_image", ["product_id"])
    op.drop_index("ix_product_image_order", table_name="product_image")
