"""Complaint tickets and suggestions.

Complaint: submitted --accept--> accepted --assign--> assigned --handle--> handling --reply--> replied;
replied --confirm--> closed (the owner is satisfied); replied --reopen--> accepted (not satisfied: back in the
queue); assigned --assign--> assigned (reassign); submitted|accepted --cancel--> cancelled.
Suggestion: submitted --evaluate--> evaluating --adopt--> adopted | --decline--> declined (a reason is required).
closed, cancelled, adopted and declined are terminal.
"""

from __future__ import annotations

import uuid
from collections import Counter
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select

from core.clock import business_date
from core.context import Context
from core.errors import ValidationError
from core.i18n import N_
from core.ids import new_id
from core.numbering import next_document_no
from core.property.complaints.models import Complaint, Suggestion
from core.property.models import Community, House, Owner
from core.property.ops import services as ops

PERM_VIEW = "property.complaints.view"
PERM_SUBMIT = "property.complaints.submit"
PERM_HANDLE = "property.complaints.handle"
PERM_CONFIRM = "property.complaints.confirm"
OBJ_COMPLAINT = "prop_complaint"
OBJ_SUGGESTION = "prop_suggestion"
EVENT_COMPLAINT = "property.complaint_changed"
EVENT_SUGGESTION = "property.suggestion_changed"
CATEGORIES = ("service", "environment", "security", "noise", "facility", "fee", "neighbour", "other")

COMPLAINT_MACHINE = ops.Machine(
    object_type=OBJ_COMPLAINT,
    transitions={
        "accept": (frozenset({"submitted"}), "accepted"),
        "assign": (frozenset({"accepted", "assigned"}), "assigned"),
        "handle": (frozenset({"assigned"}), "handling"),
        "reply": (frozenset({"handling"}), "replied"),
        "confirm": (frozenset({"replied"}), "closed"),
        "reopen": (frozenset({"replied"}), "accepted"),
        "cancel": (frozenset({"submitted", "accepted"}), "cancelled"),
    },
    terminal=frozenset({"closed", "cancelled"}),
    event_type=EVENT_COMPLAINT,
)
SUGGESTION_MACHINE = ops.Machine(
    object_type=OBJ_SUGGESTION,
    transitions={
        "evaluate": (frozenset({"submitted"}), "evaluating"),
        "adopt": (frozenset({"submitted", "evaluating"}), "adopted"),
        "decline": (frozenset({"submitted", "evaluating"}), "declined"),
    },
    terminal=frozenset({"adopted", "declined"}),
    event_type=EVENT_SUGGESTION,
)


@dataclass(frozen=True)
class ComplaintView:
    id: uuid.UUID
    number: str
    community_id: uuid.UUID
    house_id: uuid.UUID | None
    owner_id: uuid.UUID | None
    category: str
    content: str
    status: str
    version: int
    handler: str | None
    reply: str | None
    reopen_count: int
    created_at: datetime
    closed_at: datetime | None
    allowed_actions: list[str]


@dataclass(frozen=True)
class SuggestionView:
    id: uuid.UUID
    community_id: uuid.UUID
    owner_id: uuid.UUID | None
    title: str
    content: str
    status: str
    version: int
    evaluator: str | None
    decision: str | None
    decided_at: datetime | None


def _cview(r: Complaint) -> ComplaintView:
    return ComplaintView(
        r.id,
        r.number,
        r.community_id,
        r.house_id,
        r.owner_id,
        r.category,
        r.content,
        r.status,
        r.version,
        r.handler,
        r.reply,
        r.reopen_count,
        r.created_at,
        r.closed_at,
        COMPLAINT_MACHINE.allowed(r.status),
    )


def _sview(r: Suggestion) -> SuggestionView:
    return SuggestionView(
        r.id,
        r.community_id,
        r.owner_id,
        r.title,
        r.content,
        r.status,
        r.version,
        r.evaluator,
        r.decision,
        r.decided_at,
    )


