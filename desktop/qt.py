"""Shared Qt helpers: background tasks on the thread pool, money and number cells, inline error labels."""

from __future__ import annotations

import traceback
from collections.abc import Callable
from typing import Any

import shiboken6
from PySide6.QtCore import QObject, QRunnable, Qt, QThreadPool, Signal
from PySide6.QtWidgets import QHBoxLayout, QLabel, QProgressBar, QPushButton, QWidget

from core.errors import AnjuError
from core.i18n import _
from core.money import format_fen

RIGHT = Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter


def money(fen: int | None) -> str:
    """Money as a clerk reads it: ¥1,234.56."""
    return "" if fen is None else format_fen(fen)


def error_text(exc: BaseException) -> str:
    """What the clerk sees of an error: the service's message, or a generic line (never a traceback)."""
    if isinstance(exc, AnjuError):
        return exc.message()
    return _("Something went wrong: {error}").format(error=type(exc).__name__)


class _Signals(QObject):
    done = Signal(object)
    failed = Signal(object)


class _Job(QRunnable):
    def __init__(self, fn: Callable[[], Any], signals: _Signals) -> None:
        super().__init__()
        self.fn, self.signals = fn, signals

    def run(self) -> None:
        try:
            result = self.fn()
        except BaseException as exc:  # shown to the clerk as a message, logged with its traceback
            traceback.print_exc()
            self.signals.failed.emit(exc)
        else:
            self.signals.done.emit(result)


class Tasks(QObject):
    """Runs service calls off the UI thread; `busy` tells a progress indicator when work is in flight."""

    busy = Signal(bool)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.pool = QThreadPool.globalInstance()
        self._running = 0
        self._keep: set[_Signals] = set()

    @property
    def running(self) -> int:
        return self._running

    def run(
        self,
        fn: Callable[[], Any],
        on_done: Callable[[Any], None],
        on_error: Callable[[BaseException], None],
    ) -> None:
        signals = _Signals()
        self._keep.add(signals)

        def finish(handler: Callable, value: Any) -> None:
            if not shiboken6.isValid(self):
                return  # the window or dialog that ran the task was deleted meanwhile, and this runner with it
            self._keep.discard(signals)
            self._running -= 1
            self.busy.emit(self._running > 0)
            owner = getattr(handler, "__self__", None)
            if isinstance(owner, QObject) and not shiboken6.isValid(owner):
                return  # the dialog that asked was closed and deleted meanwhile: nobody is left to tell
            handler(value)

        signals.done.connect(lambda v: finish(on_done, v), Qt.ConnectionType.QueuedConnection)
        signals.failed.connect(lambda e: finish(on_error, e), Qt.ConnectionType.QueuedConnection)
        self._running += 1
        self.busy.emit(True)
        self.pool.start(_Job(fn, signals))


class ErrorLabel(QLabel):
    """A red message shown next to the thing that caused it; empty and hidden when all is well."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setStyleSheet("color: #b00020;")
        self.setWordWrap(True)
        self.hide()

    def show_error(self, exc: BaseException | str) -> None:
        self.setText(exc if isinstance(exc, str) else error_text(exc))
        self.show()

    def clear_error(self) -> None:
        self.setText("")
        self.hide()


def busy_bar(parent: QWidget | None = None) -> QProgressBar:
    """An indeterminate progress bar, shown while a task runs."""
    bar = QProgressBar(parent)
    bar.setRange(0, 0)
    bar.setMaximumHeight(6)
    bar.setTextVisible(False)
    bar.hide()
    return bar


def confirm_buttons(
    on_confirm: Callable[[], Any], on_cancel: Callable[[], Any]
) -> tuple[QPushButton, QHBoxLayout]:
    """The counter dialogs' button row: Cancel (Esc) and the default Confirm (Enter), right-aligned."""
    confirm = QPushButton(_("Confirm (Enter)"))
    confirm.setObjectName("confirm")
    confirm.setDefault(True)
    confirm.clicked.connect(on_confirm)
    cancel = QPushButton(_("Cancel (Esc)"))
    cancel.clicked.connect(on_cancel)
    row = QHBoxLayout()
    row.addStretch(1)
    row.addWidget(cancel)
    row.addWidget(confirm)
    return confirm, row
