"""The one-line bar at the top of every screen: the product, the site, and who is logged in."""

from __future__ import annotations

from rich.text import Text
from textual.widgets import Static

from core.i18n import _


class TopBar(Static):
    """`安居 Anju · <site name> (<code>)` on the left, the user on the right."""

    def __init__(self, site: str = "", user: str = "", *, id: str | None = "topbar") -> None:
        super().__init__(id=id)
        self._site = site
        self._user = user

    def set_site(self, site: str) -> None:
        self._site = site
        self.refresh()

    def render(self) -> Text:
        left = Text.assemble((_("Anju back office"), "bold"), ("  " + self._site if self._site else ""))
        right = Text(self._user)
        width = self.content_size.width or 80
        gap = max(1, width - left.cell_len - right.cell_len)
        line = Text.assemble(left, " " * gap, right)
        line.truncate(width, overflow="ellipsis")
        return line
