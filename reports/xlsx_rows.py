"""Fast data rows for openpyxl's write-only sheets: each row is serialised straight to SpreadsheetML.

openpyxl (without lxml) spends ~25 µs per cell building Cell objects and XML elements; a 100,000-row
export would take half a minute. Here a data row becomes one string, written into the same stream openpyxl
is writing, between the rows openpyxl writes itself (heading, header, totals). With lxml present openpyxl is
fast on its own and its normal path is used.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import Any
from xml.sax.saxutils import escape

from openpyxl.cell import WriteOnlyCell
from openpyxl.utils import get_column_letter
from openpyxl.utils.datetime import to_excel
from openpyxl.xml import LXML

from reports.formatting import cell_value


class RawRow(tuple):
    """A data row already serialised as one `<row>` element (a tuple, so openpyxl's append accepts it)."""


def _number(value: Any) -> str:
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, Decimal):
        return format(value, "f")
    return repr(value) if isinstance(value, float) else str(value)


def _yuan(fen: Any) -> str:
    """Fen as exact yuan digits ("-1234.05"); anything but an int is a bug upstream."""
    if type(fen) is not int:
        raise TypeError(f"money must be int fen, got {type(fen).__name__}")
    whole, cents = divmod(-fen if fen < 0 else fen, 100)
    return f"{'-' if fen < 0 else ''}{whole}.{cents:02d}"


class FastRows:
    """Serialises value rows for one write-only sheet and hooks the sheet so it writes them as they are."""

    def __init__(self, ws, kinds: Sequence[str], formats: dict[str, str]) -> None:
        self.ws = ws
        self.kinds = list(kinds)
        self.letters = [get_column_letter(i) for i in range(1, len(kinds) + 1)]
        self.styles: list[str] = []
        for kind in kinds:
            if kind in formats:
                tpl = WriteOnlyCell(ws)
                tpl.number_format = formats[kind]
                self.styles.append(f' s="{tpl.style_id}"')
            else:
                self.styles.append("")
        self.enabled = not LXML
        if self.enabled:
            self._hook()

    def _hook(self) -> None:
        ws = self.ws
        ws._get_writer()
        original_values: Callable = ws._values_to_row
        writer = ws._writer
        original_write: Callable = writer.write_row

        def values_to_row(values: Any, row_idx: int) -> Any:
            return values if isinstance(values, RawRow) else original_values(values, row_idx)

        def write_row(xf: Any, row: Any, row_idx: int) -> None:
            if isinstance(row, RawRow):
                xf._file(row[0])
            else:
                original_write(xf, row, row_idx)

        ws._values_to_row = values_to_row
        writer.write_row = write_row

    def row(self, values: Sequence[Any], row_idx: int) -> RawRow:
        """Sheet row `row_idx` from report values (money in fen); only when `enabled`."""
        r = str(row_idx)
        parts = [f'<row r="{r}">']
        for letter, kind, style, value in zip(self.letters, self.kinds, self.styles, values, strict=True):
            if value is None:
                continue
            if kind == "money":
                # Straight from fen to the yuan digits: exact, and no Decimal round trip per cell.
                parts.append(f'<c r="{letter}{r}"{style} t="n"><v>{_yuan(value)}</v></c>')
                continue
            value = cell_value(kind, value)
            if isinstance(value, str):
                text = escape(value)  # cell_value dropped what XML forbids
                space = ' xml:space="preserve"' if text[:1].isspace() or text[-1:].isspace() else ""
                parts.append(f'<c r="{letter}{r}"{style} t="inlineStr"><is><t{space}>{text}</t></is></c>')
            elif isinstance(value, datetime | date):
                parts.append(f'<c r="{letter}{r}"{style}><v>{_number(to_excel(value))}</v></c>')
            else:
                parts.append(f'<c r="{letter}{r}"{style} t="n"><v>{_number(value)}</v></c>')
        parts.append("</row>")
        return RawRow(("".join(parts),))
