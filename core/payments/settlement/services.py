"""Settlement use cases: each app's payee account, the daily settlement per app (gross, refunds, channel fees,
net) posted once to the PAYHUB book, and the bank transfer file that pays the nets out.

The entry of a settlement: Dr 2202.<app> (what we owed the app for the day: gross − refunds),
Cr 1002 bank (the net paid out), Cr 6602.fee (the channel fees, charged on to the app). Every channel counts:
A's services credit 2202.<app> for every payment and debit it for every refund, whatever the channel.
"""

from __future__ import annotations

import csv
import io
import uuid
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import func, insert, select
from sqlalchemy.exc import IntegrityError

from core.clock import today
from core.context import Context
from core.errors import Conflict, StateError, ValidationError
from core.i18n import N_
from core.ids import new_id
from core.ledger.services import EntrySpec, post_in
from core.money import fen_to_yuan_str
from core.numbering import next_document_no
from core.payments.models import PayApp, PayOrder, PayRefund
from core.payments.recon.models import RECON_CHANNELS, ReconBatch, ReconDifference
from core.payments.settlement.models import SettlementBatch, SettlementPayee
from core.security.pii import KIND_BANK_ACCOUNT, mask_bank_account
from core.validate import to_halfwidth

PERM_RUN = "payments.settlement.run"
PERM_VIEW = "payments.settlement.view"
BOOK = "PAYHUB"  # the payment hub's book (core.payments.services.BOOK)
ACCOUNT_BANK = "1002"
ACCOUNT_FEE = "6602.fee"
ORDER_SETTLED_STATES = ("SUCCESS", "PARTIALLY_REFUNDED", "REFUNDED")
NAME_LEN_MAX = 100
REASON_LEN_MAX = 500
TRANSFER_COLUMNS = ("收款人名称", "收款账号", "金额（元）", "用途")

_BATCHES = SettlementBatch.__table__
_PAYEES = SettlementPayee.__table__
_ORDERS = PayOrder.__table__
_REFUNDS = PayRefund.__table__
_RECON = ReconBatch.__table__
_RECON_DIFFS = ReconDifference.__table__


@dataclass(frozen=True)
class Figures:
    """One app's settlement figures for a day (fen)."""

    order_count: int
    refund_count: int
    gross_fen: int
    refunds_fen: int
    fees_fen: int
    by_channel: dict[str, dict[str, int]]

    @property
    def net_fen(self) -> int:
        return self.gross_fen - self.refunds_fen - self.fees_fen


@dataclass(frozen=True)
class SettlementView:
    id: uuid.UUID
    batch_no: str
    app_id: str
    business_date: date
    order_count: int
    refund_count: int
    gross_fen: int
    refunds_fen: int
    fees_fen: int
    net_fen: int
    by_channel: dict
    entry_id: uuid.UUID | None
    payee_name: str
    created_by: str
    created_at: datetime


@dataclass(frozen=True)
class PayeeView:
    app_id: str
    payee_name: str
    bank_name: str
    account_masked: str


def _view(r) -> SettlementView:
    return SettlementView(
        r.id, r.batch_no, r.app_id, r.business_date, r.order_count, r.refund_count, r.gross_fen,
        r.refunds_fen, r.fees_fen, r.net_fen, r.by_channel, r.entry_id, r.payee_name, r.created_by, r.created_at,
    )  # fmt: skip


# --------------------------------------------------------------------------------------------- payees


