"""Arrears reminders (催缴): each community's schedule (N days before the due date, N days after it, every N
days while in arrears), a stop list of houses and owners not to remind, and the daily run that queues app pushes
and SMS through the notification outbox and records printed notices (催缴通知单).

Every reminder sent is a row of the house's history, unique per (house, day, channel, recipient): running the
job twice on the same day sends nothing twice, and "every N days" counts from the house's last reminder.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from sqlalchemy import and_, func, insert, or_, select, update
from sqlalchemy.orm import Session

from core.clock import today
from core.context import Context
from core.errors import Conflict, ValidationError
from core.i18n import N_, gettext, translate
from core.ids import new_id, new_ids
from core.money import format_fen
from core.notify import services as notify
from core.property.models import (
    REMINDER_CHANNELS,
    REMINDER_KINDS,
    Bill,
    Community,
    House,
    HouseOccupant,
    Owner,
    ReminderSchedule,
    ReminderSent,
    ReminderStop,
)
from core.property.services import PERM_VIEW, _get, text
from core.uow import UnitOfWork

PERM_MANAGE = "property.reminders.manage"
PERM_SEND = "property.reminders.send"
SOURCE_TYPE = "prop_reminder"
DAYS_MAX = 366
REASON_MAX = 400
HISTORY_MAX = 1000
WRITE_CHUNK = 5000
SUBJECT = N_("Property fee reminder")
OVERDUE_TEXT = N_(
    "House {house}: {amount} of property fees is overdue since {since}. "
    "Please pay at the property office or in the app."
)
UPCOMING_TEXT = N_("House {house}: {amount} of property fees is due on {due}. Please pay in time.")
PRINTED_TITLE = "催缴通知单"


# ---------------------------------------------------------------------------------------------------------
# The rule (pure)


def firing_rules(
    on: date,
    dues: Sequence[tuple[date, int]],
    rules: Sequence[tuple[str, int]],
    last_reminded: date | None,
) -> list[tuple[str, int]]:
    """Which schedule rules (kind, days) remind a house on `on`, given its unsettled bills (due date, owed fen)
    and the day it was last reminded (before `on`).

    before_due N: a bill falls due exactly N days from `on`; after_due N: a bill fell due exactly N days ago;
    every N: something is overdue and the last reminder is at least N days old (or there was none).
    """
    owed_dues = [d for d, owed in dues if owed > 0]
    overdue = any(d < on for d in owed_dues)
    out = []
    for kind, days in rules:
        if kind == "before_due":
            fires = any(d == on + timedelta(days=days) for d in owed_dues)
        elif kind == "after_due":
            fires = any(d == on - timedelta(days=days) for d in owed_dues)
        else:
            fires = overdue and (last_reminded is None or (on - last_reminded).days >= days)
        if fires:
            out.append((kind, days))
    return out


# ---------------------------------------------------------------------------------------------------------
# Schedules


@dataclass(frozen=True)
class ScheduleView:
    id: uuid.UUID
    community_id: uuid.UUID
    kind: str
    days: int
    channels: tuple[str, ...]
    active: bool

    def to_dict(self) -> dict:
        return {
            "id": str(self.id), "community_id": str(self.community_id), "kind": self.kind, "days": self.days,
            "channels": list(self.channels), "active": self.active,
        }  # fmt: skip


def _schedule_view(r: ReminderSchedule) -> ScheduleView:
    return ScheduleView(r.id, r.community_id, r.kind, r.days, tuple(r.channels), r.active)


def set_schedule(
    ctx: Context,
    community_id: uuid.UUID,
    kind: str,
    days: int,
    channels: Sequence[str],
    *,
    active: bool = True,
) -> ScheduleView:
    """Add or change one rule of a community's schedule (one per kind and number of days); `active=False` stops it."""
    if kind not in REMINDER_KINDS:
        raise ValidationError(N_("A reminder is before_due, after_due or every."), field="kind")
    if isinstance(days, bool) or not isinstance(days, int) or not 1 <= days <= DAYS_MAX:
        raise ValidationError(N_("Days are a whole number from 1 to {max}."), field="days", max=DAYS_MAX)
    chosen = tuple(dict.fromkeys(channels))
    if not chosen or any(c not in REMINDER_CHANNELS for c in chosen):
        raise ValidationError(N_("Choose the channels: app_push, sms, printed."), field="channels")
    with ctx.uow(PERM_MANAGE) as uow:
        s = uow.session
        _get(s, Community, community_id, "community")
        row = s.execute(
            select(ReminderSchedule).where(
                ReminderSchedule.community_id == community_id,
                ReminderSchedule.kind == kind,
                ReminderSchedule.days == days,
            )
        ).scalar_one_or_none()
        if row is None:
            row = ReminderSchedule(id=new_id(), community_id=community_id, kind=kind, days=days)
            s.add(row)
        row.channels, row.active = list(chosen), bool(active)
        row.updated_by, row.updated_at = ctx.actor.username, uow.now
        s.flush()
        view = _schedule_view(row)
        uow.audit("property.reminder_schedule", "prop_reminder_schedule", row.id, after=view.to_dict())
        uow.emit("property.reminder_schedule_set", view.to_dict())
        return view


