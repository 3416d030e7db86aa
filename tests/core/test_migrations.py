"""The migrations build exactly the schema the models describe, on SQLite and PostgreSQL."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

import core.models  # noqa: F401
from core.db.base import Base
from core.db.migrate import current_revisions, script_heads


def test_migrations_match_models(db):
    assert current_revisions(db.engine) == script_heads()
    with db.engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn, opts={"compare_type": True}), Base.metadata)
    assert diff == [], diff
