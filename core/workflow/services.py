"""Approval use cases (maker-checker): define processes, submit requests, approve, reject, send back, withdraw.

State machine of an instance (every transition a compare-and-set on status, current_step and version):

    pending(step k) --approve--> pending(step k+1)          (k+1 < number of steps)
    pending(last)   --approve--> approved                    (calls the on_approved handler)
    pending(step k) --reject---> rejected                    (comment required; calls on_rejected)
    pending(step k) --send_back--> pending(step k-1)         (comment required; refused at step 0:
                                                              reject, or let the submitter withdraw)
    pending         --withdraw-> withdrawn                   (the submitter only; calls on_withdrawn)

approved, rejected and withdrawn are terminal: nothing changes them, not even a comment or an attachment.

Who may decide on the current step: an actor with permission `workflow.approve` whose roles include the step's
role (role `admin` may act on any step) — and never the submitter, nor anyone who already approved, rejected or
sent back another step of the same instance. A person may act on the same step again after a send-back.

Handlers: business packages call `register_handler(process_code, on_approved=…, on_rejected=…)` at import time.
The registry is a module-level dict keyed by process code (registering again replaces the earlier entry). A handler
runs inside the deciding transaction as `handler(ctx, uow, instance_view)`, so the business effect commits together
with the decision; if it raises, the decision is rolled back and the instance stays as it was.
"""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import and_, exists, func, not_, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from core.errors import Conflict, NotFound, PermissionDenied, StateError, ValidationError
from core.i18n import N_
from core.ids import new_id
from core.jsonutil import canonical_json
from core.workflow.models import (
    DECISION_APPROVE,
    DECISION_COMMENT,
    DECISION_REJECT,
    DECISION_SEND_BACK,
    DECISION_SUBMIT,
    DECISION_WITHDRAW,
    STATUS_APPROVED,
    STATUS_PENDING,
    STATUS_REJECTED,
    STATUS_WITHDRAWN,
    STATUSES,
    STEP_DECISIONS,
    TERMINAL_STATUSES,
    ApprovalAction,
    ApprovalInstance,
    Attachment,
    InstanceAttachment,
    ProcessDefinition,
)

if TYPE_CHECKING:
    from core.context import Actor, Context
    from core.uow import UnitOfWork

PERM_VIEW = "workflow.view"
PERM_SUBMIT = "workflow.submit"
PERM_APPROVE = "workflow.approve"
PERM_DEFINE = "site.manage"
ROLE_ADMIN = "admin"
EVENT_INSTANCE_CHANGED = "workflow.instance_changed"
EVENT_PROCESS_CHANGED = "workflow.process_changed"
OBJECT_TYPE_INSTANCE = "approval_instance"
OBJECT_TYPE_PROCESS = "approval_process"

STEPS_MAX = 10
COMMENT_MAX_CHARS = 2000
TITLE_MAX_CHARS = 200
NAME_MAX_CHARS = 200
PAYLOAD_MAX_BYTES = 64 * 1024
# ±10 trillion yuan: far above any real request, far below BigInteger's range.
AMOUNT_FEN_ABS_MAX = 10**15
LIST_LIMIT_MAX = 500

PROCESS_CODE_RE = re.compile(r"^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)*$")
PROCESS_CODE_MAX_CHARS = 80
ROLE_CODE_RE = re.compile(r"^[a-z][a-z0-9_]{1,39}$")
# The site's own actor must never be able to stand in for a human checker.
FORBIDDEN_STEP_ROLES = frozenset({"system"})
OBJECT_TYPE_RE = re.compile(r"^[a-z][a-z0-9_.]{0,79}$")
OBJECT_ID_MAX_CHARS = 80


# --- views -----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Step:
    """One step of a chain: the role that decides it and its name (an English msgid)."""

    role: str
    name: str


@dataclass(frozen=True)
class ProcessView:
    code: str
    name: str
    steps: tuple[Step, ...]
    version: int
    updated_at: datetime


