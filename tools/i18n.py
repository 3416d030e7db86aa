"""Keep the translation catalogues complete: extract every marked msgid from the code and merge it into
data/locale/{zh_CN,en}/LC_MESSAGES/anju.po (zh_CN translations also taken from data/locale/_pending/*.tsv).

    python tools/i18n.py update     # extract + merge; prints msgids still lacking a zh_CN translation
    python tools/i18n.py check      # exit 1 if any msgid lacks a zh_CN translation
"""

from __future__ import annotations

import sys
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po, write_po

ROOT = Path(__file__).resolve().parent.parent
SOURCE_DIRS = ("core", "console", "desktop", "hub", "reports", "data")
LOCALE = ROOT / "data" / "locale"
KEYWORDS = {"_": None, "N_": None, "gettext": None, "ngettext": (1, 2)}


def extract() -> dict[str, list[str]]:
    """msgid → source locations."""
    found: dict[str, list[str]] = {}
    for top in SOURCE_DIRS:
        base = ROOT / top
        if not base.exists():
            continue
        for filename, lineno, message, _comments, _ctx in extract_from_dir(
            base, method_map=[("**.py", "python")], keywords=KEYWORDS
        ):
            msgid = message if isinstance(message, str) else message[0]
            if msgid:
                found.setdefault(msgid, []).append(f"{top}/{filename}:{lineno}")
    return found


def pending_translations() -> dict[str, str]:
    table: dict[str, str] = {}
    for tsv in sorted((LOCALE / "_pending").glob("*.tsv")):
        for line in tsv.read_text(encoding="utf-8").splitlines():
            if "\t" in line:
                msgid, text = line.split("\t", 1)
                if msgid and text.strip():
                    table[msgid] = text.strip()
    return table


def po_path(lang: str) -> Path:
    return LOCALE / lang / "LC_MESSAGES" / "anju.po"


def load(lang: str) -> Catalog:
    path = po_path(lang)
    if path.exists():
        with path.open("rb") as fh:
            return read_po(fh, locale=lang)
    return Catalog(locale=lang, project="anju", charset="utf-8")


def update() -> list[str]:
    found = extract()
    pending = pending_translations()
    missing = []
    for lang in ("zh_CN", "en"):
        old = load(lang)
        new = Catalog(locale=lang, project="anju", charset="utf-8")
        for msgid in sorted(found):
            prev = old.get(msgid)
            text = prev.string if prev is not None and prev.string else ""
            if lang == "zh_CN":
                text = text or pending.get(msgid, "")
                if not text:
                    missing.append(msgid)
            else:
                text = msgid  # English is the source language: the en catalogue is the identity
            new.add(
                msgid,
                text,
                locations=[(loc.rsplit(":", 1)[0], int(loc.rsplit(":", 1)[1])) for loc in found[msgid][:3]],
            )
        path = po_path(lang)
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("wb") as fh:
            write_po(fh, new, width=120, omit_header=False, sort_output=True)
    return missing


def check() -> list[str]:
    found = extract()
    zh = load("zh_CN")
    return [m for m in sorted(found) if zh.get(m) is None or not zh.get(m).string]


if __name__ == "__main__":
    cmd = sys.argv[1] if len(sys.argv) > 1 else "check"
    result = update() if cmd == "update" else check()
    for msgid in result:
        print(f"missing zh_CN: {msgid}")
    sys.exit(1 if (cmd == "check" and result) else 0)
