"""A site restored from an old backup reissues a number the hub already holds with other content: the hub never
overwrites it on its own. The batch is held (nothing of it applied), the conflict is shown with the exact event
and both versions, an operator decides with a reason, and the site's next push applies the decision and goes on
— nothing lost, nothing applied twice. An identical re-delivery is harmless."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import func, select

from core.db.backup import create_backup, restore_backup
from core.errors import NotFound, StateError, ValidationError
from core.payments import services as pay
from core.payments import shifts
from core.sync import protocol as p
from core.sync.client import recover, run_round, status
from core.sync.models import HubPayment, HubSyncConflict, OutboxEvent
from core.sync.protocol import SyncRefused
from hub.sync_apply import _find_site
from hub.sync_conflicts import get_conflict, list_conflicts, resolve_conflict
from tests.payments.conftest import cashier_actor
from tests.sync.conftest import assert_consistent
from tests.test_cli import anju


def _hub_payments(hub, site_name: str) -> dict[str, int]:
    with hub.ctx.read() as s:
        site_id = _find_site(s, site_name).site_id
        return dict(
            s.execute(
                select(HubPayment.order_no, HubPayment.amount_fen).where(HubPayment.site_id == site_id)
            ).all()
        )


def _reissue_after_restore(hub, site, tmp_path) -> tuple[str, object]:
    """Pay, sync, back up; pay again (order B) and sync; restore the backup, recover, and pay anew: the new
    payment gets order B's number with other content. Returns (that order no, the cashier's context)."""
    pay.ensure_payhub_books(site.ctx)
    pay.add_app(site.ctx, "物业", app_id="property")
    cashier = site.ctx.as_actor(cashier_actor())
    shifts.open_shift(cashier, 10000)
    pay.counter_pay(cashier, "property", "T-A", 1000, "物业费", tendered_fen=1000)
    run_round(site.ctx, backup=False)
    old = tmp_path / f"{site.name}-yesterday.db"
    create_backup(site.home / "anju.db", old)
    lost = pay.counter_pay(cashier, "property", "T-B", 2000, "物业费", tendered_fen=2000)
    run_round(site.ctx, backup=False)
    site.ctx.db.dispose()
    restore_backup(old, site.home / "anju.db", keep_copy_dir=tmp_path / f"{site.name}-kept")
    assert recover(site.ctx).recovered > 0
    again = pay.counter_pay(cashier, "property", "T-C", 5000, "物业费", tendered_fen=5000)
    assert again.order_no == lost.order_no  # the number is reissued with other content
    return lost.order_no, cashier


def test_reissued_number_is_held_decided_for_the_site_and_the_push_goes_on(hub, site, tmp_path):
    order_no, _cashier = _reissue_after_restore(hub, site, tmp_path)
    assert _hub_payments(hub, site.name)[order_no] == 2000

    with pytest.raises(SyncRefused) as refused:
        run_round(site.ctx, backup=False)
    assert refused.value.code == p.CONFLICT
    [conflict] = list_conflicts(hub.ctx, status="open", site=site.name)
    assert str(conflict.id) in refused.value.message("en") and order_no in refused.value.message("en")
    # The exact event and both versions are shown; nothing of the batch was applied.
    with site.ctx.read() as s:
        event = s.execute(select(OutboxEvent).where(OutboxEvent.event_id == conflict.event_id)).scalar_one()
    assert (event.type, event.site_seq) == ("payments.order_paid", conflict.site_seq)
    assert (conflict.record_kind, conflict.record_key) == ("hub_payments", order_no)
    assert conflict.hub_version["amount_fen"] == 2000 and conflict.site_version["amount_fen"] == 5000
    assert {"amount_fen", "out_trade_no"} <= set(conflict.differs)
    assert _hub_payments(hub, site.name)[order_no] == 2000
    last = status(site.ctx).last_round
    assert last is not None and last.error_code == p.CONFLICT and f"conflict {conflict.id}" in last.error
    # The site's status command names the conflict.
    out = anju(site.home, "sync", "status")
    assert out.returncode == 0 and f"conflict {conflict.id}" in out.stdout, out.stdout + out.stderr

    # Retrying changes nothing and records no second conflict.
    with pytest.raises(SyncRefused):
        run_round(site.ctx, backup=False)
    with hub.ctx.read() as s:
        assert s.execute(select(func.count()).select_from(HubSyncConflict)).scalar_one() >= 1
    [again] = list_conflicts(hub.ctx, site=site.name)
    assert (again.id, again.seen_count, again.status) == (conflict.id, 2, "open")

    # Bad decisions are refused and change nothing.
    with pytest.raises(ValidationError):
        resolve_conflict(hub.ctx, conflict.id, "both", "typo")
    with pytest.raises(ValidationError):
        resolve_conflict(hub.ctx, conflict.id, "site", "   ")
    with pytest.raises(NotFound):
        resolve_conflict(hub.ctx, 987654, "site", "no such")
    with pytest.raises(NotFound):
        resolve_conflict(hub.ctx, "x1", "site", "no such")
    assert get_conflict(hub.ctx, conflict.id).status == "open"

    decided = resolve_conflict(hub.ctx, conflict.id, "site", "恢复备份后重号；现场收款为准")
    assert (decided.status, decided.decision, decided.decided_by) == (
        "resolved",
        "site",
        hub.ctx.actor.username,
    )
    with pytest.raises(StateError):
        resolve_conflict(hub.ctx, conflict.id, "hub", "changed my mind")

    result = run_round(site.ctx, backup=False)
    assert result.pushed > 0
    assert _hub_payments(hub, site.name)[order_no] == 5000
    applied = get_conflict(hub.ctx, conflict.id)
    assert applied.status == "applied" and applied.applied_at is not None
    assert applied.hub_version["amount_fen"] == 2000  # the replaced version stays on record
    assert_consistent(hub, site)  # every event held once, ledger totals equal, both ledgers verify
    assert run_round(site.ctx, backup=False).pushed == 0


def test_decided_for_the_hub_from_the_command_line(hub, site, tmp_path):
    order_no, _cashier = _reissue_after_restore(hub, site, tmp_path)
    with pytest.raises(SyncRefused):
        run_round(site.ctx, backup=False)
    listed = anju(hub.home, "hub", "sync-conflicts", "list", "--status", "open", "--site", site.name,
                  "--db", hub.db_url, "--json")  # fmt: skip
    assert listed.returncode == 0, listed.stderr
    [row] = json.loads(listed.stdout)
    assert row["record_key"] == order_no and row["hub_version"]["amount_fen"] == 2000
    assert row["site_version"]["amount_fen"] == 5000 and "amount_fen" in row["differs"]
    text = anju(hub.home, "hub", "sync-conflicts", "list", "--db", hub.db_url)
    assert text.returncode == 0 and f"Conflict {row['id']}" in text.stdout and "amount_fen" in text.stdout

    bad = anju(hub.home, "hub", "sync-conflicts", "resolve", str(row["id"]), "--keep", "hub", "--reason", " ",
               "--db", hub.db_url)  # fmt: skip
    assert bad.returncode != 0 and "Traceback" not in bad.stderr
    done = anju(hub.home, "hub", "sync-conflicts", "resolve", str(row["id"]), "--keep", "hub",
                "--reason", "the hub's record was settled with the bank", "--db", hub.db_url)  # fmt: skip
    assert done.returncode == 0, done.stderr

    run_round(site.ctx, backup=False)
    assert _hub_payments(hub, site.name)[order_no] == 2000  # the hub's record stays
    assert get_conflict(hub.ctx, row["id"]).status == "applied"
    assert_consistent(hub, site)


def test_identical_redelivery_is_harmless(hub, site):
    pay.ensure_payhub_books(site.ctx)
    pay.add_app(site.ctx, "物业", app_id="property")
    cashier = site.ctx.as_actor(cashier_actor())
    shifts.open_shift(cashier, 0)
    paid = pay.counter_pay(cashier, "property", "T-1", 700, "物业费", tendered_fen=700)
    run_round(site.ctx, backup=False)
    with site.ctx.read() as s:
        payload = s.execute(
            select(OutboxEvent.payload).where(OutboxEvent.type == "payments.order_paid")
        ).scalar_one()
    with site.ctx.uow() as uow:  # the same record again, in a later event (and twice in one batch)
        uow.emit("payments.order_paid", json.loads(payload))
        uow.emit("payments.order_paid", json.loads(payload))
    assert run_round(site.ctx, backup=False).pushed == 2
    assert _hub_payments(hub, site.name) == {paid.order_no: 700}
    assert list_conflicts(hub.ctx, site=site.name) == []
    assert_consistent(hub, site)
