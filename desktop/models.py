"""Table models: `PagedListModel` reads a registered core list (core.listing) page by page as the view
scrolls, sorting in SQL; `RowsModel` shows a short list of service views (a house's bills)."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import date, datetime
from typing import Any

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, Qt

from core import listing
from core.clock import BUSINESS_TZ
from core.context import Context
from core.i18n import _
from desktop.qt import RIGHT, money

PAGE_ROWS = 200
_Index = QModelIndex | QPersistentModelIndex


def _cell(kind: str, value: Any) -> str:
    if value is None:
        return ""
    if kind == "fen":
        return money(int(value))
    if kind == "int":
        return f"{int(value):,}"
    if kind == "datetime" and isinstance(value, datetime):
        return value.astimezone(BUSINESS_TZ).strftime("%Y-%m-%d %H:%M:%S")
    if kind == "date" and isinstance(value, date):
        return value.isoformat()
    if kind == "bool":
        return _("Yes") if value else _("No")
    return str(value)


class PagedListModel(QAbstractTableModel):
    """A core list as a table: the first page at once, the next when the view scrolls near the end
    (`fetchMore`); sorting asks the database again."""

    def __init__(
        self,
        ctx: Context,
        code: str,
        filters: Mapping[str, str] | None = None,
        page_rows: int = PAGE_ROWS,
        labels: Mapping[str, Mapping[str, str]] | None = None,
    ) -> None:
        super().__init__()
        self.ctx, self.source = ctx, listing.get_source(code)
        # What each coded column shows (msgids by code): the list's own labels, and those the caller adds for
        # codes the list leaves raw (a receipt's channel).
        self.labels = [
            {**dict(col.labels), **dict((labels or {}).get(col.key, {}))} for col in self.source.columns
        ]
        self.filters = dict(filters or {})
        self.page_rows = page_rows
        self.sort_key: str | None = None
        self.descending: bool | None = None
        self.rows: list[tuple] = []
        self._more = True
        self.reload()

    def reload(self) -> None:
        self.beginResetModel()
        self.rows, self._more = [], True
        self._fetch()
        self.endResetModel()

    def set_filters(self, filters: Mapping[str, str]) -> None:
        self.filters = dict(filters)
        self.reload()

    def _fetch(self) -> list[tuple]:
        page = listing.paged(
            self.ctx,
            self.source.code,
            listing.ListQuery(self.filters, self.sort_key, self.descending, len(self.rows), self.page_rows),
        )
        self._more = len(page.rows) == self.page_rows
        self.rows.extend(page.rows)
        return page.rows

    def rowCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008 - Qt's signature
        return 0 if parent.isValid() else len(self.rows)

    def columnCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self.source.columns)

    def canFetchMore(self, parent: _Index = QModelIndex()) -> bool:  # noqa: B008
        return not parent.isValid() and self._more

    def fetchMore(self, parent: _Index = QModelIndex()) -> None:  # noqa: B008
        if parent.isValid() or not self._more:
            return
        start = len(self.rows)
        page = listing.paged(
            self.ctx,
            self.source.code,
            listing.ListQuery(self.filters, self.sort_key, self.descending, start, self.page_rows),
        )
        self._more = len(page.rows) == self.page_rows
        if page.rows:
            self.beginInsertRows(QModelIndex(), start, start + len(page.rows) - 1)
            self.rows.extend(page.rows)
            self.endInsertRows()

    def data(self, index: _Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or index.row() >= len(self.rows):
            return None
        col = self.source.columns[index.column()]
        value = self.rows[index.row()][index.column()]
        if role == Qt.ItemDataRole.DisplayRole:
            labels = self.labels[index.column()]
            return _(labels[value]) if value in labels else _cell(col.kind, value)
        if role == Qt.ItemDataRole.TextAlignmentRole and col.kind in ("fen", "int"):
            return int(RIGHT)
        if role == Qt.ItemDataRole.UserRole:
            return value
        return None

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole):
        if (
            role == Qt.ItemDataRole.DisplayRole
            and orientation == Qt.Orientation.Horizontal
            and 0 <= section < len(self.source.columns)
        ):
            return _(self.source.columns[section].label)
        return None

    def sort(self, column: int, order: Qt.SortOrder = Qt.SortOrder.AscendingOrder) -> None:
        if not 0 <= column < len(self.source.columns):
            return
        key = self.source.columns[column].key
        if key not in self.source.sorts:
            return
        self.sort_key, self.descending = key, order == Qt.SortOrder.DescendingOrder
        self.reload()


class RowsModel(QAbstractTableModel):
    """A short list of views as a table: `columns` are (header msgid, kind, getter); kind "fen" is money."""

    def __init__(
        self, columns: Sequence[tuple[str, str, Callable[[Any], Any]]], rows: Sequence[Any] = ()
    ) -> None:
        super().__init__()
        self.columns = list(columns)
        self.items: list[Any] = list(rows)
        self.checkable = False
        self.checked: set[int] = set()

    def set_rows(self, rows: Sequence[Any]) -> None:
        self.beginResetModel()
        self.items = list(rows)
        self.checked = set(range(len(self.items))) if self.checkable else set()
        self.endResetModel()

    def rowCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self.items)

    def columnCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self.columns)

    def data(self, index: _Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or index.row() >= len(self.items):
            return None
        _label, kind, get = self.columns[index.column()]
        item = self.items[index.row()]
        if role == Qt.ItemDataRole.DisplayRole:
            return _cell(kind, get(item))
        if role == Qt.ItemDataRole.TextAlignmentRole and kind in ("fen", "int"):
            return int(RIGHT)
        if role == Qt.ItemDataRole.CheckStateRole and self.checkable and index.column() == 0:
            return Qt.CheckState.Checked if index.row() in self.checked else Qt.CheckState.Unchecked
        if role == Qt.ItemDataRole.UserRole:
            return item
        return None

    def flags(self, index: _Index) -> Qt.ItemFlag:
        if not index.isValid():
            return Qt.ItemFlag.NoItemFlags
        f = Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable
        if self.checkable and index.column() == 0:
            f |= Qt.ItemFlag.ItemIsUserCheckable
        return f

    def setData(self, index: _Index, value: Any, role: int = Qt.ItemDataRole.EditRole) -> bool:
        if not (self.checkable and index.isValid() and index.column() == 0):
            return False
        if role != Qt.ItemDataRole.CheckStateRole:
            return False
        state = Qt.CheckState(value) if not isinstance(value, Qt.CheckState) else value
        if state == Qt.CheckState.Checked:
            self.checked.add(index.row())
        else:
            self.checked.discard(index.row())
        self.dataChanged.emit(index, index, [role])
        return True

    def checked_items(self) -> list[Any]:
        return [self.items[i] for i in sorted(self.checked)]

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole):
        if (
            role == Qt.ItemDataRole.DisplayRole
            and orientation == Qt.Orientation.Horizontal
            and 0 <= section < len(self.columns)
        ):
            return _(self.columns[section][0])
        return None
