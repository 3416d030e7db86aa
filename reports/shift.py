"""The cashier's shift handover (交班单) and the site's daily close (日结单), from plain dataclasses the
payment hub fills, rendered through the common PDF and Excel renderers.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime

from core.errors import ValidationError
from core.i18n import N_, gettext
from core.money import format_fen
from reports.formatting import instant_text
from reports.model import Column, ReportData, Table
from reports.receipts import CHANNEL_TITLES


@dataclass(frozen=True)
class ChannelTakings:
    """One channel's takings in a shift or a day (fen; refunds as positive amounts)."""

    channel: str
    payments: int = 0
    received_fen: int = 0
    refunds: int = 0
    refunded_fen: int = 0
    fee_fen: int = 0

    @property
    def net_fen(self) -> int:
        return self.received_fen - self.refunded_fen


@dataclass(frozen=True)
class ShiftHandoverData:
    """交班单: what a cashier hands over at the end of a shift."""

    site_name: str
    shift_no: str
    cashier: str
    business_date: date
    opened_at: datetime
    closed_at: datetime | None
    float_fen: int  # 备用金
    takings: Sequence[ChannelTakings]
    counted_cash_fen: int | None = None
    cash_count: Mapping[int, int] = field(default_factory=dict)  # denomination fen → pieces
    difference_reason: str = ""
    first_receipt_no: str = ""
    last_receipt_no: str = ""
    voided_receipts: int = 0
    handed_to: str = ""

    @property
    def expected_cash_fen(self) -> int:
        cash = sum(t.net_fen for t in self.takings if t.channel == "cash")
        return self.float_fen + cash

    @property
    def difference_fen(self) -> int | None:
        """Counted − expected: > 0 长款 (over), < 0 短款 (short)."""
        return None if self.counted_cash_fen is None else self.counted_cash_fen - self.expected_cash_fen


@dataclass(frozen=True)
class DailyCloseData:
    """日结单: the site's business day by channel, with the day's cash difference."""

    site_name: str
    business_date: date
    takings: Sequence[ChannelTakings]
    shifts: Sequence[tuple[str, str, int | None]] = ()  # (shift no., cashier, difference fen)
    closed_by: str = ""
    cash_difference_fen: int = 0


def channel_name(code: str) -> str:
    return gettext(CHANNEL_TITLES[code]) if code in CHANNEL_TITLES else code


def _takings_table(takings: Sequence[ChannelTakings], with_fee: bool) -> Table:
    cols = [
        Column("channel", N_("Channel"), width=14),
        Column("payments", N_("Payments"), "int", 8, total=True),
        Column("received", N_("Received"), "money", 13, total=True),
        Column("refunds", N_("Refunds"), "int", 8, total=True),
        Column("refunded", N_("Refunded"), "money", 13, total=True),
    ]
    if with_fee:
        cols.append(Column("fee", N_("Channel fee"), "money", 11, total=True))
    cols.append(Column("net", N_("Net"), "money", 13, total=True))
    rows = []
    for t in sorted(takings, key=lambda t: t.channel):
        row = [channel_name(t.channel), t.payments, t.received_fen, t.refunds, t.refunded_fen]
        if with_fee:
            row.append(t.fee_fen)
        row.append(t.net_fen)
        rows.append(tuple(row))
    totals = {c.key: sum(r[i] for r in rows) for i, c in enumerate(cols) if c.total}
    return Table(cols, rows, title=N_("Takings by channel"), totals=totals)


