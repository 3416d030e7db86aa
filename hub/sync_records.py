"""Typed records the hub keeps from the events sites push: payments, refunds, property receipts and their voids,
bill runs. Each handler runs inside the batch's transaction (hub/sync_apply.py) and writes plain rows keyed by
the site and the site's own document number; a malformed event refuses the whole batch, so a record is either
complete at the hub or the batch is sent again. A number the hub already holds with other content (a site
restored from a backup reissuing it) holds the batch for an operator's decision (hub/sync_conflicts.py).

Records are append-only: a void or a refund is its own row, never an update of an earlier one, so the order in
which a batch's event types are applied does not matter. Centre-level reads (`centre_collections`) combine them.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from core.context import Context
from core.db.bulk import binder
from core.i18n import N_
from core.sync import protocol as p
from core.sync.models import HubBillRun, HubPayment, HubReceipt, HubReceiptVoid, HubRefund, HubSite
from core.sync.protocol import SyncRefused
from hub.sync_apply import HeldEvent, _write_rows, register_hub_handler
from hub.sync_conflicts import place_rows

_PAYMENTS = HubPayment.__table__
_REFUNDS = HubRefund.__table__
_RECEIPTS = HubReceipt.__table__
_VOIDS = HubReceiptVoid.__table__
_RUNS = HubBillRun.__table__


def _text(data: dict, key: str, max_len: int, *, optional: bool = False) -> str | None:
    value = data.get(key)
    if value is None and optional:
        return None
    if not isinstance(value, str) or not 0 < len(value) <= max_len:
        raise ValueError(key)
    return value


def _fen(data: dict, key: str, *, positive: bool = False, default: int | None = None) -> int:
    value = data.get(key, default)
    if not p.is_int(value) or value < 0 or (positive and value == 0):
        raise ValueError(key)
    return value


def _instant(text: Any) -> datetime:
    value = datetime.fromisoformat(text)
    if value.tzinfo is None:
        raise ValueError("naive time")
    return value


def _rows_of(
    session: Session,
    table,
    columns: tuple[str, ...],
    events: list[HeldEvent],
    row: Callable[[HeldEvent], tuple],
) -> None:
    """Validate and write one record per event; the record's key is the column after site_id. A key the hub
    already holds is never overwritten: see hub/sync_conflicts.place_rows."""
    binds = [binder(session, table.c[name]) for name in columns]
    pending = []
    for event in events:
        try:
            if not isinstance(event.data, dict):
                raise ValueError("not an object")
            values = row(event)
        except (KeyError, TypeError, ValueError):
            raise SyncRefused(
                N_("Event {seq} ({type}) is malformed; the batch was refused."),
                code=p.MALFORMED,
                seq=event.site_seq,
                type=event.type,
            ) from None
        pending.append((event, values, tuple(bind(v) for bind, v in zip(binds, values, strict=True))))
    _write_rows(session, table, columns, place_rows(session, table, columns, columns[1], pending))


def _apply_payments(session: Session, site_id: uuid.UUID, events: list[HeldEvent]) -> None:
    def row(e: HeldEvent) -> tuple:
        d = e.data
        return (
            site_id,
            _text(d, "order_no", 40),
            e.site_seq,
            _text(d, "app_id", 40),
            _text(d, "out_trade_no", 64),
            _text(d, "channel", 20),
            _text(d, "channel_trade_no", 64, optional=True),
            _fen(d, "amount_fen", positive=True),
            _fen(d, "fee_fen", default=0),
            date.fromisoformat(d["business_date"]),
            _instant(d["paid_at"]),
        )

    columns = (
        "site_id",
        "order_no",
        "site_seq",
        "app_id",
        "out_trade_no",
        "channel",
        "channel_trade_no",
        "amount_fen",
        "fee_fen",
        "business_date",
        "paid_at",
    )
    _rows_of(session, _PAYMENTS, columns, events, row)


def _apply_refunds(session: Session, site_id: uuid.UUID, events: list[HeldEvent]) -> None:
    def row(e: HeldEvent) -> tuple:
        d = e.data
        return (
            site_id,
            _text(d, "refund_no", 40),
            e.site_seq,
            _text(d, "order_no", 40),
            _text(d, "app_id", 40),
            _fen(d, "amount_fen", positive=True),
            _fen(d, "fee_refund_fen", default=0),
            _instant(d["refunded_at"]),
        )

    columns = (
        "site_id",
        "refund_no",
        "site_seq",
        "order_no",
        "app_id",
        "amount_fen",
        "fee_refund_fen",
        "refunded_at",
    )
    _rows_of(session, _REFUNDS, columns, events, row)


def _apply_receipts(session: Session, site_id: uuid.UUID, events: list[HeldEvent]) -> None:
    def row(e: HeldEvent) -> tuple:
        d = e.data
        return (
            site_id,
            _text(d, "receipt_no", 40),
            e.site_seq,
            _text(d, "house_id", 40),
            _text(d, "channel", 20),
            _fen(d, "amount_fen"),
            _fen(d, "settled_fen", default=0),
            _fen(d, "late_fee_fen", default=0),
            _fen(d, "prepaid_fen", default=0),
            e.created_at,
        )

    columns = (
        "site_id",
        "receipt_no",
        "site_seq",
        "house_id",
        "channel",
        "amount_fen",
        "settled_fen",
        "late_fee_fen",
        "prepaid_fen",
        "issued_at",
    )
    _rows_of(session, _RECEIPTS, columns, events, row)


def _apply_receipt_voids(session: Session, site_id: uuid.UUID, events: list[HeldEvent]) -> None:
    def row(e: HeldEvent) -> tuple:
        d = e.data
        reason = d.get("reason") or ""
        if not isinstance(reason, str):
            raise ValueError("reason")
        return (site_id, _text(d, "receipt_no", 40), e.site_seq, reason[:200], e.created_at)

    _rows_of(session, _VOIDS, ("site_id", "receipt_no", "site_seq", "reason", "voided_at"), events, row)


def _apply_bill_runs(session: Session, site_id: uuid.UUID, events: list[HeldEvent]) -> None:
    def row(e: HeldEvent) -> tuple:
        d = e.data
        return (
            site_id,
            _text(d, "id", 40),
            e.site_seq,
            _text(d, "period", 10),
            _text(d, "community_id", 40, optional=True),
            _fen(d, "bills_created"),
            _fen(d, "lines_created"),
            _fen(d, "amount_fen"),
            e.created_at,
        )

    columns = (
        "site_id",
        "run_id",
        "site_seq",
        "period",
        "community_id",
        "bills_created",
        "lines_created",
        "amount_fen",
        "run_at",
    )
    _rows_of(session, _RUNS, columns, events, row)


register_hub_handler("payments.order_paid", 1, _apply_payments)
register_hub_handler("payments.refund_succeeded", 1, _apply_refunds)
register_hub_handler("property.payment_received", 1, _apply_receipts)
register_hub_handler("property.receipt_voided", 1, _apply_receipt_voids)
register_hub_handler("property.bill_run", 1, _apply_bill_runs)


# ------------------------------------------------------------------------------------------- centre reads


@dataclass(frozen=True)
class CentreCollection:
    """One site's payments through one app and channel on one business day, with the refunds of that day."""

    site: str
    business_date: date
    app_id: str
    channel: str
    payments: int
    amount_fen: int
    fee_fen: int
    refunds: int
    refunded_fen: int

    @property
    def net_fen(self) -> int:
        return self.amount_fen - self.fee_fen - self.refunded_fen


