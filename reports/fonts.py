"""The embedded CJK fonts: where they are (for Qt too) and their one-time registration with reportlab.

The files ship in data/fonts (Noto Sans SC, static TrueType, GBK subset, OFL), so PDFs render Chinese on a
fresh machine without system fonts, and every PDF embeds the glyphs it uses.
"""

from __future__ import annotations

import threading
from pathlib import Path

FONT_DIR = Path(__file__).resolve().parent.parent / "data" / "fonts"
REGULAR_FILE = "NotoSansSC-Regular-GBK.ttf"
BOLD_FILE = "NotoSansSC-Bold-GBK.ttf"

# The names reportlab knows the fonts by once `register()` has run.
FONT = "AnjuSans"
FONT_BOLD = "AnjuSans-Bold"

_lock = threading.Lock()
_registered = {"done": False}


def cjk_font_path() -> Path:
    """The regular-weight CJK TrueType font (for Qt: QFontDatabase.addApplicationFont(str(path)))."""
    return FONT_DIR / REGULAR_FILE


def cjk_bold_font_path() -> Path:
    return FONT_DIR / BOLD_FILE


def register() -> None:
    """Register the fonts with reportlab once per process (parsing them takes ~0.1 s each)."""
    if _registered["done"]:
        return
    with _lock:
        if _registered["done"]:
            return
        from reportlab.lib.fonts import addMapping
        from reportlab.pdfbase import pdfmetrics
        from reportlab.pdfbase.ttfonts import TTFont

        pdfmetrics.registerFont(TTFont(FONT, str(cjk_font_path())))
        pdfmetrics.registerFont(TTFont(FONT_BOLD, str(cjk_bold_font_path())))
        # <b> in a Paragraph then picks the bold file instead of failing.
        addMapping(FONT, 0, 0, FONT)
        addMapping(FONT, 1, 0, FONT_BOLD)
        addMapping(FONT, 0, 1, FONT)
        addMapping(FONT, 1, 1, FONT_BOLD)
        _registered["done"] = True
