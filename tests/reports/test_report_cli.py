"""`anju report` as an operator runs it: list (text and the exact JSON shape) and a report to each format."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from core.clock import SystemClock
from core.context import Actor, Context
from core.db.engine import Database
from core.ledger import services as L
from core.site import SiteHome
from tests.reports.conftest import ACCOUNTS, ENTRIES, pdf_text, workbook


class Result:
    def __init__(self, returncode: int, stdout: str, stderr: str) -> None:
        self.returncode, self.stdout, self.stderr = returncode, stdout, stderr


def anju(home: Path, *args: str) -> Result:
    """Run `anju` in this process (click's runner), in English, on the site at `home`."""
    from click.testing import CliRunner

    from console.cli import main

    r = CliRunner().invoke(main, ["--home", str(home), "--lang", "en", *args], catch_exceptions=False)
    return Result(r.exit_code, r.stdout, r.stderr)


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> Path:
    home = tmp_path_factory.mktemp("rep") / "site"
    pw = home.parent / "pw.txt"
    pw.write_text("Admin2026pw\n")
    r = anju(
        home, "init", "--site-code", "BJ01", "--site-name", "安居测试站", "--admin-password-file", str(pw)
    )
    assert r.returncode == 0, r.stderr
    db = Database(SiteHome(home).db_url)
    ctx = Context(db=db, actor=Actor.system(), clock=SystemClock(), home=SiteHome(home))
    L.ensure_book(ctx, "PROPERTY", "物业公司账簿", "property")
    for code, name, kind in ACCOUNTS:
        L.ensure_account(ctx, "PROPERTY", code, name, kind)
    for day, text, doc, postings in ENTRIES:
        L.post(ctx, L.EntrySpec("PROPERTY", day, text, postings, doc_type="doc" if doc else "", doc_id=doc))
    db.dispose()
    return home


def test_list_json_is_name_and_title(site):
    r = anju(site, "report", "list", "--json")
    assert r.returncode == 0, r.stderr
    rows = json.loads(r.stdout)
    assert all(list(row) == ["name", "title"] for row in rows)
    assert {"name": "trial_balance", "title": "Trial balance"} in rows
    text = anju(site, "report", "list")
    assert text.returncode == 0 and "trial_balance" in text.stdout


def test_trial_balance_to_excel_and_pdf(site, tmp_path):
    out = tmp_path / "tb.xlsx"
    r = anju(
        site,
        "report",
        "trial_balance",
        "--period",
        "2026-11",
        "--book",
        "PROPERTY",
        "--format",
        "xlsx",
        "-o",
        str(out),
    )
    assert r.returncode == 0, r.stderr
    ws = workbook(out.read_bytes()).worksheets[0]
    assert "安居测试站" in ws["A2"].value
    pdf = tmp_path / "tb.pdf"
    r = anju(
        site, "report", "trial_balance", "--period", "2026-11", "--book", "PROPERTY", "-o", str(pdf), "--json"
    )
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)["format"] == "pdf"
    assert "17,650.49" in pdf_text(pdf.read_bytes())[0]


def test_errors_are_one_line_and_write_nothing(site, tmp_path):
    out = tmp_path / "x.pdf"
    for args in (
        ("trial_balance", "--period", "2026-11", "-o", str(out)),  # no --book
        ("trial_balance", "--period", "2026-13", "--book", "PROPERTY", "-o", str(out)),
        ("trial_balance", "--period", "2026-11", "--book", "NOPE", "-o", str(out)),
    ):
        r = anju(site, "report", *args)
        assert r.returncode != 0
        assert "Traceback" not in r.stderr and len(r.stderr.strip().splitlines()) == 1, r.stderr
    assert not out.exists()
    r = anju(site, "report", "no_such_report", "-o", str(out))
    assert r.returncode != 0 and not out.exists()
