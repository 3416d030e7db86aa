"""Approval workflow: maker-checker rules, transitions, handlers, the approval race, definitions, attachments."""

from __future__ import annotations

import hashlib
import threading
import uuid

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from core.audit.models import AuditRecord
from core.context import Actor, Context
from core.db import sequences
from core.errors import Conflict, IntegrityProblem, NotFound, PermissionDenied, StateError, ValidationError
from core.ids import new_id
from core.sync.models import OutboxEvent
from core.workflow import attachments, services
from core.workflow.attachments import ATTACHMENT_SIZE_MAX_BYTES, attach, open_attachment, sniff_content_type
from core.workflow.models import ApprovalAction, ApprovalInstance, Attachment, InstanceAttachment
from core.workflow.services import (
    approve,
    comment,
    define_process,
    ensure_process,
    get_instance,
    get_process,
    list_instances,
    pending_for,
    register_handler,
    reject,
    send_back,
    submit,
    unregister_handler,
    withdraw,
)

PROC = "test.refund"
SINGLE = "test.waiver"
TWO_STEPS = [{"role": "finance", "name": "Finance review"}, {"role": "approver", "name": "Final approval"}]

PDF = b"%PDF-1.7\n1 0 obj\n<<>>\nendobj\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\rIHDR" + bytes(17)
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + bytes(20)
TEXT = "退款说明: 业主重复缴费\n".encode()


def person(ctx: Context, name: str, *roles: str, perms: tuple[str, ...] = ("workflow.*",)) -> Context:
    return ctx.as_actor(Actor(user_id=new_id(), username=name, roles=roles, permissions=frozenset(perms)))


class Recorder:
    """Handlers that remember their calls and write a counter in the deciding transaction (to see atomicity)."""

    def __init__(self, fail: bool = False) -> None:
        self.approved: list[services.InstanceView] = []
        self.rejected: list[services.InstanceView] = []
        self.withdrawn: list[services.InstanceView] = []
        self.fail = fail
        self._lock = threading.Lock()

    def on_approved(self, ctx, uow, view) -> None:
        sequences.take(uow.session, "test.refund.executed")
        with self._lock:
            self.approved.append(view)
        if self.fail:
            raise ValidationError("The refund channel refused the refund.")

    def on_rejected(self, ctx, uow, view) -> None:
        self.rejected.append(view)

    def on_withdrawn(self, ctx, uow, view) -> None:
        self.withdrawn.append(view)


@pytest.fixture
def people(ctx):
    define_process(ctx, PROC, "Refund", TWO_STEPS)
    define_process(ctx, SINGLE, "Late-fee waiver", [{"role": "finance", "name": "Finance review"}])
    return {
        "a": person(
            ctx, "alice", "cashier", "finance"
        ),  # the maker; also holds finance to prove it is no help
        "b": person(ctx, "bob", "finance", "approver"),
        "c": person(ctx, "carol", "approver"),
        "d": person(ctx, "dave", "finance"),
        "admin": person(ctx, "root", "admin"),
    }


@pytest.fixture
def recorder():
    rec = Recorder()
    for code in (PROC, SINGLE):
        register_handler(code, rec.on_approved, rec.on_rejected, rec.on_withdrawn)
    yield rec
    for code in (PROC, SINGLE):
        unregister_handler(code)


def _submit(ctx: Context, object_id: str = "R-1", process: str = PROC, **kw) -> services.InstanceView:
    kw.setdefault("title", "Refund of double payment")
    kw.setdefault("amount_fen", 12_345)
    return submit(ctx, process, object_type="refund", object_id=object_id, **kw)


def _executed(ctx: Context) -> int:
    with ctx.read() as s:
        return sequences.peek(s, "test.refund.executed")


def _events(ctx: Context) -> list[OutboxEvent]:
    with ctx.read() as s:
        return list(
            s.execute(select(OutboxEvent).where(OutboxEvent.type == "workflow.instance_changed")).scalars()
        )


