"""The machinery every property-operations state machine uses, and the pending charges handed to the payment hub.

A `Machine` is an explicit table: action → (states it may start from, state it leads to). `transition()` checks
the table, moves the row with a compare-and-set on (status, version), writes the history row (who, when, why),
the audit record and the outbox event, all in the caller's unit of work. Terminal states never change.
"""

from __future__ import annotations

import hashlib
import json
import re
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from core.errors import NotFound, StateError, ValidationError
from core.i18n import N_
from core.ids import new_id
from core.jsonutil import canonical_json
from core.property.ops.models import (
    CHARGE_CANCELLED,
    CHARGE_PAID,
    CHARGE_PENDING,
    CHARGE_REFUND_DUE,
    PendingCharge,
    StatusChange,
)

if TYPE_CHECKING:
    from core.context import Context
    from core.uow import UnitOfWork

TEXT_MAX_CHARS = 2000
NAME_MAX_CHARS = 200
PHOTOS_MAX = 9  # what an owner's phone app lets them pick at once
AMOUNT_FEN_MAX = 10**12  # 100 亿 yuan: far above any repair or activity fee
SHA256_RE = re.compile(r"^[0-9a-f]{64}$")
EVENT_CHARGE_CHANGED = "property.charge_changed"
CHANGED_MEANWHILE = N_("Someone else changed this record meanwhile; please look at it again.")


# --- input checks ----------------------------------------------------------------------------------------


def text(value: object, field: str, max_chars: int = TEXT_MAX_CHARS, *, required: bool = True) -> str | None:
    """Trimmed text, or ValidationError naming the field; None only when not required."""
    if value is None or (isinstance(value, str) and not value.strip()):
        if required:
            raise ValidationError(N_("Please fill in {field}."), field=field)
        return None
    if not isinstance(value, str):
        raise ValidationError(N_("{field} must be text."), field=field)
    value = value.strip()
    if len(value) > max_chars:
        raise ValidationError(N_("{field} is longer than {max} characters."), field=field, max=max_chars)
    return value


