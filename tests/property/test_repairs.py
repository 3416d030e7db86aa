"""Repair work orders: every transition allowed and refused, 抢单 race, SLA overdue, paid repairs, ratings."""

from __future__ import annotations

import threading
from datetime import date

import pytest
from sqlalchemy import func, select

from core.errors import PermissionDenied, StateError, ValidationError
from core.property.ops import services as ops
from core.property.ops.models import PendingCharge, StatusChange
from core.property.repairs import services as rs
from core.property.repairs.models import STATUSES, WorkOrder
from core.sync.models import OutboxEvent
from tests.property.ops_support import as_person, make_base


@pytest.fixture
def base(ctx):
    b = make_base(ctx)
    rs.define_repair_type(ctx, "plumbing", "水电维修", response_minutes=30, completion_minutes=240)
    rs.define_repair_type(
        ctx, "lift", "电梯", response_minutes=10, completion_minutes=120, grab_allowed=False
    )
    return b


def _report(ctx, base, **kw):
    args = dict(
        community_id=base.community_id,
        repair_type="plumbing",
        description="厨房水管漏水",
        house_id=base.house_ids[0],
        owner_id=base.owner_ids[0],
    )
    args.update(kw)
    return rs.report(ctx, **args)


ACTIONS = {
    "open_grab": lambda ctx, i: rs.open_for_grab(ctx, i),
    "assign": lambda ctx, i: rs.assign(ctx, i, "w1"),
    "grab": lambda ctx, i: rs.grab(ctx, i),
    "accept": lambda ctx, i: rs.accept(ctx, i),
    "transfer": lambda ctx, i: rs.transfer(ctx, i, "w2", "换人"),
    "return": lambda ctx, i: rs.return_order(ctx, i, "缺少工具"),
    "start": lambda ctx, i: rs.start(ctx, i),
    "pause": lambda ctx, i: rs.pause(ctx, i, "等配件"),
    "resume": lambda ctx, i: rs.resume(ctx, i),
    "complete": lambda ctx, i: rs.complete(ctx, i, note="已修好"),
    "rate": lambda ctx, i: rs.rate(ctx, i, speed=5, quality=4),
    "visit": lambda ctx, i: rs.return_visit(ctx, i, note="电话回访", satisfied=True),
    "cancel": lambda ctx, i: rs.cancel(ctx, i, "业主撤回"),
}
PATHS = {
    "pending": [],
    "grabbable": ["open_grab"],
    "dispatched": ["assign"],
    "accepted": ["assign", "accept"],
    "in_progress": ["assign", "accept", "start"],
    "paused": ["assign", "accept", "start", "pause"],
    "completed": ["assign", "accept", "start", "complete"],
    "rated": ["assign", "accept", "start", "complete", "rate"],
    "closed": ["assign", "accept", "start", "complete", "visit"],
    "cancelled": ["cancel"],
}


def _in_state(ctx, base, state):
    order = _report(ctx, base)
    for action in PATHS[state]:
        order = ACTIONS[action](ctx, order.id)
    assert order.status == state
    return order


def test_every_transition_allowed_and_refused(ctx, base):
    assert set(PATHS) == set(STATUSES)
    for state in STATUSES:
        for action, call in ACTIONS.items():
            order = _in_state(ctx, base, state)
            sources, target = rs.MACHINE.transitions[action]
            allowed = state in sources and state not in rs.MACHINE.terminal
            if allowed:
                assert call(ctx, order.id).status == target, (state, action)
            else:
                with pytest.raises(StateError):
                    call(ctx, order.id)
                assert rs.get(ctx, order.id).version == order.version, (state, action)


def test_full_journey_with_paid_repair_timeline_and_charge(ctx, base, clock):
    worker = as_person(ctx, "w1", "property.repairs.work", "property.repairs.view")
    order = _report(ctx, base, preferred_from=None)
    assert order.number.startswith("T01-BX2026-")
    rs.assign(ctx, order.id, "w1")
    clock.advance(minutes=12)
    assert rs.accept(worker, order.id).accepted_at is not None
    rs.start(worker, order.id)
    rs.pause(worker, order.id, "等配件")
    rs.resume(worker, order.id)
    rs.add_material(worker, order.id, "三通接头", 2, 1550)
    clock.advance(minutes=60)
    done = rs.complete(worker, order.id, note="更换三通", paid=True, labor_fen=5000)
    assert (done.materials_fen, done.charge_fen, done.status) == (3100, 8100, "completed")
    rs.rate(ctx, order.id, speed=5, quality=4, comment="很快")
    closed = rs.return_visit(ctx, order.id, note="业主满意", satisfied=True)
    assert closed.status == "closed"

    progress = rs.progress(ctx, order.id)
    assert [c.action for c in progress.timeline] == [
        "report",
        "assign",
        "accept",
        "start",
        "pause",
        "resume",
        "material",
        "complete",
        "rate",
        "visit",
    ]
    assert progress.timeline[2].actor_name == "w1"
    assert progress.timeline[4].reason == "等配件"
    assert progress.materials[0].amount_fen == 3100

    charges = ops.list_charges(ctx)
    assert [(c.amount_fen, c.house_id, c.source_id) for c in charges] == [(8100, base.house_ids[0], order.id)]
    paid = ops.mark_charge_paid(ctx, charges[0].id, "PAY-1")
    assert ops.mark_charge_paid(ctx, charges[0].id, "PAY-1") == paid  # repeat is a no-op

    with ctx.read() as s:
        events = s.execute(
            select(func.count()).select_from(OutboxEvent).where(OutboxEvent.type == rs.EVENT_CHANGED)
        ).scalar_one()
    assert events == 10  # report + 9 changes (material included)