def centre_collections(ctx: Context, date_from: date, date_to: date) -> list[CentreCollection]:
    """Payments and refunds held at the hub per site, business day, app and channel (refunds count on the day
    of the payment they return, against its channel), for centre-level reports across every site."""
    with ctx.read("hub.sites.view") as s:
        paid = (
            select(
                _PAYMENTS.c.site_id,
                _PAYMENTS.c.business_date,
                _PAYMENTS.c.app_id,
                _PAYMENTS.c.channel,
                func.count().label("n"),
                func.sum(_PAYMENTS.c.amount_fen).label("amount"),
                func.sum(_PAYMENTS.c.fee_fen).label("fee"),
            )
            .where(_PAYMENTS.c.business_date >= date_from, _PAYMENTS.c.business_date <= date_to)
            .group_by(_PAYMENTS.c.site_id, _PAYMENTS.c.business_date, _PAYMENTS.c.app_id, _PAYMENTS.c.channel)
            .subquery()
        )
        refunded = (
            select(
                _PAYMENTS.c.site_id,
                _PAYMENTS.c.business_date,
                _PAYMENTS.c.app_id,
                _PAYMENTS.c.channel,
                func.count().label("n"),
                func.sum(_REFUNDS.c.amount_fen).label("amount"),
            )
            .join(
                _REFUNDS,
                (_REFUNDS.c.site_id == _PAYMENTS.c.site_id) & (_REFUNDS.c.order_no == _PAYMENTS.c.order_no),
            )
            .where(_PAYMENTS.c.business_date >= date_from, _PAYMENTS.c.business_date <= date_to)
            .group_by(_PAYMENTS.c.site_id, _PAYMENTS.c.business_date, _PAYMENTS.c.app_id, _PAYMENTS.c.channel)
            .subquery()
        )
        sites = HubSite.__table__
        rows = s.execute(
            select(
                sites.c.name,
                paid.c.business_date,
                paid.c.app_id,
                paid.c.channel,
                paid.c.n,
                paid.c.amount,
                paid.c.fee,
                func.coalesce(refunded.c.n, 0),
                func.coalesce(refunded.c.amount, 0),
            )
            .join(sites, sites.c.site_id == paid.c.site_id)
            .outerjoin(
                refunded,
                (refunded.c.site_id == paid.c.site_id)
                & (refunded.c.business_date == paid.c.business_date)
                & (refunded.c.app_id == paid.c.app_id)
                & (refunded.c.channel == paid.c.channel),
            )
            .order_by(sites.c.name, paid.c.business_date, paid.c.app_id, paid.c.channel)
        ).all()
    return [
        CentreCollection(r[0], r[1], r[2], r[3], int(r[4]), int(r[5]), int(r[6]), int(r[7]), int(r[8]))
        for r in rows
    ]


