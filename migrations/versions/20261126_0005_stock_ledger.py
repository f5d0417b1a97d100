"""Stock ledger: one row per change to a variant's on-hand or allocated count.

Revision ID: 0005_stock_ledger
Revises: 0004_cart
Create Date: 2026-11-26 07:36:56.885128
"""

import sqlalchemy as sa
from alembic import op


revision = '0005_stock_ledger'
down_revision = '0004_cart'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('stock_movement',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('variant_id', sa.Integer(), nullable=False),
    sa.Column('on_hand_delta', sa.Integer(), nullable=False),
    sa.Column('allocated_delta', sa.Integer(), nullable=False),
    sa.Column('reason', sa.String(length=20), nullable=False),
    sa.Column('reference', sa.String(length=64), nullable=False),
    sa.Column('staff_user_id', sa.Integer(), nullable=True),
    sa.Column('note', sa.Text(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['staff_user_id'], ['user_account.id'], name=op.f('fk_stock_movement_staff_user_id_user_account')),
    sa.ForeignKeyConstraint(['variant_id'], ['variant.id'], name=op.f('fk_stock_movement_variant_id_variant')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_stock_movement'))
    )
    with op.batch_alter_table('stock_movement', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_stock_movement_variant_id'), ['variant_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('stock_movement', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_stock_movement_variant_id'))

    op.drop_table('stock_movement')
