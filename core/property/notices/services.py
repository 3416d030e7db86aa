"""Notice use cases: draft, publish (resolve the residents in scope, queue their app pushes and SMS and the
notice-board posting through core.notify), withdraw, and each recipient's read status.

State machine: draft --publish--> published --withdraw--> withdrawn (terminal); draft --discard--> withdrawn.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, or_, select, update

from core.clock import business_date
from core.context import Context
from core.errors import ValidationError
from core.i18n import N_
from core.ids import new_id
from core.notify import services as notify
from core.notify.models import CHANNELS
from core.property.models import Building, Community, House, HouseOccupant, Owner
from core.property.notices.models import CATEGORIES, NOTICE_KINDS, SCOPES, Notice, NoticeRecipient
from core.property.ops import services as ops

PERM_VIEW = "property.notices.view"
PERM_MANAGE = "property.notices.manage"
PERM_READ = "property.notices.read"
OBJECT_TYPE = "prop_notice"
EVENT_CHANGED = "property.notice_changed"
TARGETS_MAX = 5000
TITLE_MAX_CHARS = 200
BODY_MAX_CHARS = 4000

MACHINE = ops.Machine(
    object_type=OBJECT_TYPE,
    transitions={
        "publish": (frozenset({"draft"}), "published"),
        "withdraw": (frozenset({"published"}), "withdrawn"),
        "discard": (frozenset({"draft"}), "withdrawn"),
    },
    terminal=frozenset({"withdrawn"}),
    event_type=EVENT_CHANGED,
)


@dataclass(frozen=True)
class NoticeView:
    id: uuid.UUID
    community_id: uuid.UUID
    kind: str
    category: str
    title: str
    body: str
    scope: str
    targets: list[str]
    channels: list[str]
    status: str
    version: int
    published_at: datetime | None
    recipients: int


@dataclass(frozen=True)
class ReadStatus:
    recipients: int
    read: int
    unread_owner_ids: list[uuid.UUID]


@dataclass(frozen=True)
class InboxItem:
    notice: NoticeView
    read_at: datetime | None


def _view(r: Notice) -> NoticeView:
    return NoticeView(
        r.id,
        r.community_id,
        r.kind,
        r.category,
        r.title,
        r.body,
        r.scope,
        list(r.targets),
        list(r.channels),
        r.status,
        r.version,
        r.published_at,
        r.recipients,
    )


def draft(
    ctx: Context,
    *,
    community_id: uuid.UUID,
    kind: str,
    category: str,
    title: str,
    body: str,
    scope: str = "community",
    targets: list[uuid.UUID] | None = None,
    channels: list[str] = ("app_push", "notice_board"),
) -> NoticeView:
    """A notice or announcement, not yet sent. `targets` are building ids or house ids for those scopes."""
    kind = ops.choice(kind, "kind", NOTICE_KINDS)
    category = ops.choice(category, "category", CATEGORIES)
    title = ops.text(title, "title", TITLE_MAX_CHARS)
    body = ops.text(body, "body", BODY_MAX_CHARS)
    scope = ops.choice(scope, "scope", SCOPES)
    chans = list(dict.fromkeys(channels or ()))
    if not chans:
        raise ValidationError(N_("Choose at least one way to send the notice."), field="channels")
    for c in chans:
        ops.choice(c, "channels", CHANNELS)
    ids = [ops.as_uuid(t, "Target") for t in (targets or ())]
    if scope == "community" and ids:
        raise ValidationError(N_("A notice to the whole community has no targets."), field="targets")
    if scope != "community" and not ids:
        raise ValidationError(N_("Choose the buildings or houses to send the notice to."), field="targets")
    if len(ids) > TARGETS_MAX:
        raise ValidationError(N_("At most {max} targets."), field="targets", max=TARGETS_MAX)
    with ctx.uow(PERM_MANAGE) as uow:
        s = uow.session
        community = ops.get_or_404(s, Community, community_id, "Community")
        if ids:
            model = Building if scope == "buildings" else House
            found = s.execute(
                select(func.count())
                .select_from(model)
                .where(model.id.in_(ids), model.community_id == community.id)
            ).scalar_one()
            if found != len(set(ids)):
                raise ValidationError(N_("Some targets are not in this community."), field="targets")
        row = Notice(
            id=new_id(),
            community_id=community.id,
            kind=kind,
            category=category,
            title=title,
            body=body,
            scope=scope,
            targets=[str(i) for i in dict.fromkeys(ids)],
            channels=chans,
            status="draft",
            version=1,
            created_at=uow.now,
            published_at=None,
            recipients=0,
        )
        s.add(row)
        s.flush()
        ops.record_change(uow, OBJECT_TYPE, row.id, "draft", None, "draft")
        view = _view(row)
        uow.audit(
            "prop_notice.draft", OBJECT_TYPE, row.id, after={"title": title, "scope": scope, "kind": kind}
        )
        uow.emit(EVENT_CHANGED, {**view.__dict__, "action": "draft"})
        return view


def _recipients(session, notice: Notice, on) -> list[tuple[uuid.UUID, uuid.UUID]]:
    """(owner_id, house_id) of everyone living in the notice's houses on date `on`, each owner once."""
    q = (
        select(HouseOccupant.owner_id, HouseOccupant.house_id)
        .join(House, House.id == HouseOccupant.house_id)
        .where(
            House.community_id == notice.community_id,
            HouseOccupant.move_in_date <= on,
            or_(HouseOccupant.move_out_date.is_(None), HouseOccupant.move_out_date > on),
        )
        .order_by(HouseOccupant.owner_id, House.code)
    )
    targets = [uuid.UUID(t) for t in notice.targets]
    if notice.scope == "buildings":
        q = q.where(House.building_id.in_(targets))
    elif notice.scope == "houses":
        q = q.where(House.id.in_(targets))
    seen: dict[uuid.UUID, uuid.UUID] = {}
    for owner_id, house_id in session.execute(q):
        seen.setdefault(owner_id, house_id)
    return list(seen.items())


