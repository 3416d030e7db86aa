"""Reconciliation (recon_*) and settlement (settle_*) tables.

recon

Revision ID: 0003_recon
Revises: (see down_revision)
Create Date: 2026-11-25 08:57:20.686332
"""
from alembic import op
import sqlalchemy as sa
import core.db.base
from sqlalchemy.dialects import postgresql

revision = '0003_recon'
down_revision = '0002_payments'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('recon_batches',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('channel', sa.String(length=20), nullable=False),
    sa.Column('business_date', sa.Date(), nullable=False),
    sa.Column('statement_sha256', sa.String(length=64), nullable=False),
    sa.Column('statement_lines', sa.Integer(), nullable=False),
    sa.Column('statement_trade_fen', sa.BigInteger(), nullable=False),
    sa.Column('statement_refund_fen', sa.BigInteger(), nullable=False),
    sa.Column('statement_fee_fen', sa.BigInteger(), nullable=False),
    sa.Column('matched', sa.Integer(), nullable=False),
    sa.Column('missing_at_channel', sa.Integer(), nullable=False),
    sa.Column('missing_locally', sa.Integer(), nullable=False),
    sa.Column('amount_mismatch', sa.Integer(), nullable=False),
    sa.Column('status_mismatch', sa.Integer(), nullable=False),
    sa.Column('fee_mismatch', sa.Integer(), nullable=False),
    sa.Column('pending', sa.Integer(), nullable=False),
    sa.Column('runs', sa.Integer(), nullable=False),
    sa.Column('run_by', sa.String(length=64), nullable=False),
    sa.Column('created_at', core.db.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', core.db.base.UTCDateTime(timezone=True), nullable=False),
    sa.CheckConstraint("channel IN ('wechat', 'alipay')", name=op.f('ck_recon_batches_channel')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_recon_batches')),
    sa.UniqueConstraint('channel', 'business_date', name='uq_recon_batches_channel_day')
    )
    op.create_table('recon_differences',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('batch_id', sa.Uuid(), nullable=False),
    sa.Column('channel', sa.String(length=20), nullable=False),
    sa.Column('business_date', sa.Date(), nullable=False),
    sa.Column('kind', sa.String(length=24), nullable=False),
    sa.Column('doc_kind', sa.String(length=10), nullable=False),
    sa.Column('doc_no', sa.String(length=64), nullable=False),
    sa.Column('order_no', sa.String(length=64), nullable=False),
    sa.Column('channel_trade_no', sa.String(length=64), nullable=False),
    sa.Column('channel_refund_no', sa.String(length=64), nullable=False),
    sa.Column('local_amount_fen', sa.BigInteger(), nullable=True),
    sa.Column('channel_amount_fen', sa.BigInteger(), nullable=True),
    sa.Column('local_fee_fen', sa.BigInteger(), nullable=True),
    sa.Column('channel_fee_fen', sa.BigInteger(), nullable=True),
    sa.Column('local_status', sa.String(length=20), nullable=False),
    sa.Column('channel_status', sa.String(length=20), nullable=False),
    sa.Column('channel_time', core.db.base.UTCDateTime(timezone=True), nullable=True),
    sa.Column('line_no', sa.Integer(), nullable=True),
    sa.Column('note', sa.String(length=200), nullable=False),
    sa.Column('status', sa.String(length=10), nullable=False),
    sa.Column('decision', sa.String(length=20), nullable=True),
    sa.Column('decision_note', sa.String(length=500), nullable=True),
    sa.Column('resolved_by', sa.String(length=64), nullable=True),
    sa.Column('resolved_at', core.db.base.UTCDateTime(timezone=True), nullable=True),
    sa.Column('created_at', core.db.base.UTCDateTime(timezone=True), nullable=False),
    sa.CheckConstraint("(status = 'open' AND decision IS NULL) OR (status = 'resolved' AND decision IS NOT NULL)", name=op.f('ck_recon_differences_resolved_has_decision')),
    sa.CheckConstraint("decision IS NULL OR decision IN ('accept_channel', 'accept_local', 'refund_payer', 'write_off')", name=op.f('ck_recon_differences_decision')),
    sa.CheckConstraint("doc_kind IN ('trade', 'refund')", name=op.f('ck_recon_differences_doc_kind')),
    sa.CheckConstraint("kind IN ('missing_at_channel', 'missing_locally', 'amount_mismatch', 'status_mismatch', 'fee_mismatch')", name=op.f('ck_recon_differences_kind')),
    sa.CheckConstraint("status IN ('open', 'resolved')", name=op.f('ck_recon_differences_status')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_recon_differences'))
    )
    with op.batch_alter_table('recon_differences', schema=None) as batch_op:
        batch_op.create_index('ix_recon_differences_batch', ['batch_id', 'status'], unique=False)
        batch_op.create_index('ix_recon_differences_doc', ['doc_no'], unique=False)

    op.create_table('recon_pending',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('channel', sa.String(length=20), nullable=False),
    sa.Column('side', sa.String(length=10), nullable=False),
    sa.Column('doc_kind', sa.String(length=10), nullable=False),
    sa.Column('doc_no', sa.String(length=64), nullable=False),
    sa.Column('business_date', sa.Date(), nullable=False),
    sa.Column('amount_fen', sa.BigInteger(), nullable=False),
    sa.Column('created_batch_id', sa.Uuid(), nullable=False),
    sa.Column('consumed_batch_id', sa.Uuid(), nullable=True),
    sa.Column('created_at', core.db.base.UTCDateTime(timezone=True), nullable=False),
    sa.CheckConstraint("doc_kind IN ('trade', 'refund')", name=op.f('ck_recon_pending_doc_kind')),
    sa.CheckConstraint("side IN ('local', 'ahead')", name=op.f('ck_recon_pending_side')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_recon_pending')),
    sa.UniqueConstraint('channel', 'side', 'doc_kind', 'doc_no', name='uq_recon_pending_doc')
    )
    with op.batch_alter_table('recon_pending', schema=None) as batch_op:
        batch_op.create_index('ix_recon_pending_created', ['created_batch_id'], unique=False)
        batch_op.create_index('ix_recon_pending_open', ['channel', 'side', 'consumed_batch_id'], unique=False)

    op.create_table('settle_batches',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('batch_no', sa.String(length=40), nullable=False),
    sa.Column('app_id', sa.String(length=40), nullable=False),
    sa.Column('business_date', sa.Date(), nullable=False),
    sa.Column('order_count', sa.Integer(), nullable=False),
    sa.Column('refund_count', sa.Integer(), nullable=False),
    sa.Column('gross_fen', sa.BigInteger(), nullable=False),
    sa.Column('refunds_fen', sa.BigInteger(), nullable=False),
    sa.Column('fees_fen', sa.BigInteger(), nullable=False),
    sa.Column('net_fen', sa.BigInteger(), nullable=False),
    sa.Column('by_channel', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('entry_id', sa.Uuid(), nullable=True),
    sa.Column('payee_name', sa.String(length=100), nullable=False),
    sa.Column('created_by', sa.String(length=64), nullable=False),
    sa.Column('created_at', core.db.base.UTCDateTime(timezone=True), nullable=False),
    sa.CheckConstraint('gross_fen >= 0 AND refunds_fen >= 0', name=op.f('ck_settle_batches_amounts_nonneg')),
    sa.CheckConstraint('net_fen = gross_fen - refunds_fen - fees_fen', name=op.f('ck_settle_batches_net_adds_up')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_settle_batches')),
    sa.UniqueConstraint('app_id', 'business_date', name='uq_settle_batches_app_day'),
    sa.UniqueConstraint('batch_no', name=op.f('uq_settle_batches_batch_no'))
    )
    op.create_table('settle_payees',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('app_id', sa.String(length=40), nullable=False),
    sa.Column('payee_name', sa.String(length=100), nullable=False),
    sa.Column('bank_name', sa.String(length=100), nullable=False),
    sa.Column('account_enc', sa.LargeBinary(), nullable=False),
    sa.Column('account_index', sa.String(length=32), nullable=False),
    sa.Column('updated_at', core.db.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_by', sa.String(length=64), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_settle_payees')),
    sa.UniqueConstraint('app_id', name=op.f('uq_settle_payees_app_id'))
    )


def downgrade() -> None:
    op.drop_table('settle_payees')
    op.drop_table('settle_batches')
    with op.batch_alter_table('recon_pending', schema=None) as batch_op:
        batch_op.drop_index('ix_recon_pending_open')
        batch_op.drop_index('ix_recon_pending_created')

    op.drop_table('recon_pending')
    with op.batch_alter_table('recon_differences', schema=None) as batch_op:
        batch_op.drop_index('ix_recon_differences_doc')
        batch_op.drop_index('ix_recon_differences_batch')

    op.drop_table('recon_differences')
    op.drop_table('recon_batches')
