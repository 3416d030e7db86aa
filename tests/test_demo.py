"""`anju demo --size small`: every area of the demo site has real data (hub orders on every channel, refunds,
shifts, reconciliation differences open and resolved, a settlement batch, notices with a failed delivery,
deposits, reminders, approvals waiting), building it again adds nothing, and the ledger and the audit log
verify on it through the CLI."""

from __future__ import annotations

import json
from collections import Counter
from datetime import UTC, datetime

import pytest
from click.testing import CliRunner
from sqlalchemy import func, select

from core.clock import FakeClock
from core.context import Actor, Context
from core.db.engine import Database
from core.i18n import _
from core.site import SiteHome

NOW = datetime(2026, 11, 25, 4, 0, tzinfo=UTC)  # 12:00 in Beijing


@pytest.fixture(scope="module")
def demo_site(tmp_path_factory):
    from data.demo.build import ensure_demo

    home = SiteHome(tmp_path_factory.mktemp("demo") / "site")
    steps: list[str] = []
    message = ensure_demo(home, progress=steps.append, clock=FakeClock(NOW), size="small")
    assert str(home.root) in message and steps
    db = Database(home.db_url)
    ctx = Context(db=db, actor=Actor.system("test"), clock=FakeClock(NOW), home=home)
    yield home, ctx
    db.dispose()


def _count(ctx: Context, model, *where) -> int:
    with ctx.read() as s:
        return s.execute(select(func.count()).select_from(model).where(*where)).scalar_one()


def test_orders_on_every_channel_refunds_and_shifts(demo_site):
    from core.payments import services as payments
    from core.payments import shifts
    from core.payments.models import PayOrder, PayRefund

    _home, ctx = demo_site
    with ctx.read() as s:
        by_channel = dict(
            s.execute(
                select(PayOrder.channel, func.count())
                .where(PayOrder.status.in_(("SUCCESS", "PARTIALLY_REFUNDED", "REFUNDED")))
                .group_by(PayOrder.channel)
            ).all()
        )
        by_app = Counter(s.execute(select(PayOrder.app_id)).scalars())
    for channel in ("cash", "pos", "bank_transfer", "wechat", "alipay"):
        assert by_channel.get(channel, 0) > 0, (channel, by_channel)
    assert by_app["property"] > 0 and by_app["shop"] > 0
    assert {a.app_id for a in payments.list_apps(ctx)} >= {"property", "shop"}
    assert _count(ctx, PayOrder, PayOrder.status == "PARTIALLY_REFUNDED") >= 1
    assert _count(ctx, PayOrder, PayOrder.status == "REFUNDED") >= 1
    assert _count(ctx, PayRefund, PayRefund.status == "SUCCESS") >= 3  # shop part + full, counter, deposit
    all_shifts = shifts.list_shifts(ctx)
    assert all_shifts and all(s.status == shifts.CLOSED for s in all_shifts)
    short = [s for s in all_shifts if s.difference_fen]
    assert len(short) == 1 and short[0].difference_fen == -5_000 and short[0].approval_id is not None


def test_reconciliation_settlement_and_notices(demo_site):
    from core.payments.models import PayNotification, PayNotifyAttempt
    from core.payments.recon import services as recon
    from core.payments.settlement import services as settlement

    _home, ctx = demo_site
    open_ = recon.list_differences(ctx, status="open")
    resolved = recon.list_differences(ctx, status="resolved")
    assert len(open_) >= 2 and len(resolved) == 2
    kinds = {d.kind for d in open_ + resolved}
    assert {"missing_at_channel", "missing_locally", "amount_mismatch", "fee_mismatch"} <= kinds
    batches = recon.list_batches(ctx)
    assert {b.channel for b in batches} == {"wechat", "alipay"} and len(batches) >= 4
    settled = settlement.list_settlements(ctx)
    assert {s.app_id for s in settled} >= {"property", "shop"}
    assert _count(ctx, PayNotification, PayNotification.url.is_not(None)) > 0
    assert _count(ctx, PayNotifyAttempt, PayNotifyAttempt.ok.is_(False)) == 1
    assert _count(ctx, PayNotifyAttempt, PayNotifyAttempt.ok.is_(True)) > 1


def test_deposits_reminders_and_approvals(demo_site):
    from core.property import deposits, reminders
    from core.property.models import ReminderSent
    from core.workflow import services as wf

    _home, ctx = demo_site
    assert deposits.list_deposits(ctx, status="held")
    assert deposits.list_deposits(ctx, status="refunded")
    assert any(d.deducted_fen > 0 for d in deposits.list_deposits(ctx))
    assert {r.status for r in deposits.list_refunds(ctx)} >= {"refunded", "pending"}
    assert len(reminders.list_schedules(ctx)) == 3 and reminders.list_stops(ctx)
    assert _count(ctx, ReminderSent) > 0
    pending = wf.list_instances(ctx, status="pending")
    assert {i.process_code for i in pending} >= {
        "demo.refund",
        "property.counter_refund",
        "property.deposit_refund",
    }
    assert len(wf.list_instances(ctx, status="approved", process_code="payments.shift_difference")) == 1


def test_again_adds_nothing_and_ledger_and_audit_verify(demo_site):
    from console.cli import main
    from core.payments.models import PayOrder
    from data.demo.build import ensure_demo

    home, ctx = demo_site
    before = _count(ctx, PayOrder)
    message = ensure_demo(home, clock=FakeClock(NOW), size="small")
    assert message == _("Demo site already present at {path}.").format(path=home.root)
    assert _count(ctx, PayOrder) == before
    runner = CliRunner()
    for area in ("ledger", "audit"):
        result = runner.invoke(main, ["--home", str(home.root), area, "verify", "--json"])
        assert result.exit_code == 0, result.output
        assert json.loads(result.output)["ok"] is True


def test_operations_cover_every_state(demo_site):
    from core.property.activities.models import Activity
    from core.property.complaints.models import Complaint, Suggestion
    from core.property.notices.models import Notice
    from core.property.parking.models import ParkingSpace, Vehicle
    from core.property.repairs.models import WorkOrder

    _home, ctx = demo_site

    def states(model, column="status") -> set[str]:
        with ctx.read() as s:
            return set(s.execute(select(getattr(model, column)).distinct()).scalars())

    assert states(WorkOrder) >= {
        "pending",
        "grabbable",
        "dispatched",
        "in_progress",
        "paused",
        "closed",
        "cancelled",
    }
    assert states(Complaint) >= {
        "submitted",
        "accepted",
        "assigned",
        "handling",
        "replied",
        "closed",
        "cancelled",
    }
    assert states(Suggestion) >= {"evaluating", "adopted", "declined"}
    assert states(Notice) == {"draft", "published", "withdrawn"}
    assert states(Activity) == {"planned", "published", "finished", "cancelled"}
    assert states(ParkingSpace) >= {"free", "sold", "rented"}
    assert _count(ctx, Vehicle) > 0