def publish(ctx: Context, notice_id: uuid.UUID, *, expected_version: int | None = None) -> NoticeView:
    """Send the notice: one recipient row per resident in scope (for read status), their app pushes and SMS, and
    one notice-board posting per building (or for the community)."""
    with ctx.uow(PERM_MANAGE) as uow:
        s = uow.session
        row = ops.get_or_404(s, Notice, notice_id, "Notice")
        if expected_version is not None and expected_version != row.version:
            raise ValidationError(ops.CHANGED_MEANWHILE)
        MACHINE.target("publish", row.status)
        people = _recipients(s, row, business_date(uow.now))
        s.add_all(
            NoticeRecipient(id=new_id(), notice_id=row.id, owner_id=o, house_id=h, read_at=None)
            for o, h in people
        )
        subject = row.title
        text = row.body
        if "app_push" in row.channels:
            for owner_id, _ in people:
                notify.enqueue(
                    uow,
                    channel="app_push",
                    recipient=str(owner_id),
                    subject=subject,
                    body=text,
                    source_type=OBJECT_TYPE,
                    source_id=row.id,
                )
        if "sms" in row.channels and people:
            owners = s.execute(
                select(Owner.id, Owner.phone_enc).where(
                    Owner.id.in_([o for o, _ in people]), Owner.phone_enc.is_not(None)
                )
            ).all()
            sms = f"【{subject}】{text}"[: notify.SMS_BODY_MAX_CHARS]
            for owner_id, phone_enc in owners:
                notify.enqueue(
                    uow,
                    channel="sms",
                    recipient=str(owner_id),
                    subject=subject,
                    body=sms,
                    source_type=OBJECT_TYPE,
                    source_id=row.id,
                    address=ctx.pii.decrypt(phone_enc),
                )
        if "notice_board" in row.channels:
            if row.scope == "buildings":
                boards = [
                    f"{b.number}号楼"
                    for b in s.execute(
                        select(Building)
                        .where(Building.id.in_([uuid.UUID(t) for t in row.targets]))
                        .order_by(Building.number)
                    ).scalars()
                ]
            else:
                boards = [s.get(Community, row.community_id).name]
            for board in boards:
                notify.enqueue(
                    uow,
                    channel="notice_board",
                    recipient=board,
                    subject=subject,
                    body=text,
                    source_type=OBJECT_TYPE,
                    source_id=row.id,
                )
        ops.transition(
            uow,
            MACHINE,
            row,
            "publish",
            values={"published_at": uow.now, "recipients": len(people)},
            data={"recipients": len(people)},
            payload={"community_id": row.community_id, "title": row.title, "recipients": len(people)},
        )
        return _view(row)


