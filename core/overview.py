"""What exists at this site, in numbers, and whether its records hold together: the figures and checks the
back office shows (home screen counts, audit and ledger verification)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from core.audit.log import VerifyResult
from core.audit.models import AuditRecord
from core.context import Context
from core.i18n import N_
from core.ledger.models import Account, Book, JournalEntry, Posting
from core.security.models import Role, User
from core.sync.outbox import pending_count
from core.workflow.models import STATUS_PENDING, ApprovalInstance


@dataclass(frozen=True)
class Overview:
    """站点概况 — counts of the site's records, read in one snapshot."""

    site_code: str
    site_name: str
    users: int
    roles: int
    books: int
    accounts: int
    journal_entries: int
    postings: int
    audit_records: int
    pending_approvals: int
    outbox_pending: int


def _count(session: Session, model: type, *where: object) -> int:
    return session.execute(select(func.count()).select_from(model).where(*where)).scalar_one()


def site_overview(ctx: Context) -> Overview:
    """Counts of users, roles, books, accounts, entries, postings, audit records, pending approvals and
    outbox events not yet synced. Anyone logged in may see them: they are numbers, not records."""
    site = ctx.site
    with ctx.read() as s:
        return Overview(
            site_code=site.code,
            site_name=site.name,
            users=_count(s, User),
            roles=_count(s, Role),
            books=_count(s, Book),
            accounts=_count(s, Account),
            journal_entries=_count(s, JournalEntry),
            postings=_count(s, Posting),
            audit_records=_count(s, AuditRecord),
            pending_approvals=_count(s, ApprovalInstance, ApprovalInstance.status == STATUS_PENDING),
            # Until sync records what the hub has acknowledged, every outbox event counts as pending.
            outbox_pending=pending_count(s),
        )


# ---------------------------------------------------------------------------------------------- checks


def check_audit(ctx: Context) -> VerifyResult:
    """Walk the audit log's hash chain (permission audit.verify); every broken link is a problem."""
    from core.audit.log import verify

    with ctx.read("audit.verify") as s:
        return verify(s)


def check_ledger(ctx: Context) -> VerifyResult:
    """Recompute every ledger balance and invariant from the postings (permission ledger.verify)."""
    from core.ledger.verify import verify

    with ctx.read("ledger.verify") as s:
        return verify(s)


# ---------------------------------------------------------------------------------------------- dashboard

# Work-order age buckets (upper bounds in days, the last open-ended), as the dashboard shows them.
AGE_BUCKETS_DAYS: tuple[int, ...] = (1, 3, 7)
ORDER_COLLECTED_STATES = ("SUCCESS", "PARTIALLY_REFUNDED", "REFUNDED")
WORK_ORDER_DONE_STATES = ("completed", "rated", "closed", "cancelled")


@dataclass(frozen=True)
class Collections:
    """收款 — payments collected today and this month (gross fen), by channel and by business line (app)."""

    today_fen: int
    today_count: int
    month_fen: int
    month_count: int
    # (code, today fen, month fen), largest month first
    by_channel: tuple[tuple[str, int, int], ...]
    by_line: tuple[tuple[str, int, int], ...]


@dataclass(frozen=True)
class PropertyFigures:
    """物业 — this period's billed and collected amounts, arrears (past due) and open work orders by age."""

    period: str
    billed_fen: int
    collected_fen: int
    arrears_fen: int
    arrears_houses: int
    # counts of open work orders younger than 1, 3, 7 days and older (one more than AGE_BUCKETS_DAYS)
    work_orders_by_age: tuple[int, ...]
    work_orders_overdue: int

    @property
    def collection_rate(self) -> float | None:
        """Collected ÷ billed for the period (None before anything is billed); shown, never stored."""
        return self.collected_fen / self.billed_fen if self.billed_fen else None


@dataclass(frozen=True)
class SyncFigures:
    last_status: str | None
    last_finished_at: datetime | None
    last_ok_at: datetime | None
    pending_events: int


@dataclass(frozen=True)
class Alert:
    """A thing someone should look at: `message` is an English msgid formatted with `params`."""

    code: str
    message: str
    params: dict[str, object]


@dataclass(frozen=True)
class Dashboard:
    """首页看板 — what the home screen shows. A section the actor may not see is None."""

    as_of: datetime
    today: date
    collections: Collections | None
    property: PropertyFigures | None
    pending_approvals: int
    sync: SyncFigures | None
    alerts: tuple[Alert, ...]


