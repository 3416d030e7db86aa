"""A small ledger with known numbers, helpers that read reports back (openpyxl, pypdfium2), and the
reports' Chinese translations made available before the lead merges them into the catalogue."""

from __future__ import annotations

import io
from datetime import date
from pathlib import Path

import pytest

from core.i18n import catalog
from core.ledger import services as L

PENDING = Path(__file__).resolve().parents[2] / "data" / "locale" / "_pending" / "reports.tsv"

ACCOUNTS = (
    ("1001", "库存现金", "asset"),
    ("1002", "银行存款", "asset"),
    ("1122", "应收账款", "asset"),
    ("2203", "预收账款", "liability"),
    ("3001", "净资产", "equity"),
    ("6001", "物业服务收入", "income"),
    ("6051", "其他收入", "income"),
    ("6601", "管理费用", "expense"),
)

# (business date, description, doc, postings)
ENTRIES = (
    (date(2026, 10, 5), "开办资金", "", [("1002", 10_000_000), ("3001", -10_000_000)]),
    (date(2026, 10, 20), "十月物业费", "R-0001", [("1001", 123_456), ("6001", -123_456)]),
    (date(2026, 11, 3), "预收物业费 喆堃", "R-0002", [("1002", 500_000), ("2203", -500_000)]),
    (date(2026, 11, 10), "十一月物业费账单", "B-0001", [("1122", 880_000), ("6001", -880_000)]),
    (date(2026, 11, 12), "收取物业费", "R-0003", [("1001", 330_000), ("1122", -330_000)]),
    (date(2026, 11, 15), "办公用品", "P-0001", [("6601", 45_050), ("1002", -45_050)]),
    (date(2026, 11, 20), "停车临时收费", "R-0004", [("1001", 9_999), ("6051", -9_999)]),
)


@pytest.fixture
def zh(monkeypatch):
    """Chinese, with this area's pending translations (a no-op once they are in the catalogue)."""
    from core.i18n import set_language

    table = catalog("zh_CN")
    for line in PENDING.read_text(encoding="utf-8").splitlines():
        if "\t" in line:
            msgid, text = line.split("\t", 1)
            monkeypatch.setitem(table, msgid, text)
    set_language("zh_CN")
    yield "zh_CN"
    set_language("en")


@pytest.fixture
def book(ctx):
    """Book PROPERTY with the accounts above and the entries above posted."""
    L.ensure_book(ctx, "PROPERTY", "物业公司账簿", "property")
    for code, name, kind in ACCOUNTS:
        L.ensure_account(ctx, "PROPERTY", code, name, kind)
    for day, text, doc, postings in ENTRIES:
        L.post(ctx, L.EntrySpec("PROPERTY", day, text, postings, doc_type="doc" if doc else "", doc_id=doc))
    return ctx


def pdf_text(content: bytes) -> list[str]:
    import pypdfium2 as pdfium

    doc = pdfium.PdfDocument(content)
    try:
        return [page.get_textpage().get_text_range() for page in doc]
    finally:
        doc.close()


def pdf_pngs(content: bytes, out_dir: Path | None = None, scale: float = 1.0) -> list:
    """Each page as a PIL image (saved as PNG under out_dir when given)."""
    import pypdfium2 as pdfium

    doc = pdfium.PdfDocument(content)
    images = []
    try:
        for i, page in enumerate(doc):
            img = page.render(scale=scale).to_pil()
            if out_dir is not None:
                out_dir.mkdir(parents=True, exist_ok=True)
                img.save(out_dir / f"page{i + 1}.png")
            images.append(img)
    finally:
        doc.close()
    return images


def assert_not_blank(img) -> None:
    from PIL import ImageStat

    stat = ImageStat.Stat(img.convert("L"))
    assert stat.var[0] > 50, f"page looks blank (variance {stat.var[0]:.1f})"


def workbook(content: bytes):
    from openpyxl import load_workbook

    return load_workbook(io.BytesIO(content))


def sheet_table(ws) -> tuple[list[str], list[list], int]:
    """(header, data rows, header row number): the header is the first bold row with a fill."""
    for row in ws.iter_rows():
        if row[0].fill is not None and row[0].fill.fgColor.rgb in ("00E8E8E8", "FFE8E8E8"):
            header_row = row[0].row
            break
    else:
        raise AssertionError("no header row")
    header = [c.value for c in ws[header_row]]
    rows = []
    for row in ws.iter_rows(min_row=header_row + 1, values_only=True):
        rows.append(list(row))
    return header, rows, header_row


def assert_no_tofu(text: str) -> None:
    """Every character drawn has a glyph in the embedded font (no empty boxes)."""
    from reportlab.pdfbase.pdfmetrics import getFont

    from reports import fonts

    fonts.register()
    for name in (fonts.FONT, fonts.FONT_BOLD):
        cmap = getFont(name).face.charToGlyph
        missing = sorted({ch for ch in text if not ch.isspace() and ord(ch) not in cmap})
        assert not missing, f"{name} lacks glyphs for {missing}"
