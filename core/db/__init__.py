"""Database access: engine factory, declarative Base and column types, gapless counters, migrations."""

from core.db.base import Base, JSONType, UTCDateTime
from core.db.engine import Database

__all__ = ["Base", "Database", "JSONType", "UTCDateTime"]
