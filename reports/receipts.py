"""Receipts (收据) and refund receipts as PDF: A4, A5, or the 3-part continuous form (三联: 存根联,
收据联, 记账联), from a plain ReceiptData that the business line fills from its own receipt record.

The total is the sum of the lines (it cannot disagree with them) and is printed in figures and in 大写.
A reprint carries a visible 补打 mark, a voided receipt a 作废 stamp across it.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from reportlab.lib import colors
from reportlab.lib.enums import TA_CENTER, TA_RIGHT
from reportlab.lib.pagesizes import A4, A5, landscape
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import (
    BaseDocTemplate,
    Frame,
    NextPageTemplate,
    PageBreak,
    PageTemplate,
    Paragraph,
    TableStyle,
)
from reportlab.platypus import Table as RLTable

from core.errors import ValidationError
from core.i18n import N_, gettext
from core.money import chinese_upper, format_fen
from reports import fonts
from reports.formatting import instant_text
from reports.pdf import esc

Layout = Literal["A4", "A5", "triplicate"]
LAYOUTS: tuple[str, ...] = ("A4", "A5", "triplicate")
LINES_MAX = 200
# 241-2 continuous stationery (9.5 in × 5.5 in): the usual paper of dot-matrix 三联 receipts.
CONTINUOUS_FORM = (241 * mm, 140 * mm)
PLIES = (
    N_("Part 1: counterfoil"),  # 第一联 存根联
    N_("Part 2: payer's copy"),  # 第二联 收据联
    N_("Part 3: accounting copy"),  # 第三联 记账联
)
RED = colors.HexColor("#C00000")

CHANNEL_TITLES = {
    "cash": N_("Cash"),
    "pos": N_("Bank card (POS)"),
    "wechat": N_("WeChat Pay"),
    "alipay": N_("Alipay"),
    "unionpay": N_("UnionPay"),
    "transfer": N_("Bank transfer"),
    "bank_transfer": N_("Bank transfer"),  # the payment hub's channel code
    "bank": N_("Bank transfer"),  # property's channel code for the same
    "bank_debit": N_("Bank debit"),
    "housingfund": N_("Provident fund account"),
    "housing_fund": N_("Provident fund account"),  # the payment hub's channel code
    "hub": N_("Online payment"),  # property's code for a payment settled by a hub notice
    "prepaid": N_("Prepaid balance"),
}


@dataclass(frozen=True)
class ReceiptLine:
    """One charge on a receipt: quantity and unit price are display text ("89.50 ㎡", "2.50 元/㎡·月")."""

    item: str
    amount_fen: int
    period: str = ""
    quantity: str = ""
    unit_price: str = ""


@dataclass(frozen=True)
class ReceiptData:
    """What a receipt shows. `kind="refund"` makes it a refund receipt (退款收据) for `original_no`."""

    site_name: str
    receipt_no: str
    issued_at: datetime
    payer: str
    house: str
    lines: Sequence[ReceiptLine]
    cashier: str
    channel: str  # a channel code (cash, wechat, …) or display text
    kind: Literal["receipt", "refund"] = "receipt"
    reprint: bool = False
    void: bool = False
    original_no: str = ""
    reason: str = ""
    note: str = ""

    @property
    def total_fen(self) -> int:
        return sum(line.amount_fen for line in self.lines)

    def check(self) -> ReceiptData:
        if self.kind not in ("receipt", "refund"):
            raise ValidationError(N_("A receipt is a receipt or a refund receipt."), field="kind")
        if not self.receipt_no:
            raise ValidationError(N_("The receipt has no number."), field="receipt_no")
        if not self.lines or len(self.lines) > LINES_MAX:
            raise ValidationError(N_("A receipt has 1 to {max} lines."), field="lines", max=LINES_MAX)
        for line in self.lines:
            if isinstance(line.amount_fen, bool) or not isinstance(line.amount_fen, int):
                raise ValidationError(N_("An amount must be a whole number of fen."), field="lines")
        if self.total_fen <= 0:
            raise ValidationError(N_("The receipt total must be greater than zero."), field="lines")
        if self.kind == "refund" and not self.original_no:
            raise ValidationError(N_("A refund receipt names the receipt it refunds."), field="original_no")
        return self

    @classmethod
    def from_view(cls, view: Any, site_name: str, **overrides: Any) -> ReceiptData:
        """From a business line's receipt view (receipt_no, issued_at, payer, house_code, cashier, channel,
        print_count, status, lines of item_name/period/quantity/unit_price/amount_fen)."""
        lines = tuple(
            ReceiptLine(
                getattr(ln, "item_name", getattr(ln, "item", "")),
                ln.amount_fen,
                str(getattr(ln, "period", "") or ""),
                str(getattr(ln, "quantity", "") or ""),
                str(getattr(ln, "unit_price", "") or ""),
            )
            for ln in view.lines
        )
        values: dict[str, Any] = {
            "site_name": site_name,
            "receipt_no": view.receipt_no,
            "issued_at": view.issued_at,
            "payer": view.payer,
            "house": getattr(view, "house_code", getattr(view, "house", "")),
            "lines": lines,
            "cashier": view.cashier,
            "channel": view.channel,
            "reprint": getattr(view, "print_count", 1) > 1,
            "void": getattr(view, "status", "") in ("voided", "void"),
        }
        values.update(overrides)
        return cls(**values)


def _t(msgid: str, lang: str | None, **params: Any) -> str:
    text = gettext(msgid, lang)
    return text.format(**params) if params else text


def _styles(scale: float) -> dict[str, ParagraphStyle]:
    fonts.register()
    size = 9.5 * scale
    return {
        "site": ParagraphStyle("site", fontName=fonts.FONT, fontSize=size + 1, leading=size * 1.4, alignment=TA_CENTER),
        "title": ParagraphStyle(
            "title", fontName=fonts.FONT_BOLD, fontSize=18 * scale, leading=24 * scale, alignment=TA_CENTER
        ),
        "cell": ParagraphStyle("cell", fontName=fonts.FONT, fontSize=size, leading=size * 1.3),
        "right": ParagraphStyle("right", fontName=fonts.FONT, fontSize=size, leading=size * 1.3, alignment=TA_RIGHT),
    }  # fmt: skip


def _channel(code: str, lang: str | None) -> str:
    return _t(CHANNEL_TITLES[code], lang) if code in CHANNEL_TITLES else code


def _receipt_story(data: ReceiptData, width: float, scale: float, lang: str | None) -> list:
    st = _styles(scale)
    size = 9.5 * scale
    refund = data.kind == "refund"
    title = _t(N_("Refund receipt") if refund else N_("Receipt"), lang)
    head = RLTable(
        [
            [
                Paragraph(esc(data.site_name), st["site"]),
            ],
            [Paragraph(esc(title), st["title"])],
        ],
        colWidths=[width],
    )
    head.setStyle(TableStyle([("BOTTOMPADDING", (0, 0), (-1, -1), 1), ("TOPPADDING", (0, 0), (-1, -1), 1)]))
    meta_rows = [
        [
            _t(N_("Payer: {name}"), lang, name=data.payer),
            _t(N_("House: {house}"), lang, house=data.house),
            _t(N_("No.: {no}"), lang, no=data.receipt_no),
        ],
        [
            _t(N_("Original receipt: {no}"), lang, no=data.original_no) if refund else "",
            _t(N_("Reason: {reason}"), lang, reason=data.reason) if refund and data.reason else "",
            _t(N_("Date: {time}"), lang, time=instant_text(data.issued_at)),
        ],
    ]
    if not refund:
        meta_rows = [meta_rows[0], ["", "", meta_rows[1][2]]]
    meta = RLTable(meta_rows, colWidths=[width * 0.34, width * 0.33, width * 0.33])
    meta.setStyle(
        TableStyle(
            [
                ("FONTNAME", (0, 0), (-1, -1), fonts.FONT),
                ("FONTSIZE", (0, 0), (-1, -1), size),
                ("ALIGN", (2, 0), (2, -1), "RIGHT"),
                ("LEFTPADDING", (0, 0), (-1, -1), 0),
                ("RIGHTPADDING", (0, 0), (-1, -1), 0),
                ("TOPPADDING", (0, 0), (-1, -1), 1),
                ("BOTTOMPADDING", (0, 0), (-1, -1), 2),
            ]
        )
    )
    fractions = (0.27, 0.2, 0.15, 0.18, 0.2)
    widths = [width * f for f in fractions]
    header = [
        _t(N_("Fee item"), lang),
        _t(N_("Billing period"), lang),
        _t(N_("Quantity / area"), lang),
        _t(N_("Unit price"), lang),
        _t(N_("Refund (yuan)") if refund else N_("Amount (yuan)"), lang),
    ]
    body: list[list[Any]] = [header]
    for line in data.lines:
        body.append(
            [
                Paragraph(esc(line.item), st["cell"]),
                Paragraph(esc(line.period), st["cell"]),
                line.quantity,
                line.unit_price,
                format_fen(line.amount_fen, symbol=False),
            ]
        )
    total = data.total_fen
    upper = _t(N_("Total in words: {upper}"), lang, upper=chinese_upper(total))
    body.append([upper, "", "", "", format_fen(total)])
    n = len(body) - 1
    grid = RLTable(body, colWidths=widths, repeatRows=1)
    grid.setStyle(
        TableStyle(
            [
                ("FONTNAME", (0, 0), (-1, -1), fonts.FONT),
                ("FONTSIZE", (0, 0), (-1, -1), size),
                ("LEADING", (0, 0), (-1, -1), size * 1.3),
                ("FONTNAME", (0, 0), (-1, 0), fonts.FONT_BOLD),
                ("ALIGN", (0, 0), (-1, 0), "CENTER"),
                ("ALIGN", (2, 1), (-1, -1), "RIGHT"),
                ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
                ("GRID", (0, 0), (-1, -1), 0.5, colors.black),
                ("BOX", (0, 0), (-1, -1), 1.2, colors.black),
                ("SPAN", (0, n), (3, n)),
                ("ALIGN", (0, n), (3, n), "LEFT"),
                ("FONTNAME", (0, n), (-1, n), fonts.FONT_BOLD),
                ("TOPPADDING", (0, 0), (-1, -1), 3 * scale),
                ("BOTTOMPADDING", (0, 0), (-1, -1), 3 * scale),
            ]
        )
    )
    foot_cells = [
        _t(N_("Refund method: {channel}") if refund else N_("Payment method: {channel}"), lang, channel=_channel(data.channel, lang)),
        _t(N_("Cashier: {name}"), lang, name=data.cashier),
        _t(N_("Payer's signature: __________"), lang),
    ]  # fmt: skip
    foot = RLTable([foot_cells], colWidths=[width * 0.34, width * 0.28, width * 0.38])
    foot.setStyle(
        TableStyle(
            [
                ("FONTNAME", (0, 0), (-1, -1), fonts.FONT),
                ("FONTSIZE", (0, 0), (-1, -1), size),
                ("LEFTPADDING", (0, 0), (-1, -1), 0),
                ("TOPPADDING", (0, 0), (-1, -1), 5 * scale),
                ("ALIGN", (2, 0), (2, 0), "RIGHT"),
            ]
        )
    )
    story: list = [head, meta, grid, foot]
    if data.note:
        story.append(Paragraph(esc(data.note), st["cell"]))
    return story


def _marks(data: ReceiptData, lang: str | None, ply: str | None):
    """Page decoration: the 补打 / 作废 marks and, on the continuous form, the ply name in the margin."""

    def draw(c: Canvas, doc: Any) -> None:
        width, height = c._pagesize
        c.saveState()
        if data.reprint:
            text = _t(N_("REPRINT"), lang)
            c.setStrokeColor(RED)
            c.setFillColor(RED)
            c.setLineWidth(1.2)
            c.setFont(fonts.FONT_BOLD, 13)
            box_w = c.stringWidth(text, fonts.FONT_BOLD, 13) + 8 * mm
            x, y = doc.leftMargin, height - doc.topMargin - 9 * mm
            c.roundRect(x, y, box_w, 8 * mm, 1.5 * mm)
            c.drawCentredString(x + box_w / 2, y + 2.3 * mm, text)
        if data.void:
            text = _t(N_("VOID"), lang)
            c.setFillColor(RED)
            c.setFillAlpha(0.35)
            size = min(width, height) * 0.3
            c.setFont(fonts.FONT_BOLD, size)
            c.translate(width / 2, doc.bottomMargin + doc.height * 0.45)
            c.rotate(20)
            c.drawCentredString(0, -size / 3, text)
        c.restoreState()
        if ply:
            c.saveState()
            c.setFont(fonts.FONT, 8)
            c.translate(width - 6 * mm, height / 2)
            c.rotate(-90)
            c.drawCentredString(0, 0, _t(ply, lang))
            c.restoreState()

    return draw


def render_receipt(data: ReceiptData, layout: Layout = "A5", lang: str | None = None) -> bytes:
    """The receipt as PDF bytes: one page on A4 or A5 (landscape), or three pages — one per ply — on the
    241 × 140 mm continuous form."""
    data.check()
    if layout not in LAYOUTS:
        raise ValidationError(N_("The receipt layout must be A4, A5 or triplicate."), field="layout")
    fonts.register()
    pagesize = {"A4": A4, "A5": landscape(A5), "triplicate": CONTINUOUS_FORM}[layout]
    margin = {"A4": 18 * mm, "A5": 12 * mm, "triplicate": 10 * mm}[layout]
    scale = {"A4": 1.0, "A5": 0.95, "triplicate": 0.9}[layout]
    buf = io.BytesIO()
    title = _t(N_("Refund receipt") if data.kind == "refund" else N_("Receipt"), lang)
    doc = BaseDocTemplate(
        buf,
        pagesize=pagesize,
        leftMargin=margin,
        rightMargin=margin + (4 * mm if layout == "triplicate" else 0),
        topMargin=margin,
        bottomMargin=margin,
        title=f"{title} {data.receipt_no}",
        author=data.cashier,
        creator="Anju",
    )
    plies = PLIES if layout == "triplicate" else (None,)
    templates = []
    for i, ply in enumerate(plies):
        frame = Frame(doc.leftMargin, doc.bottomMargin, doc.width, doc.height, id=f"f{i}")
        templates.append(PageTemplate(id=f"p{i}", frames=[frame], onPage=_marks(data, lang, ply)))
    doc.addPageTemplates(templates)
    story: list = []
    for i in range(len(plies)):
        if i:
            story += [NextPageTemplate(f"p{i}"), PageBreak()]
        story += _receipt_story(data, doc.width, scale, lang)
    doc.build(story)
    return buf.getvalue()
