"""Community activities: publish, capacity and waiting list with promotion, paid sign-ups, attendance, stats."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest

from core.errors import Conflict, StateError, ValidationError
from core.property.activities import services as act
from core.property.ops import services as ops
from core.property.ops.models import CHARGE_CANCELLED, CHARGE_PENDING, CHARGE_REFUND_DUE
from tests.property.ops_support import as_person, make_base


def _activity(ctx, base, clock, **kw):
    args = dict(
        community_id=base.community_id,
        title="中秋游园会",
        content="猜灯谜",
        place="中心花园",
        starts_at=clock.now() + timedelta(days=3),
        ends_at=clock.now() + timedelta(days=3, hours=2),
        capacity=3,
        fee_fen=2000,
    )
    args.update(kw)
    a = act.plan(ctx, **args)
    return act.publish(ctx, a.id)


def test_capacity_waiting_list_promotion_and_charges(ctx, clock):
    base = make_base(ctx)
    a = _activity(ctx, base, clock)
    o = base.owner_ids
    assert act.signup(ctx, a.id, o[0], party_size=2).status == "confirmed"
    assert act.signup(ctx, a.id, o[1], party_size=2).status == "waitlisted"  # 2 + 2 > 3
    assert act.signup(ctx, a.id, o[2]).status == "waitlisted"  # nobody jumps the queue
    with pytest.raises(Conflict):
        act.signup(ctx, a.id, o[0])
    charges = ops.list_charges(ctx, source_type="activity")
    assert [c.amount_fen for c in charges] == [4000]
    promoted = act.cancel_signup(ctx, a.id, o[0])
    assert [p.owner_id for p in promoted] == [o[1], o[2]]
    assert {c.status for c in ops.list_charges(ctx, status=None, source_type="activity")} == {
        CHARGE_CANCELLED,
        CHARGE_PENDING,
    }
    stats = act.statistics(ctx, a.id)
    assert (
        stats.confirmed_people,
        stats.waitlisted_people,
        stats.cancelled_signups,
        stats.fee_expected_fen,
    ) == (3, 0, 1, 6000)
    again = act.signup(ctx, a.id, o[0])
    assert (again.status, again.queue_no) == ("waitlisted", 4)


def test_paid_charge_becomes_refund_due_when_cancelled(ctx, clock):
    base = make_base(ctx)
    a = _activity(ctx, base, clock, capacity=10)
    s = act.signup(ctx, a.id, base.owner_ids[0])
    ops.mark_charge_paid(ctx, s.charge_id, "PAY-9")
    act.cancel(ctx, a.id, "天气原因")
    assert [c.status for c in ops.list_charges(ctx, status=None)] == [CHARGE_REFUND_DUE]
    assert act.list_signups(ctx, a.id)[0].status == "cancelled"
    with pytest.raises(StateError):
        act.signup(ctx, a.id, base.owner_ids[1])


def test_activity_states_deadline_and_attendance(ctx, clock):
    base = make_base(ctx)
    planned = act.plan(
        ctx,
        community_id=base.community_id,
        title="亲子手工",
        content="做灯笼",
        place="会所",
        starts_at=clock.now() + timedelta(days=1),
        ends_at=clock.now() + timedelta(days=1, hours=1),
        capacity=5,
        signup_deadline=clock.now() + timedelta(hours=12),
    )
    with pytest.raises(StateError):
        act.signup(ctx, planned.id, base.owner_ids[0])
    with pytest.raises(StateError):
        act.finish(ctx, planned.id)
    act.publish(ctx, planned.id)
    with pytest.raises(StateError):
        act.publish(ctx, planned.id)
    act.signup(ctx, planned.id, base.owner_ids[0])
    assert ops.list_charges(ctx) == []  # free activity
    clock.advance(hours=13)
    with pytest.raises(StateError):
        act.signup(ctx, planned.id, base.owner_ids[1])
    with pytest.raises(StateError):
        act.record_attendance(ctx, planned.id, [base.owner_ids[0]])
    clock.advance(hours=12)
    with pytest.raises(ValidationError):
        act.record_attendance(ctx, planned.id, [base.owner_ids[1]])
    assert act.record_attendance(ctx, planned.id, [base.owner_ids[0]]) == 1
    assert act.finish(ctx, planned.id).status == "finished"
    for call in (lambda: act.cancel(ctx, planned.id, "x"), lambda: act.publish(ctx, planned.id)):
        with pytest.raises(StateError):
            call()
    assert act.statistics(ctx, planned.id).attended_people == 1


def test_bad_input(ctx, clock):
    base = make_base(ctx)
    with pytest.raises(ValidationError):
        act.plan(
            ctx,
            community_id=base.community_id,
            title="t",
            content="c",
            place="p",
            starts_at=clock.now() - timedelta(hours=1),
            ends_at=clock.now() + timedelta(hours=1),
            capacity=5,
        )
    with pytest.raises(ValidationError):
        act.plan(
            ctx,
            community_id=base.community_id,
            title="t",
            content="c",
            place="p",
            starts_at=clock.now() + timedelta(hours=2),
            ends_at=clock.now() + timedelta(hours=1),
            capacity=5,
        )
    a = _activity(ctx, base, clock)
    with pytest.raises(ValidationError):
        act.signup(ctx, a.id, base.owner_ids[0], party_size=4)
    assert act.list_signups(ctx, a.id) == []


def test_last_place_race(ctx, clock):
    base = make_base(ctx)
    a = _activity(ctx, base, clock, capacity=1, fee_fen=0)
    barrier = threading.Barrier(2)
    statuses = []

    def run(owner_id):
        c = as_person(ctx, f"desk-{owner_id}", "property.activities.signup")
        barrier.wait()
        statuses.append(act.signup(c, a.id, owner_id).status)

    threads = [threading.Thread(target=run, args=(o,)) for o in base.owner_ids[:2]]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(statuses) == ["confirmed", "waitlisted"]
