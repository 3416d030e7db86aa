"""Translation of user-facing text: English msgids in code, zh_CN (default) and en catalogues in data/locale.

Mark text with `_()` where it is shown right away and with `N_()` where it is stored and shown later
(error messages are marked with `N_` and translated when displayed, so each reader gets their language).
"""

from __future__ import annotations

import os
from functools import cache
from pathlib import Path

LOCALE_DIR = Path(__file__).resolve().parent.parent / "data" / "locale"
DOMAIN = "anju"
DEFAULT_LANGUAGE = "zh_CN"
LANGUAGES = ("zh_CN", "en")

_state = {"language": None}


def N_(message: str) -> str:
    """Mark `message` for extraction without translating it now."""
    return message


def _normalise(lang: str | None) -> str | None:
    if not lang:
        return None
    lang = lang.split(".")[0].replace("-", "_")
    if lang.lower().startswith("zh"):
        return "zh_CN"
    if lang.lower().startswith("en"):
        return "en"
    return None


def detect_language() -> str:
    """ANJU_LANG first, then the POSIX locale variables, then zh_CN (a bare C/POSIX locale chooses nothing)."""
    for var in ("ANJU_LANG", "LC_ALL", "LC_MESSAGES", "LANG"):
        lang = _normalise(os.environ.get(var))
        if lang:
            return lang
    return DEFAULT_LANGUAGE


def set_language(lang: str | None) -> str:
    """Select the language for `_()`; None re-detects it from the environment. Returns the choice."""
    chosen = _normalise(lang) if lang else detect_language()
    _state["language"] = chosen or DEFAULT_LANGUAGE
    return _state["language"]


def current_language() -> str:
    if _state["language"] is None:
        set_language(None)
    return _state["language"]


_PO_ESCAPES = {"\\": "\\", '"': '"', "n": "\n", "t": "\t", "r": "\r"}


def _po_string(text: str) -> str:
    """The value of one quoted PO string ("..."); ValueError on anything else."""
    text = text.strip()
    if len(text) < 2 or text[0] != '"' or text[-1] != '"':
        raise ValueError(text)
    text = text[1:-1]
    if "\\" not in text:
        return text
    out, i = [], 0
    while i < len(text):
        ch = text[i]
        if ch == "\\":
            out.append(_PO_ESCAPES[text[i + 1]])  # KeyError/IndexError: not a simple PO file
            i += 2
        else:
            out.append(ch)
            i += 1
    return "".join(out)


def read_po_table(path: Path) -> dict[str, str]:
    """msgid → msgstr of a PO file as tools/i18n.py writes it (translated, non-fuzzy entries; a plural's
    first form), read without babel: the catalogue is read before the first screen shows, so its speed is
    start-up time. Raises ValueError (or KeyError/IndexError) on a construct it does not know."""
    table: dict[str, str] = {}
    msgid: list[str] = []
    msgstr: list[str] = []
    field: list[str] | None = None
    fuzzy = next_fuzzy = False
    done_str = False

    def flush() -> None:
        if msgid and msgstr and not fuzzy:
            key, value = "".join(msgid), "".join(msgstr)
            if key and value:
                table[key] = value

    for raw in path.read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        if not line:
            continue
        if line[0] == "#":
            if line.startswith("#,") and "fuzzy" in line:
                next_fuzzy = True
            continue
        if line.startswith("msgid "):
            flush()
            msgid, msgstr, fuzzy, next_fuzzy, done_str = [_po_string(line[6:])], [], next_fuzzy, False, False
            field = msgid
        elif line.startswith("msgid_plural "):
            field = None
        elif line.startswith("msgstr "):
            field, done_str = msgstr, True
            msgstr.append(_po_string(line[7:]))
        elif line.startswith("msgstr[0] "):
            field, done_str = msgstr, True
            msgstr.append(_po_string(line[10:]))
        elif line.startswith("msgstr["):
            field = None
        elif line[0] == '"':
            if field is not None:
                field.append(_po_string(line))
        else:
            raise ValueError(line)
    if done_str:
        flush()
    return table


@cache
def catalog(lang: str) -> dict[str, str]:
    """The msgid → msgstr table of one language, read once from its .po file."""
    path = LOCALE_DIR / lang / "LC_MESSAGES" / f"{DOMAIN}.po"
    if not path.exists():
        return {}
    try:
        return read_po_table(path)
    except (ValueError, KeyError, IndexError):
        pass  # something the quick reader does not know: babel reads every PO file
    from babel.messages.pofile import read_po

    with path.open("rb") as fh:
        cat = read_po(fh, locale=lang)
    table: dict[str, str] = {}
    for msg in cat:
        if msg.id and msg.string and not msg.fuzzy:
            key = msg.id if isinstance(msg.id, str) else msg.id[0]
            value = msg.string if isinstance(msg.string, str) else msg.string[0]
            if value:
                table[key] = value
    return table


def gettext(message: str, lang: str | None = None) -> str:
    """Translate `message` into `lang` (default: the current language); unknown text comes back as is."""
    return catalog(lang or current_language()).get(message, message)


def _(message: str) -> str:
    return gettext(message)


def translate(message: str, params: dict | None = None, lang: str | None = None) -> str:
    """Translate, then fill `{name}` placeholders from `params`."""
    text = gettext(message, lang)
    if params:
        try:
            return text.format(**params)
        except (KeyError, IndexError, ValueError):
            return text
    return text
