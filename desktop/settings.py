"""The counter's settings: printer, receipt paper (A4, A5, 三联) and language, kept in `desktop.json` in the
site directory (language applies at the next start). No Qt here: the login window reads the language before
anything else loads (the dialog that edits them is desktop.settings_dialog)."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path

from core.context import Context
from core.errors import ValidationError
from core.i18n import LANGUAGES, N_, current_language

FILENAME = "desktop.json"
PAPERS: tuple[tuple[str, str], ...] = (
    ("A4", N_("A4")),
    ("A5", N_("A5 (landscape)")),
    ("triplicate", N_("3-part continuous form 三联 (241 × 140 mm)")),
)
PAPER_CODES = tuple(code for code, _label in PAPERS)
LANGUAGE_NAMES = {"zh_CN": "中文 (简体)", "en": "English"}
SETTINGS_BYTES_MAX = 64 * 1024


@dataclass(frozen=True)
class DesktopSettings:
    printer: str = ""  # "" = the system's default printer
    paper: str = "A5"
    language: str = "zh_CN"

    def checked(self) -> DesktopSettings:
        if self.paper not in PAPER_CODES:
            raise ValidationError(N_("The receipt paper must be A4, A5 or triplicate."), field="paper")
        if self.language not in LANGUAGES:
            raise ValidationError(N_("Unknown language {lang}."), field="language", lang=self.language)
        if len(self.printer) > 200:
            raise ValidationError(N_("The printer name is too long."), field="printer")
        return self


def settings_path(ctx: Context) -> Path | None:
    return None if ctx.home is None else ctx.home.root / FILENAME


def load(ctx: Context) -> DesktopSettings:
    """The saved settings; defaults when there is no file, or it is unreadable (the counter must start)."""
    path = settings_path(ctx)
    if path is None or not path.is_file() or path.stat().st_size > SETTINGS_BYTES_MAX:
        return DesktopSettings(language=current_language())
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
        # Only text values count: a null printer is the default printer, not one named "None".
        known = {
            k: v for k, v in raw.items() if k in DesktopSettings.__dataclass_fields__ and isinstance(v, str)
        }
        return DesktopSettings(**known).checked()
    except (ValueError, TypeError, AttributeError, RecursionError, OSError, ValidationError):
        return DesktopSettings()


def apply_language(ctx: Context) -> str:
    """At start: the language saved in the settings, if there are saved settings; else the one already chosen
    (the command line's, or the environment's)."""
    from core.i18n import set_language

    path = settings_path(ctx)
    if path is not None and path.is_file():
        return set_language(load(ctx).language)
    return current_language()


def save(ctx: Context, settings: DesktopSettings) -> Path:
    """Write the settings atomically (a crash leaves the old file or the new one, never half)."""
    settings.checked()
    path = settings_path(ctx)
    if path is None:
        from core.errors import SiteError

        raise SiteError(N_("No site directory: the settings cannot be saved."))
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(asdict(settings), ensure_ascii=False, indent=2), encoding="utf-8")
    tmp.replace(path)
    return path