def _collections(s: Session, day: date) -> Collections:
    from sqlalchemy import case

    from core.payments.models import PayOrder as O

    month_start = day.replace(day=1)
    on_day = case((O.business_date == day, O.amount_fen), else_=0)
    n_day = case((O.business_date == day, 1), else_=0)
    base = (O.status.in_(ORDER_COLLECTED_STATES), O.business_date >= month_start, O.business_date <= day)

    def grouped(col) -> tuple[tuple[str, int, int], ...]:
        rows = s.execute(
            select(col, func.sum(on_day), func.sum(O.amount_fen)).where(*base).group_by(col)
        ).all()
        items = [(str(code), int(t or 0), int(m or 0)) for code, t, m in rows]
        return tuple(sorted(items, key=lambda r: (-r[2], r[0])))

    t_fen, t_n, m_fen, m_n = s.execute(
        select(func.sum(on_day), func.sum(n_day), func.sum(O.amount_fen), func.count()).where(*base)
    ).one()
    return Collections(
        int(t_fen or 0), int(t_n or 0), int(m_fen or 0), int(m_n or 0), grouped(O.channel), grouped(O.app_id)
    )


def _property(s: Session, day: date, now: datetime) -> PropertyFigures:
    from core.property.models import Bill
    from core.property.repairs.models import WorkOrder as W

    period = f"{day.year:04d}-{day.month:02d}"
    billed, collected = s.execute(
        select(func.sum(Bill.amount_fen - Bill.waived_fen), func.sum(Bill.paid_fen)).where(
            Bill.period == period
        )
    ).one()
    owed = Bill.amount_fen - Bill.paid_fen - Bill.waived_fen
    arrears, houses = s.execute(
        select(func.sum(owed), func.count(func.distinct(Bill.house_id))).where(
            Bill.status.in_(("unpaid", "partially_paid")), Bill.due_date < day
        )
    ).one()
    buckets = [0] * (len(AGE_BUCKETS_DAYS) + 1)
    # Bucketing by bounds in SQL keeps it one indexed pass: count orders created before each boundary.
    open_ = W.status.not_in(WORK_ORDER_DONE_STATES)
    older_than = [
        s.execute(
            select(func.count()).select_from(W).where(open_, W.created_at <= now - timedelta(days=d))
        ).scalar_one()
        for d in AGE_BUCKETS_DAYS
    ]
    total = s.execute(select(func.count()).select_from(W).where(open_)).scalar_one()
    bounds = [total, *older_than]
    for i in range(len(buckets)):
        buckets[i] = bounds[i] - (bounds[i + 1] if i + 1 < len(bounds) else 0)
    overdue = s.execute(select(func.count()).select_from(W).where(open_, W.complete_by < now)).scalar_one()
    return PropertyFigures(
        period, int(billed or 0), int(collected or 0), int(arrears or 0), int(houses or 0),
        tuple(buckets), int(overdue),
    )  # fmt: skip


def _sync(s: Session) -> SyncFigures:
    from core.sync.models import SyncRound, SyncState

    last = s.scalars(
        select(SyncRound).order_by(SyncRound.started_at.desc(), SyncRound.finished_at.desc()).limit(1)
    ).first()
    last_ok = s.scalars(
        select(SyncRound.finished_at)
        .where(SyncRound.status == "ok")
        .order_by(SyncRound.finished_at.desc())
        .limit(1)
    ).first()
    state = s.get(SyncState, 1)
    acked = state.acked_seq if state else 0
    return SyncFigures(
        last.status if last else None,
        last.finished_at if last else None,
        last_ok,
        pending_count(s, acked),
    )


def dashboard(ctx: Context) -> Dashboard:
    """The home dashboard in one read snapshot: collections (payments.view), property figures (property.view),
    pending approvals, last sync (sync.view) and alerts — each section only if the actor may see it."""
    from core.clock import today as business_today

    actor = ctx.actor
    now = ctx.clock.now()
    day = business_today(ctx.clock)
    alerts: list[Alert] = []
    with ctx.read() as s:
        collections = _collections(s, day) if actor.can("payments.view") else None
        prop = _property(s, day, now) if actor.can("property.view") else None
        approvals = _count(s, ApprovalInstance, ApprovalInstance.status == STATUS_PENDING)
        sync = _sync(s) if actor.can("sync.view") else None
        if actor.can("recon.view"):
            from core.payments.recon.models import ReconDifference

            n = _count(s, ReconDifference, ReconDifference.status == "open")
            if n:
                alerts.append(
                    Alert("recon", N_("{count} reconciliation differences are unresolved."), {"count": n})
                )
        if actor.can("payments.view"):
            from core.payments.models import PayNotification, PayOrder

            n = _count(s, PayNotification, PayNotification.status == "GAVE_UP")
            if n:
                alerts.append(
                    Alert("notify", N_("{count} notifications failed; re-send them."), {"count": n})
                )
            n = _count(s, PayOrder, PayOrder.status == "UNKNOWN")
            if n:
                alerts.append(Alert("unknown", N_("{count} payments have an unknown outcome."), {"count": n}))
    if prop is not None and prop.work_orders_overdue:
        alerts.append(
            Alert(
                "work_orders",
                N_("{count} work orders are past their deadline."),
                {"count": prop.work_orders_overdue},
            )
        )
    if sync is not None and sync.last_status == "failed":
        alerts.append(Alert("sync", N_("The last sync round failed."), {}))
    return Dashboard(now, day, collections, prop, approvals, sync, tuple(alerts))
