"""Order desk: shipments, refunds, order messages, sent notifications; refunded amount; production-update preference.

Revision ID: 0007_order_desk
Revises: 0006_orders
Create Date: 2026-11-26 09:34:20.590236
"""

import sqlalchemy as sa
from alembic import op


revision = '0007_order_desk'
down_revision = '0006_orders'
branch_labels = None
depends_on = None


def upgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        # Batch mode rebuilds tables that other rows point at; SQLite would refuse to drop
        # the old copy. The rebuilt table keeps every id, so the references stay true.
        op.execute("PRAGMA foreign_keys = OFF")
    # The database's own backstop against overselling (the allocation UPDATEs are the rule).
    with op.batch_alter_table('variant', schema=None) as batch_op:
        batch_op.create_check_constraint('allocated_within_on_hand', 'allocated <= on_hand')

    op.create_table('order_message',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('order_id', sa.Integer(), nullable=False),
    sa.Column('from_staff', sa.Boolean(), nullable=False),
    sa.Column('author_user_id', sa.Integer(), nullable=True),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('read_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['author_user_id'], ['user_account.id'], name=op.f('fk_order_message_author_user_id_user_account')),
    sa.ForeignKeyConstraint(['order_id'], ['shop_order.id'], name=op.f('fk_order_message_order_id_shop_order')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_order_message'))
    )
    with op.batch_alter_table('order_message', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_order_message_order_id'), ['order_id'], unique=False)

    op.create_table('refund',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('order_id', sa.Integer(), nullable=False),
    sa.Column('request_key', sa.String(length=80), nullable=False),
    sa.Column('amount', sa.Integer(), nullable=False),
    sa.Column('stripe_refund_id', sa.String(length=255), nullable=True),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('note', sa.Text(), nullable=False),
    sa.Column('restocked', sa.Boolean(), nullable=False),
    sa.Column('staff_user_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['order_id'], ['shop_order.id'], name=op.f('fk_refund_order_id_shop_order')),
    sa.ForeignKeyConstraint(['staff_user_id'], ['user_account.id'], name=op.f('fk_refund_staff_user_id_user_account')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_refund')),
    sa.UniqueConstraint('request_key', name=op.f('uq_refund_request_key')),
    sa.UniqueConstraint('stripe_refund_id', name=op.f('uq_refund_stripe_refund_id'))
    )
    with op.batch_alter_table('refund', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_refund_order_id'), ['order_id'], unique=False)

    op.create_table('sent_notification',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('order_id', sa.Integer(), nullable=False),
    sa.Column('key', sa.String(length=120), nullable=False),
    sa.Column('sent_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['order_id'], ['shop_order.id'], name=op.f('fk_sent_notification_order_id_shop_order')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_sent_notification')),
    sa.UniqueConstraint('key', name=op.f('uq_sent_notification_key'))
    )
    with op.batch_alter_table('sent_notification', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_sent_notification_order_id'), ['order_id'], unique=False)

    op.create_table('shipment',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('order_id', sa.Integer(), nullable=False),
    sa.Column('carrier', sa.String(length=30), nullable=False),
    sa.Column('carrier_name', sa.String(length=80), nullable=False),
    sa.Column('tracking_number', sa.String(length=64), nullable=False),
    sa.Column('shipped_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('staff_user_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['order_id'], ['shop_order.id'], name=op.f('fk_shipment_order_id_shop_order')),
    sa.ForeignKeyConstraint(['staff_user_id'], ['user_account.id'], name=op.f('fk_shipment_staff_user_id_user_account')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_shipment'))
    )
    with op.batch_alter_table('shipment', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_shipment_order_id'), ['order_id'], unique=False)

    op.create_table('shipment_line',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('shipment_id', sa.Integer(), nullable=False),
    sa.Column('order_line_id', sa.Integer(), nullable=False),
    sa.Column('quantity', sa.Integer(), nullable=False),
    sa.CheckConstraint('quantity >= 1', name=op.f('ck_shipment_line_quantity_positive')),
    sa.ForeignKeyConstraint(['order_line_id'], ['order_line.id'], name=op.f('fk_shipment_line_order_line_id_order_line')),
    sa.ForeignKeyConstraint(['shipment_id'], ['shipment.id'], name=op.f('fk_shipment_line_shipment_id_shipment')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_shipment_line'))
    )
    with op.batch_alter_table('shipment_line', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_shipment_line_order_line_id'), ['order_line_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_shipment_line_shipment_id'), ['shipment_id'], unique=False)

    with op.batch_alter_table('order_line', schema=None) as batch_op:
        batch_op.add_column(sa.Column('returned_quantity', sa.Integer(), nullable=False, server_default='0'))

    with op.batch_alter_table('shop_order', schema=None) as batch_op:
        batch_op.add_column(sa.Column('refunded_amount', sa.Integer(), nullable=False, server_default='0'))

    # Not batch mode: on SQLite that would rebuild user_account and drop its lower(email)
    # index, which reflection cannot see. Both databases add and drop columns in place.
    op.add_column('user_account', sa.Column('production_updates', sa.Boolean(), nullable=False, server_default=sa.false()))



def downgrade() -> None:
    with op.batch_alter_table('variant', schema=None) as batch_op:
        batch_op.drop_constraint('allocated_within_on_hand', type_='check')

    op.drop_column('user_account', 'production_updates')

    # In place (SQLite 3.35+ drops columns itself): a batch rebuild would reflect
    # user_account through the foreign keys, and with it an index it cannot see.
    op.drop_column('shop_order', 'refunded_amount')
    op.drop_column('order_line', 'returned_quantity')

    with op.batch_alter_table('shipment_line', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_shipment_line_shipment_id'))
        batch_op.drop_index(batch_op.f('ix_shipment_line_order_line_id'))

    op.drop_table('shipment_line')
    with op.batch_alter_table('shipment', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_shipment_order_id'))

    op.drop_table('shipment')
    with op.batch_alter_table('sent_notification', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_sent_notification_order_id'))

    op.drop_table('sent_notification')
    with op.batch_alter_table('refund', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_refund_order_id'))

    op.drop_table('refund')
    with op.batch_alter_table('order_message', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_order_message_order_id'))

    op.drop_table('order_message')
