"""Export of a paged list to Excel (streamed from SQL into a write-only workbook). Free of Textual, so the
back office can run it in a process of its own (console.widgets.jobs) and stay responsive meanwhile."""

from __future__ import annotations

import importlib
from collections.abc import Callable
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from core.clock import BUSINESS_TZ
from core.context import Context
from core.i18n import _
from core.listing import ListQuery, Source, count, get_source, stream

EXPORT_ROWS_MAX = 1_048_575  # an Excel sheet's rows, less the header


def excel_value(kind: str, value: Any) -> Any:
    """A value as an Excel cell: money in yuan (exact Decimal), instants as business-time wall clock."""
    if value is None:
        return None
    if kind == "fen":
        return Decimal(int(value)).scaleb(-2)
    if kind == "datetime" and isinstance(value, datetime):
        return value.astimezone(BUSINESS_TZ).replace(tzinfo=None)
    return value


def export_list(
    ctx: Context,
    source: Source,
    query: ListQuery,
    path: Path,
    progress: Callable[[int, int], None],
    cancelled: Callable[[], bool] = lambda: False,
) -> int:
    """Write the filtered, sorted list to an .xlsx file (streamed: write-only workbook, batches from SQL).

    Returns the number of rows written. The file appears under its name only when complete.
    """
    from openpyxl import Workbook

    total = min(count(ctx, source.code, query.filters), EXPORT_ROWS_MAX)
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(_(source.title)[:31])
    sheet.append([_(c.label) for c in source.columns])
    kinds = [c.kind for c in source.columns]
    done = 0
    progress(0, total)
    for batch in stream(ctx, source.code, query, rows_max=EXPORT_ROWS_MAX):
        if cancelled():
            break
        for row in batch:
            sheet.append([excel_value(k, v) for k, v in zip(kinds, row, strict=True)])
        done += len(batch)
        progress(done, total)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    workbook.save(tmp)
    tmp.replace(path)
    return done


def export_source(
    ctx: Context, module: str, code: str, query: ListQuery, path: str, progress: Callable[[int, int], None]
) -> int:
    """`export_list` of the list `code`, registered by importing `module` (for a child process)."""
    importlib.import_module(module)
    return export_list(ctx, get_source(code), query, Path(path), progress)