def set_payee(ctx: Context, app_id: str, payee_name: str, account: str, bank_name: str = "") -> PayeeView:
    """Record (or replace) where `app_id`'s settlements are paid. The account is stored encrypted."""
    name = (payee_name or "").strip()
    if not name or len(name) > NAME_LEN_MAX:
        raise ValidationError(N_("Enter the payee's name (at most {max} characters)."), field="payee_name",
                              max=NAME_LEN_MAX)  # fmt: skip
    acct = to_halfwidth(account or "").replace(" ", "")
    if not (acct.isascii() and acct.isdecimal() and 8 <= len(acct) <= 32):
        raise ValidationError(N_("A bank account number is 8 to 32 digits."), field="account")
    bank = (bank_name or "").strip()
    if len(bank) > NAME_LEN_MAX:
        raise ValidationError(N_("The bank name is too long."), field="bank_name")
    with ctx.uow(PERM_RUN) as uow:
        s = uow.session
        if s.execute(select(PayApp.id).where(PayApp.app_id == app_id)).first() is None:
            raise ValidationError(N_("There is no app {app}."), field="app_id", app=str(app_id))
        values = {
            "payee_name": name,
            "bank_name": bank,
            "account_enc": ctx.pii.encrypt(acct),
            "account_index": ctx.pii.blind_index(KIND_BANK_ACCOUNT, acct),
            "updated_at": uow.now,
            "updated_by": ctx.actor.username,
        }
        existing = s.execute(select(_PAYEES.c.id).where(_PAYEES.c.app_id == app_id)).scalar_one_or_none()
        if existing is None:
            s.execute(insert(_PAYEES).values(id=new_id(), app_id=app_id, **values))
        else:
            s.execute(_PAYEES.update().where(_PAYEES.c.id == existing).values(**values))
        masked = mask_bank_account(acct)
        uow.audit("settlement.payee_set", "settle_payee", app_id,
                  after={"payee_name": name, "bank_name": bank, "account": masked})  # fmt: skip
        return PayeeView(app_id, name, bank, masked)


# --------------------------------------------------------------------------------------------- figures


def _figures(s, app_id: str, day: date) -> Figures:
    by_channel: dict[str, dict[str, int]] = {}

    def bucket(channel: str) -> dict[str, int]:
        return by_channel.setdefault(channel, {"gross_fen": 0, "refunds_fen": 0, "fees_fen": 0})

    o, r = _ORDERS.c, _REFUNDS.c
    order_count = refund_count = 0
    rows = s.execute(
        select(o.channel, func.count(), func.sum(o.amount_fen), func.sum(o.fee_fen))
        .where(o.app_id == app_id, o.business_date == day, o.status.in_(ORDER_SETTLED_STATES))
        .group_by(o.channel)
    )
    for channel, n, amount, fee in rows:
        order_count += n
        b = bucket(channel)
        b["gross_fen"] += int(amount or 0)
        b["fees_fen"] += int(fee or 0)
    rows = s.execute(
        select(r.channel, func.count(), func.sum(r.amount_fen), func.sum(r.fee_refund_fen))
        .where(r.app_id == app_id, r.business_date == day, r.status == "SUCCESS")
        .group_by(r.channel)
    )
    for channel, n, amount, fee_back in rows:
        refund_count += n
        b = bucket(channel)
        b["refunds_fen"] += int(amount or 0)
        b["fees_fen"] -= int(fee_back or 0)
    total = {k: sum(b[k] for b in by_channel.values()) for k in ("gross_fen", "refunds_fen", "fees_fen")}
    return Figures(order_count, refund_count, total["gross_fen"], total["refunds_fen"], total["fees_fen"],
                   dict(sorted(by_channel.items())))  # fmt: skip


def settlement_postings(app_id: str, f: Figures) -> list[tuple[str, int]]:
    """The balanced postings of a settlement (zero legs left out): 2202.<app> → 1002 bank, 6602.fee."""
    legs = [
        (f"2202.{app_id}", f.gross_fen - f.refunds_fen),
        (ACCOUNT_BANK, -f.net_fen),
        (ACCOUNT_FEE, -f.fees_fen),
    ]
    legs = [(code, amount) for code, amount in legs if amount]
    assert sum(amount for _c, amount in legs) == 0, "a settlement entry must balance"
    return legs


# --------------------------------------------------------------------------------------------- recon gate


@dataclass(frozen=True)
class ReconGate:
    """Why a day's reconciliation is not clean for some channels: never run, or differences still open."""

    not_run: tuple[str, ...]
    open_differences: dict[str, int]

    @property
    def clean(self) -> bool:
        return not self.not_run and not self.open_differences


