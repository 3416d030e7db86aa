"""retiring parking spaces, access devices and cameras (停用): when each was taken out of service

Revision ID: 0013_property_retire
Revises: 0012_fee_item_versions
Create Date: 2026-11-25 14:40:00
"""

import sqlalchemy as sa
from alembic import op

import core.db.base

revision = "0013_property_retire"
down_revision = "0012_fee_item_versions"
branch_labels = None
depends_on = None

TABLES = ("prop_parking_spaces", "prop_access_devices", "prop_cameras")


def upgrade() -> None:
    for table in TABLES:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.add_column(sa.Column("retired_at", core.db.base.UTCDateTime(timezone=True), nullable=True))


def downgrade() -> None:
    for table in reversed(TABLES):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_column("retired_at")