def list_schedules(ctx: Context, community_id: uuid.UUID | None = None) -> list[ScheduleView]:
    q = select(ReminderSchedule).order_by(
        ReminderSchedule.community_id, ReminderSchedule.kind, ReminderSchedule.days
    )
    if community_id is not None:
        q = q.where(ReminderSchedule.community_id == community_id)
    with ctx.read(PERM_VIEW) as s:
        return [_schedule_view(r) for r in s.execute(q).scalars()]


# ---------------------------------------------------------------------------------------------------------
# Stop list


@dataclass(frozen=True)
class StopView:
    id: uuid.UUID
    house_id: uuid.UUID | None
    owner_id: uuid.UUID | None
    target: str  # the house code or the owner's name
    reason: str
    until: date | None
    created_by: str
    removed: bool

    def to_dict(self) -> dict:
        return {
            "id": str(self.id), "house_id": str(self.house_id) if self.house_id else None,
            "owner_id": str(self.owner_id) if self.owner_id else None, "target": self.target, "reason": self.reason,
            "until": self.until.isoformat() if self.until else None, "created_by": self.created_by,
            "removed": self.removed,
        }  # fmt: skip


def _stop_view(s: Session, r: ReminderStop) -> StopView:
    if r.house_id is not None:
        target = s.execute(select(House.code).where(House.id == r.house_id)).scalar_one()
    else:
        target = s.execute(select(Owner.name).where(Owner.id == r.owner_id)).scalar_one()
    return StopView(
        r.id, r.house_id, r.owner_id, target, r.reason, r.until, r.created_by, r.removed_at is not None
    )


def _active(on: date):
    return and_(
        ReminderStop.removed_at.is_(None), or_(ReminderStop.until.is_(None), ReminderStop.until >= on)
    )


def add_stop(
    ctx: Context,
    *,
    house_id: uuid.UUID | None = None,
    owner_id: uuid.UUID | None = None,
    reason: str,
    until: date | None = None,
) -> StopView:
    """Put a house or an owner on the stop list (免催), with the reason and optionally the last day it holds."""
    if (house_id is None) == (owner_id is None):
        raise ValidationError(N_("Choose a house or an owner."), field="target")
    reason = text(reason, "reason", REASON_MAX)
    on = today(ctx.clock)
    if until is not None and until < on:
        raise ValidationError(N_("The end date is in the past."), field="until")
    with ctx.uow(PERM_MANAGE) as uow:
        s = uow.session
        if house_id is not None:
            _get(s, House, house_id, "house")
            same = ReminderStop.house_id == house_id
        else:
            _get(s, Owner, owner_id, "owner")
            same = ReminderStop.owner_id == owner_id
        if s.execute(select(ReminderStop.id).where(same, _active(on))).first():
            raise Conflict(N_("This house or owner is already on the stop list."))
        row = ReminderStop(
            id=new_id(), house_id=house_id, owner_id=owner_id, reason=reason, until=until,
            created_by=ctx.actor.username, created_at=uow.now,
        )  # fmt: skip
        s.add(row)
        s.flush()
        view = _stop_view(s, row)
        uow.audit("property.reminder_stop_add", "prop_reminder_stop", row.id, after=view.to_dict())
        uow.emit("property.reminder_stop_added", view.to_dict())
        return view


