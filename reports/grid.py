"""A fast table flowable for report listings: the header repeats on every page, numbers align right, long
text wraps, a totals row closes the table. Rows are drawn straight on the canvas and a page break is an index
into the same row list, so a 10,000-line listing renders in seconds (platypus' Table re-measures the rest of
the table at every page break).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from reportlab.lib import colors
from reportlab.lib.utils import simpleSplit
from reportlab.pdfbase.pdfmetrics import stringWidth
from reportlab.platypus.flowables import Flowable

from reports import fonts

PAD_X = 3.0
PAD_Y = 2.6
GRID = colors.HexColor("#444444")
HEADER_BG = colors.HexColor("#E8E8E8")


@dataclass(frozen=True)
class GridRow:
    """One drawn row: a list of lines per cell, its height, and whether it is bold / the totals row."""

    cells: Sequence[Sequence[str]]
    height: float
    bold: bool = False
    total: bool = False


class GridTable(Flowable):
    """Rows [start, end) of a shared row list under the header; split() just moves the index."""

    def __init__(
        self,
        header: GridRow,
        rows: list[GridRow],
        widths: Sequence[float],
        right: Sequence[bool],
        size: float,
        start: int = 0,
        end: int | None = None,
    ) -> None:
        super().__init__()
        self.header, self.rows, self.widths, self.right, self.size = header, rows, widths, right, size
        self.start, self.end = start, len(rows) if end is None else end
        self.width = sum(widths)

    def _height(self) -> float:
        return self.header.height + sum(r.height for r in self.rows[self.start : self.end])

    def wrap(self, avail_width: float, avail_height: float) -> tuple[float, float]:
        self.height = self._height()
        return self.width, self.height

    def split(self, avail_width: float, avail_height: float) -> list[Flowable]:
        room = avail_height - self.header.height
        i = self.start
        while i < self.end and room >= self.rows[i].height:
            room -= self.rows[i].height
            i += 1
        if i == self.start:  # not even one row fits here: move the whole table on
            return []
        if i >= self.end:
            return [self]
        cls = type(self)
        args = (self.header, self.rows, self.widths, self.right, self.size)
        return [cls(*args, self.start, i), cls(*args, i, self.end)]

    def draw(self) -> None:
        c = self.canv
        rows = [self.header, *self.rows[self.start : self.end]]
        total_h = sum(r.height for r in rows)
        xs = [0.0]
        for w in self.widths:
            xs.append(xs[-1] + w)
        c.saveState()
        c.setFillColor(HEADER_BG)
        c.rect(0, total_h - self.header.height, self.width, self.header.height, stroke=0, fill=1)
        c.setFillColor(colors.black)
        c.setStrokeColor(GRID)
        c.setLineWidth(0.3)
        y = total_h
        leading = self.size + 2
        # One text object for the whole page: a text object per cell costs more than the text itself.
        tx = c.beginText()
        current = None
        for n, row in enumerate(rows):
            top = y
            y -= row.height
            font = fonts.FONT_BOLD if (row.bold or n == 0) else fonts.FONT
            if font != current:
                tx.setFont(font, self.size)
                current = font
            if row.total:
                c.setLineWidth(0.9)
                c.setStrokeColor(colors.black)
                c.line(0, top, self.width, top)
                c.setLineWidth(0.3)
                c.setStrokeColor(GRID)
            else:
                c.line(0, top, self.width, top)
            base = top - PAD_Y - self.size * 0.88
            for i, lines in enumerate(row.cells):
                for k, text in enumerate(lines):
                    if n == 0:
                        x = (xs[i] + xs[i + 1] - stringWidth(text, font, self.size)) / 2
                    elif self.right[i]:
                        x = xs[i + 1] - PAD_X - stringWidth(text, font, self.size)
                    else:
                        x = xs[i] + PAD_X
                    tx.setTextOrigin(x, base - k * leading)
                    tx.textOut(text)
        c.drawText(tx)
        c.line(0, 0, self.width, 0)
        for x in xs[1:-1]:
            c.line(x, 0, x, total_h)
        c.setLineWidth(0.8)
        c.setStrokeColor(colors.black)
        c.rect(0, 0, self.width, total_h, stroke=1, fill=0)
        c.restoreState()


def make_row(
    texts: Sequence[str], widths: Sequence[float], size: float, *, bold: bool = False, total: bool = False
) -> GridRow:
    """Measure a row: text that does not fit its column wraps onto more lines (and makes the row taller)."""
    font = fonts.FONT_BOLD if bold else fonts.FONT
    cells: list[Sequence[str]] = []
    lines_max = 1
    for text, width in zip(texts, widths, strict=True):
        room = width - 2 * PAD_X
        # Cheap test first: no glyph of these fonts is wider than the font size.
        if not text or len(text) * size <= room or stringWidth(text, font, size) <= room:
            cells.append((text,) if text else ())
            continue
        lines = simpleSplit(text, font, size, room) or [text]
        cells.append(lines)
        lines_max = max(lines_max, len(lines))
    height = lines_max * (size + 2) + 2 * PAD_Y - 2
    return GridRow(cells, height, bold, total)
