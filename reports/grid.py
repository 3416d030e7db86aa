"""A fast table flowable for report listings: the header repeats on every page, numbers align right, long
text wraps, a totals row closes the table. Rows are drawn straight on the canvas and a page break is an index
into the same row list, so a 10,000-line listing renders in seconds (platypus' Table re-measures the rest of
the table at every page break).
"""

from __future__ import annotations

import functools
import re
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


# Text widths, cached: a listing or a notice batch measures the same headers and labels on every page.
text_width = functools.lru_cache(maxsize=16_384)(stringWidth)

# Words (Latin letters, digits and their punctuation) stay whole when a line wraps; CJK breaks anywhere.
_TOKENS = re.compile(r"[A-Za-z0-9.,:;!?'\"()\[\]%/+\-_@#&*]+\s*|\s+|.")


@functools.lru_cache(maxsize=4096)
def wrap_text(text: str, font: str, size: float, width: float) -> tuple[str, ...]:
    """Greedy line breaking for mixed Chinese and Latin text (reportlab's simpleSplit breaks only at spaces).
    Cached: a batch of notices wraps the same sentences on every page."""
    lines: list[str] = []
    for para in text.split("\n"):
        line, line_w = "", 0.0
        for token in _TOKENS.findall(para):
            w = stringWidth(token, font, size)
            if line_w + w <= width:
                line, line_w = line + token, line_w + w
                continue
            if line.strip():
                lines.append(line.rstrip())
            token = token.lstrip()
            line, line_w = "", 0.0
            if stringWidth(token, font, size) <= width:
                line, line_w = token, stringWidth(token, font, size)
                continue
            for ch in token:  # a word longer than the line: break it by characters
                cw = stringWidth(ch, font, size)
                if line_w + cw > width and line:
                    lines.append(line)
                    line, line_w = "", 0.0
                line, line_w = line + ch, line_w + cw
        lines.append(line.rstrip())
    return tuple(lines)


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
        keep_after: float = 0.0,
    ) -> None:
        super().__init__()
        self.header, self.rows, self.widths, self.right, self.size = header, rows, widths, right, size
        self.start, self.end = start, len(rows) if end is None else end
        self.width = sum(widths)
        # The height of what must stand on the same page as the table's end (the signature lines): rather
        # than leave it alone on a page of its own, the last rows go over with it.
        self.keep_after = keep_after

    def _height(self) -> float:
        return self.header.height + sum(r.height for r in self.rows[self.start : self.end])

    def wrap(self, avail_width: float, avail_height: float) -> tuple[float, float]:
        self.height = self._height()
        if self.height <= avail_height < self.height + self.keep_after and self.end - self.start > 1:
            return self.width, avail_height + 1  # does not fit with what follows: split() carries rows over
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
            if self._height() + self.keep_after <= avail_height or self.end - self.start < 2:
                return [self]
            i = self.end - 1
        if i == self.end - 1 and self.rows[i].total:
            i -= 1  # the totals row never stands alone under a repeated header: the last row goes with it
        if i <= self.start:
            return []
        cls = type(self)
        args = (self.header, self.rows, self.widths, self.right, self.size)
        return [cls(*args, self.start, i), cls(*args, i, self.end, keep_after=self.keep_after)]

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
                        x = (xs[i] + xs[i + 1] - text_width(text, font, self.size)) / 2
                    elif self.right[i]:
                        x = xs[i + 1] - PAD_X - text_width(text, font, self.size)
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
        # Break at spaces first (words stay whole); a line still too wide (Chinese has no spaces) breaks anywhere.
        lines = [
            part
            for line in simpleSplit(text, font, size, room) or [text]
            for part in (
                [line] if stringWidth(line, font, size) <= room else wrap_text(line, font, size, room)
            )
        ]
        cells.append(lines)
        lines_max = max(lines_max, len(lines))
    height = lines_max * (size + 2) + 2 * PAD_Y - 2
    return GridRow(cells, height, bold, total)