def remove_stop(ctx: Context, stop_id: uuid.UUID) -> StopView:
    """Take an entry off the stop list (it stays in the record, marked removed)."""
    with ctx.uow(PERM_MANAGE) as uow:
        s = uow.session
        row = _get(s, ReminderStop, stop_id, "stop list entry")
        done = s.execute(
            update(ReminderStop)
            .where(ReminderStop.id == row.id, ReminderStop.removed_at.is_(None))
            .values(removed_at=uow.now, removed_by=ctx.actor.username)
            .execution_options(synchronize_session=False)
        )
        if done.rowcount != 1:
            raise Conflict(N_("This entry was already taken off the stop list."))
        s.refresh(row)
        view = _stop_view(s, row)
        uow.audit("property.reminder_stop_remove", "prop_reminder_stop", row.id, after=view.to_dict())
        uow.emit("property.reminder_stop_removed", view.to_dict())
        return view


def list_stops(ctx: Context, *, on: date | None = None, include_ended: bool = False) -> list[StopView]:
    """The stop list in force on `on` (default today), or every entry ever made with `include_ended`."""
    q = select(ReminderStop).order_by(ReminderStop.created_at)
    if not include_ended:
        q = q.where(_active(on or today(ctx.clock)))
    with ctx.read(PERM_VIEW) as s:
        return [_stop_view(s, r) for r in s.execute(q).scalars()]


# ---------------------------------------------------------------------------------------------------------
# The daily run


@dataclass(frozen=True)
class _Planned:
    house_id: uuid.UUID
    community_id: uuid.UUID
    channel: str
    recipient: str
    phone_enc: bytes | None  # decrypted only when the SMS is queued
    kind: str
    owed_fen: int
    body: str


@dataclass
class RunResult:
    """What a run sent (or, dry, would send): houses reminded, messages per channel, and what it left out."""

    on: date
    dry_run: bool
    houses: int = 0
    messages: int = 0
    by_channel: dict[str, int] = field(default_factory=lambda: dict.fromkeys(REMINDER_CHANNELS, 0))
    stopped: int = 0  # reminders left out because of the stop list
    already_sent: int = 0  # sent earlier the same day
    no_phone: int = 0  # SMS left out: the owner has no phone number

    def to_dict(self) -> dict:
        return {
            "date": self.on.isoformat(), "dry_run": self.dry_run, "houses": self.houses, "messages": self.messages,
            "by_channel": dict(self.by_channel), "stopped": self.stopped, "already_sent": self.already_sent,
            "no_phone": self.no_phone,
        }  # fmt: skip


