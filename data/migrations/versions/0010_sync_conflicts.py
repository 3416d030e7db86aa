"""sync conflicts: a pushed record the hub already holds with other content, held for an operator's decision

Revision ID: 0010_sync_conflicts
Revises: 0009_list_indexes
Create Date: 2026-11-25 14:40:00
"""

import sqlalchemy as sa
from alembic import op

import core.db.base

revision = "0010_sync_conflicts"
down_revision = "0009_list_indexes"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "hub_sync_conflicts",
        sa.Column("id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("site_id", sa.Uuid(), nullable=False),
        sa.Column("event_id", sa.Uuid(), nullable=False),
        sa.Column("site_seq", sa.BigInteger(), nullable=False),
        sa.Column("event_type", sa.String(length=80), nullable=False),
        sa.Column("record_kind", sa.String(length=40), nullable=False),
        sa.Column("record_key", sa.String(length=80), nullable=False),
        sa.Column("hub_version", sa.Text(), nullable=False),
        sa.Column("site_version", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("detected_at", core.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("last_seen_at", core.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("seen_count", sa.Integer(), nullable=False),
        sa.Column("decision", sa.String(length=8), nullable=True),
        sa.Column("reason", sa.String(length=400), nullable=True),
        sa.Column("decided_by", sa.String(length=80), nullable=True),
        sa.Column("decided_at", core.db.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("applied_at", core.db.base.UTCDateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "status IN ('open', 'resolved', 'applied')", name=op.f("ck_hub_sync_conflicts_status")
        ),
        sa.CheckConstraint(
            "decision IS NULL OR decision IN ('hub', 'site')", name=op.f("ck_hub_sync_conflicts_decision")
        ),
        sa.CheckConstraint(
            "status = 'open' OR decision IS NOT NULL", name=op.f("ck_hub_sync_conflicts_decided")
        ),
        sa.ForeignKeyConstraint(
            ["site_id"], ["hub_sites.site_id"], name=op.f("fk_hub_sync_conflicts_site_id_hub_sites")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_hub_sync_conflicts")),
        sa.UniqueConstraint(
            "site_id",
            "event_id",
            "record_kind",
            "record_key",
            name=op.f("uq_hub_sync_conflicts_site_id_event_id_record_kind_record_key"),
        ),
    )
    with op.batch_alter_table("hub_sync_conflicts", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_hub_sync_conflicts_status"), ["status"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("hub_sync_conflicts", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_hub_sync_conflicts_status"))
    op.drop_table("hub_sync_conflicts")