def _audit_actions(ctx: Context, instance_id: uuid.UUID) -> list[str]:
    with ctx.read() as s:
        return list(
            s.execute(
                select(AuditRecord.action)
                .where(AuditRecord.object_id == str(instance_id))
                .order_by(AuditRecord.seq)
            ).scalars()
        )


# --- the main journey ------------------------------------------------------------------------------------


def test_two_step_approval_with_maker_checker(ctx, people, recorder):
    a, b, c = people["a"], people["b"], people["c"]
    inst = _submit(a, payload={"refund_id": "RF-9"}, comment="owner paid twice")
    assert (inst.status, inst.current_step, inst.current_role, inst.version) == ("pending", 0, "finance", 1)

    with pytest.raises(PermissionDenied, match="You submitted this request"):
        approve(a, inst.id)
    with pytest.raises(PermissionDenied, match="You submitted this request"):
        reject(a, inst.id, "no")

    after_b = approve(b, inst.id, "amount checked")
    assert (after_b.status, after_b.current_step, after_b.current_role) == ("pending", 1, "approver")

    # bob holds the approver role too, but already decided step 0
    with pytest.raises(PermissionDenied, match="another step"):
        approve(b, inst.id)
    assert recorder.approved == []

    done = approve(c, inst.id)
    assert done.status == "approved" and done.decided_at == ctx.clock.now() and done.current_role is None
    assert len(recorder.approved) == 1
    assert recorder.approved[0].id == inst.id and recorder.approved[0].status == "approved"
    assert recorder.approved[0].payload == {"refund_id": "RF-9"}
    assert _executed(ctx) == 1

    detail = get_instance(ctx, inst.id)
    assert [(x.decision, x.step, x.actor_name) for x in detail.actions] == [
        ("submit", 0, "alice"),
        ("approve", 0, "bob"),
        ("approve", 1, "carol"),
    ]
    assert detail.actions[0].comment == "owner paid twice"
    assert _audit_actions(ctx, inst.id) == ["workflow.submit", "workflow.approve", "workflow.approve"]
    assert len(_events(ctx)) == 3


def test_reject_needs_a_reason_and_ends_the_instance(ctx, people, recorder):
    inst = _submit(people["a"])
    for blank in ("", "   ", None):
        with pytest.raises(ValidationError):
            reject(people["b"], inst.id, blank)
    assert get_instance(ctx, inst.id).instance.version == 1

    done = reject(people["b"], inst.id, "No proof of payment attached")
    assert done.status == "rejected" and done.decided_at is not None
    assert [v.id for v in recorder.rejected] == [inst.id]
    assert recorder.approved == [] and _executed(ctx) == 0
    with pytest.raises(StateError):
        approve(people["c"], inst.id)


def test_handler_failure_rolls_back_the_approval(ctx, people):
    failing = Recorder(fail=True)
    register_handler(PROC, on_approved=failing.on_approved)
    try:
        inst = _submit(people["a"])
        approve(people["b"], inst.id)
        events_before = len(_events(ctx))
        with pytest.raises(ValidationError, match="refused the refund"):
            approve(people["c"], inst.id)
    finally:
        unregister_handler(PROC)
    detail = get_instance(ctx, inst.id)
    assert (detail.instance.status, detail.instance.current_step, detail.instance.version) == (
        "pending",
        1,
        2,
    )
    assert [x.decision for x in detail.actions] == ["submit", "approve"]
    assert _executed(ctx) == 0  # the handler's own write went with the decision
    assert len(_events(ctx)) == events_before
    # once the business side works again the same approver can finish it
    rec = Recorder()
    register_handler(PROC, on_approved=rec.on_approved)
    try:
        assert approve(people["c"], inst.id).status == "approved"
    finally:
        unregister_handler(PROC)
    assert len(rec.approved) == 1 and _executed(ctx) == 1