def _plan(
    ctx: Context, s: Session, on: date, community_id: uuid.UUID | None, result: RunResult
) -> list[_Planned]:
    q = select(ReminderSchedule).where(ReminderSchedule.active.is_(True))
    if community_id is not None:
        q = q.where(ReminderSchedule.community_id == community_id)
    rules_of: dict[uuid.UUID, list[ReminderSchedule]] = defaultdict(list)
    for r in s.execute(q).scalars():
        rules_of[r.community_id].append(r)
    if not rules_of:
        return []
    communities = list(rules_of)
    horizon = on + timedelta(
        days=max((r.days for rs in rules_of.values() for r in rs if r.kind == "before_due"), default=0)
    )
    owed = Bill.amount_fen - Bill.paid_fen - Bill.waived_fen
    dues: dict[uuid.UUID, list[tuple[date, int]]] = defaultdict(list)
    community_of: dict[uuid.UUID, uuid.UUID] = {}
    for house_id, cid, due, amount in s.execute(
        select(Bill.house_id, Bill.community_id, Bill.due_date, func.sum(owed))
        .where(Bill.community_id.in_(communities), Bill.status.in_(("unpaid", "partially_paid")), Bill.due_date <= horizon)
        .group_by(Bill.house_id, Bill.community_id, Bill.due_date)
    ):  # fmt: skip
        due = due if isinstance(due, date) else date.fromisoformat(str(due))
        dues[house_id].append((due, int(amount or 0)))
        community_of[house_id] = cid
    if not dues:
        return []
    last = dict(
        s.execute(
            select(ReminderSent.house_id, func.max(ReminderSent.on_date))
            .where(ReminderSent.community_id.in_(communities), ReminderSent.on_date < on)
            .group_by(ReminderSent.house_id)
        ).all()
    )
    sent_today = set(
        s.execute(
            select(ReminderSent.house_id, ReminderSent.channel, ReminderSent.recipient).where(
                ReminderSent.community_id.in_(communities), ReminderSent.on_date == on
            )
        ).all()
    )
    stopped_houses, stopped_owners = set(), set()
    for h, o in s.execute(select(ReminderStop.house_id, ReminderStop.owner_id).where(_active(on))):
        (stopped_houses if h is not None else stopped_owners).add(h if h is not None else o)
    owners: dict[uuid.UUID, list[tuple[uuid.UUID, bytes | None]]] = defaultdict(list)
    for house_id, owner_id, phone_enc in s.execute(
        select(HouseOccupant.house_id, Owner.id, Owner.phone_enc)
        .join(Owner, Owner.id == HouseOccupant.owner_id)
        .join(House, House.id == HouseOccupant.house_id)
        .where(House.community_id.in_(communities), HouseOccupant.relation == "owner", HouseOccupant.move_in_date <= on,
               or_(HouseOccupant.move_out_date.is_(None), HouseOccupant.move_out_date > on))
        .order_by(HouseOccupant.house_id, HouseOccupant.share_bp.desc(), Owner.id)
    ):  # fmt: skip
        owners[house_id].append((owner_id, phone_enc))
    codes = dict(s.execute(select(House.id, House.code).where(House.community_id.in_(communities))).all())
    rule_keys = {cid: [(r.kind, r.days) for r in rs] for cid, rs in rules_of.items()}
    channels_of = {cid: {(r.kind, r.days): set(r.channels) for r in rs} for cid, rs in rules_of.items()}
    overdue_text, upcoming_text = gettext(OVERDUE_TEXT), gettext(UPCOMING_TEXT)
    planned: list[_Planned] = []
    for house_id in sorted(dues, key=lambda h: codes.get(h, "")):
        cid = community_of[house_id]
        house_dues = dues[house_id]
        fired = firing_rules(on, house_dues, rule_keys[cid], _as_date(last.get(house_id)))
        if not fired:
            continue
        wanted_channels = set().union(*(channels_of[cid][f] for f in fired))
        channels = [c for c in REMINDER_CHANNELS if c in wanted_channels]
        if house_id in stopped_houses:
            result.stopped += len(channels)
            continue
        people = owners.get(house_id, [])
        reachable = [(o, p) for o, p in people if o not in stopped_owners]
        result.stopped += (len(people) - len(reachable)) * sum(c != "printed" for c in channels)
        wanted: list[tuple[str, str, bytes | None]] = []
        for channel in channels:
            if channel == "printed":
                if people and not reachable:
                    result.stopped += 1
                else:
                    wanted.append((channel, codes[house_id], None))
            elif channel == "app_push":
                wanted.extend((channel, str(o), None) for o, _p in reachable)
            else:
                for o, p in reachable:
                    if p is None:
                        result.no_phone += 1
                    else:
                        wanted.append((channel, str(o), p))
        fresh = [w for w in wanted if (house_id, w[0], w[1]) not in sent_today]
        result.already_sent += len(wanted) - len(fresh)
        if not fresh:
            continue
        kind = next((k for k, _d in fired if k != "before_due"), "before_due")
        overdue = [(d, a) for d, a in house_dues if d < on and a > 0]
        if overdue:
            amount = sum(a for _d, a in overdue)
            since = min(d for d, _a in overdue).isoformat()
            body = overdue_text.format(house=codes[house_id], amount=format_fen(amount), since=since)
        else:
            upcoming = [(d, a) for d, a in house_dues if d >= on and a > 0]
            amount = sum(a for _d, a in upcoming)
            due = min(d for d, _a in upcoming).isoformat()
            body = upcoming_text.format(house=codes[house_id], amount=format_fen(amount), due=due)
        for channel, recipient, phone_enc in fresh:
            text_ = f"{PRINTED_TITLE}\n{body}" if channel == "printed" else body
            planned.append(_Planned(house_id, cid, channel, recipient, phone_enc, kind, amount, text_))
            result.by_channel[channel] += 1
        result.houses += 1
    result.messages = len(planned)
    return planned


def _as_date(value: object) -> date | None:
    if value is None or isinstance(value, date):
        return value
    return date.fromisoformat(str(value)[:10])


