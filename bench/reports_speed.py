"""Report rendering speed: a 100,000-row Excel export (streamed), a 10,000-line PDF listing, and one receipt.

Targets (issue 7): Excel < 10 s, PDF < 10 s, receipt < 100 ms. Run: .venv/bin/python bench/reports_speed.py
"""

from __future__ import annotations

import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from reports import fonts
from reports.model import Column, ReportData, Table
from reports.pdf import render_pdf
from reports.receipts import ReceiptData, ReceiptLine, render_receipt
from reports.xlsx import write_xlsx

COLUMNS = (
    Column("no", "No.", "int", 6),
    Column("house", "House", width=10),
    Column("owner", "Owner", width=10),
    Column("item", "Item", width=12),
    Column("period", "Period", width=9),
    Column("due", "Due", "money", 11, total=True),
    Column("paid", "Paid", "money", 11, total=True),
    Column("arrears", "Arrears", "money", 11, total=True),
)
ITEMS = ("物业服务费", "公摊水电费", "停车管理费", "垃圾清运费")


def rows(n: int):
    for i in range(n):
        due = 20_000 + (i * 7919) % 50_000
        paid = due if i % 3 else due // 2
        yield (
            i + 1,
            f"{i % 30 + 1}-{i % 6 + 1}-{i % 3000 + 101}",
            f"业主{i % 997}",
            ITEMS[i % 4],
            "2026-11",
            due,
            paid,
            due - paid,
        )


def totals(n: int) -> dict[str, int]:
    t = {"due": 0, "paid": 0, "arrears": 0}
    for r in rows(n):
        t["due"] += r[5]
        t["paid"] += r[6]
        t["arrears"] += r[7]
    return t


def report(n: int, streamed: bool) -> ReportData:
    table = Table(COLUMNS, rows(n) if streamed else list(rows(n)), totals=totals(n))
    return ReportData(
        name="arrears_listing",
        title="Arrears listing",
        period_label="2026-11",
        tables=[table],
        landscape=True,
        site_name="幸福家园物业服务中心",
        printed_at=datetime(2026, 11, 25, 2, tzinfo=UTC),
        printed_by="bench",
    )


def main() -> None:
    fonts.register()
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "big.xlsx"
        data = report(100_000, streamed=True)  # rows are produced while the file is written
        t0, c0 = time.perf_counter(), time.process_time()
        write_xlsx(data, out)
        xlsx_s, xlsx_cpu = time.perf_counter() - t0, time.process_time() - c0
        print(
            f"excel 100,000 rows (write-only, streamed): {xlsx_s:.2f} s wall, {xlsx_cpu:.2f} s cpu, "
            f"{out.stat().st_size / 1e6:.1f} MB  [target < 10 s]"
        )

    data = report(10_000, streamed=True)
    t0, c0 = time.perf_counter(), time.process_time()
    pdf = render_pdf(data)
    pdf_s, pdf_cpu = time.perf_counter() - t0, time.process_time() - c0
    import pypdfium2 as pdfium

    pages = len(pdfium.PdfDocument(pdf))
    print(
        f"pdf 10,000-line listing: {pdf_s:.2f} s wall, {pdf_cpu:.2f} s cpu, {pages} pages, "
        f"{len(pdf) / 1e6:.1f} MB  [target < 10 s]"
    )

    receipt = ReceiptData(
        "幸福家园物业服务中心", "T01-2026-000123", datetime(2026, 11, 25, 2, 30, tzinfo=UTC), "张喆堃", "3-2-1201",
        (ReceiptLine("物业服务费", 80_150, "2026-10 至 2026-12", "89.00 ㎡", "3.00 元/㎡·月"), ReceiptLine("公摊水电费", 3_560, "2026-11")),
        "李收银", "wechat",
    )  # fmt: skip
    render_receipt(receipt, "A5")  # warm: font parsing happens once per process
    for layout in ("A5", "A4", "triplicate"):
        times, cpu = [], []
        for _ in range(30):
            t0, c0 = time.perf_counter(), time.process_time()
            render_receipt(receipt, layout)
            times.append((time.perf_counter() - t0) * 1000)
            cpu.append((time.process_time() - c0) * 1000)
        print(
            f"receipt {layout}: median {statistics.median(times):.1f} ms wall "
            f"({statistics.median(cpu):.1f} ms cpu), max {max(times):.1f} ms  [target < 100 ms]"
        )


if __name__ == "__main__":
    main()
