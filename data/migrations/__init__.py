"""Alembic migration scripts (batch mode on SQLite, named constraints)."""
