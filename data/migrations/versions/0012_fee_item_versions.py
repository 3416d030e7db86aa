"""fee item versions (收费标准版本): a fee item's standard from a chosen billing period on

Revision ID: 0012_fee_item_versions
Revises: 0011_shift_cash
Create Date: 2026-11-25 14:40:00
"""
from alembic import op
import sqlalchemy as sa
import core.db.base
from sqlalchemy.dialects import postgresql

revision = "0012_fee_item_versions"
down_revision = "0011_shift_cash"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('prop_fee_item_versions',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('fee_item_id', sa.Uuid(), nullable=False),
    sa.Column('effective_from', sa.String(length=7), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('cycle', sa.String(length=16), nullable=False),
    sa.Column('billing_mode', sa.String(length=8), nullable=False),
    sa.Column('unit_price', sa.String(length=24), nullable=False),
    sa.Column('amount_fen', sa.BigInteger(), nullable=False),
    sa.Column('tiers', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=True),
    sa.Column('tier_scope', sa.String(length=8), nullable=False),
    sa.Column('rounding', sa.String(length=16), nullable=False),
    sa.Column('prorate', sa.Boolean(), nullable=False),
    sa.Column('due_days', sa.Integer(), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('reason', sa.String(length=400), nullable=False),
    sa.Column('created_by', sa.String(length=80), nullable=False),
    sa.Column('created_at', core.db.base.UTCDateTime(timezone=True), nullable=False),
    sa.CheckConstraint("billing_mode IN ('advance', 'arrears')", name=op.f('ck_prop_fee_item_versions_billing_mode')),
    sa.CheckConstraint("cycle IN ('monthly', 'quarterly', 'half_yearly', 'yearly', 'once')", name=op.f('ck_prop_fee_item_versions_cycle')),
    sa.CheckConstraint("rounding IN ('half_up_fen', 'down_fen', 'half_up_jiao')", name=op.f('ck_prop_fee_item_versions_rounding')),
    sa.CheckConstraint("tier_scope IN ('month', 'year')", name=op.f('ck_prop_fee_item_versions_tier_scope')),
    sa.CheckConstraint('amount_fen >= 0 AND due_days >= 0', name=op.f('ck_prop_fee_item_versions_not_negative')),
    sa.ForeignKeyConstraint(['fee_item_id'], ['prop_fee_items.id'], name=op.f('fk_prop_fee_item_versions_fee_item_id_prop_fee_items')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_prop_fee_item_versions')),
    sa.UniqueConstraint('fee_item_id', 'effective_from', name=op.f('uq_prop_fee_item_versions_fee_item_id_effective_from'))
    )


def downgrade() -> None:
    op.drop_table('prop_fee_item_versions')
