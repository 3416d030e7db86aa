"""In-app preview of a report: a PDF's pages as PNG images, for the desktop and console apps to show before
printing. pypdfium2 (PDFium) rasterises the very PDF that is printed, so the preview cannot disagree with it.
"""

from __future__ import annotations

import io
from typing import TYPE_CHECKING, Any

from core.errors import ValidationError
from core.i18n import N_

if TYPE_CHECKING:
    from core.context import Context
    from reports.registry import ReportParams

PAGES_MAX = 500  # a preview beyond this many pages is a print job, not something to look at
DPI_MIN, DPI_MAX = 36, 300
POINTS_PER_INCH = 72


def page_count(pdf: bytes) -> int:
    """How many pages the PDF has."""
    import pypdfium2 as pdfium

    doc = _open(pdf, pdfium)
    try:
        return len(doc)
    finally:
        doc.close()


def _open(pdf: bytes, pdfium: Any) -> Any:
    if not isinstance(pdf, bytes | bytearray) or not pdf.startswith(b"%PDF"):
        raise ValidationError(N_("This is not a PDF document."), field="pdf")
    try:
        return pdfium.PdfDocument(bytes(pdf))
    except pdfium.PdfiumError:
        raise ValidationError(N_("This is not a PDF document."), field="pdf") from None


def _check_dpi(dpi: object) -> None:
    if isinstance(dpi, bool) or not isinstance(dpi, int) or not DPI_MIN <= dpi <= DPI_MAX:
        raise ValidationError(
            N_("The preview resolution must be {min} to {max} dpi."), field="dpi", min=DPI_MIN, max=DPI_MAX
        )


def render_pages(pdf: bytes, *, dpi: int = 96, first: int = 1, count: int | None = None) -> list[bytes]:
    """Pages `first`… (1-based; `count` of them, default all up to PAGES_MAX) as PNG bytes at `dpi`, on white."""
    import pypdfium2 as pdfium

    _check_dpi(dpi)
    doc = _open(pdf, pdfium)
    try:
        total = len(doc)
        if not 1 <= first <= max(total, 1):
            raise ValidationError(N_("The document has {pages} pages."), field="first", pages=total)
        last = total if count is None else min(total, first - 1 + max(0, count))
        last = min(last, first - 1 + PAGES_MAX)
        out = []
        for index in range(first - 1, last):
            page = doc[index]
            try:
                image = page.render(scale=dpi / POINTS_PER_INCH, fill_color=(255, 255, 255, 255)).to_pil()
            finally:
                page.close()
            buf = io.BytesIO()
            image.save(buf, format="PNG", optimize=False)
            out.append(buf.getvalue())
        return out
    finally:
        doc.close()


def render_report(
    ctx: Context, name: str, params: ReportParams, *, dpi: int = 96, lang: str | None = None
) -> list[bytes]:
    """Collect report `name` for `params`, print it to PDF and return its pages as PNG bytes."""
    from reports import registry

    _check_dpi(dpi)
    return render_pages(registry.render(ctx, name, params, "pdf", lang=lang), dpi=dpi)