def handover_report(data: ShiftHandoverData) -> ReportData:
    if any(not isinstance(p, int) or p < 0 for p in data.cash_count.values()):
        raise ValidationError(
            N_("The number of pieces must be a whole number, not negative."), field="cash_count"
        )
    counted = sum(d * n for d, n in data.cash_count.items())
    if data.cash_count and counted != data.counted_cash_fen:
        raise ValidationError(
            N_("The cash count adds up to {count}, not the {counted} counted."),
            field="cash_count",
            count=format_fen(counted),
            counted=format_fen(data.counted_cash_fen or 0),
        )
    tables = [_takings_table(data.takings, with_fee=False)]
    if data.cash_count:
        cols = (
            Column("denomination", N_("Denomination"), width=12),
            Column("pieces", N_("Pieces"), "int", 8, total=True),
            Column("amount", N_("Amount"), "money", 12, total=True),
        )
        rows = [(format_fen(d), n, d * n) for d, n in sorted(data.cash_count.items(), reverse=True) if n]
        totals = {"pieces": sum(r[1] for r in rows), "amount": sum(r[2] for r in rows)}
        tables.append(Table(cols, rows, title=N_("Cash count"), totals=totals))
    cash_cols = (Column("item", N_("Item"), width=24), Column("amount", N_("Amount"), "money", 14))
    diff = data.difference_fen
    cash_rows: list[tuple] = [
        (gettext(N_("Float")), data.float_fen),
        (gettext(N_("Expected cash")), data.expected_cash_fen),
        (gettext(N_("Counted cash")), data.counted_cash_fen),
        (gettext(N_("Difference (+ over / - short)")), diff),
    ]
    tables.append(Table(cash_cols, cash_rows, title=N_("Cash"), emphasis=frozenset({3})))
    facts = [
        (N_("Shift"), data.shift_no),
        (N_("Cashier"), data.cashier),
        (N_("Opened"), instant_text(data.opened_at)),
        (N_("Closed"), instant_text(data.closed_at) if data.closed_at else "—"),
    ]
    if data.first_receipt_no:
        facts.append((N_("Receipts"), f"{data.first_receipt_no} – {data.last_receipt_no}"))
    if data.voided_receipts:
        facts.append((N_("Voided receipts"), str(data.voided_receipts)))
    notes = []
    if diff:
        notes.append(
            gettext(N_("Reason for the difference: {reason}")).format(reason=data.difference_reason or "—")
        )
    return ReportData(
        name="shift_handover",
        title=N_("Shift handover"),
        period_label=data.business_date.isoformat(),
        facts=facts,
        tables=tables,
        notes=notes,
        signatures=(N_("Handed over by"), N_("Taken over by"), N_("Reviewed by")),
        site_name=data.site_name,
    )  # fmt: skip


def daily_close_report(data: DailyCloseData) -> ReportData:
    tables = [_takings_table(data.takings, with_fee=True)]
    if data.shifts:
        cols = (
            Column("shift", N_("Shift"), width=16),
            Column("cashier", N_("Cashier"), width=12),
            Column("difference", N_("Difference (+ over / - short)"), "money", 14, total=True),
        )
        rows = [(no, who, d) for no, who, d in data.shifts]
        tables.append(
            Table(cols, rows, title=N_("Shifts"), totals={"difference": sum(r[2] or 0 for r in rows)})
        )
    return ReportData(
        name="daily_close",
        title=N_("Daily close"),
        period_label=data.business_date.isoformat(),
        facts=[
            (N_("Cash difference"), format_fen(data.cash_difference_fen)),
            (N_("Closed by"), data.closed_by),
        ],
        tables=tables,
        signatures=(N_("Prepared by"), N_("Reviewed by"), N_("Approved by")),
        site_name=data.site_name,
    )


def daily_close_from_totals(site_name: str, totals: Mapping, closed_by: str = "") -> DailyCloseData:
    """From the totals the payment hub records at 日结 ({"date", "channels": {ch: {...}}, "cash_difference_fen"})."""
    takings = [
        ChannelTakings(
            ch,
            int(v.get("payments", 0)),
            int(v.get("paid_fen", 0)),
            int(v.get("refunds", 0)),
            int(v.get("refunded_fen", 0)),
            int(v.get("fee_fen", 0)),
        )
        for ch, v in dict(totals.get("channels", {})).items()
    ]
    return DailyCloseData(
        site_name,
        date.fromisoformat(str(totals["date"])),
        takings,
        closed_by=closed_by,
        cash_difference_fen=int(totals.get("cash_difference_fen", 0)),
    )


def stamp(data: ReportData, printed_at: datetime, printed_by: str) -> ReportData:
    """Set who printed a report built outside the registry, and when."""
    data.printed_at = printed_at
    data.printed_by = printed_by
    return data
