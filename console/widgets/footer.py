"""The footer of the work screens: Textual's Footer, rebuilt only when the keys it shows change.

Textual's Footer removes and mounts all its keys again each time the screen's bindings may have changed —
on every focus move (into a filter, back to the list) and several times while a screen opens — although the
keys shown are mostly the same. This one compares what it would show with what it shows and rebuilds only
on a difference, once per burst of changes.
"""

from __future__ import annotations

from typing import Any

from textual.screen import Screen
from textual.widgets import Footer


class KeyFooter(Footer):
    """A Footer that is rebuilt only when its keys (key, label, enabled, tooltip) change."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._shown: tuple | None = None
        self._pending = False

    def shown_keys(self) -> tuple:
        """What the footer shows for the screen's bindings now (what Footer.compose reads)."""
        return tuple(
            (key, binding.action, binding.description, binding.show, id(binding.group), enabled, tooltip)
            for key, (_node, binding, enabled, tooltip) in self.screen.active_bindings.items()
        )

    def bindings_changed(self, screen: Screen) -> None:
        self._bindings_ready = True
        if not screen.app.app_focus:
            return
        if self.is_attached and screen is self.screen and not self._pending:
            self._pending = True
            self.call_after_refresh(self._rebuild_if_changed)

    async def _rebuild_if_changed(self) -> None:
        self._pending = False
        if not self.is_attached:
            return
        shown = self.shown_keys()
        if shown != self._shown:
            self._shown = shown
            await self.recompose()
