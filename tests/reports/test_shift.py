"""The shift handover (交班单) and daily close (日结单) from plain data: expected cash, the difference, and the
figures read back from Excel and PDF."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from core.errors import ValidationError
from reports.registry import render_data
from reports.shift import (
    ChannelTakings,
    ShiftHandoverData,
    daily_close_from_totals,
    daily_close_report,
    handover_report,
    stamp,
)
from tests.reports.conftest import assert_no_tofu, assert_not_blank, pdf_pngs, pdf_text, workbook

SHIFT = ShiftHandoverData(
    site_name="幸福家园物业服务中心",
    shift_no="T01-SH-0007",
    cashier="李收银",
    business_date=date(2026, 11, 25),
    opened_at=datetime(2026, 11, 25, 0, 30, tzinfo=UTC),
    closed_at=datetime(2026, 11, 25, 9, 0, tzinfo=UTC),
    float_fen=50_000,
    takings=(
        ChannelTakings("cash", 12, 356_700, 1, 26_700),
        ChannelTakings("wechat", 30, 1_234_500),
        ChannelTakings("pos", 3, 90_000),
    ),
    counted_cash_fen=379_950,
    cash_count={10000: 37, 5000: 1, 1000: 4, 500: 1, 100: 4, 50: 1},
    difference_reason="找零差错",
    first_receipt_no="T01-2026-000100",
    last_receipt_no="T01-2026-000145",
    voided_receipts=1,
)


def test_expected_cash_and_difference():
    assert SHIFT.expected_cash_fen == 50_000 + 356_700 - 26_700 == 380_000
    assert SHIFT.difference_fen == -50  # 短款 5 角


def test_handover_excel_and_pdf(zh, tmp_path):
    data = stamp(handover_report(SHIFT), datetime(2026, 11, 25, 9, 5, tzinfo=UTC), "李收银")
    wb = workbook(render_data(data, "xlsx"))
    takings = wb.worksheets[0]
    rows = list(takings.iter_rows(values_only=True))
    totals = next(r for r in rows if isinstance(r[2], str) and r[2].startswith("=SUM("))
    assert totals[0] == "合计"
    received = [Decimal(str(r[2])) for r in rows if r[0] in ("现金", "微信支付", "银行卡（POS）")]
    assert sum(received) == Decimal("16812.00")
    count = wb.worksheets[1]
    amounts = [
        r[2] for r in count.iter_rows(values_only=True) if isinstance(r[1], int) and not isinstance(r[2], str)
    ]
    assert sum(Decimal(str(a)) for a in amounts) == Decimal("3799.50")
    content = render_data(data, "pdf")
    (text,) = pdf_text(content)
    for expected in (
        "交 班 单",
        "T01-SH-0007",
        "应有现金",
        "3,800.00",
        "3,799.50",
        "-0.50",
        "找零差错",
        "交班人",
        "接班人",
    ):
        assert expected in text, expected
    assert_no_tofu(text)
    (img,) = pdf_pngs(content, tmp_path / "shift", scale=1.3)
    assert_not_blank(img)


def test_negative_piece_count_refused():
    from dataclasses import replace

    with pytest.raises(ValidationError):
        handover_report(replace(SHIFT, cash_count={100: -1}))
    with pytest.raises(ValidationError):
        handover_report(replace(SHIFT, counted_cash_fen=380_000))  # the count by denomination says 3,799.50


def test_daily_close_from_the_hubs_totals(zh):
    totals = {
        "date": "2026-11-25",
        "channels": {
            "cash": {"payments": 12, "paid_fen": 356_700, "fee_fen": 0, "refunds": 1, "refunded_fen": 26_700},
            "wechat": {"payments": 30, "paid_fen": 1_234_500, "fee_fen": 741},
        },
        "cash_difference_fen": -50,
    }
    data = daily_close_report(daily_close_from_totals("幸福家园", totals, "财务小王"))
    (table,) = data.tables
    assert table.totals == {
        "payments": 42,
        "received": 1_591_200,
        "refunds": 1,
        "refunded": 26_700,
        "fee": 741,
        "net": 1_564_500,
    }
    (text,) = pdf_text(render_data(stamp(data, datetime(2026, 11, 25, 10, tzinfo=UTC), "财务小王"), "pdf"))
    assert "日 结 单" in text and "15,645.00" in text and "-¥0.50" in text
