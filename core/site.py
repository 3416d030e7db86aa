"""The site directory (database, attachments, keys) and the site's identity row.

Layout of a site directory (`anju --home DIR`, ANJU_HOME, or the platform's user data directory):
    anju.db          the SQLite database
    keys/            pii.key, index.key (mode 0600; the directory 0700)
    attachments/     content-addressed files (sha256)
    backups/         automatic copies taken before a restore
"""

from __future__ import annotations

import os
import uuid
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from sqlalchemy import String, Uuid, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from core.db.base import Base, UTCDateTime

DB_FILENAME = "anju.db"


def default_home() -> Path:
    env = os.environ.get("ANJU_HOME")
    if env:
        return Path(env).expanduser()
    from platformdirs import user_data_dir

    return Path(user_data_dir("anju", appauthor=False))


@dataclass(frozen=True)
class SiteHome:
    """Paths inside one site directory."""

    root: Path

    @property
    def db_path(self) -> Path:
        return self.root / DB_FILENAME

    @property
    def db_url(self) -> str:
        return f"sqlite:///{self.db_path}"

    @property
    def keys_dir(self) -> Path:
        return self.root / "keys"

    @property
    def attachments_dir(self) -> Path:
        return self.root / "attachments"

    @property
    def backups_dir(self) -> Path:
        return self.root / "backups"

    def exists(self) -> bool:
        return self.db_path.exists()

    def ensure_dirs(self) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        self.keys_dir.mkdir(mode=0o700, exist_ok=True)
        os.chmod(self.keys_dir, 0o700)
        self.attachments_dir.mkdir(exist_ok=True)
        self.backups_dir.mkdir(exist_ok=True)


class Site(Base):
    """站点 — this installation's identity: one row, written by `anju init`."""

    __tablename__ = "site"

    site_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    code: Mapped[str] = mapped_column(String(16), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


@dataclass(frozen=True)
class SiteInfo:
    site_id: uuid.UUID
    code: str
    name: str


def load_site(session: Session) -> SiteInfo | None:
    row = session.execute(select(Site)).scalars().first()
    return SiteInfo(row.site_id, row.code, row.name) if row else None
