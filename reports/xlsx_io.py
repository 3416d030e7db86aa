"""Plain .xlsx files for data exchange (imports, import templates, list exports): openpyxl lives here so
core only ever sees header and rows of plain Python values.

Reading takes the first sheet with the header in row 1; writing produces one sheet, header then rows.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from pathlib import Path

from core.context import Context
from core.errors import ValidationError
from core.i18n import N_


def read_rows(path: Path, *, rows_max: int) -> tuple[tuple, list[tuple]]:
    """The header row and the data rows of the first sheet; at most `rows_max` + 1 data rows are read, so a
    caller checking `rows_max` sees that the file is too long without the whole file being loaded."""
    from openpyxl import load_workbook

    try:
        wb = load_workbook(Path(path), read_only=True, data_only=True)
    except Exception as err:  # openpyxl raises many kinds for a file that is not a workbook
        raise ValidationError(
            N_("The file cannot be read as an Excel workbook: {error}"), field="file", error=str(err)
        ) from None
    try:
        it = wb.active.iter_rows(values_only=True)
        header = next(it, None)
        if header is None:
            raise ValidationError(N_("The file is empty."), field="file")
        rows = []
        for row in it:
            rows.append(row)
            if len(rows) > rows_max:
                break
    finally:
        wb.close()
    return tuple(header), rows


def write_rows(path: Path, header: Sequence[str], rows: Sequence[Sequence[object]], title: str) -> None:
    """One sheet named `title`: the header row, then the rows (streamed)."""
    from openpyxl import Workbook

    wb = Workbook(write_only=True)
    ws = wb.create_sheet(title)
    ws.append(list(header))
    for row in rows:
        ws.append(list(row))
    wb.save(Path(path))


# ---------------------------------------------------------------------------------------------------------
# Property base data (the `anju property import|export|import-template` commands and the apps call these)


def import_property_file(ctx: Context, kind: str, path: Path, *, good_rows_only: bool = False):
    """Import buildings, houses, owners or meter readings from an .xlsx file; returns core's ImportReport."""
    from core.property import importexport as ie

    ctx.require(ie.PERM_IMPORT)  # before the file is even opened
    header, rows = read_rows(path, rows_max=ie.ROWS_MAX)
    return ie.import_rows(ctx, kind, header, rows, good_rows_only=good_rows_only)


def write_property_template(kind: str, path: Path) -> None:
    """The empty import template of `kind`: header row and one example row."""
    from core.property import importexport as ie

    header, rows = ie.template_rows(kind)
    write_rows(path, header, rows, kind)


def export_property_file(
    ctx: Context, kind: str, path: Path, *, community_id: uuid.UUID | None = None
) -> int:
    """Export houses, owners or bills to an .xlsx file; returns the number of data rows."""
    from core.property import importexport as ie

    header, rows = ie.export_rows(ctx, kind, community_id=community_id)
    write_rows(path, header, rows, kind)
    return len(rows)
