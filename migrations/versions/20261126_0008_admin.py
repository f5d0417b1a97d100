"""Admin: audit log, production batches, per-variant low-stock threshold and availability.

Revision ID: 0008_admin
Revises: 0007_order_desk
Create Date: 2026-11-26 10:57:16.029636
"""

import warnings
from contextlib import contextmanager

import sqlalchemy as sa
from alembic import op


@contextmanager
def rebuilding(table):
    """Batch mode (SQLite rebuilds ``table``). Reflecting it also reflects user_account
    through the foreign keys, whose lower(email) index SQLAlchemy cannot reflect and
    warns about; user_account itself is not rebuilt, so the warning is noise here."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", "Skipped unsupported reflection", sa.exc.SAWarning)
        with op.batch_alter_table(table, schema=None) as batch_op:
            yield batch_op


revision = '0008_admin'
down_revision = '0007_order_desk'
branch_labels = None
depends_on = None


def upgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        # Batch mode rebuilds tables that other rows point at; SQLite would refuse to drop
        # the old copy. The rebuilt table keeps every id, so the references stay true.
        op.execute("PRAGMA foreign_keys = OFF")
    op.create_table('audit_entry',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('actor_user_id', sa.Integer(), nullable=True),
    sa.Column('action', sa.String(length=60), nullable=False),
    sa.Column('target_type', sa.String(length=40), nullable=False),
    sa.Column('target_id', sa.String(length=64), nullable=False),
    sa.Column('before', sa.JSON(), nullable=True),
    sa.Column('after', sa.JSON(), nullable=True),
    sa.ForeignKeyConstraint(['actor_user_id'], ['user_account.id'], name=op.f('fk_audit_entry_actor_user_id_user_account')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_audit_entry'))
    )
    with op.batch_alter_table('audit_entry', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_audit_entry_action'), ['action'], unique=False)
        batch_op.create_index(batch_op.f('ix_audit_entry_actor_user_id'), ['actor_user_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_audit_entry_created_at'), ['created_at'], unique=False)

    op.create_table('production_batch',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('finished_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('note', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['created_by_id'], ['user_account.id'], name=op.f('fk_production_batch_created_by_id_user_account')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_production_batch'))
    )
    with rebuilding('order_line') as batch_op:
        batch_op.add_column(sa.Column('production_batch_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('produced_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.create_index(batch_op.f('ix_order_line_production_batch_id'), ['production_batch_id'], unique=False)
        batch_op.create_foreign_key(batch_op.f('fk_order_line_production_batch_id_production_batch'), 'production_batch', ['production_batch_id'], ['id'])

    with op.batch_alter_table('variant', schema=None) as batch_op:
        batch_op.add_column(sa.Column('low_stock_threshold', sa.Integer(), nullable=False, server_default='5'))
        batch_op.add_column(sa.Column('for_sale', sa.Boolean(), nullable=False, server_default=sa.true()))



def downgrade() -> None:
    with op.batch_alter_table('variant', schema=None) as batch_op:
        batch_op.drop_column('for_sale')
        batch_op.drop_column('low_stock_threshold')

    with rebuilding('order_line') as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_order_line_production_batch_id_production_batch'), type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_order_line_production_batch_id'))
        batch_op.drop_column('produced_at')
        batch_op.drop_column('production_batch_id')

    op.drop_table('production_batch')
    with op.batch_alter_table('audit_entry', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_audit_entry_created_at'))
        batch_op.drop_index(batch_op.f('ix_audit_entry_actor_user_id'))
        batch_op.drop_index(batch_op.f('ix_audit_entry_action'))

    op.drop_table('audit_entry')