def test_withdraw_by_the_submitter_only(ctx, people, recorder):
    inst = _submit(people["a"])
    with pytest.raises(PermissionDenied, match="Only the person who submitted"):
        withdraw(people["b"], inst.id)
    done = withdraw(people["a"], inst.id, "entered the wrong amount")
    assert done.status == "withdrawn"
    assert [v.id for v in recorder.withdrawn] == [inst.id]
    for act in (
        lambda: approve(people["b"], inst.id),
        lambda: withdraw(people["a"], inst.id),
        lambda: comment(people["a"], inst.id, "hello"),
    ):
        with pytest.raises(StateError):
            act()
    # the object is free for a new request
    again = _submit(people["a"], amount_fen=1_000)
    assert again.id != inst.id and again.status == "pending"


def test_one_pending_instance_per_object(ctx, people):
    first = _submit(people["a"])
    with pytest.raises(Conflict):
        _submit(people["d"])
    other = _submit(people["a"], object_id="R-2")
    same_object_other_process = _submit(people["a"], process=SINGLE)
    assert len({first.id, other.id, same_object_other_process.id}) == 3
    assert len(list_instances(ctx, status="pending")) == 3


def test_send_back_returns_to_previous_step(ctx, people, recorder):
    a, b, c = people["a"], people["b"], people["c"]
    inst = _submit(a)
    with pytest.raises(StateError, match="first step"):
        send_back(b, inst.id, "look again")
    approve(b, inst.id)
    with pytest.raises(ValidationError):
        send_back(c, inst.id, "")
    back = send_back(c, inst.id, "the bank slip is missing")
    assert (back.status, back.current_step, back.current_role) == ("pending", 0, "finance")
    # carol decided step 1 (by sending it back), so she may not decide step 0 even once she holds finance too
    carol_finance = c.as_actor(
        Actor(c.actor.user_id, "carol", roles=("approver", "finance"), permissions=frozenset({"workflow.*"}))
    )
    with pytest.raises(PermissionDenied, match="another step"):
        approve(carol_finance, inst.id)
    approve(b, inst.id)  # the same person may decide the same step again
    assert approve(c, inst.id).status == "approved"
    assert len(recorder.approved) == 1
    decisions = [(x.decision, x.step) for x in get_instance(ctx, inst.id).actions]
    assert decisions == [("submit", 0), ("approve", 0), ("send_back", 1), ("approve", 0), ("approve", 1)]


def test_missing_permission_changes_nothing(ctx, people):
    no_approve = person(ctx, "erin", "finance", perms=("workflow.view", "workflow.submit"))
    no_submit = person(ctx, "frank", "cashier", perms=("workflow.view",))
    nothing = person(ctx, "gus", "finance", perms=())
    inst = _submit(people["a"])
    with pytest.raises(PermissionDenied, match=r"workflow\.approve"):
        approve(no_approve, inst.id)
    with pytest.raises(PermissionDenied, match=r"workflow\.submit"):
        _submit(no_submit, object_id="R-9")
    with pytest.raises(PermissionDenied):
        list_instances(nothing)
    with pytest.raises(PermissionDenied):
        get_instance(nothing, inst.id)
    with pytest.raises(PermissionDenied):
        comment(no_submit, inst.id, "not mine")  # neither submitter nor approver
    with pytest.raises(PermissionDenied, match=r"site\.manage"):
        define_process(people["b"], PROC, "Refund", [{"role": "approver", "name": "Just one"}])
    assert pending_for(no_approve) == []
    assert get_process(ctx, PROC).version == 1
    detail = get_instance(ctx, inst.id)
    assert (detail.instance.version, len(detail.actions)) == (1, 1)
    assert len(list_instances(ctx)) == 1