@dataclass(frozen=True)
class InstanceView:
    id: uuid.UUID
    process_code: str
    process_version: int
    steps: tuple[Step, ...]
    object_type: str
    object_id: str
    title: str
    amount_fen: int | None
    payload: dict[str, Any]
    submitted_by_id: uuid.UUID | None
    submitted_by_name: str
    submitted_at: datetime
    status: str
    current_step: int
    decided_at: datetime | None
    version: int

    @property
    def is_terminal(self) -> bool:
        return self.status in TERMINAL_STATUSES

    @property
    def current_role(self) -> str | None:
        """The role that must decide next, None once the instance has ended."""
        return None if self.is_terminal else self.steps[self.current_step].role


@dataclass(frozen=True)
class ActionView:
    id: uuid.UUID
    step: int
    actor_id: uuid.UUID | None
    actor_name: str
    decision: str
    comment: str | None
    at: datetime


@dataclass(frozen=True)
class AttachmentView:
    sha256: str
    filename: str
    size_bytes: int
    content_type: str
    added_by_name: str
    added_at: datetime


@dataclass(frozen=True)
class InstanceDetail:
    instance: InstanceView
    actions: tuple[ActionView, ...]
    attachments: tuple[AttachmentView, ...]


# --- handlers --------------------------------------------------------------------------------------------

Handler = Callable[["Context", "UnitOfWork", InstanceView], None]


@dataclass(frozen=True)
class Handlers:
    on_approved: Handler | None = None
    on_rejected: Handler | None = None
    on_withdrawn: Handler | None = None


# Process code → the business package's handlers. Filled at import time by the business packages.
_HANDLERS: dict[str, Handlers] = {}


def register_handler(
    process_code: str,
    on_approved: Handler | None = None,
    on_rejected: Handler | None = None,
    on_withdrawn: Handler | None = None,
) -> None:
    """Register what happens when an instance of `process_code` ends; replaces any earlier registration."""
    _HANDLERS[process_code] = Handlers(on_approved, on_rejected, on_withdrawn)


def unregister_handler(process_code: str) -> None:
    _HANDLERS.pop(process_code, None)


# --- validation ------------------------------------------------------------------------------------------


def _text(value: object, field: str, max_chars: int, *, required: bool = True) -> str | None:
    if value is None:
        if required:
            raise ValidationError(N_("Please fill in {field}."), field=field)
        return None
    if not isinstance(value, str):
        raise ValidationError(N_("{field} must be text."), field=field)
    value = value.strip()
    if not value:
        if required:
            raise ValidationError(N_("Please fill in {field}."), field=field)
        return None
    if len(value) > max_chars:
        raise ValidationError(N_("{field} is longer than {max} characters."), field=field, max=max_chars)
    return value


def _comment(value: object, *, required: bool) -> str | None:
    if required and (value is None or (isinstance(value, str) and not value.strip())):
        raise ValidationError(N_("Please give a reason in the comment."), field="comment")
    return _text(value, "comment", COMMENT_MAX_CHARS, required=required)


def _process_code(code: object) -> str:
    if not isinstance(code, str) or len(code) > PROCESS_CODE_MAX_CHARS or not PROCESS_CODE_RE.match(code):
        raise ValidationError(
            N_("A process code is lower-case words joined by dots, such as payments.refund."), field="code"
        )
    return code


def validate_steps(steps: object) -> list[dict[str, str]]:
    """The steps as stored: a non-empty list of {"role", "name"}, each role a plausible role code."""
    if not isinstance(steps, list | tuple) or not steps:
        raise ValidationError(N_("An approval process needs at least one step."), field="steps")
    if len(steps) > STEPS_MAX:
        raise ValidationError(
            N_("An approval process has at most {max} steps."), field="steps", max=STEPS_MAX
        )
    clean: list[dict[str, str]] = []
    for index, step in enumerate(steps, start=1):
        if not isinstance(step, dict) or set(step) != {"role", "name"}:
            raise ValidationError(N_("Step {n} must have exactly a role and a name."), field="steps", n=index)
        role = step["role"]
        if not isinstance(role, str) or not ROLE_CODE_RE.match(role) or role in FORBIDDEN_STEP_ROLES:
            raise ValidationError(
                N_("Step {n} has an unknown role code: {role}."), field="steps", n=index, role=str(role)
            )
        name = _text(step["name"], "steps", NAME_MAX_CHARS)
        clean.append({"role": role, "name": name})
    return clean


