"""Alembic environment: runs on the engine handed over by core.db.migrate (or ANJU_DB_URL from the CLI)."""

from __future__ import annotations

import os

from alembic import context
from sqlalchemy import create_engine

import core.models  # noqa: F401  (registers every table on Base.metadata)
from core.db.base import Base

config = context.config
target_metadata = Base.metadata


def run_migrations_online() -> None:
    engine = config.attributes.get("engine")
    if engine is None:
        engine = create_engine(os.environ["ANJU_DB_URL"])
    with engine.connect() as connection:
        context.configure(
            connection=connection,
            target_metadata=target_metadata,
            render_as_batch=connection.dialect.name == "sqlite",
            compare_type=True,
        )
        with context.begin_transaction():
            context.run_migrations()
        connection.commit()


run_migrations_online()
