"""The counter's sync line in the status bar and "Sync now" (Ctrl+Shift+Y): shown by permission, never a traceback."""

from __future__ import annotations

from datetime import UTC, datetime

from core.security import services as security
from core.sync import client as sync
from desktop.sync_status import status_text
from tests.desktop.conftest import PASSWORD
from tests.desktop.test_counter_app import idle, window


def _status(**kw) -> sync.SyncStatus:
    base = dict(
        enrolled=True,
        hub_url="http://hub",
        hub_site_id="x",
        acked_seq=10,
        local_seq=10,
        pending=0,
        oldest_pending_at=None,
        lag_s=None,
        reference_version=0,
        schedule_at=None,
        last_round=None,
        last_success_at=datetime(2026, 11, 25, 2, 0, tzinfo=UTC),
    )
    return sync.SyncStatus(**{**base, **kw})


def test_status_lines(monkeypatch):
    monkeypatch.setenv("ANJU_LANG", "en")
    assert status_text(_status()) == "Synced with the hub (last 11-25 10:00)"  # shown in Beijing time
    assert status_text(_status(pending=3, local_seq=13)) == "Sync: 3 change(s) waiting for the hub"
    failed = sync.RoundView(
        datetime(2026, 11, 25, 3, 0, tzinfo=UTC),
        datetime(2026, 11, 25, 3, 1, tzinfo=UTC),
        "failed",
        0,
        0,
        10,
        "x",
        "",
    )
    assert (
        status_text(_status(pending=2, last_round=failed))
        == "Sync failed at 11-25 11:01; 2 change(s) waiting"
    )
    assert status_text(_status(enrolled=False)) == "Sync: this site is not enrolled at a hub"


def test_sync_line_by_permission_and_a_failed_round_explained(qtbot, site):
    ctx, _data = site
    security.add_user(ctx, "boss.li", PASSWORD, roles=["admin"])
    w, _counter = window(qtbot, ctx, user="boss.li")
    idle(qtbot, w)
    label = w.sync.label
    qtbot.waitUntil(lambda: label.text() != "", timeout=10_000)  # read off the UI thread
    assert label.isVisibleTo(w) and w.tasks.running == 0  # e.g. "同步：本站点尚未在中心登记"; no busy bar
    names = [a.text() for a in w.actions()]
    assert any("Sync" in n or "同步" in n for n in names)
    w.sync.sync_now()  # this test site is not enrolled: the round fails with a message, not a traceback
    qtbot.waitUntil(lambda: not w.sync.running, timeout=10_000)
    assert "sync enroll" in label.text() and "Traceback" not in label.text()  # says what to do
    assert sync.status(ctx).last_round is None  # an unenrolled site records no round

    cashier, _ = window(qtbot, ctx, user="cashier1")
    assert not cashier.sync.label.isVisibleTo(cashier)  # no sync.view: no line, no action
    assert not any("Sync" in a.text() or "同步" in a.text() for a in cashier.actions())
