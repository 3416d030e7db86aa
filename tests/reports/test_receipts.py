"""Receipts and refund receipts: the numbers and marks on the page, the page sizes of A4, A5 and the
3-part continuous form, refusal of inconsistent data, and a rendering that is not blank."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from types import SimpleNamespace

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from core.errors import ValidationError
from core.money import chinese_upper, format_fen
from reports.receipts import CONTINUOUS_FORM, ReceiptData, ReceiptLine, render_receipt
from tests.reports.conftest import assert_no_tofu, assert_not_blank, pdf_pngs, pdf_text

MM = 72 / 25.4

RECEIPT = ReceiptData(
    site_name="幸福家园物业服务中心",
    receipt_no="T01-2026-000123",
    issued_at=datetime(2026, 11, 25, 2, 30, tzinfo=UTC),
    payer="张喆堃",
    house="3-2-1201",
    lines=(
        ReceiptLine("物业服务费", 80_150, "2026-10 至 2026-12", "89.00 ㎡", "3.00 元/㎡·月"),
        ReceiptLine("公摊水电费", 3_560, "2026-11"),
        ReceiptLine("停车管理费", 15_000, "2026-11", "1 个月", "150.00 元/月"),
    ),
    cashier="李收银",
    channel="wechat",
)


def page_sizes(content: bytes) -> list[tuple[float, float]]:
    import pypdfium2 as pdfium

    doc = pdfium.PdfDocument(content)
    try:
        return [page.get_size() for page in doc]
    finally:
        doc.close()


def test_receipt_shows_lines_total_in_figures_and_words(zh, tmp_path):
    content = render_receipt(RECEIPT, "A5")
    (text,) = pdf_text(content)
    assert RECEIPT.total_fen == 98_710
    for expected in (
        "幸福家园物业服务中心",
        "T01-2026-000123",
        "张喆堃",
        "3-2-1201",
        "物业服务费",
        "801.50",
        "89.00 ㎡",
        "¥987.10",
        "玖佰捌拾柒元壹角整",
        "微信支付",
        "李收银",
        "2026-11-25 10:30",  # Beijing time
        "交款人签字",
    ):
        assert expected in text, expected
    assert "补打" not in text and "作废" not in text
    assert_no_tofu(text)
    (img,) = pdf_pngs(content, tmp_path / "a5", scale=1.5)
    assert_not_blank(img)


@pytest.mark.parametrize(
    ("layout", "pages", "size_mm"),
    [("A4", 1, (210, 297)), ("A5", 1, (210, 148)), ("triplicate", 3, (241, 140))],
)
def test_layouts_have_their_page_size_and_count(layout, pages, size_mm):
    content = render_receipt(RECEIPT, layout)
    sizes = page_sizes(content)
    assert len(sizes) == pages
    for w, h in sizes:
        assert (round(w / MM), round(h / MM)) == size_mm
    for img in pdf_pngs(content):
        assert_not_blank(img)
    assert CONTINUOUS_FORM[0] / MM == pytest.approx(241)


def test_triplicate_names_each_ply(zh):
    texts = pdf_text(render_receipt(RECEIPT, "triplicate"))
    assert_no_tofu("".join(texts))
    assert ["存根联" in texts[0], "收据联" in texts[1], "记账联" in texts[2]] == [True, True, True]
    assert all("¥987.10" in t for t in texts)


def test_reprint_and_void_are_marked(zh, tmp_path):
    (text,) = pdf_text(render_receipt(replace(RECEIPT, reprint=True), "A5"))
    assert "补打" in text
    content = render_receipt(replace(RECEIPT, void=True), "A5")
    (text,) = pdf_text(content)
    assert "作废" in text
    pdf_pngs(content, tmp_path / "void", scale=1.5)


def test_refund_receipt(zh):
    refund = replace(
        RECEIPT,
        kind="refund",
        receipt_no="T01-2026-000200",
        original_no="T01-2026-000123",
        reason="多收退回",
        lines=(ReceiptLine("物业服务费", 26_700, "2026-12"),),
        channel="cash",
    )
    (text,) = pdf_text(render_receipt(refund, "A5"))
    for expected in (
        "退",
        "原收据号：T01-2026-000123",
        "多收退回",
        "¥267.00",
        "贰佰陆拾柒元整",
        "退款方式：现金",
    ):
        assert expected in text, expected


@pytest.mark.parametrize(
    "bad",
    [
        replace(RECEIPT, lines=()),
        replace(RECEIPT, lines=(ReceiptLine("x", 0),)),
        replace(RECEIPT, lines=(ReceiptLine("x", 100), ReceiptLine("优惠", -200))),
        replace(RECEIPT, lines=(ReceiptLine("x", True),)),
        replace(RECEIPT, receipt_no=""),
        replace(RECEIPT, kind="refund"),  # no original receipt
        replace(RECEIPT, kind="invoice"),
    ],
)
def test_inconsistent_receipts_are_refused(bad):
    with pytest.raises(ValidationError):
        render_receipt(bad, "A5")


def test_unknown_layout_refused():
    with pytest.raises(ValidationError):
        render_receipt(RECEIPT, "A3")


def test_from_a_business_lines_receipt_view():
    view = SimpleNamespace(
        receipt_no="T01-2026-000009",
        issued_at=datetime(2026, 11, 25, 2, 30, tzinfo=UTC),
        payer="王五",
        house_code="1-1-101",
        cashier="李收银",
        channel="cash",
        status="voided",
        print_count=2,
        lines=(
            SimpleNamespace(
                item_name="物业服务费",
                period="2026-11",
                quantity="80 ㎡",
                unit_price="2.00",
                amount_fen=16_000,
            ),
        ),
    )
    data = ReceiptData.from_view(view, "幸福家园")
    assert (data.house, data.reprint, data.void, data.total_fen) == ("1-1-101", True, True, 16_000)
    (text,) = pdf_text(render_receipt(data, "A4"))
    assert "160.00" in text


@settings(max_examples=15, deadline=None)
@given(st.lists(st.integers(min_value=1, max_value=10**9), min_size=1, max_size=6))
def test_printed_total_is_the_sum_of_the_lines(amounts):
    data = replace(RECEIPT, lines=tuple(ReceiptLine(f"项目{i}", a) for i, a in enumerate(amounts)))
    (text,) = pdf_text(render_receipt(data, "A5", lang="zh_CN"))
    total = sum(amounts)
    assert format_fen(total) in text
    assert chinese_upper(total) in text
