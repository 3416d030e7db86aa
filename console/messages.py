"""Messages the back office's widgets and screens send each other (instead of reaching into one another)."""

from __future__ import annotations

from typing import Any

from textual.message import Message
from textual.widget import Widget

from core.listing import Page


class PageLoaded(Message):
    """A worker read a page of a paged list (`request` tells stale pages from the latest one)."""

    def __init__(self, request: int, page: Page, cursor: int) -> None:
        super().__init__()
        self.request = request
        self.page = page
        self.cursor = cursor


class CountKnown(Message):
    """A worker counted exactly how many rows a paged list has under the filters of `generation`."""

    def __init__(self, generation: int, total: int) -> None:
        super().__init__()
        self.generation = generation
        self.total = total


class ListFailed(Message):
    """Reading a list failed; `message` is a sentence for the clerk."""

    def __init__(self, generation: int, message: str) -> None:
        super().__init__()
        self.generation = generation
        self.message = message


class RowChosen(Message):
    """The user pressed Enter on a row of a paged list: `row` maps the list's column keys to values."""

    def __init__(self, table: Widget, source: str, row: dict[str, Any]) -> None:
        super().__init__()
        self.table = table
        self.source = source
        self.row = row

    @property
    def control(self) -> Widget:
        """The paged list the row belongs to (so `@on(RowFocused, "#id")` can pick one list)."""
        return self.table


class RowFocused(Message):
    """The cursor of a paged list moved to a row (for a detail panel beside the list)."""

    def __init__(self, table: Widget, source: str, row: dict[str, Any]) -> None:
        super().__init__()
        self.table = table
        self.source = source
        self.row = row

    @property
    def control(self) -> Widget:
        """The paged list the row belongs to (so `@on(RowFocused, "#id")` can pick one list)."""
        return self.table


class ExportProgress(Message):
    """An export wrote `done` of `total` rows."""

    def __init__(self, done: int, total: int) -> None:
        super().__init__()
        self.done = done
        self.total = total


class ExportFinished(Message):
    """An export ended: `path` on success, else `error` (a sentence)."""

    def __init__(self, path: str | None, rows: int, error: str | None = None) -> None:
        super().__init__()
        self.path = path
        self.rows = rows
        self.error = error


class JumpRequested(Message):
    """Ctrl+Home / Ctrl+End in a paged list's table: go to the first or last row of the whole list."""

    def __init__(self, last: bool) -> None:
        super().__init__()
        self.last = last
