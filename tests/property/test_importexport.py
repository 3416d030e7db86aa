"""Excel import with its row-by-row validation report, templates, exports, and the `anju property` commands."""

from __future__ import annotations

import json

from click.testing import CliRunner
from openpyxl import Workbook, load_workbook

from core.property import importexport as ie
from core.property import services as ps
from reports import xlsx_io
from tests.property.helpers import small_community

ID_NO = "11010519491231002X"


def _xlsx(path, header, rows):
    wb = Workbook()
    ws = wb.active
    ws.append(list(header))
    for r in rows:
        ws.append(list(r))
    wb.save(path)
    return path


HOUSE_HEADER = ie.COLUMNS["houses"]


def test_house_import_report_and_all_or_nothing(ctx, tmp_path):
    small_community(ctx, houses=1)  # C1 with building 1 and house 1-1-101
    rows = [
        ("C1", "1", "1", "201", 2, "89.50", "70.00", "2室1厅", "住宅", "已入住", "2026-01-01"),
        ("C1", "1", "1", "202", 2, "0", "0", "", "", "", ""),  # area ≤ 0
        ("C1", "9", "1", "203", 2, "90", "70", "", "", "", ""),  # unknown building
        ("C1", "1", "1", "201", 2, "89.50", "70.00", "", "", "", ""),  # repeats row 2
        ("C1", "1", "1", "101", 1, "89.50", "70.00", "", "", "", ""),  # already exists
        ("CX", "1", "1", "204", 2, "90", "70", "", "", "", ""),  # unknown community
        ("C1", "1", "1", "205", 2, "90", "70", "", "", "", "2026-13-01"),  # bad date
    ]
    path = _xlsx(tmp_path / "houses.xlsx", HOUSE_HEADER, rows)
    report = xlsx_io.import_property_file(ctx, "houses", path)
    assert (report.imported, report.rejected) == (0, 6)
    assert [(e["row"], e["column"]) for e in report.errors] == [
        (3, "建筑面积"), (4, "楼栋号"), (5, "房号"), (6, "房号"), (7, "小区编码"), (8, "起收日期"),
    ]  # fmt: skip
    assert "greater than 0" in report.errors[0]["message"]
    c = ps.community_by_code(ctx, "C1")
    assert ps.count_houses(ctx, c.id) == 1  # nothing imported
    report = xlsx_io.import_property_file(ctx, "houses", path, good_rows_only=True)
    assert (report.imported, report.rejected) == (1, 6)
    h = ps.find_house(ctx, "1-1-201")
    assert (h.building_area_dm2, h.status, h.layout) == (8950, "occupied", "2室1厅")


def test_owner_and_reading_import(ctx, tmp_path):
    small_community(ctx, houses=2)
    owners = [
        ("C1", "1-1-101", "个人", "张三", ID_NO, "13812345678", "", "业主", 100, "2026-01-01"),
        (
            "C1",
            "1-1-102",
            "个人",
            "张三",
            ID_NO,
            "13812345678",
            "",
            "业主",
            100,
            "2026-01-01",
        ),  # same person, 2nd house
        ("C1", "1-1-101", "个人", "李四", "110105194912310021", "", "", "家属", "", ""),  # bad check char
        ("C1", "9-9-999", "个人", "王五", "", "", "", "租户", "", ""),  # unknown house
    ]
    report = xlsx_io.import_property_file(
        ctx, "owners", _xlsx(tmp_path / "o.xlsx", ie.COLUMNS["owners"], owners), good_rows_only=True
    )
    assert (report.imported, report.rejected) == (2, 2)
    assert [(e["row"], e["column"]) for e in report.errors] == [(4, "身份证号"), (5, "房屋编码")]
    (owner,) = ps.search_owners(ctx, id_number=ID_NO)
    assert {h.code for h in ps.houses_of_owner(ctx, owner.id)} == {"1-1-101", "1-1-102"}
    readings = [
        ("C1", "1-1-101", "水", "2026-11", "120.5", "135", "2026-11-28"),
        ("C1", "1-1-102", "电", "2026-11", "300", "200", ""),  # below previous
        ("C1", "1-1-102", "暖气", "2026-11", "", "10", ""),
    ]
    report = xlsx_io.import_property_file(
        ctx, "meter-readings", _xlsx(tmp_path / "m.xlsx", ie.COLUMNS["meter-readings"], readings)
    )
    assert (report.imported, report.rejected) == (0, 2)
    assert [(e["row"], e["column"]) for e in report.errors] == [(3, "本期读数"), (4, "表类型")]


def test_missing_columns_refused(ctx, tmp_path):
    import pytest

    from core.errors import ValidationError

    with pytest.raises(ValidationError):
        xlsx_io.import_property_file(ctx, "houses", _xlsx(tmp_path / "x.xlsx", ("小区编码", "房号"), []))