def test_wrong_role_for_the_step_and_admin_override(ctx, people, recorder):
    inst = _submit(people["a"])
    with pytest.raises(PermissionDenied, match="role finance"):
        approve(people["c"], inst.id)  # approver, but step 0 is finance's
    approve(people["admin"], inst.id)
    with pytest.raises(PermissionDenied, match="role approver"):
        approve(people["d"], inst.id)
    # the admin role covers any step, but not maker-checker: root decided step 0 already
    with pytest.raises(PermissionDenied, match="another step"):
        approve(people["admin"], inst.id)
    # the system actor has every permission but no human role: it can never be the checker
    with pytest.raises(PermissionDenied, match="role approver"):
        approve(ctx, inst.id)
    assert approve(people["c"], inst.id).status == "approved"


def test_terminal_states_refuse_everything(ctx, people, recorder):
    inst = _submit(people["a"], process=SINGLE)
    approve(people["b"], inst.id)
    refused = [
        lambda: approve(people["d"], inst.id),
        lambda: reject(people["d"], inst.id, "too late"),
        lambda: send_back(people["d"], inst.id, "too late"),
        lambda: withdraw(people["a"], inst.id),
        lambda: comment(people["d"], inst.id, "too late"),
        lambda: attach(people["d"], inst.id, "late.pdf", PDF),
    ]
    for act in refused:
        with pytest.raises(StateError):
            act()
    detail = get_instance(ctx, inst.id)
    assert (detail.instance.status, detail.instance.version, len(detail.actions)) == ("approved", 2, 2)
    assert detail.attachments == ()
    assert len(recorder.approved) == 1


def test_stale_version_is_refused(ctx, people):
    inst = _submit(people["a"])
    approve(people["b"], inst.id, expected_version=inst.version)
    with pytest.raises(StateError, match="changed this approval meanwhile"):
        reject(people["c"], inst.id, "no", expected_version=inst.version)


def test_concurrent_approvals_exactly_one_wins(ctx, people, recorder):
    """Two finance clerks press Approve on the same request at the same moment, each in its own thread."""
    f1 = person(ctx, "fin1", "finance")
    f2 = person(ctx, "fin2", "finance")
    for round_no in range(3):
        single = _submit(people["a"], object_id=f"W-{round_no}", process=SINGLE)
        two = _submit(people["a"], object_id=f"T-{round_no}")
        for inst in (single, two):
            barrier = threading.Barrier(2)
            outcomes: list[object] = []

            def press(actor_ctx: Context, inst=inst, barrier=barrier, outcomes=outcomes) -> None:
                barrier.wait()
                try:
                    outcomes.append(approve(actor_ctx, inst.id, expected_version=inst.version))
                except (StateError, PermissionDenied) as exc:
                    outcomes.append(exc)

            threads = [threading.Thread(target=press, args=(who,)) for who in (f1, f2)]
            for t in threads:
                t.start()
            for t in threads:
                t.join(timeout=60)
            wins = [o for o in outcomes if isinstance(o, services.InstanceView)]
            losses = [o for o in outcomes if not isinstance(o, services.InstanceView)]
            assert len(wins) == 1 and len(losses) == 1
            assert isinstance(losses[0], StateError)
            approvals = [x for x in get_instance(ctx, inst.id).actions if x.decision == "approve"]
            assert len(approvals) == 1
    assert len(recorder.approved) == 3
    assert _executed(ctx) == 3


def test_definition_edit_does_not_change_a_running_instance(ctx, people, recorder):
    running = _submit(people["a"])
    edited = define_process(ctx, PROC, "Refund", [{"role": "approver", "name": "Final approval"}])
    assert edited.version == 2
    after = approve(people["b"], running.id)  # still the old first step: finance
    assert (after.status, after.current_step, after.process_version, len(after.steps)) == ("pending", 1, 1, 2)
    fresh = _submit(people["a"], object_id="R-2")
    assert (fresh.process_version, fresh.current_role, len(fresh.steps)) == (2, "approver", 1)
    assert approve(people["c"], fresh.id).status == "approved"
    assert approve(people["c"], running.id).status == "approved"


