"""Sync rounds against the hub running as its own process: push, idempotency, refusals, clock skew."""

from __future__ import annotations

import random

import httpx
import pytest
from sqlalchemy import func, select

from core.sync import protocol as p
from core.sync.client import HubClient, _client, run_round, status
from core.sync.models import HubSiteEvent, SyncRound
from core.sync.protocol import SyncError, SyncRefused
from hub.sync_apply import verify_site
from tests.sync.conftest import FlakyTransport, assert_consistent, open_books, post_entries


def _held_count(hub) -> int:
    with hub.ctx.read() as s:
        return s.execute(select(func.count()).select_from(HubSiteEvent)).scalar_one()


def test_round_pushes_everything_and_totals_agree(hub, site):
    open_books(site.ctx)
    post_entries(site.ctx, 1200)
    post_entries(site.ctx, 1)
    result = run_round(site.ctx)
    assert result.pushed == result.acked_seq > 0
    assert_consistent(hub, site)
    assert verify_site(hub.ctx, site.name).ok
    again = run_round(site.ctx)
    assert (again.pushed, again.acked_seq) == (0, result.acked_seq)
    st = status(site.ctx)
    assert st.pending == 0 and st.last_round.status == "ok"
    assert len(list(site.home.joinpath("backups").glob("sync-*.db"))) == 2


def test_verify_site_reports_a_difference(hub, site):
    open_books(site.ctx)
    post_entries(site.ctx, 10)
    run_round(site.ctx)
    # A site edit that never reached the hub (simulating a lost event) shows up as a difference.
    from core.sync.client import site_totals

    through, totals = site_totals(site.ctx)
    totals[0][3] += 1
    _, client = _client(site.ctx, None)
    client.call(p.PATH_SUMMARY, {"through_seq": through, "totals": totals})
    client.close()
    result = verify_site(hub.ctx, site.name)
    assert not result.ok and result.problems[0]["problem"] == "totals_differ"


def test_connection_cut_at_random_points_loses_and_doubles_nothing(hub, site):
    open_books(site.ctx)
    rng = random.Random(8)
    for _ in range(6):
        post_entries(site.ctx, rng.randrange(1, 600), rng)
        for _attempt in range(30):
            try:
                run_round(site.ctx, transport=FlakyTransport(rng, p_before=0.2, p_after=0.3), backup=False)
                break
            except SyncError as err:
                assert err.code == "unreachable"
        else:
            pytest.fail("never got through")
        assert_consistent(hub, site)
    with site.ctx.read() as s:
        failed = s.execute(select(func.count()).where(SyncRound.status == "failed")).scalar_one()
    assert failed > 0  # the faults did happen


def test_answer_lost_after_the_hub_applied_then_resume(hub, site):
    open_books(site.ctx)
    post_entries(site.ctx, 50)
    with pytest.raises(SyncError):
        # request 1 is the state call, 2 the first push: the hub applies it, the answer is lost
        run_round(site.ctx, transport=FlakyTransport(random.Random(1), after_n=2), backup=False)
    assert _held_count(hub) > 0
    run_round(site.ctx, backup=False)
    assert_consistent(hub, site)


def _push_body(client: HubClient, ctx, first: int, last: int, prev: str | None) -> tuple[bytes, str]:
    from core.sync.client import _read_batch

    events = [e for e in _read_batch(ctx, first) if e[0] <= last]
    nonce = p.new_nonce()
    body = p.encode(
        {
            "site_id": str(client.site_id),
            "nonce": nonce,
            "sent_at": ctx.clock.now().isoformat(),
            "first_seq": first,
            "last_seq": last,
            "prev_event_id": prev,
            "events": events,
        }
    )
    return body, nonce


