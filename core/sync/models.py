"""Sync tables. Site side: the outbox (every change, numbered gaplessly per site), enrolment state, rounds and
pulled reference data. Hub side: enrolled sites, the events they pushed, the ledger records applied from them,
signed site summaries and the versioned reference data the hub owns."""

from __future__ import annotations

import uuid
from datetime import date, datetime

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
    Uuid,
)
from sqlalchemy.orm import Mapped, mapped_column

from core.db.base import Base, UTCDateTime


class OutboxEvent(Base):
    """发件箱事件 — one change to carry to the hub, in site_seq order, exactly once."""

    __tablename__ = "outbox_events"

    site_seq: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    event_id: Mapped[uuid.UUID] = mapped_column(Uuid, unique=True)
    type: Mapped[str] = mapped_column(String(80))
    schema_version: Mapped[int] = mapped_column(Integer)
    payload: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


# ------------------------------------------------------------------------------------------------ site side


class SyncState(Base):
    """同步状态 — the site's enrolment at the hub (one row) and what the last round achieved."""

    __tablename__ = "sync_state"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    hub_url: Mapped[str] = mapped_column(String(500))
    hub_site_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    key_file: Mapped[str] = mapped_column(String(200))
    enrolled_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # The highest site_seq the hub said it holds (a lower bound of what it holds; the hub is asked each round).
    acked_seq: Mapped[int] = mapped_column(BigInteger, default=0)
    reference_version: Mapped[int] = mapped_column(BigInteger, default=0)
    # The outbox seq the last summary sent to the hub was as of: no new events, no new summary needed.
    summary_seq: Mapped[int] = mapped_column(BigInteger, default=0)
    schedule_at: Mapped[str | None] = mapped_column(String(5), nullable=True)
    backups_keep: Mapped[int] = mapped_column(Integer, default=7)

    __table_args__ = (
        CheckConstraint("id = 1", name="one_row"),
        CheckConstraint("acked_seq >= 0 AND reference_version >= 0", name="not_negative"),
        CheckConstraint("backups_keep >= 1", name="backups_keep"),
    )


class SyncRound(Base):
    """同步记录 — one sync round run at the site: when, what moved, and how it ended."""

    __tablename__ = "sync_rounds"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    finished_at: Mapped[datetime] = mapped_column(UTCDateTime)
    status: Mapped[str] = mapped_column(String(16))
    pushed: Mapped[int] = mapped_column(Integer, default=0)
    pulled: Mapped[int] = mapped_column(Integer, default=0)
    acked_seq: Mapped[int] = mapped_column(BigInteger, default=0)
    error_code: Mapped[str] = mapped_column(String(40), default="")
    error: Mapped[str] = mapped_column(String(1000), default="")

    __table_args__ = (CheckConstraint("status IN ('ok', 'failed')", name="status"),)


class SyncReferenceItem(Base):
    """下发参考数据 — one item of hub-owned reference data as last pulled; the site never edits it locally."""

    __tablename__ = "sync_reference_items"

    kind: Mapped[str] = mapped_column(String(40), primary_key=True)
    key: Mapped[str] = mapped_column(String(120), primary_key=True)
    version: Mapped[int] = mapped_column(BigInteger)
    payload: Mapped[str] = mapped_column(Text)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


# ------------------------------------------------------------------------------------------------- hub side

HUB_SITE_STATUSES = ("active", "disabled")


class HubSite(Base):
    """入网站点 — a site enrolled at the hub: its signing key (encrypted) and the high-water mark held."""

    __tablename__ = "hub_sites"

    site_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    key_enc: Mapped[bytes] = mapped_column(LargeBinary)
    status: Mapped[str] = mapped_column(String(16), default="active")
    acked_seq: Mapped[int] = mapped_column(BigInteger, default=0)
    enrolled_at: Mapped[datetime] = mapped_column(UTCDateTime)
    last_push_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    # Site clock minus hub clock at the last request, in seconds (a site clock hours off shows here).
    clock_skew_s: Mapped[int | None] = mapped_column(Integer, nullable=True)
    regression_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    regression_detail: Mapped[str] = mapped_column(String(500), default="")

    __table_args__ = (
        CheckConstraint("status IN ('active', 'disabled')", name="status"),
        CheckConstraint("acked_seq >= 0", name="acked_not_negative"),
    )


class HubSiteEvent(Base):
    """站点事件 — every outbox event a site pushed, kept as received, in site_seq order without gaps."""

    __tablename__ = "hub_site_events"

    site_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("hub_sites.site_id"), primary_key=True)
    site_seq: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    event_id: Mapped[uuid.UUID] = mapped_column(Uuid, unique=True)
    type: Mapped[str] = mapped_column(String(80))
    schema_version: Mapped[int] = mapped_column(Integer)
    payload: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime)