# --- process definitions ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "steps",
    [
        [],
        "finance",
        [{"role": "finance"}],
        [{"role": "finance", "name": "x", "extra": 1}],
        [{"role": "Finance!", "name": "x"}],
        [{"role": "system", "name": "x"}],
        [{"role": "finance", "name": "  "}],
        [{"role": "finance", "name": "x"}] * (services.STEPS_MAX + 1),
    ],
)
def test_define_process_rejects_bad_steps(ctx, steps):
    with pytest.raises(ValidationError):
        define_process(ctx, "test.bad", "Bad", steps)
    with pytest.raises(NotFound):
        get_process(ctx, "test.bad")


@pytest.mark.parametrize(
    "code", ["", "Payments.Refund", "payments..refund", "payments refund", "x" * 81, None]
)
def test_define_process_rejects_bad_codes(ctx, code):
    with pytest.raises(ValidationError):
        define_process(ctx, code, "Bad", TWO_STEPS)


def test_define_is_versioned_and_ensure_keeps_edits(ctx):
    first = ensure_process(ctx, "test.loan", "Loan", TWO_STEPS)
    assert first.version == 1
    assert define_process(ctx, "test.loan", "Loan", TWO_STEPS).version == 1  # no change, no new version
    edited = define_process(ctx, "test.loan", "Loan", [{"role": "approver", "name": "Committee"}])
    assert edited.version == 2
    kept = ensure_process(ctx, "test.loan", "Loan", TWO_STEPS)  # setup runs again: the edit stands
    assert (kept.version, kept.steps) == (2, (services.Step("approver", "Committee"),))
    with ctx.read() as s:
        actions = (
            s.execute(select(AuditRecord.action).where(AuditRecord.object_id == "test.loan")).scalars().all()
        )
    assert actions == ["workflow.process_define", "workflow.process_define"]


# --- submit validation, queues and listing ---------------------------------------------------------------


@pytest.mark.parametrize(
    "changes",
    [
        {"amount_fen": 12.5},
        {"amount_fen": True},
        {"amount_fen": 10**16},
        {"title": ""},
        {"title": "x" * 201},
        {"payload": {"when": object()}},
        {"payload": ["not", "a", "mapping"]},
        {"payload": {"blob": "x" * (services.PAYLOAD_MAX_BYTES + 1)}},
        {"object_id": ""},
        {"object_type": "Refund Order"},
        {"comment": "x" * (services.COMMENT_MAX_CHARS + 1)},
    ],
)
def test_submit_rejects_bad_input_and_writes_nothing(ctx, people, changes):
    kw = {"object_type": "refund", "object_id": "R-1", "title": "Refund", "amount_fen": 100, **changes}
    with pytest.raises(ValidationError):
        submit(people["a"], PROC, **kw)
    assert list_instances(ctx) == []
    assert _events(ctx) == []


def test_submit_to_unknown_process(ctx, people):
    with pytest.raises(NotFound):
        _submit(people["a"], process="test.nothing")


def test_negative_amounts_and_id_payloads_are_kept(ctx, people):
    # a cash-shift shortage is a negative difference; ids in the payload are stored as strings
    refund_id = new_id()
    inst = _submit(people["a"], amount_fen=-250, payload={"refund_id": refund_id})
    assert inst.amount_fen == -250 and inst.payload == {"refund_id": str(refund_id)}


def test_pending_for_shows_only_what_the_actor_may_decide(ctx, people):
    a, b, c, d = people["a"], people["b"], people["c"], people["d"]
    first = _submit(a)
    second = _submit(b, object_id="R-2")
    assert [v.id for v in pending_for(a)] == [second.id]  # alice is finance but made `first`
    assert [v.id for v in pending_for(b)] == [first.id]
    assert [v.id for v in pending_for(d)] == [first.id, second.id]
    assert pending_for(c) == []
    approve(b, first.id)
    assert pending_for(b) == []  # bob holds approver too, but decided step 0
    assert [v.id for v in pending_for(c)] == [first.id]
    assert [v.id for v in pending_for(people["admin"])] == [first.id, second.id]