def submit_complaint(
    ctx: Context,
    *,
    community_id: uuid.UUID,
    category: str,
    content: str,
    house_id: uuid.UUID | None = None,
    owner_id: uuid.UUID | None = None,
) -> ComplaintView:
    """An owner's complaint (投诉), opened as a ticket."""
    category = ops.choice(category, "category", CATEGORIES)
    content = ops.text(content, "content")
    with ctx.uow(PERM_SUBMIT) as uow:
        s = uow.session
        community = ops.get_or_404(s, Community, community_id, "Community")
        if house_id is not None and ops.get_or_404(s, House, house_id, "House").community_id != community.id:
            raise ValidationError(N_("The house is not in this community."), field="house_id")
        if owner_id is not None:
            ops.get_or_404(s, Owner, owner_id, "Owner")
        row = Complaint(
            id=new_id(),
            number=next_document_no(uow, "TS", business_date(uow.now).year),
            community_id=community.id,
            house_id=None if house_id is None else ops.as_uuid(house_id, "House"),
            owner_id=None if owner_id is None else ops.as_uuid(owner_id, "Owner"),
            category=category,
            content=content,
            status="submitted",
            version=1,
            reopen_count=0,
            created_at=uow.now,
        )
        s.add(row)
        s.flush()
        ops.record_change(uow, OBJ_COMPLAINT, row.id, "submit", None, "submitted")
        uow.audit(
            "prop_complaint.submit", OBJ_COMPLAINT, row.id, after={"number": row.number, "category": category}
        )
        uow.emit(
            EVENT_COMPLAINT,
            {
                "id": row.id,
                "action": "submit",
                "status": "submitted",
                "number": row.number,
                "community_id": row.community_id,
                "category": category,
                "version": 1,
            },
        )
        return _cview(row)


def _complaint_move(
    ctx, perm, complaint_id, action, *, reason=None, values=None, data=None, expected_version=None
) -> ComplaintView:
    with ctx.uow(perm) as uow:
        row = ops.get_or_404(uow.session, Complaint, complaint_id, "Complaint")
        if expected_version is not None and expected_version != row.version:
            raise ValidationError(ops.CHANGED_MEANWHILE)
        vals = values(uow, row) if callable(values) else values
        ops.transition(
            uow,
            COMPLAINT_MACHINE,
            row,
            action,
            reason=reason,
            values=vals,
            data=data,
            payload={"number": row.number},
        )
        return _cview(row)


def accept(ctx: Context, complaint_id: uuid.UUID) -> ComplaintView:
    return _complaint_move(
        ctx,
        PERM_HANDLE,
        complaint_id,
        "accept",
        values=lambda uow, row: {"accepted_at": row.accepted_at or uow.now},
    )


def assign(ctx: Context, complaint_id: uuid.UUID, handler: str) -> ComplaintView:
    handler = ops.text(handler, "handler", 80)
    return _complaint_move(
        ctx, PERM_HANDLE, complaint_id, "assign", values={"handler": handler}, data={"handler": handler}
    )


def handle(ctx: Context, complaint_id: uuid.UUID, note: str | None = None) -> ComplaintView:
    """The handler starts working on it."""
    return _complaint_move(
        ctx, PERM_HANDLE, complaint_id, "handle", reason=ops.text(note, "note", required=False)
    )


def reply(ctx: Context, complaint_id: uuid.UUID, text: str) -> ComplaintView:
    """The answer to the owner (what was found and done)."""
    text = ops.text(text, "reply")
    return _complaint_move(
        ctx,
        PERM_HANDLE,
        complaint_id,
        "reply",
        reason=text,
        values=lambda uow, row: {"reply": text, "replied_at": uow.now},
    )


def confirm(ctx: Context, complaint_id: uuid.UUID, comment: str | None = None) -> ComplaintView:
    """The owner accepts the reply; the ticket closes."""
    return _complaint_move(
        ctx,
        PERM_CONFIRM,
        complaint_id,
        "confirm",
        reason=ops.text(comment, "comment", required=False),
        values=lambda uow, row: {"closed_at": uow.now},
    )


def reopen(ctx: Context, complaint_id: uuid.UUID, reason: str) -> ComplaintView:
    """The owner is not satisfied: the ticket goes back to the queue (a reason is required)."""
    reason = ops.text(reason, "reason")
    return _complaint_move(
        ctx,
        PERM_CONFIRM,
        complaint_id,
        "reopen",
        reason=reason,
        values=lambda uow, row: {"reopen_count": row.reopen_count + 1, "handler": None},
    )


def cancel(ctx: Context, complaint_id: uuid.UUID, reason: str) -> ComplaintView:
    reason = ops.text(reason, "reason")
    return _complaint_move(
        ctx,
        PERM_SUBMIT,
        complaint_id,
        "cancel",
        reason=reason,
        values=lambda uow, row: {"closed_at": uow.now},
    )


def complaint_trail(ctx: Context, complaint_id: uuid.UUID) -> list[ops.ChangeView]:
    with ctx.read(PERM_VIEW) as s:
        row = ops.get_or_404(s, Complaint, complaint_id, "Complaint")
        return ops.history(s, OBJ_COMPLAINT, row.id)


