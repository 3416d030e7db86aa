"""property deposits (押金台账, 退还, 扣除) and arrears reminders (催缴计划, 免催名单, 催缴记录)

Revision ID: 0007_property_deposits
Revises: 0006_sync
Create Date: 2026-11-25 12:00:00
"""
from alembic import op
import sqlalchemy as sa
import core.db.base
from sqlalchemy.dialects import postgresql

revision = '0007_property_deposits'
down_revision = '0006_sync'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('prop_reminder_schedules',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('community_id', sa.Uuid(), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('days', sa.Integer(), nullable=False),
    sa.Column('channels', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('updated_by', sa.String(length=80), nullable=False),
    sa.Column('updated_at', core.db.base.UTCDateTime(timezone=True), nullable=False),
    sa.CheckConstraint("kind IN ('before_due', 'after_due', 'every')", name=op.f('ck_prop_reminder_schedules_kind')),
    sa.CheckConstraint('days >= 1 AND days <= 366', name=op.f('ck_prop_reminder_schedules_days')),
    sa.ForeignKeyConstraint(['community_id'], ['prop_communities.id'], name=op.f('fk_prop_reminder_schedules_community_id_prop_communities')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_prop_reminder_schedules')),
    sa.UniqueConstraint('community_id', 'kind', 'days', name=op.f('uq_prop_reminder_schedules_community_id_kind_days'))
    )
    op.create_table('prop_reminder_stops',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('house_id', sa.Uuid(), nullable=True),
    sa.Column('owner_id', sa.Uuid(), nullable=True),
    sa.Column('reason', sa.String(length=400), nullable=False),
    sa.Column('until', sa.Date(), nullable=True),
    sa.Column('created_by', sa.String(length=80), nullable=False),
    sa.Column('created_at', core.db.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('removed_by', sa.String(length=80), nullable=True),
    sa.Column('removed_at', core.db.base.UTCDateTime(timezone=True), nullable=True),
    sa.CheckConstraint('(house_id IS NULL) <> (owner_id IS NULL)', name=op.f('ck_prop_reminder_stops_one_target')),
    sa.ForeignKeyConstraint(['house_id'], ['prop_houses.id'], name=op.f('fk_prop_reminder_stops_house_id_prop_houses')),
    sa.ForeignKeyConstraint(['owner_id'], ['prop_owners.id'], name=op.f('fk_prop_reminder_stops_owner_id_prop_owners')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_prop_reminder_stops'))
    )
    with op.batch_alter_table('prop_reminder_stops', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_prop_reminder_stops_house_id'), ['house_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_prop_reminder_stops_owner_id'), ['owner_id'], unique=False)

    op.create_table('prop_reminders_sent',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('house_id', sa.Uuid(), nullable=False),
    sa.Column('community_id', sa.Uuid(), nullable=False),
    sa.Column('on_date', sa.Date(), nullable=False),
    sa.Column('channel', sa.String(length=16), nullable=False),
    sa.Column('recipient', sa.String(length=80), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('owed_fen', sa.BigInteger(), nullable=False),
    sa.Column('body', sa.String(length=1000), nullable=False),
    sa.Column('message_id', sa.Uuid(), nullable=True),
    sa.Column('created_at', core.db.base.UTCDateTime(timezone=True), nullable=False),
    sa.CheckConstraint("channel IN ('app_push', 'sms', 'printed')", name=op.f('ck_prop_reminders_sent_channel')),
    sa.CheckConstraint("kind IN ('before_due', 'after_due', 'every')", name=op.f('ck_prop_reminders_sent_kind')),
    sa.ForeignKeyConstraint(['community_id'], ['prop_communities.id'], name=op.f('fk_prop_reminders_sent_community_id_prop_communities')),
    sa.ForeignKeyConstraint(['house_id'], ['prop_houses.id'], name=op.f('fk_prop_reminders_sent_house_id_prop_houses')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_prop_reminders_sent')),
    sa.UniqueConstraint('house_id', 'on_date', 'channel', 'recipient', name=op.f('uq_prop_reminders_sent_house_id_on_date_channel_recipient'))
    )
    with op.batch_alter_table('prop_reminders_sent', schema=None) as batch_op:
        batch_op.create_index('ix_prop_reminders_sent_community_date', ['community_id', 'on_date'], unique=False)

    op.create_table('prop_deposits',
    sa.Column('bill_line_id', sa.Uuid(), nullable=False),
    sa.Column('house_id', sa.Uuid(), nullable=False),
    sa.Column('refunded_fen', sa.BigInteger(), nullable=False),
    sa.Column('deducted_fen', sa.BigInteger(), nullable=False),
    sa.Column('reserved_fen', sa.BigInteger(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('updated_at', core.db.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.CheckConstraint("status IN ('held', 'partly_refunded', 'refunded', 'forfeited')", name=op.f('ck_prop_deposits_status')),
    sa.CheckConstraint('refunded_fen >= 0 AND deducted_fen >= 0 AND reserved_fen >= 0', name=op.f('ck_prop_deposits_amounts')),
    sa.ForeignKeyConstraint(['bill_line_id'], ['prop_bill_lines.id'], name=op.f('fk_prop_deposits_bill_line_id_prop_bill_lines')),
    sa.ForeignKeyConstraint(['house_id'], ['prop_houses.id'], name=op.f('fk_prop_deposits_house_id_prop_houses')),
    sa.PrimaryKeyConstraint('bill_line_id', name=op.f('pk_prop_deposits'))
    )
    with op.batch_alter_table('prop_deposits', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_prop_deposits_house_id'), ['house_id'], unique=False)

    op.create_table('prop_deposit_deductions',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('bill_line_id', sa.Uuid(), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('amount_fen', sa.BigInteger(), nullable=False),
    sa.Column('reason', sa.String(length=400), nullable=False),
    sa.Column('entry_id', sa.Uuid(), nullable=False),
    sa.Column('created_by', sa.String(length=80), nullable=False),
    sa.Column('created_at', core.db.base.UTCDateTime(timezone=True), nullable=False),
    sa.CheckConstraint("kind IN ('deduction', 'forfeit')", name=op.f('ck_prop_deposit_deductions_kind')),
    sa.CheckConstraint('amount_fen > 0', name=op.f('ck_prop_deposit_deductions_amount')),
    sa.ForeignKeyConstraint(['bill_line_id'], ['prop_deposits.bill_line_id'], name=op.f('fk_prop_deposit_deductions_bill_line_id_prop_deposits')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_prop_deposit_deductions'))
    )
    with op.batch_alter_table('prop_deposit_deductions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_prop_deposit_deductions_bill_line_id'), ['bill_line_id'], unique=False)

    op.create_table('prop_deposit_refunds',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('bill_line_id', sa.Uuid(), nullable=False),
    sa.Column('amount_fen', sa.BigInteger(), nullable=False),
    sa.Column('method', sa.String(length=16), nullable=False),
    sa.Column('reason', sa.String(length=400), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('approval_id', sa.Uuid(), nullable=True),
    sa.Column('out_trade_no', sa.String(length=80), nullable=True),
    sa.Column('hub_refund_no', sa.String(length=40), nullable=True),
    sa.Column('entry_id', sa.Uuid(), nullable=True),
    sa.Column('requested_by', sa.String(length=80), nullable=False),
    sa.Column('created_at', core.db.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('paid_by', sa.String(length=80), nullable=True),
    sa.Column('paid_at', core.db.base.UTCDateTime(timezone=True), nullable=True),
    sa.CheckConstraint("method IN ('original', 'cash')", name=op.f('ck_prop_deposit_refunds_method')),
    sa.CheckConstraint("status IN ('pending', 'approved', 'rejected', 'refunding', 'refunded', 'failed')", name=op.f('ck_prop_deposit_refunds_status')),
    sa.CheckConstraint('amount_fen > 0', name=op.f('ck_prop_deposit_refunds_amount')),
    sa.ForeignKeyConstraint(['bill_line_id'], ['prop_deposits.bill_line_id'], name=op.f('fk_prop_deposit_refunds_bill_line_id_prop_deposits')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_prop_deposit_refunds'))
    )
    with op.batch_alter_table('prop_deposit_refunds', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_prop_deposit_refunds_bill_line_id'), ['bill_line_id'], unique=False)


def downgrade() -> None:
    for table in (
        'prop_deposit_refunds',
        'prop_deposit_deductions',
        'prop_deposits',
        'prop_reminders_sent',
        'prop_reminder_stops',
        'prop_reminder_schedules',
    ):
        op.drop_table(table)