class HubSyncNonce(Base):
    """同步随机数 — a batch nonce already used by a site (replay guard), kept for twice the clock window."""

    __tablename__ = "hub_sync_nonces"

    site_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("hub_sites.site_id"), primary_key=True)
    nonce: Mapped[str] = mapped_column(String(64), primary_key=True)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)


class HubLedgerEntry(Base):
    """中心账簿凭证 — a site's journal entry as held at the hub, keyed by (site, entry id)."""

    __tablename__ = "hub_ledger_entries"

    site_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("hub_sites.site_id"), primary_key=True)
    entry_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    site_seq: Mapped[int] = mapped_column(BigInteger)
    book: Mapped[str] = mapped_column(String(64))
    business_date: Mapped[date] = mapped_column(Date)
    description: Mapped[str] = mapped_column(String(200))
    doc_type: Mapped[str] = mapped_column(String(40), default="")
    doc_id: Mapped[str] = mapped_column(String(80), default="")
    reverses_id: Mapped[uuid.UUID | None] = mapped_column(Uuid, nullable=True)
    debits_fen: Mapped[int] = mapped_column(BigInteger)
    credits_fen: Mapped[int] = mapped_column(BigInteger)

    __table_args__ = (
        Index("ix_hub_ledger_entries_site_book_date", "site_id", "book", "business_date"),
        CheckConstraint("debits_fen = credits_fen AND debits_fen > 0", name="balanced"),
    )


class HubLedgerPosting(Base):
    """中心账簿分录 — one posting of a site's entry at the hub (debit > 0, credit < 0)."""

    __tablename__ = "hub_ledger_postings"

    site_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    entry_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    line_no: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    account_code: Mapped[str] = mapped_column(String(80))
    amount_fen: Mapped[int] = mapped_column(BigInteger)

    # No foreign key to hub_ledger_entries: postings are written only with their entry, in the same handler,
    # and PostgreSQL's per-row check of the composite key made a 100,000-entry push 30x slower.
    __table_args__ = (CheckConstraint("amount_fen <> 0", name="amount_not_zero"),)


class HubSiteSummary(Base):
    """站点对账摘要 — a site's own ledger totals per book and day, signed, as of one outbox sequence."""

    __tablename__ = "hub_site_summaries"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    site_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("hub_sites.site_id"), index=True)
    through_seq: Mapped[int] = mapped_column(BigInteger)
    totals: Mapped[str] = mapped_column(Text)
    sent_at: Mapped[datetime] = mapped_column(UTCDateTime)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime)


class HubReferenceChange(Base):
    """参考数据变更 — one versioned change of hub-owned reference data (fee standards, rates, users, …)."""

    __tablename__ = "hub_reference_changes"

    version: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    kind: Mapped[str] = mapped_column(String(40))
    key: Mapped[str] = mapped_column(String(120))
    payload: Mapped[str] = mapped_column(Text)
    published_at: Mapped[datetime] = mapped_column(UTCDateTime)
    published_by: Mapped[str] = mapped_column(String(80))

    __table_args__ = (Index("ix_hub_reference_changes_kind_key", "kind", "key"),)


# ------------------------------------------------------------------------------ hub side: typed business records
# Applied from the events sites push (hub/sync_records.py), append-only, keyed by the site and the site's own
# document number, so centre-level reports and reconciliation read rows instead of parsing event payloads.


class HubPayment(Base):
    """中心支付记录 — a payment order that succeeded at a site (from "payments.order_paid")."""

    __tablename__ = "hub_payments"

    site_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("hub_sites.site_id"), primary_key=True)
    order_no: Mapped[str] = mapped_column(String(40), primary_key=True)
    site_seq: Mapped[int] = mapped_column(BigInteger)
    app_id: Mapped[str] = mapped_column(String(40))
    out_trade_no: Mapped[str] = mapped_column(String(64))
    channel: Mapped[str] = mapped_column(String(20))
    channel_trade_no: Mapped[str | None] = mapped_column(String(64), nullable=True)
    amount_fen: Mapped[int] = mapped_column(BigInteger)
    fee_fen: Mapped[int] = mapped_column(BigInteger)
    business_date: Mapped[date] = mapped_column(Date)
    paid_at: Mapped[datetime] = mapped_column(UTCDateTime)

    __table_args__ = (
        Index("ix_hub_payments_date_channel", "business_date", "channel"),
        CheckConstraint("amount_fen > 0 AND fee_fen >= 0", name="amounts"),
    )