def list_complaints(
    ctx: Context, community_id: uuid.UUID, *, status: str | None = None, limit: int = 200
) -> list[ComplaintView]:
    limit = ops.whole(limit, "limit", minimum=1, maximum=1000)
    with ctx.read(PERM_VIEW) as s:
        q = (
            select(Complaint)
            .where(Complaint.community_id == community_id)
            .order_by(Complaint.created_at.desc(), Complaint.id.desc())
            .limit(limit)
        )
        if status is not None:
            q = q.where(Complaint.status == status)
        return [_cview(r) for r in s.execute(q).scalars()]


def complaint_statistics(ctx: Context, community_id: uuid.UUID) -> dict[str, dict[str, int]]:
    """Counts by status and by category."""
    with ctx.read(PERM_VIEW) as s:
        rows = s.execute(
            select(Complaint.status, Complaint.category).where(Complaint.community_id == community_id)
        ).all()
    return {"by_status": dict(Counter(r[0] for r in rows)), "by_category": dict(Counter(r[1] for r in rows))}


# --- suggestions -----------------------------------------------------------------------------------------


def submit_suggestion(
    ctx: Context, *, community_id: uuid.UUID, title: str, content: str, owner_id: uuid.UUID | None = None
) -> SuggestionView:
    title = ops.text(title, "title", 200)
    content = ops.text(content, "content")
    with ctx.uow(PERM_SUBMIT) as uow:
        s = uow.session
        community = ops.get_or_404(s, Community, community_id, "Community")
        if owner_id is not None:
            ops.get_or_404(s, Owner, owner_id, "Owner")
        row = Suggestion(
            id=new_id(),
            community_id=community.id,
            owner_id=None if owner_id is None else ops.as_uuid(owner_id, "Owner"),
            title=title,
            content=content,
            status="submitted",
            version=1,
            created_at=uow.now,
        )
        s.add(row)
        s.flush()
        ops.record_change(uow, OBJ_SUGGESTION, row.id, "submit", None, "submitted")
        uow.audit("prop_suggestion.submit", OBJ_SUGGESTION, row.id, after={"title": title})
        uow.emit(
            EVENT_SUGGESTION,
            {
                "id": row.id,
                "action": "submit",
                "status": "submitted",
                "title": title,
                "community_id": row.community_id,
                "version": 1,
            },
        )
        return _sview(row)


def _suggestion_move(ctx, suggestion_id, action, *, reason=None, values=None) -> SuggestionView:
    with ctx.uow(PERM_HANDLE) as uow:
        row = ops.get_or_404(uow.session, Suggestion, suggestion_id, "Suggestion")
        vals = values(uow, row) if callable(values) else values
        ops.transition(uow, SUGGESTION_MACHINE, row, action, reason=reason, values=vals)
        return _sview(row)


def evaluate(ctx: Context, suggestion_id: uuid.UUID, note: str | None = None) -> SuggestionView:
    me = ctx.actor.username
    return _suggestion_move(
        ctx,
        suggestion_id,
        "evaluate",
        reason=ops.text(note, "note", required=False),
        values={"evaluator": me},
    )


def adopt(ctx: Context, suggestion_id: uuid.UUID, note: str | None = None) -> SuggestionView:
    note = ops.text(note, "note", required=False)
    me = ctx.actor.username
    return _suggestion_move(
        ctx,
        suggestion_id,
        "adopt",
        reason=note,
        values=lambda uow, row: {"decision": note, "decided_at": uow.now, "evaluator": row.evaluator or me},
    )


def decline(ctx: Context, suggestion_id: uuid.UUID, reason: str) -> SuggestionView:
    reason = ops.text(reason, "reason")
    me = ctx.actor.username
    return _suggestion_move(
        ctx,
        suggestion_id,
        "decline",
        reason=reason,
        values=lambda uow, row: {"decision": reason, "decided_at": uow.now, "evaluator": row.evaluator or me},
    )


def list_suggestions(
    ctx: Context, community_id: uuid.UUID, *, status: str | None = None
) -> list[SuggestionView]:
    with ctx.read(PERM_VIEW) as s:
        q = (
            select(Suggestion)
            .where(Suggestion.community_id == community_id)
            .order_by(Suggestion.created_at.desc(), Suggestion.id.desc())
            .limit(1000)
        )
        if status is not None:
            q = q.where(Suggestion.status == status)
        return [_sview(r) for r in s.execute(q).scalars()]
