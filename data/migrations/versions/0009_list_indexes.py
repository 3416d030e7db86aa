"""list indexes: the back office's default orders of access records, alarms and work orders come from an index

Revision ID: 0009_list_indexes
Revises: 0008_sync_records
Create Date: 2026-11-25 13:00:00
"""

from alembic import op

revision = "0009_list_indexes"
down_revision = "0008_sync_records"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("prop_access_records", schema=None) as batch_op:
        batch_op.create_index("ix_prop_access_records_at", ["at", "id"], unique=False)
    with op.batch_alter_table("prop_alarms", schema=None) as batch_op:
        batch_op.create_index("ix_prop_alarms_raised_at", ["raised_at", "id"], unique=False)
    with op.batch_alter_table("prop_work_orders", schema=None) as batch_op:
        batch_op.create_index("ix_prop_work_orders_deadline", ["complete_by", "id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("prop_work_orders", schema=None) as batch_op:
        batch_op.drop_index("ix_prop_work_orders_deadline")
    with op.batch_alter_table("prop_alarms", schema=None) as batch_op:
        batch_op.drop_index("ix_prop_alarms_raised_at")
    with op.batch_alter_table("prop_access_records", schema=None) as batch_op:
        batch_op.drop_index("ix_prop_access_records_at")
