"""The reconciliation report from a day reconciled through core.payments (every kind of difference seeded by
the payment hub's own test day), checked against the batch the hub reports."""

from __future__ import annotations

from decimal import Decimal

import pytest

from core.payments.recon import services as recon
from reports import registry
from reports.period import parse_period
from tests.payments.test_recon import DAY, seed_day, write
from tests.reports.conftest import assert_no_tofu, assert_not_blank, pdf_pngs, pdf_text, sheet_table, workbook


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
