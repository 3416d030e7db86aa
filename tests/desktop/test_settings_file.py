"""desktop.json with bad content: the counter still starts, with the defaults (never an exception at load)."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from desktop import settings as desktop_settings


def _ctx(tmp_path):
    return SimpleNamespace(home=SimpleNamespace(root=tmp_path))


@pytest.mark.parametrize(
    "content",
    [
        "[" * 60_000,  # nested past the JSON parser's recursion limit
        '{"printer": {"a": ' * 5_000 + "1" + "}" * 10_000,
        "[1, 2]",
        '"A4"',
    ],
    ids=["deep-list", "deep-object", "list", "string"],
)
def test_bad_settings_content_gives_the_defaults(tmp_path, content):
    (tmp_path / desktop_settings.FILENAME).write_text(content, encoding="utf-8")
    got = desktop_settings.load(_ctx(tmp_path))
    assert (got.printer, got.paper) == ("", "A5")


def test_a_null_printer_means_the_default_printer_not_one_named_none(tmp_path):
    (tmp_path / desktop_settings.FILENAME).write_text('{"printer": null, "paper": "A4"}', encoding="utf-8")
    got = desktop_settings.load(_ctx(tmp_path))
    assert (got.printer, got.paper) == ("", "A4")


def test_undecodable_settings_file_gives_the_defaults(tmp_path):
    (tmp_path / desktop_settings.FILENAME).write_bytes(b"\xff\xfe{\x00")
    assert desktop_settings.load(_ctx(tmp_path)).paper == "A5"
