"""Payment hub reports: the reconciliation report from a day reconciled through core.payments (every kind of
difference seeded by the payment hub's own test day); the cash journal, refunds and settlement statement from
real counter payments with known numbers — each read back from Excel and PDF and checked against the ledger."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest

from core.clock import today
from core.ledger import services as ledger
from core.payments import journal
from core.payments import services as payments
from core.payments.recon import services as recon
from core.payments.settlement import services as settle
from reports import registry
from reports.period import parse_period
from tests.payments.conftest import counter_ctx, pay_ctx  # noqa: F401 (fixtures)
from tests.payments.test_recon import DAY, seed_day, write
from tests.reports.conftest import assert_no_tofu, assert_not_blank, pdf_pngs, pdf_text, sheet_table, workbook
from tests.reports.test_ledger_reports import data_rows, sum_formula_total


@pytest.fixture
def reconciled(ctx, tmp_path):
    trades, refunds = seed_day(ctx)
    recon.run_recon(ctx, "wechat", DAY, write(tmp_path, DAY, trades, refunds))
    (difference,) = recon.list_differences(ctx, kind="missing_at_channel")
    recon.resolve(ctx, difference.id, "write_off", "渠道确认未收款")
    return ctx


def test_reconciliation_report(reconciled, zh, tmp_path):
    ctx = reconciled
    params = registry.ReportParams(parse_period("2026-11"))
    data = registry.collect(ctx, "reconciliation", params)
    batches, diffs = data.tables
    (batch,) = recon.list_batches(ctx)
    (row,) = batches.rows
    assert row[2:9] == (
        batch.statement_lines,
        batch.matched,
        batch.missing_at_channel,
        batch.missing_locally,
        batch.amount_mismatch,
        batch.status_mismatch,
        batch.fee_mismatch,
    )
    assert len(diffs.rows) == 6
    assert {r[3] for r in diffs.rows} == {"T01PB", "T01PC", "T01PD", "T01PE", "T01RB", "T01PF"}
    resolved = [r for r in diffs.rows if r[3] == "T01PB"]
    assert "渠道确认未收款" in resolved[0][9] and row[10] == batch.open_differences == 5
    wb = workbook(registry.render(ctx, "reconciliation", params, "xlsx"))
    _, rows, _ = sheet_table(wb.worksheets[1])
    amounts = {r[3]: (r[4], r[5]) for r in rows[:6]}
    assert tuple(Decimal(str(v)) for v in amounts["T01PD"]) == (Decimal("50"), Decimal("50.01"))
    content = registry.render(ctx, "reconciliation", params, "pdf")
    text = "".join(pdf_text(content))
    for expected in ("对账报告", "微信支付", "金额不符", "渠道无此单", "本地无此单", "T01PD", "50.01"):
        assert expected in text, expected
    assert_no_tofu(text)
    for img in pdf_pngs(content, tmp_path / "recon"):
        assert_not_blank(img)


def test_reconciliation_needs_recon_view(reconciled):
    from core.context import Actor
    from core.errors import PermissionDenied

    viewer = reconciled.as_actor(Actor(None, "v", permissions=frozenset({"reports.view", "ledger.view"})))
    with pytest.raises(PermissionDenied):
        registry.collect(viewer, "reconciliation", registry.ReportParams(parse_period("2026-11")))


# ------------------------------------------------------------------------------ cash journal, refunds, settlement

NOV = "2026-11"


@pytest.fixture
def hub_day(counter_ctx, pay_ctx, clock):  # noqa: F811
    """Two POS payments (fee 0.38 %), one cash payment, a partial refund of the first; the day is then over."""
    payments.counter_pay(counter_ctx, "property", "B-1", 100_000, "物业费", channel="pos", reference="REF1")
    payments.counter_pay(counter_ctx, "property", "B-2", 50_000, "物业费", channel="pos", reference="REF2")
    payments.counter_pay(counter_ctx, "property", "B-3", 12_345, "水费", tendered_fen=20_000)
    payments.refund(pay_ctx, "property", "B-1", "R-1", 20_000, "多收退回")
    day = today(clock)
    clock.advance(days=1)
    return pay_ctx, day


def ledger_moves(ctx, code: str) -> tuple[int, int]:
    b = ledger.get_balance(ctx, "PAYHUB", code)
    return b.debits_posted_fen, b.credits_posted_fen


def test_cash_journal_service_figures(hub_day):
    ctx, day = hub_day
    lines = {x.channel: x for x in journal.cash_journal(ctx, day, day)}
    assert set(lines) == {"cash", "pos"}
    pos, cash = lines["pos"], lines["cash"]
    assert (pos.payments, pos.gross_fen, pos.refunds, pos.refunds_fen, pos.fees_fen) == (
        2,
        150_000,
        1,
        20_000,
        494,
    )
    assert pos.net_fen == 129_506 and (cash.payments, cash.gross_fen, cash.net_fen) == (1, 12_345, 12_345)
    assert journal.cash_journal(ctx, day, day, channel="cash") == [lines["cash"]]
    assert journal.cash_journal(ctx, day - timedelta(days=5), day - timedelta(days=1)) == []
    # The ledger agrees: the app is owed what was received less what was refunded, the fees are booked.
    debits, credits = ledger_moves(ctx, "2202.property")
    assert (credits, debits) == (162_345, 20_000)
    fee_dr, fee_cr = ledger_moves(ctx, "6602.fee")
    assert fee_dr - fee_cr == pos.fees_fen + cash.fees_fen


def test_journal_services_refuse_bad_input(hub_day):
    from core.errors import PermissionDenied, ValidationError

    ctx, day = hub_day
    with pytest.raises(ValidationError):
        journal.cash_journal(ctx, day, day - timedelta(days=1))
    with pytest.raises(ValidationError):
        journal.cash_journal(ctx, day, day + timedelta(days=400))
    with pytest.raises(ValidationError):
        journal.cash_journal(ctx, day, day, channel="bitcoin")
    with pytest.raises(ValidationError):
        journal.list_refunds(ctx, day, day, status="DONE")
    with pytest.raises(ValidationError):
        journal.list_refunds(ctx, day, day, limit=0)
    from core.context import Actor

    nobody = ctx.as_actor(Actor(None, "v", permissions=frozenset({"reports.view"})))
    with pytest.raises(PermissionDenied):
        journal.cash_journal(nobody, day, day)


def test_cash_journal_report(hub_day, zh, tmp_path):
    ctx, _day = hub_day
    params = registry.ReportParams(parse_period(NOV))
    data = registry.collect(ctx, "cash-journal", params)
    by_channel, by_day = data.tables
    assert by_channel.totals == {
        "payments": 3, "gross": 162_345, "refunds": 1, "refunded": 20_000, "fee": 494, "net": 141_851,
    }  # fmt: skip
    assert by_day.totals == by_channel.totals and len(by_day.rows) == 2
    wb = workbook(registry.render(ctx, "cash-journal", params, "xlsx"))
    ws = wb.worksheets[1]
    header, rows, _ = sheet_table(ws)
    body, totals = data_rows(rows)
    assert len(body) == 2
    pos = next(r for r in body if r[2] == 2)
    assert [Decimal(str(v)) for v in pos[3:8]] == [
        Decimal("1500"),
        1,
        Decimal("200"),
        Decimal("4.94"),
        Decimal("1295.06"),
    ]
    net_col = header.index("净额") if "净额" in header else 7
    assert sum_formula_total(ws, totals[net_col]) == Decimal("1418.51")
    content = registry.render(ctx, "cash-journal", params, "pdf")
    text = "".join(pdf_text(content))
    for expected in ("现金", "1,418.51", "1,623.45", "4.94"):
        assert expected in text, expected
    assert_no_tofu(text)
    pages = pdf_pngs(content, tmp_path / "journal")
    assert len(pages) >= 1
    for img in pages:
        assert_not_blank(img)


def test_refunds_report(hub_day, zh, tmp_path):
    ctx, day = hub_day
    params = registry.ReportParams(parse_period(NOV))
    (refund,) = journal.list_refunds(ctx, day, day)
    assert (refund.amount_fen, refund.fee_refund_fen, refund.reason) == (20_000, 76, "多收退回")
    data = registry.collect(ctx, "refunds", params)
    (table,) = data.tables
    assert table.totals == {"amount": 20_000, "fee_back": 76}
    assert ledger_moves(ctx, "2202.property")[0] == table.totals["amount"]
    wb = workbook(registry.render(ctx, "refunds", params, "xlsx"))
    _header, rows, _ = sheet_table(wb.worksheets[0])
    body, _totals = data_rows(rows)
    (row,) = body
    assert row[1] == refund.refund_no and Decimal(str(row[5])) == Decimal("200") and row[7] == "多收退回"
    content = registry.render(ctx, "refunds", params, "pdf")
    text = "".join(pdf_text(content))
    for expected in (refund.refund_no, "200.00", "多收退回"):
        assert expected in text, expected
    assert_no_tofu(text)
    for img in pdf_pngs(content, tmp_path / "refunds"):
        assert_not_blank(img)


def test_settlement_report(hub_day, zh, tmp_path):
    ctx, day = hub_day
    settle.set_payee(ctx, "property", "安居物业服务有限公司", "62220212345678")
    (batch,) = settle.run_settlement(ctx, day)
    params = registry.ReportParams(parse_period(NOV))
    data = registry.collect(ctx, "settlement", params)
    summary, by_channel, _batches = data.tables
    (line,) = summary.rows
    assert line[1:] == (1, 3, 1, 162_345, 20_000, 494, 141_851)
    assert by_channel.totals["net"] == summary.totals["net"] == batch.net_fen == 141_851
    # The ledger: the net went out of the bank account, the app is owed nothing more.
    assert ledger_moves(ctx, "1002")[1] == batch.net_fen
    assert ledger.get_balance(ctx, "PAYHUB", "2202.property").balance_fen == 0
    wb = workbook(registry.render(ctx, "settlement", params, "xlsx"))
    _, rows, _ = sheet_table(wb.worksheets[2])
    body, _totals = data_rows(rows)
    (row,) = body
    assert row[1] == batch.batch_no and Decimal(str(row[8])) == Decimal("1418.51")
    content = registry.render(ctx, "settlement", params, "pdf")
    text = "".join(pdf_text(content))
    for expected in (batch.batch_no, "1,418.51", "安居物业服务有限公司"):
        assert expected in text, expected
    assert_no_tofu(text)
    for img in pdf_pngs(content, tmp_path / "settlement"):
        assert_not_blank(img)


def test_payment_reports_are_listed():
    names = {r["name"] for r in registry.listing()}
    assert {"cash-journal", "refunds", "settlement", "reconciliation"} <= names