def test_batch_sent_twice_replayed_gap_and_signatures(hub, site):
    open_books(site.ctx)
    for _ in range(8):
        post_entries(site.ctx, 1)
    _, client = _client(site.ctx, None)
    try:
        body, nonce = _push_body(client, site.ctx, 1, 3, None)
        assert client.send(p.PATH_PUSH, body, nonce)["acked_seq"] == 3
        with pytest.raises(SyncRefused) as err:  # the same signed batch again: a replay
            client.send(p.PATH_PUSH, body, nonce)
        assert err.value.code == p.REPLAYED
        body2, nonce2 = _push_body(client, site.ctx, 1, 3, None)  # re-sent with a new nonce: idempotent
        answer = client.send(p.PATH_PUSH, body2, nonce2)
        assert (answer["acked_seq"], answer["applied"]) == (3, 0)
        before = _held_count(hub)
        with pytest.raises(SyncRefused) as err:  # a gap: 4 is missing
            client.send(p.PATH_PUSH, *_push_body(client, site.ctx, 5, 6, "x"))
        assert err.value.code == p.GAP, err.value.message()
        assert _held_count(hub) == before
        # unsigned and wrongly signed requests
        raw = httpx.post(hub.url + p.PATH_PUSH, content=body2, headers={p.HEADER_SITE: str(client.site_id)})
        assert raw.status_code == 401 and raw.json()["error"]["code"] == p.UNSIGNED
        wrong = p.sign_request(b"k" * 32, p.PATH_PUSH, body2)
        raw = httpx.post(
            hub.url + p.PATH_PUSH,
            content=body2,
            headers={p.HEADER_SITE: str(client.site_id), p.HEADER_SIGNATURE: wrong},
        )
        assert raw.status_code == 401 and raw.json()["error"]["code"] == p.BAD_SIGNATURE
    finally:
        client.close()
    # an old batch replayed after the site moved on is still refused
    run_round(site.ctx, backup=False)
    _, client = _client(site.ctx, None)
    try:
        with pytest.raises(SyncRefused) as err:
            client.send(p.PATH_PUSH, body, nonce)
        assert err.value.code == p.REPLAYED
    finally:
        client.close()
    assert_consistent(hub, site)


def test_out_of_order_batch_is_refused_whole(hub, site):
    open_books(site.ctx)
    for _ in range(5):
        post_entries(site.ctx, 1)
    _, client = _client(site.ctx, None)
    from core.sync.client import _read_batch

    events = _read_batch(site.ctx, 1)
    events[1], events[2] = events[2], events[1]
    nonce = p.new_nonce()
    body = p.encode(
        {
            "site_id": str(client.site_id),
            "nonce": nonce,
            "sent_at": site.ctx.clock.now().isoformat(),
            "first_seq": 1,
            "last_seq": events[-1][0],
            "prev_event_id": None,
            "events": events,
        }
    )
    with pytest.raises(SyncRefused) as err:
        client.send(p.PATH_PUSH, body, nonce)
    client.close()
    assert err.value.code == p.OUT_OF_ORDER
    from hub.sync_apply import held_event_ids

    assert held_event_ids(hub.ctx, site.name) == []
    run_round(site.ctx, backup=False)
    assert_consistent(hub, site)


def test_site_clock_hours_off(hub, site):
    open_books(site.ctx)
    post_entries(site.ctx, 30)
    site.clock.advance(hours=8)  # a clock set to local time as if it were UTC
    run_round(site.ctx, backup=False)
    assert_consistent(hub, site)
    site.clock.advance(hours=-17)
    post_entries(site.ctx, 3)
    run_round(site.ctx, backup=False)
    assert_consistent(hub, site)
    site.clock.advance(days=3)  # beyond the window: refused, clearly
    post_entries(site.ctx, 1)
    with pytest.raises(SyncRefused) as err:
        run_round(site.ctx, backup=False)
    assert err.value.code == p.STALE
    site.clock.advance(days=-3)
    run_round(site.ctx, backup=False)
    assert_consistent(hub, site)


def test_not_enrolled_and_bad_key(tmp_path, clock, sqlite_db):
    from core.errors import ValidationError
    from core.sync.client import enroll
    from tests.conftest import make_site_context

    ctx = make_site_context(sqlite_db, clock, tmp_path / "home")
    with pytest.raises(SyncError) as err:
        run_round(ctx)
    assert err.value.code == "not_enrolled"
    with pytest.raises(SyncError):
        enroll(ctx, "http://127.0.0.1:1", "00000000-0000-0000-0000-000000000001", "abcd")
    with pytest.raises(ValidationError):
        enroll(ctx, "ftp://x", "00000000-0000-0000-0000-000000000001", "ab" * 32)
    assert not (tmp_path / "home" / "keys" / "sync.key").exists()
    enroll(ctx, "http://127.0.0.1:1", "00000000-0000-0000-0000-000000000001", "ab" * 32)
    key = tmp_path / "home" / "keys" / "sync.key"
    assert key.stat().st_mode & 0o777 == 0o600
    with pytest.raises(SyncError) as err:
        run_round(ctx, backup=False)
    assert err.value.code == "unreachable"
    assert status(ctx).last_round.status == "failed"