def run_reminders(
    ctx: Context, on: date | None = None, *, community_id: uuid.UUID | None = None, dry_run: bool = False
) -> RunResult:
    """Remind the houses whose schedules fire on `on` (default today); a dry run writes nothing.

    App pushes and SMS are queued in the notification outbox (delivered by `core.notify.deliver_pending`);
    printed notices are kept in the history for printing (`printed_notices`).
    """
    on = on or today(ctx.clock)
    result = RunResult(on, dry_run)
    if dry_run:
        with ctx.read(PERM_SEND) as s:
            _plan(ctx, s, on, community_id, result)
        return result
    with ctx.uow(PERM_SEND) as uow:
        planned = _plan(ctx, uow.session, on, community_id, result)
        _write(uow, on, planned)
        summary = result.to_dict()
        uow.audit("property.reminders_run", "prop_reminder_run", on.isoformat(), after=summary)
        uow.emit("property.reminders_sent", summary)
    return result


def _write(uow: UnitOfWork, on: date, planned: list[_Planned]) -> None:
    subject = translate(SUBJECT)
    rows = []
    # By channel: the outbox rows of one channel share their columns, so the flush batches them (executemany).
    planned = sorted(planned, key=lambda p: REMINDER_CHANNELS.index(p.channel))
    ids = new_ids(len(planned))
    sent = [(p, rid) for p, rid in zip(planned, ids, strict=True) if p.channel != "printed"]
    message_ids = notify.enqueue_many(
        uow,
        [
            notify.NewMessage(
                channel=p.channel, recipient=p.recipient, subject=subject, body=p.body[: notify.SMS_BODY_MAX_CHARS],
                source_type=SOURCE_TYPE, source_id=rid,
                address=uow.ctx.pii.decrypt(p.phone_enc) if p.phone_enc is not None else None,
            )
            for p, rid in sent
        ],
    )  # fmt: skip
    message_of = {rid: mid for (_p, rid), mid in zip(sent, message_ids, strict=True)}
    for p, rid in zip(planned, ids, strict=True):
        rows.append({
            "id": rid, "house_id": p.house_id, "community_id": p.community_id, "on_date": on, "channel": p.channel,
            "recipient": p.recipient, "kind": p.kind, "owed_fen": p.owed_fen, "body": p.body[:1000],
            "message_id": message_of.get(rid), "created_at": uow.now,
        })  # fmt: skip
    uow.session.flush()  # the outbox messages first; the history rows go in one executemany per chunk
    for i in range(0, len(rows), WRITE_CHUNK):
        uow.session.execute(insert(ReminderSent.__table__), rows[i : i + WRITE_CHUNK])


@dataclass(frozen=True)
class SentView:
    on_date: date
    channel: str
    recipient: str
    kind: str
    owed_fen: int
    body: str
    created_at: datetime


def history(ctx: Context, house_id: uuid.UUID, *, limit: int = HISTORY_MAX) -> list[SentView]:
    """What reminders a house was sent, newest first."""
    with ctx.read(PERM_VIEW) as s:
        _get(s, House, house_id, "house")
        rows = s.execute(
            select(ReminderSent).where(ReminderSent.house_id == house_id)
            .order_by(ReminderSent.on_date.desc(), ReminderSent.channel, ReminderSent.recipient)
            .limit(max(1, min(limit, HISTORY_MAX)))
        ).scalars()  # fmt: skip
        return [
            SentView(r.on_date, r.channel, r.recipient, r.kind, r.owed_fen, r.body, r.created_at)
            for r in rows
        ]


def printed_notices(
    ctx: Context, on: date, community_id: uuid.UUID | None = None
) -> list[tuple[str, int, str]]:
    """The printed notices (催缴通知单) of a day's run: (house code, owed fen, text), by house code."""
    q = (
        select(House.code, ReminderSent.owed_fen, ReminderSent.body)
        .join(House, House.id == ReminderSent.house_id)
        .where(ReminderSent.on_date == on, ReminderSent.channel == "printed")
        .order_by(House.code)
    )
    if community_id is not None:
        q = q.where(ReminderSent.community_id == community_id)
    with ctx.read(PERM_VIEW) as s:
        return [(code, int(owed), body) for code, owed, body in s.execute(q).all()]
