"""`anju report` for the property reports of this area: listed with their titles, batch notices for a
community or one building (--building), a house (--house), Excel and PDF, and one-line errors."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest

from core.clock import SystemClock
from core.context import Actor, Context
from core.db.engine import Database
from core.property import billing
from core.property import services as ps
from core.site import SiteHome
from tests.reports.conftest import pdf_text, sheet_table, workbook
from tests.reports.test_preview import assert_png_pages
from tests.reports.test_report_cli import anju

NAMES = ("bill_notice", "arrears_notice", "prepaid_balances", "deposits_held", "repairs", "parking_usage",
         "activity_signups")  # fmt: skip


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> Path:
    """A site with community C1: buildings 1 (two houses) and 2 (one house), billed for 2026-09 and nobody
    paid, so every house is in arrears whatever day the test runs."""
    home = tmp_path_factory.mktemp("notices") / "site"
    pw = home.parent / "pw.txt"
    pw.write_text("Admin2026pw\n")
    r = anju(
        home, "init", "--site-code", "BJ02", "--site-name", "安居通知站", "--admin-password-file", str(pw)
    )
    assert r.returncode == 0, r.stderr
    db = Database(SiteHome(home).db_url)
    ctx = Context(db=db, actor=Actor.system(), clock=SystemClock(), home=SiteHome(home))
    c = ps.create_community(ctx, "C1", "幸福里小区")
    for building, numbers in (("1", ("101", "102")), ("2", ("101",))):
        ps.create_building(ctx, c.id, building, floors=6)
        for number in numbers:
            ps.add_house(ctx, c.id, ps.HouseInput(building, "1", number, 8950, 7000, floor=1, status="occupied",
                                                  charge_start_on=date(2026, 1, 1)))  # fmt: skip
    billing.create_fee_item(ctx, c.id, "WYF", "物业费", "building_area", unit_price="2.50")
    billing.bill_run(ctx, "2026-09")
    db.dispose()
    return home


def test_listed_with_titles(site):
    r = anju(site, "report", "list", "--json")
    assert r.returncode == 0, r.stderr
    rows = {row["name"]: row["title"] for row in json.loads(r.stdout)}
    assert {n: rows.get(n) for n in ("bill_notice", "arrears_notice")} == {
        "bill_notice": "Payment notice",
        "arrears_notice": "Arrears notice",
    }
    assert set(NAMES) <= set(rows)


def test_arrears_notices_for_a_community_and_a_building(site, tmp_path):
    pdf = tmp_path / "all.pdf"
    r = anju(site, "report", "arrears_notice", "--period", "2026-10", "--community", "C1", "-o", str(pdf))
    assert r.returncode == 0, r.stderr
    pages = pdf_text(pdf.read_bytes())
    assert len(pages) == 3 and ["1-1-101" in p for p in pages] == [True, False, False]
    assert all("Arrears notice" in p and "223.75" in p for p in pages)
    assert_png_pages(pdf.read_bytes(), 3)
    one = tmp_path / "b2.xlsx"
    args = ("--period", "2026-10", "--community", "C1", "--building", "2", "-o", str(one), "--json")
    r = anju(site, "report", "arrears_notice", *args)
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)["format"] == "xlsx"
    _, rows, _ = sheet_table(workbook(one.read_bytes()).worksheets[0])
    assert rows[0][0] == "2-1-101" and rows[1][0] == "Total"
    house = tmp_path / "h.pdf"
    r = anju(site, "report", "bill_notice", "--period", "2026-09", "--community", "C1", "--house", "1-1-102",
             "-o", str(house))  # fmt: skip
    assert r.returncode == 0, r.stderr
    (text,) = pdf_text(house.read_bytes())
    assert "Payment notice" in text and "1-1-102" in text and "Page 1 / 1" in text


def test_errors_are_one_line_and_write_nothing(site, tmp_path):
    out = tmp_path / "x.pdf"
    for args in (
        ("arrears_notice", "--period", "2026-10", "-o", str(out)),  # no --community
        ("arrears_notice", "--period", "2026-10", "--community", "C1", "--building", "9", "-o", str(out)),
        ("bill_notice", "--period", "2026-10", "--community", "C1", "--house", "7-7-777", "-o", str(out)),
        ("parking_usage", "--period", "2026-10", "--community", "NOPE", "-o", str(out)),
    ):
        r = anju(site, "report", *args)
        assert r.returncode != 0, args
        assert "Traceback" not in r.stderr and len(r.stderr.strip().splitlines()) == 1, r.stderr
    assert not out.exists()