class HubRefund(Base):
    """中心退款记录 — a refund that succeeded at a site (from "payments.refund_succeeded")."""

    __tablename__ = "hub_refunds"

    site_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("hub_sites.site_id"), primary_key=True)
    refund_no: Mapped[str] = mapped_column(String(40), primary_key=True)
    site_seq: Mapped[int] = mapped_column(BigInteger)
    order_no: Mapped[str] = mapped_column(String(40), index=True)
    app_id: Mapped[str] = mapped_column(String(40))
    amount_fen: Mapped[int] = mapped_column(BigInteger)
    fee_refund_fen: Mapped[int] = mapped_column(BigInteger)
    refunded_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)

    __table_args__ = (CheckConstraint("amount_fen > 0 AND fee_refund_fen >= 0", name="amounts"),)


class HubReceipt(Base):
    """中心收据 — a property receipt issued at a site (from "property.payment_received")."""

    __tablename__ = "hub_receipts"

    site_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("hub_sites.site_id"), primary_key=True)
    receipt_no: Mapped[str] = mapped_column(String(40), primary_key=True)
    site_seq: Mapped[int] = mapped_column(BigInteger)
    house_id: Mapped[str] = mapped_column(String(40))
    channel: Mapped[str] = mapped_column(String(20))
    amount_fen: Mapped[int] = mapped_column(BigInteger)
    settled_fen: Mapped[int] = mapped_column(BigInteger)
    late_fee_fen: Mapped[int] = mapped_column(BigInteger)
    prepaid_fen: Mapped[int] = mapped_column(BigInteger)
    issued_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)


class HubReceiptVoid(Base):
    """中心收据作废 — a receipt voided at a site (from "property.receipt_voided"); the receipt row stays."""

    __tablename__ = "hub_receipt_voids"

    site_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("hub_sites.site_id"), primary_key=True)
    receipt_no: Mapped[str] = mapped_column(String(40), primary_key=True)
    site_seq: Mapped[int] = mapped_column(BigInteger)
    reason: Mapped[str] = mapped_column(String(200))
    voided_at: Mapped[datetime] = mapped_column(UTCDateTime)


class HubBillRun(Base):
    """中心账单批次 — a site's bill run for a period: how many bills and how much became receivable."""

    __tablename__ = "hub_bill_runs"

    site_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("hub_sites.site_id"), primary_key=True)
    run_id: Mapped[str] = mapped_column(String(40), primary_key=True)
    site_seq: Mapped[int] = mapped_column(BigInteger)
    period: Mapped[str] = mapped_column(String(10), index=True)
    community_id: Mapped[str | None] = mapped_column(String(40), nullable=True)
    bills_created: Mapped[int] = mapped_column(Integer)
    lines_created: Mapped[int] = mapped_column(Integer)
    amount_fen: Mapped[int] = mapped_column(BigInteger)
    run_at: Mapped[datetime] = mapped_column(UTCDateTime)


# ------------------------------------------------------------------------------ hub side: held batches

HUB_CONFLICT_STATUSES = ("open", "resolved", "applied")
HUB_CONFLICT_DECISIONS = ("hub", "site")


class HubSyncConflict(Base):
    """同步冲突 — a pushed event whose record (an order, refund or receipt number …) the hub already holds with
    other content. The hub never overwrites on its own: the site's batch is held back until an operator decides
    which version stays (`decision`, with the reason), and the decision is applied when the batch comes again.

    `hub_version` and `site_version` are the two records as canonical JSON; both stay here for good."""

    __tablename__ = "hub_sync_conflicts"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    site_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("hub_sites.site_id"))
    event_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    site_seq: Mapped[int] = mapped_column(BigInteger)
    event_type: Mapped[str] = mapped_column(String(80))
    record_kind: Mapped[str] = mapped_column(String(40))
    record_key: Mapped[str] = mapped_column(String(80))
    hub_version: Mapped[str] = mapped_column(Text)
    site_version: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16), index=True)
    detected_at: Mapped[datetime] = mapped_column(UTCDateTime)
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime)
    seen_count: Mapped[int] = mapped_column(Integer)
    decision: Mapped[str | None] = mapped_column(String(8), nullable=True)
    reason: Mapped[str | None] = mapped_column(String(400), nullable=True)
    decided_by: Mapped[str | None] = mapped_column(String(80), nullable=True)
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    applied_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)

    __table_args__ = (
        UniqueConstraint("site_id", "event_id", "record_kind", "record_key"),
        CheckConstraint("status IN ('open', 'resolved', 'applied')", name="status"),
        CheckConstraint("decision IS NULL OR decision IN ('hub', 'site')", name="decision"),
        CheckConstraint("status = 'open' OR decision IS NOT NULL", name="decided"),
    )
