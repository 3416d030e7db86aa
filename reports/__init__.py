"""Report builders: receipts, notices and the financial and business reports managers print, as PDF
(reportlab) and Excel (openpyxl), from plain data that core services return — no SQL here.

Entry points: `reports.registry` (list, collect, render by name), `reports.receipts` (收据), `reports.shift`
(交班单), `reports.fonts.cjk_font_path()` (the embedded CJK font, for Qt too).
"""