def _recon_gate(s, day: date, channels: set[str]) -> ReconGate:
    """The state of `day`'s reconciliation for the reconciled channels among `channels`."""
    wanted = sorted(channels & set(RECON_CHANNELS))
    if not wanted:
        return ReconGate((), {})
    batches = dict(
        s.execute(
            select(_RECON.c.channel, _RECON.c.id).where(
                _RECON.c.business_date == day, _RECON.c.channel.in_(wanted), _RECON.c.runs > 0
            )
        ).all()
    )
    open_counts: dict[str, int] = {}
    if batches:
        rows = s.execute(
            select(_RECON_DIFFS.c.channel, func.count())
            .where(_RECON_DIFFS.c.batch_id.in_(list(batches.values())), _RECON_DIFFS.c.status == "open")
            .group_by(_RECON_DIFFS.c.channel)
        )
        open_counts = {channel: int(n) for channel, n in rows if n}
    return ReconGate(tuple(c for c in wanted if c not in batches), dict(sorted(open_counts.items())))


def _check_override_reason(reason: str | None) -> str | None:
    if reason is None:
        return None
    reason = reason.strip() if isinstance(reason, str) else ""
    if not reason or len(reason) > REASON_LEN_MAX:
        raise ValidationError(
            N_("An override needs its reason (at most {max} characters)."),
            field="override_reason",
            max=REASON_LEN_MAX,
        )
    return reason


# --------------------------------------------------------------------------------------------- run


def run_settlement(
    ctx: Context, day: date, app_id: str | None = None, override_reason: str | None = None
) -> list[SettlementView]:
    """Settle `day` for one app or every app that had payments or refunds that day; idempotent per app+day.

    An app already settled for the day keeps its batch (returned as is). A day can only be settled once it is
    over (Asia/Shanghai), every app to settle needs a payee account, and the day's reconciliation of every
    reconciled channel (WeChat Pay, Alipay) the app was paid through must have run with no difference left
    open — unless `override_reason` says why it may be settled anyway (audited as settlement.recon_override).
    """
    if not isinstance(day, date) or isinstance(day, datetime):
        raise ValidationError(N_("Give the settlement date as YYYY-MM-DD."), field="date")
    override_reason = _check_override_reason(override_reason)
    if day >= today(ctx.clock):
        raise ValidationError(
            N_("The day {day} is not over yet; settle it tomorrow."), field="date", day=day.isoformat()
        )
    with ctx.uow(PERM_RUN) as uow:
        s = uow.session
        if app_id is not None:
            if s.execute(select(PayApp.id).where(PayApp.app_id == app_id)).first() is None:
                raise ValidationError(N_("There is no app {app}."), field="app_id", app=str(app_id))
            apps = [app_id]
        else:
            active = (
                select(_ORDERS.c.app_id)
                .where(_ORDERS.c.business_date == day)
                .union(select(_REFUNDS.c.app_id).where(_REFUNDS.c.business_date == day))
            )
            apps = sorted(a for (a,) in s.execute(active))
        done = {
            r.app_id: r
            for r in s.execute(select(_BATCHES).where(_BATCHES.c.business_date == day, _BATCHES.c.app_id.in_(apps)))
        } if apps else {}  # fmt: skip
        payees = dict(
            s.execute(select(_PAYEES.c.app_id, _PAYEES.c.payee_name).where(_PAYEES.c.app_id.in_(apps))).all()
        )
        todo = [a for a in apps if a not in done]
        lacking = [a for a in todo if a not in payees]
        if lacking:
            raise ValidationError(
                N_("No payee account for app(s) {apps}; set it with 'anju settlement payee' first."),
                field="app_id",
                apps=", ".join(lacking),
            )
        out = [_view(done[a]) for a in apps if a in done]
        figures_of = {app: _figures(s, app, day) for app in todo}
        gates = {app: _recon_gate(s, day, set(f.by_channel)) for app, f in figures_of.items()}
        blocked = {app: g for app, g in gates.items() if not g.clean}
        if blocked and override_reason is None:
            app, gate = next(iter(blocked.items()))
            raise StateError(
                N_(
                    "App {app} cannot be settled for {day} yet: reconciliation not run for {not_run}; "
                    "differences still open for {open}. Reconcile the day and resolve its differences "
                    "first, or settle with an override and its reason."
                ),
                app=app,
                day=day.isoformat(),
                not_run=", ".join(gate.not_run) or "-",
                open=", ".join(f"{c} ({n})" for c, n in gate.open_differences.items()) or "-",
            )
        for app in todo:
            figures = figures_of[app]
            batch_no = next_document_no(uow, "JS", day.year)
            legs = settlement_postings(app, figures)
            entry_id = (
                post_in(
                    uow, EntrySpec(BOOK, day, f"结算 {app} {day.isoformat()}", legs, "settle_batch", batch_no)
                )
                if legs
                else None
            )
            row = {
                "id": new_id(),
                "batch_no": batch_no,
                "app_id": app,
                "business_date": day,
                "order_count": figures.order_count,
                "refund_count": figures.refund_count,
                "gross_fen": figures.gross_fen,
                "refunds_fen": figures.refunds_fen,
                "fees_fen": figures.fees_fen,
                "net_fen": figures.net_fen,
                "by_channel": figures.by_channel,
                "entry_id": entry_id,
                "payee_name": payees[app],
                "created_by": ctx.actor.username,
                "created_at": uow.now,
            }
            try:
                with s.begin_nested():
                    s.execute(insert(_BATCHES).values(**row))
            except IntegrityError:
                raise Conflict(
                    N_("App {app} is being settled for {day} right now; try again."),
                    app=app,
                    day=day.isoformat(),
                ) from None
            payload = {k: v for k, v in row.items() if k not in ("id", "created_at")}
            if app in blocked:
                gate = blocked[app]
                override = {
                    "batch_no": batch_no,
                    "app_id": app,
                    "business_date": day.isoformat(),
                    "reason": override_reason,
                    "recon_not_run": list(gate.not_run),
                    "recon_open_differences": gate.open_differences,
                }
                uow.audit("settlement.recon_override", "settle_batch", row["id"], after=override)
                payload["recon_override"] = override_reason
            uow.audit("settlement.run", "settle_batch", row["id"], after=payload)
            uow.emit("settlement.batch_created", {"id": str(row["id"]), **payload})
            out.append(SettlementView(**row))
        return sorted(out, key=lambda v: v.app_id)