def _payload(payload: object) -> dict[str, Any]:
    if payload is None:
        return {}
    if not isinstance(payload, dict):
        raise ValidationError(N_("The request data must be a mapping."), field="payload")
    try:
        encoded = canonical_json(payload)
    except (TypeError, ValueError) as exc:
        raise ValidationError(N_("The request data cannot be stored."), field="payload") from exc
    if len(encoded.encode("utf-8")) > PAYLOAD_MAX_BYTES:
        raise ValidationError(
            N_("The request data is larger than {max} bytes."), field="payload", max=PAYLOAD_MAX_BYTES
        )
    # Round-trip so ids, dates and decimals are stored as the same strings the events carry.
    return json.loads(encoded)


def _amount(amount_fen: object) -> int | None:
    if amount_fen is None:
        return None
    if not isinstance(amount_fen, int) or isinstance(amount_fen, bool):
        raise ValidationError(N_("An amount must be a whole number of fen."), field="amount_fen")
    if abs(amount_fen) > AMOUNT_FEN_ABS_MAX:
        raise ValidationError(N_("The amount is out of range."), field="amount_fen")
    return amount_fen


def _object_ref(object_type: object, object_id: object) -> tuple[str, str]:
    if not isinstance(object_type, str) or not OBJECT_TYPE_RE.match(object_type):
        raise ValidationError(N_("The object type is not valid."), field="object_type")
    if isinstance(object_id, uuid.UUID) or (isinstance(object_id, int) and not isinstance(object_id, bool)):
        object_id = str(object_id)
    oid = _text(object_id, "object_id", OBJECT_ID_MAX_CHARS)
    return object_type, oid


def _limit_offset(limit: object, offset: object) -> tuple[int, int]:
    if not isinstance(limit, int) or isinstance(limit, bool) or not 1 <= limit <= LIST_LIMIT_MAX:
        raise ValidationError(N_("A page holds 1 to {max} rows."), field="limit", max=LIST_LIMIT_MAX)
    if not isinstance(offset, int) or isinstance(offset, bool) or offset < 0:
        raise ValidationError(N_("The offset cannot be negative."), field="offset")
    return limit, offset


def _as_id(instance_id: object) -> uuid.UUID:
    if isinstance(instance_id, uuid.UUID):
        return instance_id
    try:
        return uuid.UUID(str(instance_id))
    except ValueError as exc:
        raise NotFound(N_("Approval {id} was not found."), id=str(instance_id)) from exc


# --- mapping ---------------------------------------------------------------------------------------------


def _steps(raw: list[dict[str, Any]]) -> tuple[Step, ...]:
    return tuple(Step(role=s["role"], name=s["name"]) for s in raw)


def _process_view(row: ProcessDefinition) -> ProcessView:
    return ProcessView(row.code, row.name, _steps(row.steps), row.version, row.updated_at)


def _view(row: ApprovalInstance) -> InstanceView:
    return InstanceView(
        id=row.id,
        process_code=row.process_code,
        process_version=row.process_version,
        steps=_steps(row.steps),
        object_type=row.object_type,
        object_id=row.object_id,
        title=row.title,
        amount_fen=row.amount_fen,
        payload=dict(row.payload or {}),
        submitted_by_id=row.submitted_by_id,
        submitted_by_name=row.submitted_by_name,
        submitted_at=row.submitted_at,
        status=row.status,
        current_step=row.current_step,
        decided_at=row.decided_at,
        version=row.version,
    )


