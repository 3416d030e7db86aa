"""Settlement on both databases: figures from real counter payments and refunds, the balanced PAYHUB entry,
idempotence per app and day, the bank transfer file, and refusals that change nothing."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from core.clock import today
from core.context import Actor
from core.errors import PermissionDenied, ValidationError
from core.ledger.services import get_balance, get_entry
from core.payments import services
from core.payments.settlement import services as settle
from core.payments.settlement.models import SettlementBatch


def count(ctx) -> int:
    with ctx.read() as s:
        return s.execute(select(func.count()).select_from(SettlementBatch)).scalar_one()


@pytest.fixture
def day_done(counter_ctx, pay_ctx, clock):
    """A day with two POS payments (fees at 0.38 %) and a cash payment, one partial refund; then midnight."""
    services.counter_pay(counter_ctx, "property", "B-1", 100_000, "物业费", channel="pos", reference="REF1")
    services.counter_pay(counter_ctx, "property", "B-2", 50_000, "物业费", channel="pos", reference="REF2")
    services.counter_pay(counter_ctx, "property", "B-3", 12_345, "水费", tendered_fen=20_000)
    services.refund(pay_ctx, "property", "B-1", "R-1", 20_000, "多收")
    day = today(clock)
    clock.advance(days=1)
    settle.set_payee(
        pay_ctx, "property", "安居物业服务有限公司", "6222 0212 3456 7890 128", "工商银行朝阳支行"
    )
    return day


def test_settlement_figures_and_balanced_entry(pay_ctx, day_done):
    (batch,) = settle.run_settlement(pay_ctx, day_done)
    assert (batch.order_count, batch.refund_count) == (3, 1)
    assert batch.gross_fen == 162_345 and batch.refunds_fen == 20_000
    # 0.38 % of 100,000 = 380, of 50,000 = 190; the partial refund gives back 76 of the 380.
    with pay_ctx.read() as s:
        from core.payments.models import PayOrder, PayRefund

        fees = s.execute(select(func.sum(PayOrder.fee_fen))).scalar_one()
        back = s.execute(select(func.sum(PayRefund.fee_refund_fen))).scalar_one()
    assert batch.fees_fen == fees - back and fees == 570
    assert batch.net_fen == batch.gross_fen - batch.refunds_fen - batch.fees_fen
    assert batch.by_channel["pos"]["gross_fen"] == 150_000 and batch.by_channel["cash"]["gross_fen"] == 12_345
    entry = get_entry(pay_ctx, batch.entry_id)
    assert sum(amount for _code, amount in entry.postings) == 0
    assert dict(entry.postings) == {
        "2202.property": 142_345,
        "1002": -batch.net_fen,
        "6602.fee": -batch.fees_fen,
    }
    assert get_balance(pay_ctx, "PAYHUB", "2202.property").balance_fen == 0  # everything owed is paid out


def test_settlement_is_idempotent_per_app_and_day(pay_ctx, day_done):
    (first,) = settle.run_settlement(pay_ctx, day_done)
    (again,) = settle.run_settlement(pay_ctx, day_done, "property")
    assert again == first and count(pay_ctx) == 1
    assert get_balance(pay_ctx, "PAYHUB", "2202.property").balance_fen == 0


def test_transfer_file_lists_payee_account_and_net(pay_ctx, day_done):
    (batch,) = settle.run_settlement(pay_ctx, day_done)
    text = settle.transfer_file(pay_ctx, day_done)
    lines = text.lstrip("\ufeff").splitlines()
    assert lines[0] == "收款人名称,收款账号,金额（元）,用途"
    name, account, yuan, purpose = lines[1].split(",")
    assert (name, account) == ("安居物业服务有限公司", "6222021234567890128")
    assert yuan == f"{batch.net_fen // 100}.{batch.net_fen % 100:02d}" and batch.batch_no in purpose
    assert len(lines) == 2


def test_refusals_change_nothing(pay_ctx, counter_ctx, clock):
    services.counter_pay(counter_ctx, "property", "B-9", 1000, "物业费", tendered_fen=1000)
    day = today(clock)
    with pytest.raises(ValidationError, match="not over"):
        settle.run_settlement(pay_ctx, day)
    clock.advance(days=1)
    with pytest.raises(ValidationError, match="payee"):
        settle.run_settlement(pay_ctx, day)
    with pytest.raises(ValidationError):
        settle.run_settlement(pay_ctx, day, "nosuchapp")
    with pytest.raises(ValidationError):
        settle.set_payee(pay_ctx, "property", "某公司", "12ab")
    viewer = pay_ctx.as_actor(Actor(None, "auditor", permissions=frozenset({"*.view"})))
    with pytest.raises(PermissionDenied):
        settle.run_settlement(viewer, day)
    assert count(pay_ctx) == 0
    settle.set_payee(pay_ctx, "property", "某公司", "62220212345678")
    (batch,) = settle.run_settlement(pay_ctx, day)
    assert batch.net_fen == 1000 and batch.fees_fen == 0
    assert settle.list_settlements(viewer, day)[0].batch_no == batch.batch_no


def test_a_day_without_activity_settles_nothing(pay_ctx, clock):
    assert settle.run_settlement(pay_ctx, today(clock) - timedelta(days=3)) == []


# ------------------------------------------------------------------------------------ waits for clean recon


@pytest.fixture
def wechat_day(pay_ctx, clock, tmp_path):
    """DAY with two WeChat payments of the property app; one of them the channel does not have."""
    from tests.payments.test_recon import DAY, add_order, ch_trade, write

    add_order(pay_ctx, "T01PA", 10000, 60)
    add_order(pay_ctx, "T01PB", 2000, 12)
    clock.advance(days=1)
    settle.set_payee(pay_ctx, "property", "安居物业服务有限公司", "62220212345678")
    return DAY, write(tmp_path, DAY, [ch_trade("T01PA", 10000, 60)], [])


def test_settlement_is_refused_until_the_day_is_reconciled(pay_ctx, wechat_day):
    from core.errors import StateError
    from core.payments.recon import services as recon

    day, statement = wechat_day
    with pytest.raises(StateError, match="reconciliation not run for wechat"):
        settle.run_settlement(pay_ctx, day)
    recon.run_recon(pay_ctx, "wechat", day, statement)
    with pytest.raises(StateError, match=r"differences still open for wechat \(1\)"):
        settle.run_settlement(pay_ctx, day, "property")
    assert count(pay_ctx) == 0
    (d,) = recon.list_differences(pay_ctx)
    recon.resolve(pay_ctx, d.id, "accept_local", "渠道次日补单")
    (batch,) = settle.run_settlement(pay_ctx, day)
    assert batch.gross_fen == 12000 and batch.fees_fen == 72 and batch.net_fen == 12000 - 72


def test_override_settles_with_its_reason_audited(pay_ctx, wechat_day):
    from core.audit.models import AuditRecord

    day, _statement = wechat_day
    for blank in ("", "   "):
        with pytest.raises(ValidationError, match="reason"):
            settle.run_settlement(pay_ctx, day, override_reason=blank)
    assert count(pay_ctx) == 0
    (batch,) = settle.run_settlement(pay_ctx, day, override_reason="渠道对账单延迟，经理批准先结算")
    assert batch.net_fen == 12000 - 72
    with pay_ctx.read() as s:
        records = s.execute(
            select(AuditRecord.action, AuditRecord.after_json).where(AuditRecord.object_id == str(batch.id))
        ).all()
    actions = {action: after for action, after in records}
    assert set(actions) == {"settlement.recon_override", "settlement.run"}
    assert "渠道对账单延迟" in actions["settlement.recon_override"]
    assert '"recon_not_run":["wechat"]' in actions["settlement.recon_override"].replace(" ", "")
    # Settled already: a repeat without the override returns the batch, it is not refused.
    (again,) = settle.run_settlement(pay_ctx, day)
    assert again.batch_no == batch.batch_no


def test_channels_without_reconciliation_do_not_wait(pay_ctx, counter_ctx, clock):
    services.counter_pay(counter_ctx, "property", "B-7", 5000, "物业费", channel="pos", reference="REF7")
    day = today(clock)
    clock.advance(days=1)
    settle.set_payee(pay_ctx, "property", "某公司", "62220212345678")
    (batch,) = settle.run_settlement(pay_ctx, day)
    assert batch.gross_fen == 5000
