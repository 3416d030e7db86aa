"""Schema migrations (Alembic, scripts in data/migrations) and the version guard every command runs."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine

from core.errors import IntegrityProblem, SiteError
from core.i18n import N_

MIGRATIONS_DIR = Path(__file__).resolve().parent.parent.parent / "data" / "migrations"


def alembic_config(engine: Engine) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    cfg.attributes["engine"] = engine
    return cfg


def script_heads() -> set[str]:
    return set(ScriptDirectory(str(MIGRATIONS_DIR)).get_heads())


def known_revisions() -> set[str]:
    return {rev.revision for rev in ScriptDirectory(str(MIGRATIONS_DIR)).walk_revisions()}


def current_revisions(engine: Engine) -> set[str]:
    with engine.connect() as conn:
        return set(MigrationContext.configure(conn).get_current_heads())


def upgrade(engine: Engine) -> None:
    """Apply every pending migration (all heads)."""
    command.upgrade(alembic_config(engine), "heads")


def check_version(engine: Engine, *, allow_pending: bool = False) -> None:
    """Refuse a database made by a newer Anju, and (unless allowed) one that needs `anju db upgrade`."""
    current = current_revisions(engine)
    if not current:
        raise SiteError(N_("The database has no schema; run 'anju init' first."), code="no_schema")
    unknown = current - known_revisions()
    if unknown:
        raise IntegrityProblem(
            N_(
                "The database was written by a newer version of Anju (schema {revision}); upgrade Anju first."
            ),
            code="schema_too_new",
            revision=", ".join(sorted(unknown)),
        )
    if not allow_pending and current != script_heads():
        raise SiteError(
            N_("The database schema is out of date; run 'anju db upgrade'."), code="schema_outdated"
        )