def _state(row: ApprovalInstance) -> dict[str, Any]:
    return {"status": row.status, "current_step": row.current_step, "version": row.version}


# --- identity (maker-checker) ----------------------------------------------------------------------------


def _is_person(actor: Actor, person_id: uuid.UUID | None, person_name: str) -> bool:
    """Same person by id or by user name: when in doubt, treat them as the same (the safe side)."""
    if actor.user_id is not None and person_id is not None and actor.user_id == person_id:
        return True
    return actor.username == person_name


def _actions_by(actor: Actor) -> Any:
    by_name = ApprovalAction.actor_name == actor.username
    if actor.user_id is None:
        return by_name
    return or_(ApprovalAction.actor_id == actor.user_id, by_name)


def _not_submitted_by(actor: Actor) -> Any:
    other_name = ApprovalInstance.submitted_by_name != actor.username
    if actor.user_id is None:
        return other_name
    return and_(
        other_name,
        or_(ApprovalInstance.submitted_by_id.is_(None), ApprovalInstance.submitted_by_id != actor.user_id),
    )


def _check_may_decide(session: Session, actor: Actor, inst: ApprovalInstance) -> None:
    """Maker-checker and step role; raises PermissionDenied with the reason."""
    if _is_person(actor, inst.submitted_by_id, inst.submitted_by_name):
        raise PermissionDenied(
            N_("You submitted this request, so someone else must approve or reject it."),
            code="maker_checker",
        )
    other_steps = session.execute(
        select(func.count())
        .select_from(ApprovalAction)
        .where(
            ApprovalAction.instance_id == inst.id,
            ApprovalAction.decision.in_(STEP_DECISIONS),
            ApprovalAction.step != inst.current_step,
            _actions_by(actor),
        )
    ).scalar_one()
    if other_steps:
        raise PermissionDenied(
            N_("You already decided another step of this request; each step needs a different person."),
            code="maker_checker",
        )
    role = inst.steps[inst.current_step]["role"]
    if role not in actor.roles and ROLE_ADMIN not in actor.roles:
        raise PermissionDenied(N_("This step must be decided by someone with the role {role}."), role=role)


# --- loading and transitions -----------------------------------------------------------------------------


def _load(session: Session, instance_id: object) -> ApprovalInstance:
    iid = _as_id(instance_id)
    inst = session.get(ApprovalInstance, iid)
    if inst is None:
        raise NotFound(N_("Approval {id} was not found."), id=str(iid))
    return inst


_ENDED_MESSAGES = {
    STATUS_APPROVED: N_("This approval has already been approved; it cannot change any more."),
    STATUS_REJECTED: N_("This approval has already been rejected; it cannot change any more."),
    STATUS_WITHDRAWN: N_("This approval has been withdrawn; it cannot change any more."),
}


def _check_pending(inst: ApprovalInstance, expected_version: int | None) -> None:
    if inst.status != STATUS_PENDING:
        raise StateError(_ENDED_MESSAGES[inst.status], status=inst.status)
    if expected_version is not None and expected_version != inst.version:
        raise StateError(N_("Someone else changed this approval meanwhile; please look at it again."))