def test_charge_hook_runs_in_the_transaction_and_can_veto(ctx, base):
    seen = []

    def hook(uow, charge):
        seen.append(charge.amount_fen)
        if charge.amount_fen > 10000:
            raise ValidationError("too much")

    ops.register_charge_hook(hook)
    try:
        order = _in_state(ctx, base, "in_progress")
        with pytest.raises(ValidationError):
            rs.complete(ctx, order.id, paid=True, labor_fen=20000)
        assert rs.get(ctx, order.id).status == "in_progress"
        with ctx.read() as s:
            assert s.execute(select(func.count()).select_from(PendingCharge)).scalar_one() == 0
        rs.complete(ctx, order.id, paid=True, labor_fen=500)
        assert seen == [20000, 500]
    finally:
        ops.unregister_charge_hook(hook)


def test_grab_pool_and_refusals(ctx, base):
    order = _report(ctx, base)
    rs.open_for_grab(ctx, order.id)
    assert [o.id for o in rs.grab_pool(ctx)] == [order.id]
    w1 = as_person(ctx, "w1", "property.repairs.work", "property.repairs.view")
    got = rs.grab(w1, order.id)
    assert (got.status, got.worker) == ("accepted", "w1")
    w2 = as_person(ctx, "w2", "property.repairs.work")
    with pytest.raises(StateError):
        rs.grab(w2, order.id)
    with pytest.raises(PermissionDenied):
        rs.start(w2, order.id)  # not their order
    lift = _report(ctx, base, repair_type="lift", house_id=None, common_area="2号楼电梯")
    with pytest.raises(StateError):
        rs.open_for_grab(ctx, lift.id)


def test_grab_race_two_threads_one_wins(ctx, base):
    order = _report(ctx, base)
    rs.open_for_grab(ctx, order.id)
    workers = [as_person(ctx, f"w{i}", "property.repairs.work") for i in (1, 2)]
    results: dict[str, str] = {}
    barrier = threading.Barrier(2)

    def run(c):
        barrier.wait()
        try:
            rs.grab(c, order.id)
            results[c.actor.username] = "won"
        except StateError:
            results[c.actor.username] = "lost"

    threads = [threading.Thread(target=run, args=(w,)) for w in workers]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(results.values()) == ["lost", "won"]
    winner = next(name for name, r in results.items() if r == "won")
    assert rs.get(ctx, order.id).worker == winner
    with ctx.read() as s:
        grabs = s.execute(
            select(func.count())
            .select_from(StatusChange)
            .where(StatusChange.object_id == order.id, StatusChange.action == "grab")
        ).scalar_one()
    assert grabs == 1


def test_sla_overdue_with_fake_clock(ctx, base, clock):
    a = _report(ctx, base)
    b = _report(ctx, base, house_id=base.house_ids[1])
    assert rs.overdue(ctx) == []
    clock.advance(minutes=31)
    rs.assign(ctx, b.id, "w1")
    rs.accept(ctx, b.id)
    late = rs.overdue(ctx)
    assert [(o.order.id, o.kind, o.minutes_late) for o in late] == [(a.id, "response", 1)]
    clock.advance(minutes=240)
    late = rs.overdue(ctx, community_id=base.community_id)
    assert [(o.order.id, o.kind) for o in late] == [(a.id, "completion"), (b.id, "completion")]
    stats = rs.statistics(
        ctx, community_id=base.community_id, start=date(2026, 11, 1), end=date(2026, 11, 30)
    )
    assert (stats.orders, stats.responded, stats.avg_response_minutes) == (2, 1, 31)
    assert (stats.response_late, stats.completion_late) == (2, 2)


def test_bad_input_writes_nothing(ctx, base):
    with pytest.raises(ValidationError):
        _report(ctx, base, repair_type="nope")
    with pytest.raises(ValidationError):
        _report(ctx, base, house_id=None)  # neither a house nor a common area
    with pytest.raises(ValidationError):
        _report(ctx, base, description="  ")
    with pytest.raises(ValidationError):
        _report(ctx, base, photos=["0" * 64])  # never uploaded
    with ctx.read() as s:
        assert s.execute(select(func.count()).select_from(WorkOrder)).scalar_one() == 0
    order = _in_state(ctx, base, "completed")
    for kw in ({"speed": 0, "quality": 3}, {"speed": 3, "quality": 6}):
        with pytest.raises(ValidationError):
            rs.rate(ctx, order.id, **kw)
    with pytest.raises(ValidationError):
        rs.transfer(ctx, _in_state(ctx, base, "accepted").id, "w2", " ")
    common = _in_state(ctx, base, "in_progress")
    with pytest.raises(ValidationError):
        rs.complete(ctx, common.id, labor_fen=100)  # labour on a free repair


def test_common_area_repair_cannot_be_charged(ctx, base):
    order = _report(ctx, base, house_id=None, common_area="地下车库B1照明")
    for action in ("assign", "accept", "start"):
        ACTIONS[action](ctx, order.id)
    with pytest.raises(ValidationError):
        rs.complete(ctx, order.id, paid=True, labor_fen=100)
    assert rs.complete(ctx, order.id).charge_fen == 0


def test_permissions(ctx, base):
    clerk = as_person(ctx, "clerk", "property.repairs.view")
    with pytest.raises(PermissionDenied):
        _report(clerk, base)
    order = _report(ctx, base)
    with pytest.raises(PermissionDenied):
        rs.assign(clerk, order.id, "w1")
    assert rs.get(clerk, order.id).status == "pending"


def test_photos_are_stored_by_content(ctx, base):
    png = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32
    sha = rs.upload_photo(ctx, "leak.png", png)
    assert rs.upload_photo(ctx, "again.png", png) == sha
    order = _report(ctx, base, photos=[sha, sha])
    assert order.photos == [sha]
