"""Every user-facing msgid in the code has a Chinese translation with the same placeholders."""

from __future__ import annotations

import re

from core.errors import ValidationError
from core.i18n import catalog, set_language, translate
from tools.i18n import extract

PLACEHOLDER = re.compile(r"\{(\w+)\}")


def test_every_msgid_has_a_zh_cn_translation():
    zh = catalog("zh_CN")
    missing = sorted(m for m in extract() if m not in zh)
    assert not missing, f"{len(missing)} msgids lack zh_CN (run: python tools/i18n.py update): {missing[:10]}"


def test_translations_keep_placeholders():
    zh = catalog("zh_CN")
    wrong = [
        m for m in extract() if m in zh and set(PLACEHOLDER.findall(m)) != set(PLACEHOLDER.findall(zh[m]))
    ]
    assert not wrong, wrong[:10]


def test_errors_speak_chinese_by_default_and_english_on_request():
    err = ValidationError("The input is not valid.")
    set_language("zh_CN")
    assert err.message() != "The input is not valid."
    assert any("\u4e00" <= ch <= "\u9fff" for ch in err.message())
    set_language("en")
    assert err.message() == "The input is not valid."


def test_translate_fills_placeholders_in_both_languages():
    text = "audit record {seq} was altered after it was written"
    assert "7" in translate(text, {"seq": 7}, "zh_CN")
    assert translate(text, {"seq": 7}, "en") == "audit record 7 was altered after it was written"