def test_template_and_exports(ctx, tmp_path):
    small_community(ctx, houses=2)
    for kind in ie.COLUMNS:
        xlsx_io.write_property_template(kind, tmp_path / f"{kind}.xlsx")
        rows = list(load_workbook(tmp_path / f"{kind}.xlsx").active.iter_rows(values_only=True))
        assert rows[0] == ie.COLUMNS[kind] and len(rows) == 2
    assert xlsx_io.export_property_file(ctx, "houses", tmp_path / "h.xlsx") == 2
    rows = list(load_workbook(tmp_path / "h.xlsx").active.iter_rows(values_only=True))
    assert rows[1][4:8] == ("1-1-101", 1, "89.50", "70.00")


def test_cli_bill_run_import_export(ctx, tmp_path, monkeypatch):
    """The commands print exactly the JSON the issue names (a Site stub hands them the test context)."""
    from console.cli import main
    from core.property import billing
    from tests.property.helpers import property_fee

    c, _ = small_community(ctx)
    property_fee(ctx, c.id)
    monkeypatch.setattr("console.cli.Site.context", lambda self, **kw: ctx)
    monkeypatch.setattr("console.cli.Site.close", lambda self: None)
    runner = CliRunner()
    home = ["--home", str(tmp_path / "site")]
    out = runner.invoke(main, [*home, "property", "bill-run", "--period", "2026-11", "--dry-run", "--json"])
    assert out.exit_code == 0, out.output
    assert json.loads(out.output) == {
        "period": "2026-11",
        "bills_created": 3,
        "lines_created": 3,
        "amount_fen": 67125,
    }
    out = runner.invoke(
        main, [*home, "property", "bill-run", "--period", "2026-11", "--community", "C1", "--json"]
    )
    assert json.loads(out.output)["bills_created"] == 3
    out = runner.invoke(main, [*home, "property", "bill-run", "--period", "2026-11", "--json"])
    assert json.loads(out.output)["bills_created"] == 0
    assert len(billing.house_bills(ctx, ps.find_house(ctx, "1-1-101").id)) == 1
    bad = _xlsx(tmp_path / "b.xlsx", HOUSE_HEADER, [("C1", "1", "1", "301", 3, "-1", "1", "", "", "", "")])
    out = runner.invoke(main, [*home, "property", "import", "houses", str(bad), "--json"])
    assert out.exit_code == 1
    assert json.loads(out.output) == {
        "imported": 0,
        "rejected": 1,
        "errors": [
            {"row": 2, "column": "建筑面积", "message": json.loads(out.output)["errors"][0]["message"]}
        ],
    }
    out = runner.invoke(main, [*home, "property", "export", "bills", "-o", str(tmp_path / "bills.xlsx")])
    assert out.exit_code == 0, out.output
    assert len(list(load_workbook(tmp_path / "bills.xlsx").active.iter_rows())) == 4
    out = runner.invoke(main, ["property", "import-template", "owners", "-o", str(tmp_path / "t.xlsx")])
    assert out.exit_code == 0, out.output


def test_core_imports_plain_rows_without_a_file(ctx):
    """Core checks rows of plain values (what any reader hands it); dates and whole floats are accepted."""
    from datetime import datetime

    small_community(ctx, houses=1)
    rows = [
        ("C1", "1", "1", "301", 3.0, 90, "70.5", "", "", "空置", datetime(2026, 2, 1, 0, 0)),
        (None, None, None, None, None, None, None, None, None, None, None),  # blank rows are skipped
        ("C1", "1", "1", "302", "三", "90", "70", "", "", "", ""),
    ]
    report = ie.import_rows(ctx, "houses", HOUSE_HEADER, rows)
    assert report.to_dict()["errors"][0]["row"] == 4 and report.errors[0]["column"] == "楼层"
    assert (report.imported, report.rejected) == (0, 1)
    report = ie.import_rows(ctx, "houses", HOUSE_HEADER, rows, good_rows_only=True)
    assert (report.imported, report.rejected) == (1, 1)
    h = ps.find_house(ctx, "1-1-301")
    assert (h.floor, h.building_area_dm2, h.inner_area_dm2, h.status) == (3, 9000, 7050, "vacant")
    header, example = ie.template_rows("owners")
    assert header == ie.COLUMNS["owners"] and len(example) == 1
    header, rows = ie.export_rows(ctx, "houses")
    assert len(rows) == 2 and header[4] == "房屋编码"


def test_unreadable_file_and_unknown_kinds_refused(ctx, tmp_path):
    import pytest

    from core.errors import ValidationError

    bad = tmp_path / "not.xlsx"
    bad.write_bytes(b"this is no workbook")
    with pytest.raises(ValidationError):
        xlsx_io.import_property_file(ctx, "houses", bad)
    with pytest.raises(ValidationError):
        ie.template_rows("parking")
    with pytest.raises(ValidationError):
        xlsx_io.export_property_file(ctx, "receipts", tmp_path / "r.xlsx")
    assert not (tmp_path / "r.xlsx").exists()


def test_core_property_never_imports_openpyxl():
    """ARCHITECTURE.md: core never imports openpyxl; the files are the adapter's business."""
    import ast
    from pathlib import Path

    import core.property

    for path in Path(core.property.__file__).parent.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom):
                names = [node.module or ""]
            assert not any(n.split(".")[0] == "openpyxl" for n in names), path