@dataclass(frozen=True)
class CentreReceipts:
    site: str
    receipts: int
    amount_fen: int
    voided: int
    voided_fen: int


def centre_receipts(ctx: Context) -> list[CentreReceipts]:
    """Property receipts held at the hub per site: issued and voided counts and amounts."""
    with ctx.read("hub.sites.view") as s:
        sites = HubSite.__table__
        rows = s.execute(
            select(
                sites.c.name,
                func.count(_RECEIPTS.c.receipt_no),
                func.coalesce(func.sum(_RECEIPTS.c.amount_fen), 0),
                func.count(_VOIDS.c.receipt_no),
                func.coalesce(func.sum(_RECEIPTS.c.amount_fen).filter(_VOIDS.c.receipt_no.is_not(None)), 0),
            )
            .join(_RECEIPTS, _RECEIPTS.c.site_id == sites.c.site_id)
            .outerjoin(
                _VOIDS,
                (_VOIDS.c.site_id == _RECEIPTS.c.site_id) & (_VOIDS.c.receipt_no == _RECEIPTS.c.receipt_no),
            )
            .group_by(sites.c.name)
            .order_by(sites.c.name)
        ).all()
    return [CentreReceipts(r[0], int(r[1]), int(r[2]), int(r[3]), int(r[4])) for r in rows]