def test_reference_data_is_pulled_once_and_hub_owned(hub, site):
    from core.errors import StateError, ValidationError
    from core.security.models import Role, RolePermission, User, UserRole
    from core.sync.reference import is_hub_owned, refuse_if_hub_owned
    from hub.sync_apply import publish_reference

    with hub.ctx.read() as s:
        from core.sync.models import HubReferenceChange

        already = s.execute(select(func.count()).select_from(HubReferenceChange)).scalar_one()
    publish_reference(
        hub.ctx, "security.role", "meter", {"name": "抄表员", "permissions": ["property.billing"]}
    )
    publish_reference(
        hub.ctx,
        "security.user",
        "zhangsan",
        {"display_name": "张三", "password_hash": "$argon2id$x", "status": "active", "roles": ["meter"]},
    )
    publish_reference(hub.ctx, "payments.channel_fee_rate", "wechat", {"rate": "0.006"})
    with pytest.raises(ValidationError):
        publish_reference(hub.ctx, "", "k", {})
    first = run_round(site.ctx, backup=False)
    assert first.pulled == already + 3
    assert run_round(site.ctx, backup=False).pulled == 0
    with site.ctx.read() as s:
        assert s.get(Role, "meter").name == "抄表员"
        assert {
            r.pattern for r in s.scalars(select(RolePermission).where(RolePermission.role_code == "meter"))
        } == {"property.billing"}
        user = s.execute(select(User).where(User.username == "zhangsan")).scalar_one()
        assert [r.role_code for r in s.scalars(select(UserRole).where(UserRole.user_id == user.id))] == [
            "meter"
        ]
        assert is_hub_owned(s, "payments.channel_fee_rate", "wechat")
        with pytest.raises(StateError):
            refuse_if_hub_owned(s, "security.user", "zhangsan")
    # The site's own user services refuse to edit the hub's account, and change nothing.
    from core.security import services as security

    for attempt in (
        lambda: security.disable_user(site.ctx, "zhangsan"),
        lambda: security.set_roles(site.ctx, "zhangsan", ["cashier"]),
        lambda: security.change_password(site.ctx, "zhangsan", "Another-pass-2026"),
    ):
        with pytest.raises(StateError) as refused:
            attempt()
        assert refused.value.code == "hub_owned"
    with site.ctx.read() as s:
        user = s.execute(select(User).where(User.username == "zhangsan")).scalar_one()
        assert (user.status, user.password_hash) == ("active", "$argon2id$x")
    publish_reference(
        hub.ctx, "security.user", "zhangsan", {"password_hash": "$argon2id$y", "status": "disabled"}
    )
    assert run_round(site.ctx, backup=False).pulled == 1
    with site.ctx.read() as s:
        assert s.execute(select(User.status).where(User.username == "zhangsan")).scalar_one() == "disabled"


def test_text_with_tabs_newlines_and_backslashes_arrives_unchanged(hub, site):
    """PostgreSQL's COPY text format escapes these four characters; the hub must hold the site's bytes."""
    from datetime import date

    from core.ledger import services as ledger
    from core.sync.models import HubLedgerEntry, OutboxEvent
    from hub.sync_apply import _find_site
    from tests.sync.conftest import BOOK

    open_books(site.ctx)
    tricky = '物业费\\第1期\\补缴 "引号" \\N 末尾\\'
    ledger.post(site.ctx, ledger.EntrySpec(BOOK, date(2026, 11, 3), tricky, [("1002", 123), ("6001", -123)]))
    with site.ctx.uow() as uow:  # JSON carries control characters as backslash escapes
        uow.emit("test.text", {"text": "a\tb\nc\\d\re"})
    run_round(site.ctx)
    assert_consistent(hub, site)
    with site.ctx.read() as s:
        local = dict(s.execute(select(OutboxEvent.site_seq, OutboxEvent.payload)).all())
    with hub.ctx.read() as s:
        site_id = _find_site(s, site.name).site_id
        held = dict(
            s.execute(
                select(HubSiteEvent.site_seq, HubSiteEvent.payload).where(HubSiteEvent.site_id == site_id)
            ).all()
        )
        descriptions = set(
            s.scalars(select(HubLedgerEntry.description).where(HubLedgerEntry.site_id == site_id))
        )
    assert held == local
    assert tricky in descriptions


def test_a_push_from_a_stale_mark_goes_on_from_the_hubs(hub, site, monkeypatch):
    """A site that starts pushing below what the hub holds (its own mark was not saved) is told the hub's mark
    and goes on from there, naming the event at that mark — not refused as a regression."""
    from core.sync.client import push

    open_books(site.ctx)
    post_entries(site.ctx, 30, random.Random(3))
    first = run_round(site.ctx, backup=False)
    post_entries(site.ctx, 20, random.Random(4))
    monkeypatch.setattr(p, "BATCH_EVENTS_MAX", 2)  # the first batch (seq 1-2) is wholly old at the hub
    _, client = _client(site.ctx, None)
    try:
        pushed, acked = push(site.ctx, client, 0)
    finally:
        client.close()
    with site.ctx.read() as s:
        from core.sync.client import _local_max

        assert acked == _local_max(s) > first.acked_seq
    assert pushed == acked - first.acked_seq
    assert_consistent(hub, site)
