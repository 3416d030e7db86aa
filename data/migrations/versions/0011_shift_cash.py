"""shift cash: cash paid out of (or into) a cashier's drawer outside a payment order (deposit refunds in cash)

Revision ID: 0011_shift_cash
Revises: 0010_sync_conflicts
Create Date: 2026-11-25 14:50:00
"""

import sqlalchemy as sa
from alembic import op

import core.db.base

revision = "0011_shift_cash"
down_revision = "0010_sync_conflicts"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "pay_cash_movements",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("shift_id", sa.Uuid(), nullable=False),
        sa.Column("cashier", sa.String(length=64), nullable=False),
        sa.Column("amount_fen", sa.BigInteger(), nullable=False),
        sa.Column("doc_type", sa.String(length=40), nullable=False),
        sa.Column("doc_id", sa.String(length=80), nullable=False),
        sa.Column("description", sa.String(length=200), nullable=False),
        sa.Column("business_date", sa.Date(), nullable=False),
        sa.Column("created_at", core.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.CheckConstraint("amount_fen <> 0", name=op.f("ck_pay_cash_movements_amount_not_zero")),
        sa.ForeignKeyConstraint(
            ["shift_id"], ["pay_shifts.id"], name=op.f("fk_pay_cash_movements_shift_id_pay_shifts")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_pay_cash_movements")),
        sa.UniqueConstraint("doc_type", "doc_id", name=op.f("uq_pay_cash_movements_doc_type_doc_id")),
    )
    with op.batch_alter_table("pay_cash_movements", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_pay_cash_movements_shift_id"), ["shift_id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_pay_cash_movements_business_date"), ["business_date"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("pay_cash_movements", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_pay_cash_movements_business_date"))
        batch_op.drop_index(batch_op.f("ix_pay_cash_movements_shift_id"))
    op.drop_table("pay_cash_movements")
