"""Notices: targeting, the notification outbox (app push, SMS through a recording sender, notice board), read
status, withdrawal."""

from __future__ import annotations

import pytest

from core.errors import PermissionDenied, StateError, ValidationError
from core.notify import services as notify
from core.property.notices import services as ns
from tests.property.ops_support import as_person, make_base


@pytest.fixture
def recorder():
    rec = notify.RecordingSender("sms")
    old = notify.set_sender("sms", rec)
    yield rec
    notify.set_sender("sms", old)


def test_publish_to_a_building_reaches_its_residents(ctx, recorder):
    base = make_base(ctx)
    n = ns.draft(
        ctx,
        community_id=base.community_id,
        kind="notice",
        category="outage",
        title="停水通知",
        body="11月26日9:00-12:00 1号楼停水",
        scope="buildings",
        targets=[base.building_ids[0]],
        channels=["app_push", "sms", "notice_board"],
    )
    assert n.status == "draft"
    pub = ns.publish(ctx, n.id)
    assert (pub.status, pub.recipients) == ("published", 2)
    msgs = notify.list_messages(ctx, source_type="prop_notice", source_id=n.id)
    assert sorted(m.channel for m in msgs) == ["app_push", "app_push", "notice_board", "sms", "sms"]
    assert [m.recipient for m in msgs if m.channel == "notice_board"] == ["1号楼"]
    result = notify.deliver_pending(ctx)
    assert (result.sent, result.failed) == (5, 0)
    assert sorted(m.address for m in recorder.sent) == ["13800138000", "13800138001"]
    assert recorder.sent[0].body.startswith("【停水通知】")
    assert notify.deliver_pending(ctx).sent == 0  # nothing twice

    status = ns.read_status(ctx, n.id)
    assert (status.recipients, status.read) == (2, 0)
    first = ns.mark_read(ctx, n.id, base.owner_ids[0])
    assert ns.mark_read(ctx, n.id, base.owner_ids[0]) == first
    assert ns.read_status(ctx, n.id).unread_owner_ids == [base.owner_ids[1]]
    with pytest.raises(ValidationError):
        ns.mark_read(ctx, n.id, base.owner_ids[3])  # lives in building 2
    assert [i.read_at for i in ns.inbox(ctx, base.owner_ids[0])] == [first]
    assert ns.inbox(ctx, base.owner_ids[3]) == []


def test_failed_sms_is_retried_then_given_up(ctx, clock):
    class Down:
        def send(self, message):
            raise notify.SendFailed("gateway down")

    old = notify.set_sender("sms", Down())
    try:
        base = make_base(ctx)
        n = ns.draft(
            ctx,
            community_id=base.community_id,
            kind="announcement",
            category="regulation",
            title="装修管理规定",
            body="装修时间为工作日8:00-18:00",
            scope="houses",
            targets=[base.house_ids[2]],
            channels=["sms"],
        )
        ns.publish(ctx, n.id)
        outcomes = []
        for _ in range(notify.ATTEMPTS_MAX):
            r = notify.deliver_pending(ctx)
            outcomes.append((r.sent, r.retrying, r.failed))
            clock.advance(hours=10)
        assert outcomes == [(0, 1, 0)] * (notify.ATTEMPTS_MAX - 1) + [(0, 0, 1)]
        assert notify.list_messages(ctx, source_id=n.id)[0].last_error == "gateway down"
    finally:
        notify.set_sender("sms", old)


def test_states_and_bad_input(ctx):
    base = make_base(ctx)
    with pytest.raises(ValidationError):
        ns.draft(
            ctx,
            community_id=base.community_id,
            kind="notice",
            category="outage",
            title="t",
            body="b",
            scope="houses",
            targets=[],
        )
    with pytest.raises(ValidationError):
        ns.draft(ctx, community_id=base.community_id, kind="notice", category="nope", title="t", body="b")
    with pytest.raises(ValidationError):
        ns.draft(
            ctx,
            community_id=base.community_id,
            kind="notice",
            category="other",
            title="t",
            body="b",
            channels=["fax"],
        )
    n = ns.draft(
        ctx,
        community_id=base.community_id,
        kind="notice",
        category="activity",
        title="中秋游园",
        body="欢迎参加",
    )
    ns.publish(ctx, n.id)
    with pytest.raises(StateError):
        ns.publish(ctx, n.id)
    assert ns.withdraw(ctx, n.id, "时间调整").status == "withdrawn"
    for call in (lambda: ns.publish(ctx, n.id), lambda: ns.withdraw(ctx, n.id, "x")):
        with pytest.raises(StateError):
            call()
    assert ns.inbox(ctx, base.owner_ids[0]) == []  # withdrawn notices leave the inbox
    reader = as_person(ctx, "r", "property.notices.view")
    with pytest.raises(PermissionDenied):
        ns.draft(reader, community_id=base.community_id, kind="notice", category="other", title="t", body="b")
