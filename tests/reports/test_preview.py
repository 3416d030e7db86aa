"""reports.preview: a PDF's pages as PNG bytes for the apps' preview — page count, size, not blank, bad input
refused; and the helpers the other report tests use to check their PDFs through it."""

from __future__ import annotations

import io
from datetime import UTC, datetime
from pathlib import Path

import pytest

from core.errors import ValidationError
from core.i18n import catalog
from reports import preview
from reports.model import Column, ReportData, Table
from reports.pdf import render_pdf

PENDING = Path(__file__).resolve().parents[2] / "data" / "locale" / "_pending"
PENDING_S2 = PENDING / "reports-s2.tsv"
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def pending_zh(monkeypatch) -> None:
    """Every pending Chinese translation, this area's last (a no-op once they are merged into the catalogue)."""
    table = catalog("zh_CN")
    files = [*sorted(p for p in PENDING.glob("*.tsv") if p != PENDING_S2), PENDING_S2]
    for path in files:
        for line in path.read_text(encoding="utf-8").splitlines():
            if "\t" in line:
                msgid, text = line.split("\t", 1)
                if msgid not in table or path == PENDING_S2:
                    monkeypatch.setitem(table, msgid, text)


def assert_png_pages(pdf: bytes, pages: int, out_dir: Path | None = None, dpi: int = 110) -> list:
    """The PDF previews as `pages` PNG pages, none of them blank (saved under out_dir to look at)."""
    from PIL import Image, ImageStat

    pngs = preview.render_pages(pdf, dpi=dpi)
    assert len(pngs) == pages == preview.page_count(pdf)
    images = []
    for i, png in enumerate(pngs, start=1):
        assert png.startswith(PNG_MAGIC)
        img = Image.open(io.BytesIO(png))
        stat = ImageStat.Stat(img.convert("L"))
        assert stat.var[0] > 50, f"page {i} looks blank (variance {stat.var[0]:.1f})"
        if out_dir is not None:
            out_dir.mkdir(parents=True, exist_ok=True)
            (out_dir / f"page{i}.png").write_bytes(png)
        images.append(img)
    return images


def _listing(rows: int) -> bytes:
    cols = (
        Column("no", "No.", "int", 5),
        Column("name", "Name", width=20),
        Column("fen", "Amount", "money", 10, total=True),
    )
    data = ReportData(
        name="t", title="Listing", period_label="2026-11",
        tables=[Table(cols, [(i, f"住户{i}", i * 100) for i in range(rows)], totals={"fen": sum(i * 100 for i in range(rows))})],
        site_name="测试站点", printed_at=datetime(2026, 11, 25, 2, tzinfo=UTC), printed_by="tester",
    )  # fmt: skip
    return render_pdf(data)


def test_pages_as_png_at_the_asked_resolution():
    from PIL import Image

    pdf = _listing(120)  # three A4 pages
    assert preview.page_count(pdf) == 3
    images = assert_png_pages(pdf, 3)
    # A4 is 595.3 × 841.9 pt: at 110 dpi that is 910 × 1287 pixels (PDFium rounds up), at 72 dpi 596 × 842.
    assert images[0].size == (910, 1287)
    (second,) = preview.render_pages(pdf, dpi=72, first=2, count=1)
    assert Image.open(io.BytesIO(second)).size == (596, 842)
    assert len(preview.render_pages(pdf, dpi=36, first=3, count=10)) == 1


def test_bad_input_is_refused():
    pdf = _listing(3)
    with pytest.raises(ValidationError):
        preview.render_pages(b"not a pdf")
    with pytest.raises(ValidationError):
        preview.render_pages(b"%PDF-1.4 truncated")
    with pytest.raises(ValidationError):
        preview.render_pages(pdf, dpi=1000)
    with pytest.raises(ValidationError):
        preview.render_pages(pdf, dpi=True)
    with pytest.raises(ValidationError):
        preview.render_pages(pdf, first=2)  # one page only