def _cas(
    session: Session,
    inst: ApprovalInstance,
    *,
    status: str,
    current_step: int,
    decided_at: datetime | None,
) -> None:
    """Move the instance on, only if nobody moved it since we read it."""
    current_role = inst.steps[current_step]["role"] if status == STATUS_PENDING else None
    result = session.execute(
        update(ApprovalInstance)
        .where(
            ApprovalInstance.id == inst.id,
            ApprovalInstance.status == inst.status,
            ApprovalInstance.current_step == inst.current_step,
            ApprovalInstance.version == inst.version,
        )
        .values(
            status=status,
            current_step=current_step,
            current_role=current_role,
            decided_at=decided_at,
            version=inst.version + 1,
        )
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:
        raise StateError(N_("Someone else changed this approval meanwhile; please look at it again."))
    session.refresh(inst)


def _record(
    uow: UnitOfWork, inst: ApprovalInstance, step: int, decision: str, comment: str | None
) -> ApprovalAction:
    actor = uow.ctx.actor
    action = ApprovalAction(
        id=new_id(),
        instance_id=inst.id,
        step=step,
        actor_id=actor.user_id,
        actor_name=actor.username,
        decision=decision,
        comment=comment,
        at=uow.now,
    )
    uow.session.add(action)
    uow.session.flush()
    return action


def _publish(
    uow: UnitOfWork,
    inst: ApprovalInstance,
    action: ApprovalAction,
    before: dict[str, Any] | None,
    *,
    full: bool = False,
) -> None:
    """Audit record and outbox event of one action; `full` adds the snapshot fields (on submit)."""
    after = _state(inst)
    uow.audit(f"workflow.{action.decision}", OBJECT_TYPE_INSTANCE, inst.id, before=before, after=after)
    payload: dict[str, Any] = {
        "instance_id": inst.id,
        "process_code": inst.process_code,
        "process_version": inst.process_version,
        "object_type": inst.object_type,
        "object_id": inst.object_id,
        "title": inst.title,
        "amount_fen": inst.amount_fen,
        "submitted_by_id": inst.submitted_by_id,
        "submitted_by_name": inst.submitted_by_name,
        "submitted_at": inst.submitted_at,
        "status": inst.status,
        "current_step": inst.current_step,
        "decided_at": inst.decided_at,
        "version": inst.version,
        "action": {
            "id": action.id,
            "step": action.step,
            "decision": action.decision,
            "actor_id": action.actor_id,
            "actor_name": action.actor_name,
            "comment": action.comment,
            "at": action.at,
        },
    }
    if full:
        payload["steps"] = inst.steps
        payload["payload"] = inst.payload
    uow.emit(EVENT_INSTANCE_CHANGED, payload)


def _run_handler(ctx: Context, uow: UnitOfWork, inst: ApprovalInstance, kind: str) -> InstanceView:
    view = _view(inst)
    handlers = _HANDLERS.get(inst.process_code)
    handler = getattr(handlers, kind) if handlers else None
    if handler is not None:
        handler(ctx, uow, view)
    return view


# --- process definitions ---------------------------------------------------------------------------------


def _write_process(
    uow: UnitOfWork, code: str, name: str, steps: list[dict[str, str]], existing: ProcessDefinition | None
) -> ProcessDefinition:
    before = None
    if existing is None:
        row = ProcessDefinition(code=code, name=name, steps=steps, version=1, updated_at=uow.now)
        uow.session.add(row)
        try:
            uow.session.flush()
        except IntegrityError as exc:
            raise Conflict(N_("Approval process {process} was defined meanwhile."), process=code) from exc
    else:
        before = {"name": existing.name, "steps": existing.steps, "version": existing.version}
        result = uow.session.execute(
            update(ProcessDefinition)
            .where(ProcessDefinition.code == code, ProcessDefinition.version == existing.version)
            .values(name=name, steps=steps, version=existing.version + 1, updated_at=uow.now)
            .execution_options(synchronize_session=False)
        )
        if result.rowcount != 1:
            raise Conflict(N_("Approval process {process} was changed meanwhile."), process=code)
        uow.session.refresh(existing)
        row = existing
    after = {"name": row.name, "steps": row.steps, "version": row.version}
    uow.audit("workflow.process_define", OBJECT_TYPE_PROCESS, code, before=before, after=after)
    uow.emit(EVENT_PROCESS_CHANGED, {"code": code, "updated_at": row.updated_at, **after})
    return row


def define_process(ctx: Context, code: str, name: str, steps: list[dict]) -> ProcessView:
    """Create or change a process. A change bumps its version; running instances keep their own steps."""
    code = _process_code(code)
    name = _text(name, "name", NAME_MAX_CHARS)
    clean = validate_steps(steps)
    with ctx.uow(PERM_DEFINE) as uow:
        existing = uow.session.get(ProcessDefinition, code)
        if existing is not None and existing.name == name and existing.steps == clean:
            return _process_view(existing)
        return _process_view(_write_process(uow, code, name, clean, existing))


def ensure_process(ctx: Context, code: str, name: str, steps: list[dict]) -> ProcessView:
    """Create the process with these defaults if it does not exist; an existing one (maybe edited) is kept."""
    code = _process_code(code)
    name = _text(name, "name", NAME_MAX_CHARS)
    clean = validate_steps(steps)
    with ctx.uow(PERM_DEFINE) as uow:
        existing = uow.session.get(ProcessDefinition, code)
        if existing is not None:
            return _process_view(existing)
        return _process_view(_write_process(uow, code, name, clean, None))


def get_process(ctx: Context, code: str) -> ProcessView:
    with ctx.read(PERM_VIEW) as session:
        row = session.get(ProcessDefinition, code)
        if row is None:
            raise NotFound(N_("Approval process {process} does not exist."), process=code)
        return _process_view(row)


def list_processes(ctx: Context) -> list[ProcessView]:
    with ctx.read(PERM_VIEW) as session:
        rows = session.execute(select(ProcessDefinition).order_by(ProcessDefinition.code)).scalars()
        return [_process_view(r) for r in rows]


# --- instances -------------------------------------------------------------------------------------------


def submit(
    ctx: Context,
    process_code: str,
    *,
    object_type: str,
    object_id: str,
    title: str,
    amount_fen: int | None = None,
    payload: dict[str, Any] | None = None,
    comment: str | None = None,
) -> InstanceView:
    """Start an approval of one business object. One pending approval per (process, object) at a time."""
    object_type, object_id = _object_ref(object_type, object_id)
    title = _text(title, "title", TITLE_MAX_CHARS)
    amount_fen = _amount(amount_fen)
    data = _payload(payload)
    comment = _comment(comment, required=False)
    with ctx.uow(PERM_SUBMIT) as uow:
        process = uow.session.get(ProcessDefinition, process_code)
        if process is None:
            raise NotFound(N_("Approval process {process} does not exist."), process=process_code)
        already = uow.session.execute(
            select(ApprovalInstance.id).where(
                ApprovalInstance.process_code == process_code,
                ApprovalInstance.object_type == object_type,
                ApprovalInstance.object_id == object_id,
                ApprovalInstance.status == STATUS_PENDING,
            )
        ).first()
        if already is not None:
            raise Conflict(N_("This request is already waiting for approval."))
        actor = ctx.actor
        inst = ApprovalInstance(
            id=new_id(),
            process_code=process.code,
            process_version=process.version,
            steps=[dict(s) for s in process.steps],
            object_type=object_type,
            object_id=object_id,
            title=title,
            amount_fen=amount_fen,
            payload=data,
            submitted_by_id=actor.user_id,
            submitted_by_name=actor.username,
            submitted_at=uow.now,
            status=STATUS_PENDING,
            current_step=0,
            current_role=process.steps[0]["role"],
            decided_at=None,
            version=1,
        )
        uow.session.add(inst)
        try:
            uow.session.flush()
        except IntegrityError as exc:  # a concurrent submit won the partial unique index
            raise Conflict(N_("This request is already waiting for approval.")) from exc
        action = _record(uow, inst, 0, DECISION_SUBMIT, comment)
        _publish(uow, inst, action, None, full=True)
        return _view(inst)


def approve(
    ctx: Context, instance_id: uuid.UUID, comment: str | None = None, *, expected_version: int | None = None
) -> InstanceView:
    """Approve the current step; the last step's approval ends the instance and runs on_approved.

    `expected_version` is the version the approver was shown: if the instance moved since, StateError.
    """
    comment = _comment(comment, required=False)
    with ctx.uow(PERM_APPROVE) as uow:
        inst = _load(uow.session, instance_id)
        _check_pending(inst, expected_version)
        _check_may_decide(uow.session, ctx.actor, inst)
        before, step = _state(inst), inst.current_step
        if step + 1 >= len(inst.steps):
            _cas(uow.session, inst, status=STATUS_APPROVED, current_step=step, decided_at=uow.now)
        else:
            _cas(uow.session, inst, status=STATUS_PENDING, current_step=step + 1, decided_at=None)
        action = _record(uow, inst, step, DECISION_APPROVE, comment)
        view = _run_handler(ctx, uow, inst, "on_approved") if inst.status == STATUS_APPROVED else _view(inst)
        _publish(uow, inst, action, before)
        return view


def reject(
    ctx: Context, instance_id: uuid.UUID, comment: str, *, expected_version: int | None = None
) -> InstanceView:
    """Reject at the current step (a reason is required); ends the instance and runs on_rejected."""
    comment = _comment(comment, required=True)
    with ctx.uow(PERM_APPROVE) as uow:
        inst = _load(uow.session, instance_id)
        _check_pending(inst, expected_version)
        _check_may_decide(uow.session, ctx.actor, inst)
        before, step = _state(inst), inst.current_step
        _cas(uow.session, inst, status=STATUS_REJECTED, current_step=step, decided_at=uow.now)
        action = _record(uow, inst, step, DECISION_REJECT, comment)
        view = _run_handler(ctx, uow, inst, "on_rejected")
        _publish(uow, inst, action, before)
        return view


def send_back(
    ctx: Context, instance_id: uuid.UUID, comment: str, *, expected_version: int | None = None
) -> InstanceView:
    """Return the instance to the previous step for another look (a reason is required). Refused at step 0."""
    comment = _comment(comment, required=True)
    with ctx.uow(PERM_APPROVE) as uow:
        inst = _load(uow.session, instance_id)
        _check_pending(inst, expected_version)
        _check_may_decide(uow.session, ctx.actor, inst)
        if inst.current_step == 0:
            raise StateError(
                N_("This approval is at its first step and cannot go further back; reject it instead.")
            )
        before, step = _state(inst), inst.current_step
        _cas(uow.session, inst, status=STATUS_PENDING, current_step=step - 1, decided_at=None)
        action = _record(uow, inst, step, DECISION_SEND_BACK, comment)
        _publish(uow, inst, action, before)
        return _view(inst)


def withdraw(ctx: Context, instance_id: uuid.UUID, comment: str | None = None) -> InstanceView:
    """The submitter takes back a pending request; ends the instance and runs on_withdrawn."""
    comment = _comment(comment, required=False)
    with ctx.uow(PERM_SUBMIT) as uow:
        inst = _load(uow.session, instance_id)
        if not _is_person(ctx.actor, inst.submitted_by_id, inst.submitted_by_name):
            raise PermissionDenied(N_("Only the person who submitted a request can withdraw it."))
        _check_pending(inst, None)
        before, step = _state(inst), inst.current_step
        _cas(uow.session, inst, status=STATUS_WITHDRAWN, current_step=step, decided_at=uow.now)
        action = _record(uow, inst, step, DECISION_WITHDRAW, comment)
        view = _run_handler(ctx, uow, inst, "on_withdrawn")
        _publish(uow, inst, action, before)
        return view


def check_may_participate(ctx: Context, inst: ApprovalInstance) -> None:
    """Comments and attachments: the submitter (with workflow.submit) or an approver (workflow.approve)."""
    actor = ctx.actor
    if actor.can(PERM_APPROVE):
        return
    if actor.can(PERM_SUBMIT) and _is_person(actor, inst.submitted_by_id, inst.submitted_by_name):
        return
    raise PermissionDenied(N_("Only the submitter or an approver can add to this approval."))


def load_pending_for_update(uow: UnitOfWork, instance_id: object) -> ApprovalInstance:
    """The pending instance the actor may add a comment or attachment to (for attachments.py)."""
    inst = _load(uow.session, instance_id)
    check_may_participate(uow.ctx, inst)
    _check_pending(inst, None)
    return inst


def comment(ctx: Context, instance_id: uuid.UUID, text: str) -> ActionView:
    """Add a remark to a pending approval; it changes no state (and no version)."""
    text = _comment(text, required=True)
    with ctx.uow(PERM_VIEW) as uow:
        inst = load_pending_for_update(uow, instance_id)
        action = _record(uow, inst, inst.current_step, DECISION_COMMENT, text)
        _publish(uow, inst, action, None)
        return _action_view(action)


# --- queries ---------------------------------------------------------------------------------------------


def _action_view(a: ApprovalAction) -> ActionView:
    return ActionView(a.id, a.step, a.actor_id, a.actor_name, a.decision, a.comment, a.at)


def pending_for(ctx: Context, limit: int = 100) -> list[InstanceView]:
    """The pending instances this actor could decide now: their role, not their own, no other step decided."""
    limit, _ = _limit_offset(limit, 0)
    actor = ctx.actor
    with ctx.read(PERM_VIEW) as session:
        if not actor.can(PERM_APPROVE):
            return []
        acted_elsewhere = exists().where(
            ApprovalAction.instance_id == ApprovalInstance.id,
            ApprovalAction.decision.in_(STEP_DECISIONS),
            ApprovalAction.step != ApprovalInstance.current_step,
            _actions_by(actor),
        )
        query = select(ApprovalInstance).where(
            ApprovalInstance.status == STATUS_PENDING, _not_submitted_by(actor), not_(acted_elsewhere)
        )
        if ROLE_ADMIN not in actor.roles:
            query = query.where(ApprovalInstance.current_role.in_(actor.roles))
        query = query.order_by(ApprovalInstance.submitted_at, ApprovalInstance.id).limit(limit)
        return [_view(r) for r in session.execute(query).scalars()]


def list_instances(
    ctx: Context,
    status: str | None = None,
    process_code: str | None = None,
    limit: int = 100,
    offset: int = 0,
) -> list[InstanceView]:
    """Instances, newest first, optionally of one status and/or process."""
    if status is not None and status not in STATUSES:
        raise ValidationError(N_("Unknown approval status: {status}."), field="status", status=str(status))
    limit, offset = _limit_offset(limit, offset)
    with ctx.read(PERM_VIEW) as session:
        query = select(ApprovalInstance)
        if status is not None:
            query = query.where(ApprovalInstance.status == status)
        if process_code is not None:
            query = query.where(ApprovalInstance.process_code == process_code)
        query = query.order_by(ApprovalInstance.submitted_at.desc(), ApprovalInstance.id.desc())
        return [_view(r) for r in session.execute(query.limit(limit).offset(offset)).scalars()]


def list_attachments(session: Session, instance_id: uuid.UUID) -> tuple[AttachmentView, ...]:
    rows = session.execute(
        select(InstanceAttachment, Attachment)
        .join(Attachment, Attachment.sha256 == InstanceAttachment.sha256)
        .where(InstanceAttachment.instance_id == instance_id)
        .order_by(InstanceAttachment.added_at, InstanceAttachment.id)
    ).all()
    return tuple(
        AttachmentView(ia.sha256, ia.filename, a.size_bytes, a.content_type, ia.added_by_name, ia.added_at)
        for ia, a in rows
    )


def get_instance(ctx: Context, instance_id: uuid.UUID) -> InstanceDetail:
    """One instance with its whole history and its attachments."""
    with ctx.read(PERM_VIEW) as session:
        inst = _load(session, instance_id)
        actions = session.execute(
            select(ApprovalAction)
            .where(ApprovalAction.instance_id == inst.id)
            .order_by(ApprovalAction.at, ApprovalAction.id)
        ).scalars()
        return InstanceDetail(
            _view(inst), tuple(_action_view(a) for a in actions), list_attachments(session, inst.id)
        )