def test_list_instances_filters_and_pages(ctx, people):
    made = []
    for i in range(5):
        made.append(_submit(people["a"], object_id=f"R-{i}"))
        ctx.clock.advance(minutes=1)
    approve(people["b"], made[0].id)
    reject(people["b"], made[1].id, "duplicate")
    assert [v.id for v in list_instances(ctx)] == [m.id for m in reversed(made)]
    assert [v.id for v in list_instances(ctx, status="rejected")] == [made[1].id]
    assert [v.id for v in list_instances(ctx, limit=2, offset=1)] == [made[3].id, made[2].id]
    assert list_instances(ctx, process_code=SINGLE) == []
    for bad in ({"status": "done"}, {"limit": 0}, {"limit": 10_000}, {"offset": -1}):
        with pytest.raises(ValidationError):
            list_instances(ctx, **bad)
    with pytest.raises(NotFound):
        get_instance(ctx, new_id())


def test_comment_records_without_changing_state(ctx, people):
    inst = _submit(people["a"])
    comment(people["a"], inst.id, "receipt photo to follow")
    comment(people["c"], inst.id, "waiting for it")
    with pytest.raises(ValidationError):
        comment(people["c"], inst.id, " ")
    detail = get_instance(ctx, inst.id)
    assert detail.instance.version == 1
    assert [(x.decision, x.actor_name) for x in detail.actions][1:] == [
        ("comment", "alice"),
        ("comment", "carol"),
    ]
    # comments are not decisions: carol may still decide a step
    approve(people["b"], inst.id)
    assert approve(people["c"], inst.id).status == "approved"


# --- attachments -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "declared", "expected"),
    [
        (PDF, None, "application/pdf"),
        (PDF, "application/pdf", "application/pdf"),
        (PNG, "image/png", "image/png"),
        (JPEG, "IMAGE/JPEG", "image/jpeg"),
        (TEXT, "text/plain; charset=utf-8", "text/plain"),
    ],
)
def test_attach_accepts_allowed_types(ctx, people, data, declared, expected):
    inst = _submit(people["a"])
    view = attach(people["a"], inst.id, "evidence", data, declared)
    assert (view.content_type, view.size_bytes, view.sha256) == (
        expected,
        len(data),
        hashlib.sha256(data).hexdigest(),
    )
    assert open_attachment(ctx, view.sha256) == data
    detail = get_instance(ctx, inst.id)
    assert [(x.filename, x.content_type) for x in detail.attachments] == [("evidence", expected)]
    assert _audit_actions(ctx, inst.id)[-1] == "workflow.attach"


@pytest.mark.parametrize(
    ("filename", "data", "declared"),
    [
        ("virus.pdf", b"MZ\x90\x00\x03\x00\x00\x00", None),  # a Windows executable named .pdf
        ("bin.txt", b"abc\x00def", None),  # NUL: binary, not text
        ("bad.txt", b"\xff\xfe\xfa", None),  # not UTF-8
        ("fake.pdf", PNG, "application/pdf"),  # declared type disagrees with the content
        ("fake.png", TEXT, "image/png"),
        ("empty.pdf", b"", None),
        ("big.pdf", b"%PDF-" + bytes(ATTACHMENT_SIZE_MAX_BYTES), None),
        ("../../etc/passwd", TEXT, None),
        ("", TEXT, None),
    ],
)
def test_attach_refuses_bad_files(ctx, people, filename, data, declared):
    inst = _submit(people["a"])
    with pytest.raises(ValidationError):
        attach(people["a"], inst.id, filename, data, declared)
    assert get_instance(ctx, inst.id).attachments == ()
    assert not any(p.is_file() for p in ctx.home.attachments_dir.rglob("*"))


