"""Tables for user accounts, roles and the permission patterns roles grant.

Staff personal data (phone, ID number) is stored only encrypted (`*_enc`, AES-GCM) with a keyed blind index
(`*_bidx`, HMAC) for exact-match lookup; see core/security/pii.py.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import Boolean, CheckConstraint, ForeignKey, Integer, LargeBinary, String, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from core.db.base import Base, UTCDateTime

USER_ACTIVE = "active"
USER_DISABLED = "disabled"
USER_STATUSES = (USER_ACTIVE, USER_DISABLED)


class User(Base):
    """用户 — a person who logs in: credentials, status, lockout counter, encrypted personal data."""

    __tablename__ = "users"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    username: Mapped[str] = mapped_column(String(32), unique=True)
    display_name: Mapped[str] = mapped_column(String(100))
    password_hash: Mapped[str] = mapped_column(String(255))
    status: Mapped[str] = mapped_column(String(16), default=USER_ACTIVE)
    failed_logins: Mapped[int] = mapped_column(Integer, default=0)
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    password_changed_at: Mapped[datetime] = mapped_column(UTCDateTime)
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    phone_enc: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)
    phone_bidx: Mapped[str | None] = mapped_column(String(64), nullable=True, unique=True)
    id_number_enc: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)
    id_number_bidx: Mapped[str | None] = mapped_column(String(64), nullable=True, unique=True)

    __table_args__ = (
        CheckConstraint("status IN ('active', 'disabled')", name="status"),
        CheckConstraint("failed_logins >= 0", name="failed_logins"),
    )


class Role(Base):
    """角色 — a named set of permission patterns; built-in roles are synced from code at start-up."""

    __tablename__ = "roles"

    code: Mapped[str] = mapped_column(String(32), primary_key=True)
    # For built-in roles name and description are English msgids, translated when shown.
    name: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(String(500), default="")
    builtin: Mapped[bool] = mapped_column(Boolean, default=False)


class RolePermission(Base):
    """角色权限 — one permission pattern (`ledger.*`, `*.view`) a role grants."""

    __tablename__ = "role_permissions"

    role_code: Mapped[str] = mapped_column(
        String(32), ForeignKey("roles.code", ondelete="CASCADE"), primary_key=True
    )
    pattern: Mapped[str] = mapped_column(String(80), primary_key=True)


class UserRole(Base):
    """用户角色 — a role held by a user."""

    __tablename__ = "user_roles"

    user_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    role_code: Mapped[str] = mapped_column(String(32), ForeignKey("roles.code"), primary_key=True, index=True)
