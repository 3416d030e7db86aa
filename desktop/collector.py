"""Garbage collection on the GUI thread only (the approach qutebrowser takes).

Python's cycle collector runs in whichever thread happens to allocate when a threshold is crossed. In this app
that is often a pool thread running a service call (desktop/qt.py Tasks); if the garbage it collects holds Qt
objects (a closed dialog, a model of a page gone), their C++ destructors then run off the GUI thread and Qt
crashes the process. So the automatic collector is switched off and a timer on the GUI thread collects instead,
generation by generation, with the same thresholds the automatic collector would use.
"""

from __future__ import annotations

import gc

from PySide6.QtCore import QObject, QTimer

INTERVAL_MS = 500


class MainThreadGC(QObject):
    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.threshold = gc.get_threshold()
        self.timer = QTimer(self)
        self.timer.setInterval(INTERVAL_MS)
        self.timer.timeout.connect(self.collect)

    def install(self) -> None:
        gc.disable()
        if not self.timer.isActive():
            self.timer.start()

    def collect(self) -> None:
        """Collect like the automatic collector would: the oldest generation whose count passed its threshold."""
        counts = gc.get_count()
        for generation in (2, 1, 0):
            if counts[generation] > self.threshold[generation]:
                gc.collect(generation)
                return
