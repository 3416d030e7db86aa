"""property bill run speed: the bills' status CHECK as ORed equalities (SQLite built a temporary b-tree for every
inserted row to evaluate the IN list: a third of the cost of inserting a bill)

Revision ID: 0014_property_billrun_speed
Revises: 0013_property_retire
Create Date: 2026-11-25 15:00:00

On SQLite the constraint text is edited in place (SQLite's documented writable_schema procedure for a change that
leaves the stored rows as they are): a batch rebuild would drop prop_bills, and with foreign keys on, dropping it
checks every bill against the bill lines, which have no index on bill_id (hours on a site with a year of bills).
"""

from alembic import op

revision = "0014_property_billrun_speed"
down_revision = "0013_property_retire"
branch_labels = None
depends_on = None

STATUSES = ("unpaid", "partially_paid", "paid", "waived")
IN_LIST = f"status IN ({', '.join(repr(s) for s in STATUSES)})"
OR_CHAIN = " OR ".join(f"status = '{s}'" for s in STATUSES)
NAME = "ck_prop_bills_status"


def _set_status_check(old: str, new: str) -> None:
    bind = op.get_bind()
    if bind.dialect.name != "sqlite":
        op.drop_constraint(op.f(NAME), "prop_bills", type_="check")
        op.create_check_constraint(op.f(NAME), "prop_bills", new)
        return
    sql = bind.exec_driver_sql(
        "SELECT sql FROM sqlite_master WHERE type = 'table' AND name = 'prop_bills'"
    ).scalar_one()
    before, after = f"CONSTRAINT {NAME} CHECK ({old})", f"CONSTRAINT {NAME} CHECK ({new})"
    if sql.count(before) != 1:
        raise RuntimeError(f"prop_bills: expected the constraint {before!r} once in {sql!r}")
    version = bind.exec_driver_sql("PRAGMA schema_version").scalar_one()
    bind.exec_driver_sql("PRAGMA writable_schema = ON")
    bind.exec_driver_sql(
        "UPDATE sqlite_master SET sql = ? WHERE type = 'table' AND name = 'prop_bills'",
        (sql.replace(before, after),),
    )
    bind.exec_driver_sql(f"PRAGMA schema_version = {int(version) + 1}")
    bind.exec_driver_sql("PRAGMA writable_schema = OFF")


def upgrade() -> None:
    _set_status_check(IN_LIST, OR_CHAIN)


def downgrade() -> None:
    _set_status_check(OR_CHAIN, IN_LIST)
