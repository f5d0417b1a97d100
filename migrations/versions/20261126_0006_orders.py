"""Orders: lines (snapshots), timeline events, card payments, processed Stripe events.

Revision ID: 0006_orders
Revises: 0005_stock_ledger
Create Date: 2026-11-26 09:17:34.325899
"""

import sqlalchemy as sa
from alembic import op


revision = '0006_orders'
down_revision = '0005_stock_ledger'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('processed_stripe_event',
    sa.Column('event_id', sa.String(length=255), nullable=False),
    sa.Column('type', sa.String(length=80), nullable=False),
    sa.Column('received_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('event_id', name=op.f('pk_processed_stripe_event'))
    )
    op.create_table('shop_order',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('number', sa.String(length=20), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=True),
    sa.Column('email', sa.String(length=254), nullable=False),
    sa.Column('locale', sa.String(length=10), nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('state', sa.String(length=20), nullable=False),
    sa.Column('payment_status', sa.String(length=30), nullable=False),
    sa.Column('fulfilment_status', sa.String(length=30), nullable=False),
    sa.Column('needs_attention', sa.Boolean(), nullable=False),
    sa.Column('subtotal_amount', sa.Integer(), nullable=False),
    sa.Column('shipping_amount', sa.Integer(), nullable=False),
    sa.Column('total_amount', sa.Integer(), nullable=False),
    sa.Column('delivery_method', sa.String(length=20), nullable=False),
    sa.Column('recipient', sa.String(length=120), nullable=False),
    sa.Column('phone', sa.String(length=40), nullable=False),
    sa.Column('country', sa.String(length=2), nullable=False),
    sa.Column('region', sa.String(length=120), nullable=False),
    sa.Column('city', sa.String(length=120), nullable=False),
    sa.Column('line1', sa.String(length=200), nullable=False),
    sa.Column('line2', sa.String(length=200), nullable=False),
    sa.Column('postcode', sa.String(length=20), nullable=False),
    sa.Column('notes', sa.Text(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('reserved_until', sa.DateTime(timezone=True), nullable=True),
    sa.Column('paid_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('cancelled_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['user_id'], ['user_account.id'], name=op.f('fk_shop_order_user_id_user_account')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_shop_order')),
    sa.UniqueConstraint('number', name=op.f('uq_shop_order_number'))
    )
    with op.batch_alter_table('shop_order', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_shop_order_email'), ['email'], unique=False)
        batch_op.create_index(batch_op.f('ix_shop_order_user_id'), ['user_id'], unique=False)

    op.create_table('order_event',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('order_id', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('kind', sa.String(length=40), nullable=False),
    sa.Column('note', sa.Text(), nullable=False),
    sa.Column('actor_user_id', sa.Integer(), nullable=True),
    sa.Column('visible_to_customer', sa.Boolean(), nullable=False),
    sa.ForeignKeyConstraint(['actor_user_id'], ['user_account.id'], name=op.f('fk_order_event_actor_user_id_user_account')),
    sa.ForeignKeyConstraint(['order_id'], ['shop_order.id'], name=op.f('fk_order_event_order_id_shop_order')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_order_event'))
    )
    with op.batch_alter_table('order_event', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_order_event_order_id'), ['order_id'], unique=False)

    op.create_table('payment',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('order_id', sa.Integer(), nullable=False),
    sa.Column('attempt', sa.Integer(), nullable=False),
    sa.Column('intent_id', sa.String(length=255), nullable=False),
    sa.Column('amount', sa.Integer(), nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('status', sa.String(length=40), nullable=False),
    sa.Column('last_error', sa.Text(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['order_id'], ['shop_order.id'], name=op.f('fk_payment_order_id_shop_order')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_payment')),
    sa.UniqueConstraint('intent_id', name=op.f('uq_payment_intent_id')),
    sa.UniqueConstraint('order_id', 'attempt', name=op.f('uq_payment_order_id'))
    )
    with op.batch_alter_table('payment', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_payment_order_id'), ['order_id'], unique=False)

    op.create_table('order_line',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('order_id', sa.Integer(), nullable=False),
    sa.Column('variant_id', sa.Integer(), nullable=True),
    sa.Column('product_id', sa.Integer(), nullable=True),
    sa.Column('sku', sa.String(length=64), nullable=False),
    sa.Column('product_name', sa.String(length=200), nullable=False),
    sa.Column('size', sa.String(length=40), nullable=False),
    sa.Column('colour', sa.String(length=60), nullable=False),
    sa.Column('unit_amount', sa.Integer(), nullable=False),
    sa.Column('quantity', sa.Integer(), nullable=False),
    sa.Column('line_amount', sa.Integer(), nullable=False),
    sa.Column('made_to_order', sa.Boolean(), nullable=False),
    sa.Column('lead_time_days', sa.Integer(), nullable=True),
    sa.Column('allocated', sa.Boolean(), nullable=False),
    sa.CheckConstraint('quantity >= 1', name=op.f('ck_order_line_quantity_positive')),
    sa.ForeignKeyConstraint(['order_id'], ['shop_order.id'], name=op.f('fk_order_line_order_id_shop_order')),
    sa.ForeignKeyConstraint(['product_id'], ['product.id'], name=op.f('fk_order_line_product_id_product')),
    sa.ForeignKeyConstraint(['variant_id'], ['variant.id'], name=op.f('fk_order_line_variant_id_variant')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_order_line'))
    )
    with op.batch_alter_table('order_line', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_order_line_order_id'), ['order_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('order_line', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_order_line_order_id'))

    op.drop_table('order_line')
    with op.batch_alter_table('payment', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_payment_order_id'))

    op.drop_table('payment')
    with op.batch_alter_table('order_event', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_order_event_order_id'))

    op.drop_table('order_event')
    with op.batch_alter_table('shop_order', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_shop_order_user_id'))
        batch_op.drop_index(batch_op.f('ix_shop_order_email'))

    op.drop_table('shop_order')
    op.drop_table('processed_stripe_event')