def test_attach_exactly_the_size_limit(ctx, people):
    inst = _submit(people["a"])
    data = b"%PDF-" + bytes(ATTACHMENT_SIZE_MAX_BYTES - 5)
    assert attach(people["a"], inst.id, "max.pdf", data).size_bytes == ATTACHMENT_SIZE_MAX_BYTES


def test_attach_permissions(ctx, people):
    inst = _submit(people["a"])
    outsider = person(ctx, "frank", "cashier", perms=("workflow.view", "workflow.submit"))
    with pytest.raises(PermissionDenied):
        attach(outsider, inst.id, "x.pdf", PDF)
    with pytest.raises(NotFound):
        attach(people["a"], new_id(), "x.pdf", PDF)


def test_identical_content_is_stored_once(ctx, people):
    one = _submit(people["a"])
    two = _submit(people["a"], object_id="R-2")
    v1 = attach(people["a"], one.id, "slip.pdf", PDF)
    v2 = attach(people["b"], two.id, "bank-slip.pdf", PDF)
    again = attach(people["b"], one.id, "renamed.pdf", PDF)  # already on this instance: first name stands
    assert v1.sha256 == v2.sha256 == again.sha256 and again.filename == "slip.pdf"
    files = [p for p in ctx.home.attachments_dir.rglob("*") if p.is_file()]
    assert [p.name for p in files] == [v1.sha256]
    assert files[0].parent.name == v1.sha256[:2]
    with ctx.read() as s:
        assert len(s.execute(select(Attachment)).all()) == 1
        assert len(s.execute(select(InstanceAttachment)).all()) == 2


def test_tampered_or_missing_file_is_detected(ctx, people):
    inst = _submit(people["a"])
    view = attach(people["a"], inst.id, "slip.pdf", PDF)
    path = ctx.home.attachments_dir / view.sha256[:2] / view.sha256
    path.write_bytes(PDF.replace(b"obj", b"jbo"))  # same size, other content
    with pytest.raises(IntegrityProblem):
        open_attachment(ctx, view.sha256)
    path.write_bytes(PDF + b"more")
    with pytest.raises(IntegrityProblem):
        open_attachment(ctx, view.sha256)
    path.unlink()
    with pytest.raises(IntegrityProblem):
        open_attachment(ctx, view.sha256)
    # uploading the same content again repairs the store
    attach(people["a"], _submit(people["a"], object_id="R-2").id, "slip.pdf", PDF)
    assert open_attachment(ctx, view.sha256) == PDF
    with pytest.raises(ValidationError):
        open_attachment(ctx, "../../anju.db")
    with pytest.raises(NotFound):
        open_attachment(ctx, "0" * 64)


@given(st.binary(max_size=64))
def test_sniffing_never_trusts_more_than_the_bytes(data):
    kind = sniff_content_type(data)
    assert kind in (*attachments.ALLOWED_TYPES, None)
    assert sniff_content_type(b"%PDF-" + data) == "application/pdf"
    assert sniff_content_type(b"\x89PNG\r\n\x1a\n" + data) == "image/png"
    if kind == "text/plain":
        data.decode("utf-8")


@given(st.text(alphabet=st.characters(blacklist_categories=("Cc", "Cs")), max_size=50))
def test_plain_text_is_recognised(text):
    data = text.encode("utf-8")
    if not data.startswith(b"%PDF-"):
        assert sniff_content_type(data) == "text/plain"


def test_models_reject_raw_status_outside_the_state_machine(ctx, people):
    """The check constraints back the service rules: a row with an unknown status cannot be written."""
    inst = _submit(people["a"])
    with pytest.raises(IntegrityError), ctx.uow() as uow:
        row = uow.session.get(ApprovalInstance, inst.id)
        row.status = "done"
        uow.session.flush()
    with ctx.read() as s:
        assert s.get(ApprovalInstance, inst.id).status == "pending"
        assert len(s.execute(select(ApprovalAction)).all()) == 1
