"""Settlement tables: each app's payee bank account, and one settlement batch per app and business day."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Any

from sqlalchemy import BigInteger, CheckConstraint, Date, Integer, LargeBinary, String, UniqueConstraint, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from core.db.base import Base, JSONType, UTCDateTime


class SettlementPayee(Base):
    """结算收款账户 — where an app's settlements are paid: payee name and bank account (encrypted)."""

    __tablename__ = "settle_payees"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    app_id: Mapped[str] = mapped_column(String(40), unique=True)
    payee_name: Mapped[str] = mapped_column(String(100))
    bank_name: Mapped[str] = mapped_column(String(100), default="")
    account_enc: Mapped[bytes] = mapped_column(LargeBinary)  # PII: encrypted with the site's key
    account_index: Mapped[str] = mapped_column(
        String(32)
    )  # blind index, to find an account without decrypting
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_by: Mapped[str] = mapped_column(String(64))


class SettlementBatch(Base):
    """结算批次 — one app's settlement of one business day, posted to the PAYHUB book once."""

    __tablename__ = "settle_batches"
    __table_args__ = (
        UniqueConstraint("app_id", "business_date", name="uq_settle_batches_app_day"),
        CheckConstraint("gross_fen >= 0 AND refunds_fen >= 0", name="amounts_nonneg"),
        CheckConstraint("net_fen = gross_fen - refunds_fen - fees_fen", name="net_adds_up"),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    batch_no: Mapped[str] = mapped_column(String(40), unique=True)
    app_id: Mapped[str] = mapped_column(String(40))
    business_date: Mapped[date] = mapped_column(Date)
    order_count: Mapped[int] = mapped_column(Integer)
    refund_count: Mapped[int] = mapped_column(Integer)
    gross_fen: Mapped[int] = mapped_column(BigInteger)
    refunds_fen: Mapped[int] = mapped_column(BigInteger)
    fees_fen: Mapped[int] = mapped_column(
        BigInteger
    )  # channel fees on the day's payments less fees given back
    net_fen: Mapped[int] = mapped_column(BigInteger)
    by_channel: Mapped[dict[str, Any]] = mapped_column(JSONType)
    entry_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)  # None when nothing moved
    payee_name: Mapped[str] = mapped_column(String(100))
    created_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
