"""Garbage is collected on the GUI thread only: a collection in a pool thread could run Qt destructors there."""

from __future__ import annotations

import gc
import weakref

from desktop.app import application


class _Node:
    pass


def test_the_automatic_collector_is_off_and_the_gui_thread_collects(qtbot):
    application()
    assert not gc.isenabled()
    node = _Node()
    node.me = node  # a cycle: only the collector frees it
    gone = weakref.ref(node)
    del node
    for _ in range(800):  # enough allocations to pass generation 0's threshold
        cycle = _Node()
        cycle.me = cycle
    qtbot.waitUntil(lambda: gone() is None, timeout=5_000)
