"""Schools: uniform lists, delivery rounds, school admins, invoices; per-child cart and
order lines; school-only products; school orders.

Revision ID: 0009_schools
Revises: 0008_admin
Create Date: 2026-11-26 12:29:51.735275
"""

import warnings
from contextlib import contextmanager

import sqlalchemy as sa
from alembic import op


@contextmanager
def rebuilding(table):
    """Batch mode, without the noise of user_account's unreflectable index (see 0008)."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", "Skipped unsupported reflection", sa.exc.SAWarning)
        with op.batch_alter_table(table, schema=None) as batch_op:
            yield batch_op


# SQLite: rebuilding product (batch mode) drops the full-text triggers of 0002.
FTS_TRIGGERS = {
    "product_fts_after_insert": """
        CREATE TRIGGER product_fts_after_insert AFTER INSERT ON product BEGIN
            INSERT INTO product_fts(rowid, search_text) VALUES (new.id, new.search_text);
        END""",
    "product_fts_after_delete": """
        CREATE TRIGGER product_fts_after_delete AFTER DELETE ON product BEGIN
            INSERT INTO product_fts(product_fts, rowid, search_text)
            VALUES ('delete', old.id, old.search_text);
        END""",
    "product_fts_after_update": """
        CREATE TRIGGER product_fts_after_update AFTER UPDATE OF search_text ON product BEGIN
            INSERT INTO product_fts(product_fts, rowid, search_text)
            VALUES ('delete', old.id, old.search_text);
            INSERT INTO product_fts(rowid, search_text) VALUES (new.id, new.search_text);
        END""",
}



def recreate_search_triggers() -> None:
    if op.get_bind().dialect.name == "sqlite":
        for statement in FTS_TRIGGERS.values():
            op.execute(statement)


revision = '0009_schools'
down_revision = '0008_admin'
branch_labels = None
depends_on = None


def upgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        op.execute("PRAGMA foreign_keys = OFF")  # see 0008: rebuilt tables keep their ids
    op.create_table('school',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('slug', sa.String(length=80), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('name_zh', sa.String(length=200), nullable=True),
    sa.Column('name_ja', sa.String(length=200), nullable=True),
    sa.Column('city', sa.String(length=120), nullable=False),
    sa.Column('city_zh', sa.String(length=120), nullable=True),
    sa.Column('city_ja', sa.String(length=120), nullable=True),
    sa.Column('country', sa.String(length=2), nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('grades', sa.JSON(), nullable=False),
    sa.Column('logo_path', sa.String(length=255), nullable=True),
    sa.Column('delivery_recipient', sa.String(length=120), nullable=False),
    sa.Column('delivery_phone', sa.String(length=40), nullable=False),
    sa.Column('delivery_region', sa.String(length=120), nullable=False),
    sa.Column('delivery_city', sa.String(length=120), nullable=False),
    sa.Column('delivery_line1', sa.String(length=200), nullable=False),
    sa.Column('delivery_line2', sa.String(length=200), nullable=False),
    sa.Column('delivery_postcode', sa.String(length=20), nullable=False),
    sa.Column('contact_name', sa.String(length=120), nullable=False),
    sa.Column('contact_email', sa.String(length=254), nullable=False),
    sa.Column('contact_phone', sa.String(length=40), nullable=False),
    sa.Column('access_code_hash', sa.String(length=255), nullable=True),
    sa.Column('verified', sa.Boolean(), nullable=False),
    sa.Column('invoice_terms_days', sa.Integer(), nullable=False),
    sa.Column('credit_limit_amount', sa.Integer(), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('search_text', sa.Text(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_school')),
    sa.UniqueConstraint('slug', name=op.f('uq_school_slug'))
    )
    op.create_table('delivery_round',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('school_id', sa.Integer(), nullable=False),
    sa.Column('delivery_date', sa.Date(), nullable=False),
    sa.Column('cutoff_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['school_id'], ['school.id'], name=op.f('fk_delivery_round_school_id_school')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_delivery_round')),
    sa.UniqueConstraint('school_id', 'delivery_date', name=op.f('uq_delivery_round_school_id'))
    )
    with op.batch_alter_table('delivery_round', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_delivery_round_school_id'), ['school_id'], unique=False)

    op.create_table('school_member',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('school_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['school_id'], ['school.id'], name=op.f('fk_school_member_school_id_school')),
    sa.ForeignKeyConstraint(['user_id'], ['user_account.id'], name=op.f('fk_school_member_user_id_user_account')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_school_member')),
    sa.UniqueConstraint('school_id', 'user_id', name=op.f('uq_school_member_school_id'))
    )
    with op.batch_alter_table('school_member', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_school_member_school_id'), ['school_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_school_member_user_id'), ['user_id'], unique=False)

    op.create_table('uniform_item',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('school_id', sa.Integer(), nullable=False),
    sa.Column('product_id', sa.Integer(), nullable=False),
    sa.Column('required', sa.Boolean(), nullable=False),
    sa.Column('grades', sa.JSON(), nullable=False),
    sa.Column('gender', sa.String(length=10), nullable=False),
    sa.Column('season', sa.String(length=10), nullable=False),
    sa.Column('quantity_per_child', sa.Integer(), nullable=False),
    sa.Column('school_price_amount', sa.Integer(), nullable=True),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.CheckConstraint("gender IN ('any', 'boys', 'girls')", name=op.f('ck_uniform_item_gender_known')),
    sa.CheckConstraint("season IN ('summer', 'winter', 'pe')", name=op.f('ck_uniform_item_season_known')),
    sa.CheckConstraint('quantity_per_child >= 1', name=op.f('ck_uniform_item_quantity_positive')),
    sa.ForeignKeyConstraint(['product_id'], ['product.id'], name=op.f('fk_uniform_item_product_id_product')),
    sa.ForeignKeyConstraint(['school_id'], ['school.id'], name=op.f('fk_uniform_item_school_id_school')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_uniform_item'))
    )
    with op.batch_alter_table('uniform_item', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_uniform_item_product_id'), ['product_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_uniform_item_school_id'), ['school_id'], unique=False)

    op.create_table('invoice',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('number', sa.String(length=30), nullable=False),
    sa.Column('order_id', sa.Integer(), nullable=False),
    sa.Column('school_id', sa.Integer(), nullable=False),
    sa.Column('issued_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('due_date', sa.Date(), nullable=False),
    sa.Column('amount', sa.Integer(), nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('paid_amount', sa.Integer(), nullable=False),
    sa.Column('paid_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['order_id'], ['shop_order.id'], name=op.f('fk_invoice_order_id_shop_order')),
    sa.ForeignKeyConstraint(['school_id'], ['school.id'], name=op.f('fk_invoice_school_id_school')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_invoice')),
    sa.UniqueConstraint('number', name=op.f('uq_invoice_number')),
    sa.UniqueConstraint('order_id', name=op.f('uq_invoice_order_id'))
    )
    with op.batch_alter_table('invoice', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_invoice_school_id'), ['school_id'], unique=False)

    op.create_table('invoice_payment',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('invoice_id', sa.Integer(), nullable=False),
    sa.Column('amount', sa.Integer(), nullable=False),
    sa.Column('reference', sa.String(length=120), nullable=False),
    sa.Column('recorded_by_id', sa.Integer(), nullable=True),
    sa.Column('recorded_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint('amount >= 1', name=op.f('ck_invoice_payment_amount_positive')),
    sa.ForeignKeyConstraint(['invoice_id'], ['invoice.id'], name=op.f('fk_invoice_payment_invoice_id_invoice')),
    sa.ForeignKeyConstraint(['recorded_by_id'], ['user_account.id'], name=op.f('fk_invoice_payment_recorded_by_id_user_account')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_invoice_payment'))
    )
    with op.batch_alter_table('invoice_payment', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_invoice_payment_invoice_id'), ['invoice_id'], unique=False)

    with rebuilding('cart_line') as batch_op:
        batch_op.add_column(sa.Column('school_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('student_name', sa.String(length=120), nullable=False, server_default=''))
        batch_op.add_column(sa.Column('class_name', sa.String(length=40), nullable=False, server_default=''))
        batch_op.drop_constraint(batch_op.f('uq_cart_line_cart_id'), type_='unique')
        batch_op.create_unique_constraint(batch_op.f('uq_cart_line_cart_id'), ['cart_id', 'variant_id', 'student_name', 'class_name'])
        batch_op.create_foreign_key(batch_op.f('fk_cart_line_school_id_school'), 'school', ['school_id'], ['id'])

    with rebuilding('order_line') as batch_op:
        batch_op.add_column(sa.Column('student_name', sa.String(length=120), nullable=False, server_default=''))
        batch_op.add_column(sa.Column('class_name', sa.String(length=40), nullable=False, server_default=''))

    with rebuilding('product') as batch_op:
        batch_op.add_column(sa.Column('school_id', sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f('ix_product_school_id'), ['school_id'], unique=False)
        batch_op.create_foreign_key(batch_op.f('fk_product_school_id_school'), 'school', ['school_id'], ['id'])
    recreate_search_triggers()

    with rebuilding('shop_order') as batch_op:
        batch_op.add_column(sa.Column('school_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('delivery_round_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('po_number', sa.String(length=60), nullable=False, server_default=''))
        batch_op.create_index(batch_op.f('ix_shop_order_school_id'), ['school_id'], unique=False)
        batch_op.create_foreign_key(batch_op.f('fk_shop_order_school_id_school'), 'school', ['school_id'], ['id'])
        batch_op.create_foreign_key(batch_op.f('fk_shop_order_delivery_round_id_delivery_round'), 'delivery_round', ['delivery_round_id'], ['id'])



def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        op.execute("PRAGMA foreign_keys = OFF")
    with rebuilding('shop_order') as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_shop_order_delivery_round_id_delivery_round'), type_='foreignkey')
        batch_op.drop_constraint(batch_op.f('fk_shop_order_school_id_school'), type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_shop_order_school_id'))
        batch_op.drop_column('po_number')
        batch_op.drop_column('delivery_round_id')
        batch_op.drop_column('school_id')

    with rebuilding('product') as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_product_school_id_school'), type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_product_school_id'))
        batch_op.drop_column('school_id')
    recreate_search_triggers()

    with rebuilding('order_line') as batch_op:
        batch_op.drop_column('class_name')
        batch_op.drop_column('student_name')

    with rebuilding('cart_line') as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_cart_line_school_id_school'), type_='foreignkey')
        batch_op.drop_constraint(batch_op.f('uq_cart_line_cart_id'), type_='unique')
        batch_op.create_unique_constraint(batch_op.f('uq_cart_line_cart_id'), ['cart_id', 'variant_id'])
        batch_op.drop_column('class_name')
        batch_op.drop_column('student_name')
        batch_op.drop_column('school_id')

    with op.batch_alter_table('invoice_payment', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_invoice_payment_invoice_id'))

    op.drop_table('invoice_payment')
    with op.batch_alter_table('invoice', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_invoice_school_id'))

    op.drop_table('invoice')
    with op.batch_alter_table('uniform_item', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_uniform_item_school_id'))
        batch_op.drop_index(batch_op.f('ix_uniform_item_product_id'))

    op.drop_table('uniform_item')
    with op.batch_alter_table('school_member', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_school_member_user_id'))
        batch_op.drop_index(batch_op.f('ix_school_member_school_id'))

    op.drop_table('school_member')
    with op.batch_alter_table('delivery_round', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_delivery_round_school_id'))

    op.drop_table('delivery_round')
    op.drop_table('school')
