"""Complaint tickets and suggestions: every transition allowed and refused, reopen, reasons required."""

from __future__ import annotations

import pytest

from core.errors import PermissionDenied, StateError, ValidationError
from core.property.complaints import services as cs
from core.property.complaints.models import COMPLAINT_STATUSES, SUGGESTION_STATUSES
from tests.property.ops_support import as_person, make_base

C_ACTIONS = {
    "accept": lambda ctx, i: cs.accept(ctx, i),
    "assign": lambda ctx, i: cs.assign(ctx, i, "客服小王"),
    "handle": lambda ctx, i: cs.handle(ctx, i),
    "reply": lambda ctx, i: cs.reply(ctx, i, "已协调清理"),
    "confirm": lambda ctx, i: cs.confirm(ctx, i),
    "reopen": lambda ctx, i: cs.reopen(ctx, i, "仍有噪音"),
    "cancel": lambda ctx, i: cs.cancel(ctx, i, "已自行解决"),
}
C_PATHS = {
    "submitted": [],
    "accepted": ["accept"],
    "assigned": ["accept", "assign"],
    "handling": ["accept", "assign", "handle"],
    "replied": ["accept", "assign", "handle", "reply"],
    "closed": ["accept", "assign", "handle", "reply", "confirm"],
    "cancelled": ["cancel"],
}
S_ACTIONS = {
    "evaluate": lambda ctx, i: cs.evaluate(ctx, i),
    "adopt": lambda ctx, i: cs.adopt(ctx, i, "下月实施"),
    "decline": lambda ctx, i: cs.decline(ctx, i, "预算不足"),
}
S_PATHS = {"submitted": [], "evaluating": ["evaluate"], "adopted": ["adopt"], "declined": ["decline"]}


def _complaint(ctx, base):
    return cs.submit_complaint(
        ctx,
        community_id=base.community_id,
        category="noise",
        content="楼上夜间噪音",
        house_id=base.house_ids[0],
        owner_id=base.owner_ids[0],
    )


def test_every_complaint_transition(ctx):
    base = make_base(ctx)
    assert set(C_PATHS) == set(COMPLAINT_STATUSES)
    for state, path in C_PATHS.items():
        for action, call in C_ACTIONS.items():
            c = _complaint(ctx, base)
            for step in path:
                c = C_ACTIONS[step](ctx, c.id)
            assert c.status == state
            sources, target = cs.COMPLAINT_MACHINE.transitions[action]
            if state in sources and state not in cs.COMPLAINT_MACHINE.terminal:
                assert call(ctx, c.id).status == target
            else:
                with pytest.raises(StateError):
                    call(ctx, c.id)


def test_every_suggestion_transition(ctx):
    base = make_base(ctx)
    assert set(S_PATHS) == set(SUGGESTION_STATUSES)
    for state, path in S_PATHS.items():
        for action, call in S_ACTIONS.items():
            s = cs.submit_suggestion(
                ctx, community_id=base.community_id, title="增设充电桩", content="地库增设"
            )
            for step in path:
                s = S_ACTIONS[step](ctx, s.id)
            sources, target = cs.SUGGESTION_MACHINE.transitions[action]
            if state in sources and state not in cs.SUGGESTION_MACHINE.terminal:
                assert call(ctx, s.id).status == target
            else:
                with pytest.raises(StateError):
                    call(ctx, s.id)


def test_reopen_goes_back_to_the_queue_with_a_trail(ctx):
    base = make_base(ctx)
    c = _complaint(ctx, base)
    for step in C_PATHS["replied"]:
        C_ACTIONS[step](ctx, c.id)
    with pytest.raises(ValidationError):
        cs.reopen(ctx, c.id, " ")
    again = cs.reopen(ctx, c.id, "仍有噪音")
    assert (again.status, again.reopen_count, again.handler) == ("accepted", 1, None)
    for step in ("assign", "handle", "reply", "confirm"):
        c2 = C_ACTIONS[step](ctx, c.id)
    assert c2.status == "closed" and c2.closed_at is not None
    trail = cs.complaint_trail(ctx, c.id)
    assert [t.action for t in trail] == [
        "submit",
        "accept",
        "assign",
        "handle",
        "reply",
        "reopen",
        "assign",
        "handle",
        "reply",
        "confirm",
    ]
    assert trail[5].reason == "仍有噪音"
    assert cs.complaint_statistics(ctx, base.community_id) == {
        "by_status": {"closed": 1},
        "by_category": {"noise": 1},
    }


def test_decline_needs_a_reason_and_permissions(ctx):
    base = make_base(ctx)
    s = cs.submit_suggestion(ctx, community_id=base.community_id, title="t", content="c")
    with pytest.raises(ValidationError):
        cs.decline(ctx, s.id, "")
    assert cs.list_suggestions(ctx, base.community_id)[0].status == "submitted"
    owner_desk = as_person(ctx, "desk", "property.complaints.submit", "property.complaints.view")
    c = _complaint(owner_desk, base)
    with pytest.raises(PermissionDenied):
        cs.accept(owner_desk, c.id)
    with pytest.raises(ValidationError):
        cs.submit_complaint(ctx, community_id=base.community_id, category="weather", content="x")
