"""Report rendering speed: a 100,000-row Excel export (streamed), a 10,000-line PDF listing, a batch of arrears
notices with 10,000 lines in all (1,000 houses, one page each), and one receipt.

Targets (issue 7): Excel < 10 s, PDF < 10 s, receipt < 100 ms. Run: .venv/bin/python bench/reports_speed.py
The machine is shared: wall time is noisy, CPU time is the steadier figure.
"""

from __future__ import annotations

import statistics
import sys
import tempfile
import time
from datetime import UTC, date, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from core.property.report_reads import DueLine, HouseDues
from reports import fonts, notices
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


def arrears_batch(houses: int, lines_each: int) -> ReportData:
    """Arrears notices for `houses` houses owing `lines_each` months of two fee items (half each)."""
    dues = []
    for h in range(houses):
        lines = [
            DueLine(
                ("WYF", "SF")[i % 2], ITEMS[i % 2], f"2025-{i // 2 + 1:02d}", "89.50", "2.50", 22_375 + h,
                1_000 if i == 0 else 0, date(2025, i // 2 + 1, 15), 300 + i, False,
            )
            for i in range(lines_each)
        ]  # fmt: skip
        dues.append(
            HouseDues(
                None, f"{h // 100 + 1}-1-{h % 100 + 101}", str(h // 100 + 1), f"业主{h}", 8950, 0, lines
            )
        )
    on = date(2026, 11, 25)
    pages, rows = notices.arrears_notices(dues, on)
    data = notices.notice_report("arrears", pages, rows, "2026-11", [("Community", "C1 幸福里小区")])
    data.site_name, data.printed_by = "幸福家园物业服务中心", "bench"
    data.printed_at = datetime(2026, 11, 25, 2, tzinfo=UTC)
    return data


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

    t0, c0 = time.perf_counter(), time.process_time()
    batch = arrears_batch(1_000, 10)
    build_s = time.perf_counter() - t0
    notice_pdf = render_pdf(batch)
    notice_s, notice_cpu = time.perf_counter() - t0, time.process_time() - c0
    notice_pages = len(pdfium.PdfDocument(notice_pdf))
    print(
        f"arrears notices, 1,000 houses × 10 lines: {notice_s:.2f} s wall ({build_s:.2f} s building the forms), "
        f"{notice_cpu:.2f} s cpu, {notice_pages} pages, {len(notice_pdf) / 1e6:.1f} MB  [target < 10 s]"
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