def whole(value: object, field: str, *, minimum: int = 0, maximum: int = AMOUNT_FEN_MAX) -> int:
    """A whole number in [minimum, maximum] (amounts in fen, minutes, counts)."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValidationError(N_("{field} must be a whole number."), field=field)
    if not minimum <= value <= maximum:
        raise ValidationError(
            N_("{field} must be between {min} and {max}."), field=field, min=minimum, max=maximum
        )
    return value


def choice(value: object, field: str, allowed: Iterable[str]) -> str:
    allowed = tuple(allowed)
    if value not in allowed:
        raise ValidationError(
            N_("{field} must be one of: {allowed}."), field=field, allowed=", ".join(allowed)
        )
    return value  # type: ignore[return-value]


def as_uuid(value: object, what: str) -> uuid.UUID:
    """An id given as UUID or text; a malformed one is simply not found."""
    if isinstance(value, uuid.UUID):
        return value
    try:
        return uuid.UUID(str(value))
    except ValueError as exc:
        raise NotFound(N_("{what} {id} was not found."), what=what, id=str(value)) from exc


def get_or_404(session: Session, model: type, value: object, what: str) -> Any:
    row = session.get(model, as_uuid(value, what))
    if row is None:
        raise NotFound(N_("{what} {id} was not found."), what=what, id=str(value))
    return row


def aware(value: object, field: str) -> datetime:
    if not isinstance(value, datetime) or value.tzinfo is None:
        raise ValidationError(N_("{field} must be a date and time with its time zone."), field=field)
    return value


# --- state machines --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Machine:
    """An explicit transition table: action → (the states it may start from, the state it leads to)."""

    object_type: str
    transitions: dict[str, tuple[frozenset[str], str]]
    terminal: frozenset[str]
    event_type: str

    def target(self, action: str, current: str) -> str:
        """The state `action` leads to from `current`, or StateError (terminal states never change)."""
        if action not in self.transitions:
            raise ValueError(f"{self.object_type}: unknown action {action}")
        sources, to = self.transitions[action]
        if current in self.terminal:
            raise StateError(
                N_("This record is {status} and can no longer change."), status=current, action=action
            )
        if current not in sources:
            raise StateError(
                N_("“{action}” is not allowed while the record is {status}."), status=current, action=action
            )
        return to

    def allowed(self, current: str) -> list[str]:
        """Actions allowed from `current` (for the UIs' buttons)."""
        if current in self.terminal:
            return []
        return [a for a, (sources, _) in self.transitions.items() if current in sources]


def transition(
    uow: UnitOfWork,
    machine: Machine,
    row: Any,
    action: str,
    *,
    reason: str | None = None,
    values: dict[str, Any] | None = None,
    data: dict[str, Any] | None = None,
    payload: dict[str, Any] | None = None,
) -> str:
    """Apply `action` to `row` (a model with id, status, version): CAS, history, audit, event. Returns the new state.

    `values` are further columns set in the same UPDATE; `data` is kept on the history row (the timeline shows
    it); `payload` is added to the outbox event.
    """
    before = row.status
    to = machine.target(action, before)
    model = type(row)
    result = uow.session.execute(
        update(model)
        .where(model.id == row.id, model.status == before, model.version == row.version)
        .values(status=to, version=row.version + 1, **(values or {}))
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:
        raise StateError(CHANGED_MEANWHILE)
    uow.session.refresh(row)
    record_change(uow, machine.object_type, row.id, action, before, to, reason=reason, data=data)
    uow.audit(
        f"{machine.object_type}.{action}",
        machine.object_type,
        row.id,
        before={"status": before},
        after={"status": to, "reason": reason, **(data or {})},
    )
    uow.emit(
        machine.event_type,
        {
            "id": row.id,
            "action": action,
            "from": before,
            "status": to,
            "version": row.version,
            "at": uow.now,
            "by": uow.ctx.actor.username,
            "reason": reason,
            **(payload or {}),
        },
    )
    return to


def record_change(
    uow: UnitOfWork,
    object_type: str,
    object_id: uuid.UUID,
    action: str,
    from_status: str | None,
    to_status: str,
    *,
    reason: str | None = None,
    data: dict[str, Any] | None = None,
) -> None:
    """The history row of a transition (also used for the creating 'transition' from nothing)."""
    actor = uow.ctx.actor
    uow.session.add(
        StatusChange(
            id=new_id(),
            object_type=object_type,
            object_id=object_id,
            action=action,
            from_status=from_status,
            to_status=to_status,
            actor_id=actor.user_id,
            actor_name=actor.username,
            at=uow.now,
            reason=reason,
            # Round-trip so ids, instants and decimals are stored as the same text the events carry.
            data=None if data is None else json.loads(canonical_json(data)),
        )
    )


@dataclass(frozen=True)
class ChangeView:
    action: str
    from_status: str | None
    to_status: str
    actor_name: str
    at: datetime
    reason: str | None
    data: dict[str, Any] | None


def history(session: Session, object_type: str, object_id: uuid.UUID) -> list[ChangeView]:
    """The transitions of one record, oldest first (a work order's timeline, a complaint's trail)."""
    rows = session.execute(
        select(StatusChange)
        .where(StatusChange.object_type == object_type, StatusChange.object_id == object_id)
        .order_by(StatusChange.at, StatusChange.id)
    ).scalars()
    return [
        ChangeView(r.action, r.from_status, r.to_status, r.actor_name, r.at, r.reason, r.data) for r in rows
    ]


# --- pending charges -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ChargeView:
    id: uuid.UUID
    source_type: str
    source_id: uuid.UUID
    community_id: uuid.UUID | None
    house_id: uuid.UUID | None
    owner_id: uuid.UUID | None
    subject: str
    amount_fen: int
    status: str
    created_at: datetime
    settled_at: datetime | None
    payment_ref: str | None


ChargeHook = Callable[["UnitOfWork", ChargeView], None]
# Called inside the transaction that records a charge: the payment hub plugs in here to open a payment order.
_CHARGE_HOOKS: list[ChargeHook] = []


def register_charge_hook(hook: ChargeHook) -> None:
    """`hook(uow, charge)` runs in the recording transaction; if it raises, nothing is recorded."""
    if hook not in _CHARGE_HOOKS:
        _CHARGE_HOOKS.append(hook)


def unregister_charge_hook(hook: ChargeHook) -> None:
    if hook in _CHARGE_HOOKS:
        _CHARGE_HOOKS.remove(hook)


def _charge_view(row: PendingCharge) -> ChargeView:
    return ChargeView(
        row.id,
        row.source_type,
        row.source_id,
        row.community_id,
        row.house_id,
        row.owner_id,
        row.subject,
        row.amount_fen,
        row.status,
        row.created_at,
        row.settled_at,
        row.payment_ref,
    )


def record_charge(
    uow: UnitOfWork,
    *,
    source_type: str,
    source_id: uuid.UUID,
    amount_fen: int,
    subject: str,
    community_id: uuid.UUID | None = None,
    house_id: uuid.UUID | None = None,
    owner_id: uuid.UUID | None = None,
) -> ChargeView:
    """Record what an owner owes (to be collected through the hub) and tell the registered hooks."""
    amount_fen = whole(amount_fen, "amount_fen", minimum=1)
    row = PendingCharge(
        id=new_id(),
        source_type=source_type,
        source_id=source_id,
        community_id=community_id,
        house_id=house_id,
        owner_id=owner_id,
        subject=subject[:NAME_MAX_CHARS],
        amount_fen=amount_fen,
        status=CHARGE_PENDING,
        created_at=uow.now,
        settled_at=None,
        payment_ref=None,
    )
    uow.session.add(row)
    uow.session.flush()
    view = _charge_view(row)
    uow.audit(
        "property.charge_record",
        "prop_pending_charge",
        row.id,
        after={"amount_fen": amount_fen, "source_type": source_type, "source_id": source_id},
    )
    uow.emit(
        EVENT_CHARGE_CHANGED,
        {
            "id": row.id,
            "status": row.status,
            "amount_fen": amount_fen,
            "source_type": source_type,
            "source_id": source_id,
            "house_id": house_id,
            "owner_id": owner_id,
            "subject": row.subject,
            "at": uow.now,
        },
    )
    for hook in list(_CHARGE_HOOKS):
        hook(uow, view)
    return view


def _move_charge(uow: UnitOfWork, row: PendingCharge, to: str, payment_ref: str | None = None) -> None:
    result = uow.session.execute(
        update(PendingCharge)
        .where(PendingCharge.id == row.id, PendingCharge.status == row.status)
        .values(status=to, settled_at=uow.now, payment_ref=payment_ref or row.payment_ref)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:
        raise StateError(N_("Someone else changed this charge meanwhile; please look at it again."))
    before = row.status
    uow.session.refresh(row)
    uow.audit(
        "property.charge_" + to,
        "prop_pending_charge",
        row.id,
        before={"status": before},
        after={"status": to, "payment_ref": row.payment_ref},
    )
    uow.emit(
        EVENT_CHARGE_CHANGED,
        {
            "id": row.id,
            "status": to,
            "amount_fen": row.amount_fen,
            "payment_ref": row.payment_ref,
            "at": uow.now,
        },
    )


def withdraw_charge(uow: UnitOfWork, charge_id: uuid.UUID) -> str:
    """The reason for a charge went away: a pending one is cancelled, a paid one becomes due for refund."""
    row = get_or_404(uow.session, PendingCharge, charge_id, "Charge")
    if row.status == CHARGE_PENDING:
        _move_charge(uow, row, CHARGE_CANCELLED)
    elif row.status == CHARGE_PAID:
        _move_charge(uow, row, CHARGE_REFUND_DUE)
    return row.status


def mark_charge_paid(ctx: Context, charge_id: uuid.UUID, payment_ref: str) -> ChargeView:
    """The hub collected the charge (called by its payment handler). Paying twice with the same ref is a no-op."""
    payment_ref = text(payment_ref, "payment_ref", 80)
    with ctx.uow("property.charges.collect") as uow:
        row = get_or_404(uow.session, PendingCharge, charge_id, "Charge")
        if row.status == CHARGE_PAID and row.payment_ref == payment_ref:
            return _charge_view(row)
        if row.status != CHARGE_PENDING:
            raise StateError(N_("This charge is {status}; it cannot be paid."), status=row.status)
        _move_charge(uow, row, CHARGE_PAID, payment_ref)
        return _charge_view(row)


def list_charges(
    ctx: Context, *, status: str | None = CHARGE_PENDING, source_type: str | None = None, limit: int = 500
) -> list[ChargeView]:
    limit = whole(limit, "limit", minimum=1, maximum=5000)
    with ctx.read("property.charges.view") as session:
        q = select(PendingCharge).order_by(PendingCharge.created_at, PendingCharge.id).limit(limit)
        if status is not None:
            q = q.where(PendingCharge.status == status)
        if source_type is not None:
            q = q.where(PendingCharge.source_type == source_type)
        return [_charge_view(r) for r in session.execute(q).scalars()]


# --- photos ----------------------------------------------------------------------------------------------


def store_photo(
    ctx: Context, permission: str, filename: str, data: bytes, content_type: str | None = None
) -> str:
    """Keep a photo in the site's content-addressed file store (shared with approvals); returns its sha256."""
    from core.workflow import attachments as files
    from core.workflow.models import Attachment

    ctx.require(permission)
    files._filename(filename)
    sniffed = files._check_file(data, content_type)
    data = bytes(data)
    sha256 = hashlib.sha256(data).hexdigest()
    files._write_blob(files._store_dir(ctx), sha256, data)  # file before row: never a row without its file
    with ctx.uow(permission) as uow:
        insert = pg_insert if uow.session.get_bind().dialect.name == "postgresql" else sqlite_insert
        uow.session.execute(
            insert(Attachment)
            .values(sha256=sha256, size_bytes=len(data), content_type=sniffed, created_at=uow.now)
            .on_conflict_do_nothing(index_elements=[Attachment.sha256])
        )
    return sha256


def photos(session: Session, refs: object, field: str = "photos") -> list[str]:
    """A list of stored photos' sha256 (at most PHOTOS_MAX); each must be in the file store."""
    from core.workflow.models import Attachment

    if refs is None:
        return []
    if not isinstance(refs, list | tuple) or len(refs) > PHOTOS_MAX:
        raise ValidationError(N_("At most {max} photos can be attached."), field=field, max=PHOTOS_MAX)
    clean: list[str] = []
    for ref in refs:
        if not isinstance(ref, str) or not SHA256_RE.match(ref):
            raise ValidationError(N_("That is not a file fingerprint."), field=field)
        if ref not in clean:
            clean.append(ref)
    if clean:
        known = set(session.execute(select(Attachment.sha256).where(Attachment.sha256.in_(clean))).scalars())
        missing = [r for r in clean if r not in known]
        if missing:
            raise ValidationError(N_("Photo {sha256} has not been uploaded."), field=field, sha256=missing[0])
    return clean