def list_settlements(
    ctx: Context,
    day: date | None = None,
    app_id: str | None = None,
    *,
    date_from: date | None = None,
    date_to: date | None = None,
) -> list[SettlementView]:
    """Settlement batches (at most 1000), newest day first: of one day, or of the days from/to given."""
    with ctx.read(PERM_VIEW) as s:
        stmt = select(_BATCHES)
        if day is not None:
            stmt = stmt.where(_BATCHES.c.business_date == day)
        if date_from is not None:
            stmt = stmt.where(_BATCHES.c.business_date >= date_from)
        if date_to is not None:
            stmt = stmt.where(_BATCHES.c.business_date <= date_to)
        if app_id is not None:
            stmt = stmt.where(_BATCHES.c.app_id == app_id)
        stmt = stmt.order_by(_BATCHES.c.business_date.desc(), _BATCHES.c.app_id).limit(1000)
        return [_view(r) for r in s.execute(stmt)]


def transfer_file(ctx: Context, day: date, app_id: str | None = None) -> str:
    """The bank transfer file of `day`'s settlements: CSV (UTF-8 with BOM, for the bank's upload and Excel),
    one line per batch with a positive net — payee name, account (in full: the bank needs it), yuan, purpose.
    """
    with ctx.read(PERM_RUN) as s:
        stmt = select(_BATCHES, _PAYEES.c.account_enc).join(_PAYEES, _PAYEES.c.app_id == _BATCHES.c.app_id)
        stmt = stmt.where(_BATCHES.c.business_date == day, _BATCHES.c.net_fen > 0)
        if app_id is not None:
            stmt = stmt.where(_BATCHES.c.app_id == app_id)
        rows = s.execute(stmt.order_by(_BATCHES.c.app_id)).all()
    out = io.StringIO()
    out.write("\ufeff")
    w = csv.writer(out, lineterminator="\r\n")
    w.writerow(TRANSFER_COLUMNS)
    for r in rows:
        purpose = f"结算 {r.business_date.isoformat()} {r.batch_no}"
        w.writerow((r.payee_name, ctx.pii.decrypt(r.account_enc), fen_to_yuan_str(r.net_fen), purpose))
    return out.getvalue()
