"""Small things a reader of the printed reports noticed: buildings in number order, journal documents named in
words instead of their type codes."""

from __future__ import annotations

from core.i18n import set_language
from reports.formatting import natural_key
from reports.ledger import doc_text


def test_natural_order_puts_building_2_before_10():
    codes = ["10", "2", "1", "12", "11", "3", "B2", "B10", "B1"]
    assert sorted(codes, key=natural_key) == ["1", "2", "3", "10", "11", "12", "B1", "B2", "B10"]
    assert natural_key("") == ()


def test_documents_are_named_in_the_readers_language(zh):
    assert doc_text("prop_receipt", "S01-SJ2026-000001") == "物业收据 S01-SJ2026-000001"
    assert doc_text("prop_bill_run", "run-1") == "出账 run-1"
    assert doc_text("custom_thing", "X-1") == "custom_thing X-1"  # an unknown type stays as it is
    assert doc_text("", "") == ""
    set_language("en")
    assert doc_text("settle_batch", "B-1") == "Settlement batch B-1"