def withdraw(ctx: Context, notice_id: uuid.UUID, reason: str) -> NoticeView:
    """Take a published notice down (or discard a draft); messages already sent stay sent."""
    reason = ops.text(reason, "reason")
    with ctx.uow(PERM_MANAGE) as uow:
        row = ops.get_or_404(uow.session, Notice, notice_id, "Notice")
        ops.transition(uow, MACHINE, row, "discard" if row.status == "draft" else "withdraw", reason=reason)
        return _view(row)


def mark_read(ctx: Context, notice_id: uuid.UUID, owner_id: uuid.UUID) -> datetime:
    """The resident opened the notice; the first read counts, later ones change nothing."""
    with ctx.uow(PERM_READ) as uow:
        s = uow.session
        rec = s.execute(
            select(NoticeRecipient).where(
                NoticeRecipient.notice_id == ops.as_uuid(notice_id, "Notice"),
                NoticeRecipient.owner_id == ops.as_uuid(owner_id, "Owner"),
            )
        ).scalar_one_or_none()
        if rec is None:
            raise ValidationError(N_("This notice was not sent to this resident."), field="owner_id")
        if rec.read_at is None:
            s.execute(
                update(NoticeRecipient)
                .where(NoticeRecipient.id == rec.id, NoticeRecipient.read_at.is_(None))
                .values(read_at=uow.now)
                .execution_options(synchronize_session=False)
            )
            s.refresh(rec)
            uow.emit(
                "property.notice_read",
                {"notice_id": rec.notice_id, "owner_id": rec.owner_id, "read_at": rec.read_at},
            )
        return rec.read_at


def read_status(ctx: Context, notice_id: uuid.UUID) -> ReadStatus:
    with ctx.read(PERM_VIEW) as s:
        row = ops.get_or_404(s, Notice, notice_id, "Notice")
        recs = s.execute(
            select(NoticeRecipient.owner_id, NoticeRecipient.read_at)
            .where(NoticeRecipient.notice_id == row.id)
            .order_by(NoticeRecipient.owner_id)
        ).all()
    return ReadStatus(len(recs), sum(1 for _, r in recs if r is not None), [o for o, r in recs if r is None])


def inbox(ctx: Context, owner_id: uuid.UUID, *, limit: int = 100) -> list[InboxItem]:
    """A resident's published notices, newest first, with when they read each."""
    limit = ops.whole(limit, "limit", minimum=1, maximum=1000)
    with ctx.read(PERM_VIEW) as s:
        rows = s.execute(
            select(Notice, NoticeRecipient.read_at)
            .join(NoticeRecipient, NoticeRecipient.notice_id == Notice.id)
            .where(NoticeRecipient.owner_id == owner_id, Notice.status == "published")
            .order_by(Notice.published_at.desc(), Notice.id.desc())
            .limit(limit)
        ).all()
        return [InboxItem(_view(n), r) for n, r in rows]


def list_notices(
    ctx: Context, community_id: uuid.UUID, *, status: str | None = None, limit: int = 100
) -> list[NoticeView]:
    limit = ops.whole(limit, "limit", minimum=1, maximum=1000)
    with ctx.read(PERM_VIEW) as s:
        q = (
            select(Notice)
            .where(Notice.community_id == community_id)
            .order_by(Notice.created_at.desc(), Notice.id.desc())
            .limit(limit)
        )
        if status is not None:
            q = q.where(Notice.status == status)
        return [_view(n) for n in s.execute(q).scalars()]
