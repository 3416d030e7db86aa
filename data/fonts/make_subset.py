"""Rebuild the shipped CJK fonts: a static TrueType instance of Noto Sans SC, subset to GBK + Latin.

Not used at run time. Needs fontTools outside the project venv, e.g.
`pip install --target /tmp/ft fonttools` then
`PYTHONPATH=/tmp/ft python data/fonts/make_subset.py NotoSansSC[wght].ttf 400 NotoSansSC-Regular-GBK.ttf`.
"""

from __future__ import annotations

import sys

from fontTools import subset
from fontTools.ttLib import TTFont
from fontTools.varLib import instancer

EXTRA = {0x00A5, 0x00B7, 0x00D7, 0x00F7, 0x2014, 0x2018, 0x2019, 0x201C, 0x201D, 0x2026, 0x2030, 0x20AC}
EXTRA |= {0x2103, 0x2116, 0x2460, 0x2461, 0x2462}


def gbk_codepoints() -> set[int]:
    """Every character GBK can encode (it contains GB2312 and all of U+4E00–U+9FA5)."""
    cps: set[int] = set()
    for hi in range(0x81, 0xFF):
        for lo in range(0x40, 0xFF):
            try:
                cps.add(ord(bytes([hi, lo]).decode("gbk")))
            except UnicodeDecodeError:
                continue
    return cps


def main(src: str, weight: int, out: str) -> None:
    font = instancer.instantiateVariableFont(TTFont(src), {"wght": weight}, updateFontNames=True)
    wanted = set(range(0x20, 0x7F)) | set(range(0xA0, 0x100)) | gbk_codepoints() | EXTRA
    wanted |= set(range(0x3000, 0x3040)) | set(range(0xFF00, 0xFFF0))
    cmap = font.getBestCmap()
    opts = subset.Options()
    opts.layout_features = []
    opts.name_IDs = ["*"]
    opts.name_languages = ["*"]
    opts.notdef_outline = True
    opts.hinting = False
    opts.drop_tables += ["DSIG", "GSUB", "GPOS", "GDEF", "BASE", "STAT", "vhea", "vmtx"]
    sub = subset.Subsetter(opts)
    sub.populate(unicodes={c for c in wanted if c in cmap})
    sub.subset(font)
    font.save(out)


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]), sys.argv[3])
