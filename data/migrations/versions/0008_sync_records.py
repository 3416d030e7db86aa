"""sync records: the typed business records the hub keeps from pushed events

Revision ID: 0008_sync_records
Revises: 0007_property_deposits
Create Date: 2026-11-25 12:10:00
"""

import sqlalchemy as sa
from alembic import op

import core.db.base

revision = "0008_sync_records"
down_revision = "0007_property_deposits"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "hub_payments",
        sa.Column("site_id", sa.Uuid(), nullable=False),
        sa.Column("order_no", sa.String(length=40), nullable=False),
        sa.Column("site_seq", sa.BigInteger(), nullable=False),
        sa.Column("app_id", sa.String(length=40), nullable=False),
        sa.Column("out_trade_no", sa.String(length=64), nullable=False),
        sa.Column("channel", sa.String(length=20), nullable=False),
        sa.Column("channel_trade_no", sa.String(length=64), nullable=True),
        sa.Column("amount_fen", sa.BigInteger(), nullable=False),
        sa.Column("fee_fen", sa.BigInteger(), nullable=False),
        sa.Column("business_date", sa.Date(), nullable=False),
        sa.Column("paid_at", core.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.CheckConstraint("amount_fen > 0 AND fee_fen >= 0", name=op.f("ck_hub_payments_amounts")),
        sa.ForeignKeyConstraint(
            ["site_id"], ["hub_sites.site_id"], name=op.f("fk_hub_payments_site_id_hub_sites")
        ),
        sa.PrimaryKeyConstraint("site_id", "order_no", name=op.f("pk_hub_payments")),
    )
    with op.batch_alter_table("hub_payments", schema=None) as batch_op:
        batch_op.create_index("ix_hub_payments_date_channel", ["business_date", "channel"], unique=False)

    op.create_table(
        "hub_refunds",
        sa.Column("site_id", sa.Uuid(), nullable=False),
        sa.Column("refund_no", sa.String(length=40), nullable=False),
        sa.Column("site_seq", sa.BigInteger(), nullable=False),
        sa.Column("order_no", sa.String(length=40), nullable=False),
        sa.Column("app_id", sa.String(length=40), nullable=False),
        sa.Column("amount_fen", sa.BigInteger(), nullable=False),
        sa.Column("fee_refund_fen", sa.BigInteger(), nullable=False),
        sa.Column("refunded_at", core.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.CheckConstraint("amount_fen > 0 AND fee_refund_fen >= 0", name=op.f("ck_hub_refunds_amounts")),
        sa.ForeignKeyConstraint(
            ["site_id"], ["hub_sites.site_id"], name=op.f("fk_hub_refunds_site_id_hub_sites")
        ),
        sa.PrimaryKeyConstraint("site_id", "refund_no", name=op.f("pk_hub_refunds")),
    )
    with op.batch_alter_table("hub_refunds", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_hub_refunds_order_no"), ["order_no"], unique=False)
        batch_op.create_index(batch_op.f("ix_hub_refunds_refunded_at"), ["refunded_at"], unique=False)

    op.create_table(
        "hub_receipts",
        sa.Column("site_id", sa.Uuid(), nullable=False),
        sa.Column("receipt_no", sa.String(length=40), nullable=False),
        sa.Column("site_seq", sa.BigInteger(), nullable=False),
        sa.Column("house_id", sa.String(length=40), nullable=False),
        sa.Column("channel", sa.String(length=20), nullable=False),
        sa.Column("amount_fen", sa.BigInteger(), nullable=False),
        sa.Column("settled_fen", sa.BigInteger(), nullable=False),
        sa.Column("late_fee_fen", sa.BigInteger(), nullable=False),
        sa.Column("prepaid_fen", sa.BigInteger(), nullable=False),
        sa.Column("issued_at", core.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["site_id"], ["hub_sites.site_id"], name=op.f("fk_hub_receipts_site_id_hub_sites")
        ),
        sa.PrimaryKeyConstraint("site_id", "receipt_no", name=op.f("pk_hub_receipts")),
    )
    with op.batch_alter_table("hub_receipts", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_hub_receipts_issued_at"), ["issued_at"], unique=False)

    op.create_table(
        "hub_receipt_voids",
        sa.Column("site_id", sa.Uuid(), nullable=False),
        sa.Column("receipt_no", sa.String(length=40), nullable=False),
        sa.Column("site_seq", sa.BigInteger(), nullable=False),
        sa.Column("reason", sa.String(length=200), nullable=False),
        sa.Column("voided_at", core.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["site_id"], ["hub_sites.site_id"], name=op.f("fk_hub_receipt_voids_site_id_hub_sites")
        ),
        sa.PrimaryKeyConstraint("site_id", "receipt_no", name=op.f("pk_hub_receipt_voids")),
    )

    op.create_table(
        "hub_bill_runs",
        sa.Column("site_id", sa.Uuid(), nullable=False),
        sa.Column("run_id", sa.String(length=40), nullable=False),
        sa.Column("site_seq", sa.BigInteger(), nullable=False),
        sa.Column("period", sa.String(length=10), nullable=False),
        sa.Column("community_id", sa.String(length=40), nullable=True),
        sa.Column("bills_created", sa.Integer(), nullable=False),
        sa.Column("lines_created", sa.Integer(), nullable=False),
        sa.Column("amount_fen", sa.BigInteger(), nullable=False),
        sa.Column("run_at", core.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["site_id"], ["hub_sites.site_id"], name=op.f("fk_hub_bill_runs_site_id_hub_sites")
        ),
        sa.PrimaryKeyConstraint("site_id", "run_id", name=op.f("pk_hub_bill_runs")),
    )
    with op.batch_alter_table("hub_bill_runs", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_hub_bill_runs_period"), ["period"], unique=False)


def downgrade() -> None:
    op.drop_table("hub_bill_runs")
    op.drop_table("hub_receipt_voids")
    op.drop_table("hub_receipts")
    op.drop_table("hub_refunds")
    op.drop_table("hub_payments")
