"""The property counter's screens: search as you type, the house (owners, bills with late fees, prepaid, and
the panels: receipts, refund requests, deposits, parking, open repairs, activities), the payment dialog (cash
with change, POS, bank transfer, QR), the receipt with its print preview, refunds, shift open/close with the
handover slip. The front desk's forms (refund request, repair, complaint, sign-up) are in frontdesk.py."""

from __future__ import annotations

import uuid
from dataclasses import replace
from pathlib import Path

from PySide6.QtCore import Qt, QTimer
from PySide6.QtGui import QAction, QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QDialog,
    QFileDialog,
    QFormLayout,
    QGridLayout,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QInputDialog,
    QLabel,
    QLineEdit,
    QMessageBox,
    QPushButton,
    QSpinBox,
    QSplitter,
    QTableView,
    QTabWidget,
    QTextBrowser,
    QVBoxLayout,
    QWidget,
)

from core.clock import BUSINESS_TZ
from core.context import Context
from core.errors import ValidationError
from core.i18n import N_, _
from core.payments import shifts
from core.property import billing, counter
from core.property.activities import services as activities
from core.property.complaints import services as complaints
from core.property.deposits import STATUS_LABELS as DEPOSIT_STATUS
from core.property.lists import RECEIPTS
from core.property.repairs import services as repairs
from desktop import printing
from desktop import settings as desktop_settings
from desktop.models import PagedListModel, RowsModel
from desktop.printing import PreviewDialog
from desktop.property.frontdesk import ComplaintDialog, RefundRequestDialog, RepairDialog, SignupDialog
from desktop.property.labels import (
    BILL_STATUS,
    HOUSE_STATUS,
    RECEIPT_CHANNEL,
    REPAIR_STATUS,
    SPACE_KIND,
    SPACE_STATUS,
    label,
)
from desktop.qt import RIGHT, ErrorLabel, Tasks, confirm_buttons, error_text, money
from desktop.shell import register_module

SEARCH_DEBOUNCE_MS = 250
CHANNEL_LABELS = (("cash", N_("Cash")), ("pos", N_("POS card")), ("bank_transfer", N_("Bank transfer")))
QR_LABELS = (("wechat", N_("WeChat Pay")), ("alipay", N_("Alipay")))
PAY_CHANNELS = CHANNEL_LABELS + QR_LABELS
CHANNEL_NAMES = dict(PAY_CHANNELS)
QR_POLL_MS = 2000


def _table(model) -> QTableView:
    t = QTableView()
    t.setModel(model)
    t.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
    t.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
    t.setAlternatingRowColors(True)
    t.verticalHeader().hide()
    t.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
    t.horizontalHeader().setStretchLastSection(True)
    return t


RECEIPT_HEADINGS = (N_("Item"), N_("Period"), N_("Quantity"), N_("Amount"))
# The receipt's marks as billing names them, shown in the clerk's language (as the reports' receipt does).
COPY_MARKS = {"补打": N_("REPRINT"), "作废": N_("VOID")}


def receipt_html(r: billing.ReceiptView, site_name: str) -> str:
    """The receipt as Qt rich text: shown on screen and printed through QPrinter."""
    copy_mark = _(COPY_MARKS[r.copy_mark]) if r.copy_mark in COPY_MARKS else r.copy_mark
    mark = f"<span style='color:#b00020'>【{copy_mark}】</span>" if copy_mark else ""
    rows = "".join(
        f"<tr><td>{ln.item_name}</td><td>{ln.period}</td><td align='right'>{ln.quantity}</td>"
        f"<td align='right'>{money(ln.amount_fen)}</td></tr>"
        for ln in r.lines
    )
    heads = "".join(f"<th>{_(h)}</th>" for h in RECEIPT_HEADINGS)
    issued = r.issued_at.astimezone(BUSINESS_TZ).strftime("%Y-%m-%d %H:%M") if r.issued_at else ""
    return (
        f"<h2 align='center'>{site_name} {_('Receipt')} {mark}</h2>"
        f"<p>{_('Receipt no.')}: <b>{r.receipt_no}</b> &nbsp; {_('House')}: {r.house_code}"
        f" &nbsp; {_('Payer')}: {r.payer}</p>"
        f"<table width='100%' border='1' cellspacing='0' cellpadding='3'>"
        f"<thead><tr>{heads}</tr></thead>"
        f"{rows}<tr><td colspan='3'><b>{_('Total')}</b> {r.total_upper}</td>"
        f"<td align='right'><b>{money(r.total_fen)}</b></td></tr></table>"
        f"<p>{_('Channel')}: {label(RECEIPT_CHANNEL, r.channel)} &nbsp; {_('Cashier')}: {r.cashier} &nbsp; {issued}</p>"
    )


class ReceiptDialog(QDialog):
    """The receipt on screen; Ctrl+P opens the print preview (print, page setup, on the paper chosen in the
    settings), Ctrl+S saves the receipt as the reports module renders it (PDF)."""

    def __init__(self, ctx: Context, receipt: billing.ReceiptView, parent=None, change_fen: int = 0) -> None:
        super().__init__(parent)
        self.ctx, self.receipt = ctx, receipt
        self.settings = desktop_settings.load(ctx)
        self.preview: PreviewDialog | None = None
        self.setWindowTitle(_("Receipt {no}").format(no=receipt.receipt_no))
        self.view = QTextBrowser()
        self.view.setObjectName("receipt_view")
        self.view.setHtml(receipt_html(receipt, self._site()))
        layout = QVBoxLayout(self)
        if change_fen:
            change = QLabel(_("Change to give: {amount}").format(amount=money(change_fen)))
            change.setObjectName("change_label")
            change.setStyleSheet("font-size: 20px; font-weight: bold; color: #0b6e4f;")
            layout.addWidget(change)
        layout.addWidget(self.view)
        row = QHBoxLayout()
        self.print_btn = QPushButton(_("Print preview (Ctrl+P)"))
        self.print_btn.setShortcut(QKeySequence("Ctrl+P"))
        self.print_btn.clicked.connect(lambda: self.print_preview())
        self.pdf_btn = QPushButton(_("Save PDF (Ctrl+S)"))
        self.pdf_btn.setShortcut(QKeySequence("Ctrl+S"))
        self.pdf_btn.clicked.connect(lambda: self.save_pdf())
        close = QPushButton(_("Close (Esc)"))
        close.clicked.connect(self.accept)
        for b in (self.print_btn, self.pdf_btn, close):
            row.addWidget(b)
        layout.addLayout(row)
        self.error = ErrorLabel()
        layout.addWidget(self.error)
        self.resize(720, 520)

    def _site(self) -> str:
        try:
            return self.ctx.site.name
        except Exception:
            return ""

    def html(self) -> str:
        return receipt_html(self.receipt, self._site())

    def print_preview(self, show: bool = True) -> PreviewDialog:
        """The print preview on the receipt paper of the settings (三联: one page per ply)."""
        dlg = PreviewDialog(
            self.html(),
            self.settings.paper,
            _("Print receipt {no}").format(no=self.receipt.receipt_no),
            self.settings.printer,
            self,
        )
        self.preview = dlg
        if show:
            dlg.open()
        return dlg

    def print_to_pdf(self, path: str | None = None) -> str | None:
        """What the preview prints, into a PDF file instead of the printer."""
        if path is None:
            path, _f = QFileDialog.getSaveFileName(
                self, _("Print to PDF"), f"{self.receipt.receipt_no}.pdf", "PDF (*.pdf)"
            )
            if not path:
                return None
        return printing.save_pdf(self.html(), path, self.settings.paper)

    def save_pdf(self, path: str | None = None, layout: str | None = None) -> str | None:
        """The receipt as the reports module renders it, on the paper of the settings."""
        from reports.receipts import ReceiptData, render_receipt

        if path is None:
            path, _f = QFileDialog.getSaveFileName(
                self, _("Save PDF"), f"{self.receipt.receipt_no}.pdf", "PDF (*.pdf)"
            )
            if not path:
                return None
        try:
            data = ReceiptData.from_view(self.receipt, self._site())
            Path(path).write_bytes(render_receipt(data, layout or self.settings.paper))
        except Exception as exc:
            self.error.show_error(exc)
            return None
        return path


class PayDialog(QDialog):
    """Take a payment for the chosen bill lines: total with late fees, channel, tendered and change.
    One attempt has one idempotency key; Confirm is disabled while the payment runs."""

    def __init__(
        self, ctx: Context, tasks: Tasks, house_id: uuid.UUID, lines, late: dict, parent=None
    ) -> None:
        super().__init__(parent)
        self.ctx, self.tasks, self.house_id = ctx, tasks, house_id
        self.lines = list(lines)
        self.key = counter.new_attempt_key()
        self.result = None
        self.attempts = 0
        self.channels = None  # the hub's channel adapters for QR orders (None: as configured)
        self.qr_dialog: QrDialog | None = None
        self.setWindowTitle(_("Take a payment"))
        self.due_fen = sum(ln.outstanding_fen for ln in self.lines)
        self.late_fen = sum(late.get(ln.id, 0) for ln in self.lines)
        total = self.due_fen + self.late_fen
        self.total_label = QLabel(money(total))
        self.total_label.setObjectName("total_label")
        self.total_label.setStyleSheet("font-size: 22px; font-weight: bold;")
        self.total_label.setAlignment(RIGHT)
        self.amount = QLineEdit(money(total).lstrip("¥"))
        self.amount.setObjectName("amount")
        self.amount.setAlignment(RIGHT)
        self.channel = QComboBox()
        self.channel.setObjectName("channel")
        for code, name in PAY_CHANNELS:
            self.channel.addItem(_(name), code)
        self.tendered = QLineEdit()
        self.tendered.setObjectName("tendered")
        self.tendered.setAlignment(RIGHT)
        self.reference = QLineEdit()
        self.reference.setObjectName("reference")
        self.change = QLabel(money(0))
        self.change.setObjectName("change")
        self.change.setAlignment(RIGHT)
        self.error = ErrorLabel()
        self.error.setObjectName("pay_error")
        form = QFormLayout()
        chosen = QLabel(f"{len(self.lines):,}")
        chosen.setAlignment(RIGHT)
        form.addRow(_("Bills chosen"), chosen)
        for text, fen in ((_("Bills due"), self.due_fen), (_("Late fees to today"), self.late_fen)):
            value = QLabel(money(fen))
            value.setAlignment(RIGHT)
            form.addRow(text, value)
        form.addRow(_("Total"), self.total_label)
        form.addRow(_("Amount received (over the total goes to prepaid)"), self.amount)
        form.addRow(_("Channel (Ctrl+1 to Ctrl+5)"), self.channel)
        self.tendered_label = QLabel(_("Cash tendered"))
        form.addRow(self.tendered_label, self.tendered)
        form.addRow(_("Change"), self.change)
        self.reference_label = QLabel(_("Terminal / transfer reference"))
        form.addRow(self.reference_label, self.reference)
        self.confirm, buttons = confirm_buttons(self.submit, self.reject)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.error)
        layout.addLayout(buttons)
        for i in range(len(PAY_CHANNELS)):
            QShortcut(QKeySequence(f"Ctrl+{i + 1}"), self, lambda i=i: self.channel.setCurrentIndex(i))
        self.channel.currentIndexChanged.connect(self._channel_changed)
        self.amount.textChanged.connect(self._recalc)
        self.tendered.textChanged.connect(self._recalc)
        self._channel_changed()
        self.tendered.setFocus()
        self.setMinimumWidth(460)

    def _channel_changed(self) -> None:
        cash = self.channel.currentData() == "cash"
        qr = self.channel.currentData() in counter.QR_CHANNELS
        for w in (self.tendered, self.tendered_label, self.change):
            w.setVisible(cash)
        for w in (self.reference, self.reference_label):
            w.setVisible(not cash and not qr)
        self._recalc()

    def _recalc(self) -> None:
        try:
            amount = counter.parse_fen(self.amount.text(), "amount")
            tendered = (
                counter.parse_fen(self.tendered.text(), "tendered")
                if self.tendered.text().strip()
                else amount
            )
        except Exception:
            self.change.setText("—")
            return
        self.change.setText(money(tendered - amount) if tendered >= amount else "—")

    def request(self) -> counter.PaymentRequest:
        amount = counter.parse_fen(self.amount.text(), "amount")
        if amount <= 0:
            raise ValidationError(N_("Enter the amount received: more than ¥0.00."), field="amount")
        channel = self.channel.currentData()
        tendered = None
        if channel == "cash":
            tendered = (
                counter.parse_fen(self.tendered.text(), "tendered")
                if self.tendered.text().strip()
                else amount
            )
        return counter.PaymentRequest(
            self.house_id,
            tuple(ln.bill_id for ln in self.lines),
            amount,
            channel,
            self.key,
            tendered_fen=tendered,
            reference=self.reference.text().strip() or None,
            collect_late_fee=self.late_fen > 0,
        )

    def submit(self) -> None:
        if not self.confirm.isEnabled():
            return  # a second Enter or click while the first is running does nothing
        self.error.clear_error()
        try:
            req = self.request()
        except Exception as exc:
            self.error.show_error(exc)
            return
        self.confirm.setEnabled(False)
        self.attempts += 1
        job_ctx = self.ctx.as_actor(self.ctx.actor)
        if req.channel in counter.QR_CHANNELS:
            channels = self.channels
            self.tasks.run(
                lambda: counter.start_qr_payment(job_ctx, req, channels=channels),
                self._qr_started,
                self._failed,
            )
            return
        self.tasks.run(lambda: counter.take_payment(job_ctx, req), self._done, self._failed)

    def _qr_started(self, order) -> None:
        dlg = QrDialog(self.ctx, self.tasks, order, channels=self.channels, parent=self)
        self.qr_dialog = dlg
        dlg.finished.connect(lambda code: self._qr_finished(dlg, code))
        dlg.open()

    def _qr_finished(self, dlg: QrDialog, code: int) -> None:
        if code == QDialog.DialogCode.Accepted and dlg.result is not None:
            self.result = dlg.result
            self.accept()
            return
        # That order is closed: another try is a new attempt with its own key.
        self.key = counter.new_attempt_key()
        self.error.show_error(dlg.message or _("The QR payment was cancelled."))
        self.confirm.setEnabled(True)

    def _done(self, result: counter.PaymentResult) -> None:
        self.result = result
        self.accept()

    def _failed(self, exc: BaseException) -> None:
        self.error.show_error(exc)
        self.confirm.setEnabled(True)


class QrDialog(QDialog):
    """WeChat/Alipay at the counter: the hub order's code (as large text: no QR library is installed), a
    countdown to the order's expiry, polling the hub until SUCCESS; Cancel (Esc) or the end of the countdown
    closes the order (if it was paid meanwhile, that counts as paid)."""

    def __init__(self, ctx: Context, tasks: Tasks, order, channels=None, parent=None) -> None:
        super().__init__(parent)
        self.ctx, self.tasks, self.order, self.channels = ctx, tasks, order, channels
        self.result = None
        self.message = ""
        self._polling = self._closing = self._closed = False
        self.setWindowTitle(_("Scan to pay {amount}").format(amount=money(order.amount_fen)))
        amount = QLabel(money(order.amount_fen))
        amount.setStyleSheet("font-size: 28px; font-weight: bold;")
        amount.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.code = QLabel(order.pay_info.get("code_url", ""))
        self.code.setObjectName("code_url")
        self.code.setWordWrap(True)
        self.code.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.code.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.code.setStyleSheet(
            "font-size: 22px; font-family: monospace; padding: 12px; border: 2px solid #333;"
        )
        self.countdown = QLabel()
        self.countdown.setObjectName("countdown")
        self.countdown.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.countdown.setStyleSheet("font-size: 18px;")
        self.error = ErrorLabel()
        self.cancel_btn = QPushButton(_("Cancel (Esc)"))
        self.cancel_btn.setObjectName("qr_cancel")
        self.cancel_btn.clicked.connect(self.cancel)
        layout = QVBoxLayout(self)
        layout.addWidget(
            QLabel(
                _("{channel}: the payer scans this code").format(
                    channel=_(CHANNEL_NAMES.get(order.channel, order.channel))
                )
            )
        )
        layout.addWidget(amount)
        layout.addWidget(self.code)
        layout.addWidget(self.countdown)
        layout.addWidget(self.error)
        layout.addWidget(self.cancel_btn)
        self.tick = QTimer(self)
        self.tick.setInterval(1000)
        self.tick.timeout.connect(self._tick)
        self.poll_timer = QTimer(self)
        self.poll_timer.setInterval(QR_POLL_MS)
        self.poll_timer.timeout.connect(self.poll)
        self.finished.connect(lambda _c: self._stop())
        self._tick()
        self.tick.start()
        self.poll_timer.start()
        self.resize(520, 360)

    def remaining_s(self) -> int:
        return max(0, int((self.order.expire_at - self.ctx.clock.now()).total_seconds()))

    def _tick(self) -> None:
        left = self.remaining_s()
        self.countdown.setText(
            _("Waiting for the payment — {time} left").format(time=f"{left // 60}:{left % 60:02d}")
        )
        if left == 0:
            self.cancel()

    def _stop(self) -> None:
        self.tick.stop()
        self.poll_timer.stop()

    def poll(self) -> None:
        if self._polling or self._closing or self._closed:
            return
        self._polling = True
        job_ctx, key = self.ctx.as_actor(self.ctx.actor), self.order.out_trade_no
        self.tasks.run(lambda: counter.qr_order(job_ctx, key), self._polled, self._poll_failed)

    def _polled(self, order) -> None:
        self._polling = False
        self.order = order
        if order.status == "SUCCESS":
            self._finish(order)
        elif order.status in ("CLOSED", "FAILED"):
            self.message = _("The payment order is {status}.").format(status=order.status)
            self._closed = True
            self.reject()

    def _poll_failed(self, exc: BaseException) -> None:
        self._polling = False
        self.error.show_error(exc)  # keep polling: a transient error must not lose a payment

    def _finish(self, order) -> None:
        self.result = order
        self._closed = True
        self.accept()

    def cancel(self) -> None:
        if self._closing or self._closed:
            return
        self._closing = True
        self.cancel_btn.setEnabled(False)
        job_ctx, key, channels = self.ctx.as_actor(self.ctx.actor), self.order.out_trade_no, self.channels
        self.tasks.run(
            lambda: counter.cancel_qr_payment(job_ctx, key, channels=channels),
            self._cancelled,
            self._cancel_failed,
        )

    def _cancelled(self, order) -> None:
        self._closing = False
        if order.status == "SUCCESS":  # paid just before the close reached the channel
            self._finish(order)
            return
        self.message = _("The QR payment was cancelled.")
        self._closed = True
        self.reject()

    def _cancel_failed(self, exc: BaseException) -> None:
        self._closing = False
        self.cancel_btn.setEnabled(True)
        self.error.show_error(exc)

    def reject(self) -> None:
        """Esc cancels the order first; the dialog closes once the hub has closed it."""
        if self._closed:
            super().reject()
        else:
            self.cancel()


DENOMS = shifts.DENOMINATIONS_FEN


class CloseShiftDialog(QDialog):
    """Count the drawer by denomination; expected vs counted by channel; a difference needs a reason."""

    def __init__(
        self, ctx: Context, tasks: Tasks, shift: shifts.ShiftView, expected: dict, parent=None
    ) -> None:
        super().__init__(parent)
        self.ctx, self.tasks, self.result = ctx, tasks, None
        self.expected_cash = expected.get("cash", 0)
        self.setWindowTitle(_("Close shift {no}").format(no=shift.shift_no))
        grid = QGridLayout()
        self.spins: dict[int, QSpinBox] = {}
        for i, d in enumerate(DENOMS):
            spin = QSpinBox()
            spin.setRange(0, shifts.PIECES_MAX)
            spin.setObjectName(f"denom_{d}")
            spin.setAlignment(RIGHT)
            spin.valueChanged.connect(self._recalc)
            self.spins[d] = spin
            grid.addWidget(QLabel(money(d)), i // 2, (i % 2) * 2)
            grid.addWidget(spin, i // 2, (i % 2) * 2 + 1)
        box = QGroupBox(_("Cash counted by denomination"))
        box.setLayout(grid)
        exp = QFormLayout()
        for ch, fen in sorted(expected.items()):
            lab = QLabel(money(fen))
            lab.setAlignment(RIGHT)
            exp.addRow(_("Expected {channel}").format(channel=_(CHANNEL_NAMES.get(ch, ch))), lab)
        self.counted = QLabel(money(0))
        self.counted.setAlignment(RIGHT)
        self.diff = QLabel()
        self.diff.setObjectName("difference")
        self.diff.setAlignment(RIGHT)
        exp.addRow(_("Cash counted"), self.counted)
        exp.addRow(_("Cash difference"), self.diff)
        self.reason = QLineEdit()
        self.reason.setObjectName("reason")
        exp.addRow(_("Reason for a difference"), self.reason)
        self.error = ErrorLabel()
        self.confirm = QPushButton(_("Close shift (Enter)"))
        self.confirm.setDefault(True)
        self.confirm.clicked.connect(self.submit)
        layout = QVBoxLayout(self)
        layout.addWidget(box)
        layout.addLayout(exp)
        layout.addWidget(self.error)
        layout.addWidget(self.confirm)
        self._recalc()
        self.setMinimumWidth(460)

    def counted_fen(self) -> int:
        return sum(d * s.value() for d, s in self.spins.items())

    def _recalc(self) -> None:
        self.counted.setText(money(self.counted_fen()))
        d = self.counted_fen() - self.expected_cash
        self.diff.setText(money(d) + ("" if d == 0 else (_(" (over)") if d > 0 else _(" (short)"))))

    def cash_count(self) -> dict[int, int]:
        return {d: s.value() for d, s in self.spins.items() if s.value()}

    def submit(self) -> None:
        counted = {str(d): s.value() for d, s in self.spins.items() if s.value()}
        reason = self.reason.text().strip() or None
        self.confirm.setEnabled(False)
        job_ctx = self.ctx.as_actor(self.ctx.actor)
        self.tasks.run(lambda: shifts.close_shift(job_ctx, counted, reason=reason), self._done, self._failed)

    def _done(self, view) -> None:
        self.result = view
        self.accept()

    def _failed(self, exc) -> None:
        self.error.show_error(exc)
        self.confirm.setEnabled(True)


SUMMARY_COLUMNS = [
    (N_("Channel"), "text", lambda c: c.channel),
    (N_("Payments"), "int", lambda c: c.payments),
    (N_("Taken"), "fen", lambda c: c.paid_fen),
    (N_("Refunds"), "int", lambda c: c.refunds),
    (N_("Refunded"), "fen", lambda c: c.refunded_fen),
    (N_("Net"), "fen", lambda c: c.net_fen),
]


class SummaryDialog(QDialog):
    """今日汇总: counts and totals by channel for the clerk's shift, with a total line; Esc closes."""

    def __init__(self, summary: counter.ShiftSummary, parent=None) -> None:
        super().__init__(parent)
        self.summary = summary
        sh = summary.shift
        self.setWindowTitle(_("Today's summary — shift {no}").format(no=sh.shift_no))
        total = counter.ChannelTotal(
            _("Total"), summary.payments, summary.paid_fen, summary.refunds, summary.refunded_fen
        )
        named = [replace(c, channel=_(CHANNEL_NAMES.get(c.channel, c.channel))) for c in summary.channels]
        self.model = RowsModel(SUMMARY_COLUMNS, [*named, total])
        self.table = _table(self.model)
        self.table.setObjectName("summary_table")
        head = QLabel(
            _("Shift {no}, opened {at}, float {float}").format(
                no=sh.shift_no,
                at=sh.opened_at.astimezone(BUSINESS_TZ).strftime("%H:%M"),
                float=money(sh.float_fen),
            )
        )
        self.net = QLabel(
            _("{n} payments, net {amount}").format(n=f"{summary.payments:,}", amount=money(summary.net_fen))
        )
        self.net.setObjectName("summary_net")
        self.net.setAlignment(RIGHT)
        self.net.setStyleSheet("font-size: 18px; font-weight: bold;")
        close = QPushButton(_("Close (Esc)"))
        close.setDefault(True)
        close.clicked.connect(self.accept)
        layout = QVBoxLayout(self)
        layout.addWidget(head)
        layout.addWidget(self.table)
        layout.addWidget(self.net)
        layout.addWidget(close)
        self.resize(620, 320)


HIT_COLUMNS = [
    (N_("House"), "text", lambda h: h.house_code),
    (N_("Community"), "text", lambda h: h.community),
    (N_("Owner"), "text", lambda h: h.owner),
    (N_("Phone"), "text", lambda h: h.phone),
]
LINE_COLUMNS = [
    (N_("Bill no."), "text", lambda ln: ln[0].bill_no),
    (N_("Item"), "text", lambda ln: ln[0].item_name),
    (N_("Period"), "text", lambda ln: ln[0].period),
    (N_("Due date"), "date", lambda ln: ln[0].due_date),
    (N_("Outstanding"), "fen", lambda ln: ln[0].outstanding_fen),
    (N_("Late fee"), "fen", lambda ln: ln[1]),
]
BILL_COLUMNS = [
    (N_("Bill no."), "text", lambda b: b.bill_no),
    (N_("Period"), "text", lambda b: b.period),
    (N_("Due date"), "date", lambda b: b.due_date),
    (N_("Amount"), "fen", lambda b: b.amount_fen),
    (N_("Paid"), "fen", lambda b: b.paid_fen),
    (N_("Status"), "text", lambda b: label(BILL_STATUS, b.status)),
]


REFUND_STATUS = {
    "pending": N_("waiting for approval"),
    "approved": N_("approved — pay out"),
    "rejected": N_("rejected"),
    "withdrawn": N_("withdrawn"),
    "paid": N_("paid out"),
}
REFUND_COLUMNS = [
    (N_("Receipt no."), "text", lambda r: r.receipt_no),
    (N_("Amount"), "fen", lambda r: r.amount_fen),
    (N_("Status"), "text", lambda r: _(REFUND_STATUS.get(r.status, r.status))),
    (N_("Asked by"), "text", lambda r: r.requested_by),
    (N_("Asked at"), "datetime", lambda r: r.requested_at),
    (N_("Reason"), "text", lambda r: r.reason),
]
DEPOSIT_COLUMNS = [
    (N_("Item"), "text", lambda d: d.item_name),
    (N_("Period"), "text", lambda d: d.period),
    (N_("Paid"), "fen", lambda d: d.paid_fen),
    (N_("Refunded"), "fen", lambda d: d.refunded_fen),
    (N_("Deducted"), "fen", lambda d: d.deducted_fen),
    (N_("Deposit held"), "fen", lambda d: d.balance_fen),
    (N_("Status"), "text", lambda d: label(DEPOSIT_STATUS, d.status)),
]
PARKING_COLUMNS = [
    (N_("Space"), "text", lambda p: p.space),
    (N_("Kind"), "text", lambda p: label(SPACE_KIND, p.kind)),
    (N_("Status"), "text", lambda p: label(SPACE_STATUS, p.status)),
    (N_("Rented until"), "date", lambda p: p.until),
    (N_("Vehicle"), "text", lambda p: p.plate),
]
REPAIR_COLUMNS = [
    (N_("Work order"), "text", lambda r: r.number),
    (N_("Kind"), "text", lambda r: r.repair_type),
    (N_("Status"), "text", lambda r: label(REPAIR_STATUS, r.status)),
    (N_("Reported"), "datetime", lambda r: r.created_at),
    (N_("Due"), "datetime", lambda r: r.complete_by),
    (N_("Description"), "text", lambda r: r.description),
]
ACTIVITY_COLUMNS = [
    (N_("Activity"), "text", lambda a: a.title),
    (N_("Starts"), "datetime", lambda a: a.starts_at),
    (N_("Place"), "text", lambda a: a.place),
    (N_("Activity fee"), "fen", lambda a: a.fee_fen),
    (N_("Capacity"), "int", lambda a: a.capacity),
    (N_("Places taken"), "int", lambda a: a.confirmed),
    (N_("On waiting list"), "int", lambda a: a.waiting),
]


class PropertyCounter(QWidget):
    """The property counter module (CounterModule)."""

    title = ""
    permission = "property.view"

    def __init__(self, ctx: Context, tasks: Tasks, window: QWidget) -> None:
        super().__init__()
        self.ctx, self.tasks, self.window_ = ctx, tasks, window
        self.title = _("Property counter")
        self.detail: counter.HouseDetail | None = None
        self.search_seq = 0
        self.last_dialog: QDialog | None = None
        self.panels: counter.HousePanels | None = None
        self.notice = ""
        self.last_closed_shift: shifts.ShiftView | None = None
        self.last_cash_count: dict[int, int] = {}
        self._build()

    # --- CounterModule
    def widget(self) -> QWidget:
        return self

    def activate(self) -> None:
        self.search.setFocus()
        self.search.selectAll()
        self.refresh_shift()

    def actions(self) -> list[QAction]:
        specs = [
            (_("Find (Ctrl+F)"), "Ctrl+F", "property.view", self.activate),
            (_("Take payment (F5)"), "F5", billing.PERM_PAY, self.pay_selected),
            (_("Reprint receipt 补打 (F6)"), "F6", billing.PERM_PAY, self.reprint),
            (_("Void receipt (F7)"), "F7", counter.PERM_VOID, self.void),
            (_("Ask for a refund (Ctrl+R)"), "Ctrl+R", counter.PERM_REFUND, self.request_refund),
            (_("Pay out approved refund (Ctrl+Shift+R)"), "Ctrl+Shift+R", counter.PERM_REFUND, self.pay_out),
            (_("Repair request (F2)"), "F2", repairs.PERM_REPORT, self.register_repair),
            (_("Complaint (F3)"), "F3", complaints.PERM_SUBMIT, self.register_complaint),
            (_("Activity sign-up (F4)"), "F4", activities.PERM_SIGNUP, self.sign_up),
            (_("Open shift (F9)"), "F9", "payments.shift.open", self.open_shift),
            (_("Close shift (F10)"), "F10", "payments.shift.close", self.close_shift),
            (_("Print handover slip (Ctrl+H)"), "Ctrl+H", "payments.shift.close", self.print_handover),
            (_("Today's summary (F8)"), "F8", "payments.view", self.show_summary),
        ]
        out = []
        for text, keys, perm, slot in specs:
            if not self.ctx.actor.can(perm):
                continue
            a = QAction(text, self)
            a.setShortcut(QKeySequence(keys))
            a.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
            a.triggered.connect(slot)
            self.addAction(a)
            out.append(a)
        return out

    # --- layout
    def _build(self) -> None:
        self.search = QLineEdit()
        self.search.setObjectName("search")
        self.search.setPlaceholderText(_("House 3-2-1201, owner name, phone, ID number or receipt no."))
        self.search.setClearButtonEnabled(True)
        self.search.setStyleSheet("font-size: 16px; padding: 4px;")
        self.timer = QTimer(self)
        self.timer.setSingleShot(True)
        self.timer.setInterval(SEARCH_DEBOUNCE_MS)
        self.timer.timeout.connect(self.run_search)
        self.search.textChanged.connect(lambda _t: self.timer.start())
        self.search.returnPressed.connect(self.open_first)
        self.search_error = ErrorLabel()
        self.hits = RowsModel(HIT_COLUMNS)
        self.hits_view = _table(self.hits)
        self.hits_view.activated.connect(lambda idx: self.open_house(self.hits.items[idx.row()].house_id))
        left = QWidget()
        lv = QVBoxLayout(left)
        lv.addWidget(QLabel(_("Find a house or owner (Ctrl+F)")))
        lv.addWidget(self.search)
        lv.addWidget(self.search_error)
        lv.addWidget(self.hits_view)
        self.shift_label = QLabel()
        self.shift_label.setObjectName("shift_label")
        lv.addWidget(self.shift_label)

        self.house_title = QLabel(_("No house chosen"))
        self.house_title.setObjectName("house_title")
        self.house_title.setStyleSheet("font-size: 18px; font-weight: bold;")
        self.house_info = QLabel()
        self.house_info.setWordWrap(True)
        self.prepaid = QLabel()
        self.prepaid.setObjectName("prepaid")
        self.lines = RowsModel(LINE_COLUMNS)
        self.lines.checkable = True
        self.lines_view = _table(self.lines)
        self.lines_view.setSelectionMode(QAbstractItemView.SelectionMode.NoSelection)
        self.lines.dataChanged.connect(lambda *a: self._update_due())
        self.due_label = QLabel()
        self.due_label.setObjectName("due_label")
        self.due_label.setAlignment(RIGHT)
        self.due_label.setStyleSheet("font-size: 16px; font-weight: bold;")
        self.bills = RowsModel(BILL_COLUMNS)
        self.bills_view = _table(self.bills)
        self.receipts = PagedListModel(
            self.ctx,
            RECEIPTS,
            {"house_id": str(uuid.UUID(int=0))},
            page_rows=50,
            labels={"channel": RECEIPT_CHANNEL},
        )
        self.receipts_view = _table(self.receipts)
        self.receipts_view.setColumnHidden(len(self.receipts.source.columns) - 1, True)
        self.receipts_view.setSortingEnabled(False)
        self.action_error = ErrorLabel()
        self.action_error.setObjectName("action_error")
        self.pay_btn = QPushButton(_("Take payment (F5)"))
        self.pay_btn.setObjectName("pay_button")
        self.pay_btn.clicked.connect(self.pay_selected)
        self.pay_btn.setEnabled(False)
        right = QWidget()
        rv = QVBoxLayout(right)
        rv.addWidget(self.house_title)
        rv.addWidget(self.house_info)
        rv.addWidget(self.prepaid)
        rv.addWidget(QLabel(_("Unpaid bill lines (tick those to pay; Space toggles)")))
        rv.addWidget(self.lines_view, 3)
        row = QHBoxLayout()
        row.addWidget(self.due_label, 1)
        row.addWidget(self.pay_btn)
        rv.addLayout(row)
        rv.addWidget(self.action_error)
        self.refunds = RowsModel(REFUND_COLUMNS)
        self.refunds_view = _table(self.refunds)
        self.deposits = RowsModel(DEPOSIT_COLUMNS)
        self.parking = RowsModel(PARKING_COLUMNS)
        self.repairs = RowsModel(REPAIR_COLUMNS)
        self.activities = RowsModel(ACTIVITY_COLUMNS)
        self.panel_tabs = QTabWidget()
        self.panel_tabs.setObjectName("panel_tabs")
        self.panel_views: dict[str, QTableView] = {}
        for key, title, view in (
            ("bills", _("Bills"), self.bills_view),
            ("receipts", _("House receipts"), self.receipts_view),
            ("refunds", _("Refund requests"), self.refunds_view),
            ("deposits", _("Deposits"), _table(self.deposits)),
            ("parking", _("Parking"), _table(self.parking)),
            ("repairs", _("Open repairs"), _table(self.repairs)),
            ("activities", _("Activities open"), _table(self.activities)),
        ):
            self.panel_views[key] = view
            self.panel_tabs.addTab(view, title)
        # Alt+1 … Alt+7 switch the panels.
        for i in range(self.panel_tabs.count()):
            QShortcut(QKeySequence(f"Alt+{i + 1}"), self, lambda i=i: self.panel_tabs.setCurrentIndex(i))
        self.panel_note = QLabel()
        self.panel_note.setObjectName("panel_note")
        self.panel_note.setStyleSheet("color: #666;")
        keys = QLabel(
            _(
                "Alt+1…Alt+7 panels · F6 reprint · F7 void · Ctrl+R refund · F2 repair · F3 complaint · "
                "F4 activity sign-up"
            )
        )
        keys.setStyleSheet("color: #666;")
        keys.setWordWrap(True)
        rv.addWidget(self.panel_tabs, 4)
        rv.addWidget(self.panel_note)
        rv.addWidget(keys)
        split = QSplitter()
        split.addWidget(left)
        split.addWidget(right)
        # The search side needs little room; the house side takes what a wider screen adds.
        split.setSizes([340, 860])
        split.setStretchFactor(0, 0)
        split.setStretchFactor(1, 1)
        layout = QVBoxLayout(self)
        layout.addWidget(split)
        back = QShortcut(QKeySequence(Qt.Key.Key_Escape), self)
        back.activated.connect(self.activate)

    # --- search
    def run_search(self) -> None:
        self.search_seq += 1
        seq, text = self.search_seq, self.search.text()
        job_ctx = self.ctx.as_actor(self.ctx.actor)

        def done(hits):
            if seq == self.search_seq:  # an older, slower answer never replaces a newer one
                self.search_error.clear_error()
                self.hits.set_rows(hits)
                if hits:
                    self.hits_view.selectRow(0)
                elif text.strip():
                    self.search_error.show_error(_("Nothing found for “{text}”.").format(text=text.strip()))

        def failed(exc):
            if seq == self.search_seq:
                self.hits.set_rows([])
                self.search_error.show_error(exc)

        self.tasks.run(lambda: counter.search(job_ctx, text), done, failed)

    def open_first(self) -> None:
        if self.timer.isActive():
            self.timer.stop()
            self.run_search()
            return
        idx = self.hits_view.currentIndex()
        row = idx.row() if idx.isValid() else 0
        if 0 <= row < len(self.hits.items):
            self.open_house(self.hits.items[row].house_id)

    # --- house
    def open_house(self, house_id: uuid.UUID) -> None:
        job_ctx = self.ctx.as_actor(self.ctx.actor)
        self.tasks.run(
            lambda: counter.house_detail(job_ctx, house_id), self.show_house, self.action_error.show_error
        )

    def show_house(self, d: counter.HouseDetail) -> None:
        self.detail = d
        self.action_error.clear_error()
        h = d.house
        self.house_title.setText(f"{d.community} {h.code}")
        owners = "；".join(f"{o.name} {o.phone or ''}".strip() for o in d.owners) or _("none")
        self.house_info.setText(
            _(
                "Owners: {owners}\nBuilding area {area} ㎡, inner {inner} ㎡, {layout}, status {status}"
            ).format(
                owners=owners,
                area=f"{h.building_area_dm2 / 100:,.2f}",
                inner=f"{h.inner_area_dm2 / 100:,.2f}",
                layout=h.layout,
                status=label(HOUSE_STATUS, h.status),
            )
        )
        self.prepaid.setText(_("Prepaid balance: {amount}").format(amount=money(d.prepaid_fen)))
        self.lines.set_rows([(ln, d.late_fees.get(ln.id, 0)) for ln in d.lines])
        self.bills.set_rows(d.bills)
        self.receipts.set_filters({"house_id": str(h.id)})
        self.pay_btn.setEnabled(self.ctx.actor.can(billing.PERM_PAY))
        self._update_due()
        if self.notice:  # what just happened (a QR payment settled) stays readable after the refresh
            self.due_label.setText(self.notice)
            self.notice = ""
        self.lines_view.setFocus()
        self.load_panels(h.id)

    def load_panels(self, house_id: uuid.UUID) -> None:
        """Deposits, parking, open repairs, activities and refund requests, read off the UI thread."""
        job_ctx = self.ctx.as_actor(self.ctx.actor)

        def read():
            panels = counter.house_panels(job_ctx, house_id)
            refunds = (
                counter.refund_requests(job_ctx, house_id) if job_ctx.actor.can("workflow.view") else None
            )
            return panels, refunds

        def done(result) -> None:
            panels, refunds = result
            if self.detail is None or self.detail.house.id != house_id:
                return  # another house was opened meanwhile
            self.panels = panels
            hidden = []
            for key, model, rows in (
                ("deposits", self.deposits, panels.deposits),
                ("parking", self.parking, panels.parking),
                ("repairs", self.repairs, panels.repairs),
                ("activities", self.activities, panels.activities),
                ("refunds", self.refunds, refunds),
            ):
                model.set_rows(rows or [])
                index = self.panel_tabs.indexOf(self.panel_views[key])
                self.panel_tabs.setTabEnabled(index, rows is not None)
                if rows is None:
                    hidden.append(self.panel_tabs.tabText(index))
            self.panel_note.setText(
                _("Your roles do not cover: {panels}").format(panels=", ".join(hidden)) if hidden else ""
            )

        self.tasks.run(read, done, self.action_error.show_error)

    def _update_due(self) -> None:
        chosen = self.lines.checked_items()
        due = sum(ln.outstanding_fen + late for ln, late in chosen)
        self.due_label.setText(_("Chosen: {n} lines, due {amount}").format(n=len(chosen), amount=money(due)))

    # --- payment
    def pay_selected(self) -> None:
        self.action_error.clear_error()
        if not self.ctx.actor.can(billing.PERM_PAY):
            self.action_error.show_error(
                _("You do not have permission to do this ({permission}).").format(permission=billing.PERM_PAY)
            )
            return
        if self.detail is None:
            self.action_error.show_error(_("Find and open a house first."))
            return
        chosen = self.lines.checked_items()
        lines = [ln for ln, _late in chosen]
        late = {ln.id: fee for ln, fee in chosen}
        dlg = PayDialog(self.ctx, self.tasks, self.detail.house.id, lines, late, self)
        self.last_dialog = dlg
        dlg.finished.connect(lambda code: self._paid(dlg, code))
        dlg.open()

    def _paid(self, dlg: PayDialog, code: int) -> None:
        if code != QDialog.DialogCode.Accepted or dlg.result is None:
            return
        r = dlg.result
        if not isinstance(r, counter.PaymentResult):  # a QR order: the hub's notice settles the bills
            self.notice = _("Paid by QR code: order {no}").format(no=r.order_no)
            self.open_house(dlg.house_id)
            return
        self.open_house(r.receipt.house_id)
        self.show_receipt(r.receipt, r.change_fen)

    def show_receipt(self, receipt: billing.ReceiptView, change_fen: int = 0) -> ReceiptDialog:
        dlg = ReceiptDialog(self.ctx, receipt, self, change_fen)
        self.last_dialog = dlg
        dlg.open()
        return dlg

    def _selected_receipt_id(self) -> uuid.UUID | None:
        idx = self.receipts_view.currentIndex()
        if not idx.isValid():
            if self.receipts.rowCount() == 0:
                return None
            row = 0
        else:
            row = idx.row()
        return uuid.UUID(str(self.receipts.rows[row][-1]))

    def reprint(self) -> None:
        rid = self._selected_receipt_id()
        if rid is None:
            self.action_error.show_error(_("Choose a receipt first."))
            return
        job_ctx = self.ctx.as_actor(self.ctx.actor)
        self.tasks.run(
            lambda: billing.reprint_receipt(job_ctx, rid), self.show_receipt, self.action_error.show_error
        )

    def void(self, reason: str | None = None) -> None:
        rid = self._selected_receipt_id()
        if rid is None:
            self.action_error.show_error(_("Choose a receipt first."))
            return
        if reason is None:
            reason, ok = QInputDialog.getText(self, _("Void receipt"), _("Reason for voiding:"))
            if not ok:
                return
        job_ctx = self.ctx.as_actor(self.ctx.actor)

        def done(view):
            self.open_house(view.house_id)
            self.show_receipt(view)

        self.tasks.run(lambda: counter.void_receipt(job_ctx, rid, reason), done, self.action_error.show_error)

    # --- shifts
    def refresh_shift(self) -> None:
        if not self.ctx.actor.can("payments.view"):
            return
        try:
            s = counter.my_open_shift(self.ctx)
        except Exception as exc:
            self.shift_label.setText(error_text(exc))
            return
        self.current_shift = s
        if s is None:
            self.shift_label.setText(_("No open shift — F9 opens one."))
        else:
            self.shift_label.setText(
                _("Shift {no} open, float {float}").format(no=s.shift_no, float=money(s.float_fen))
            )

    def open_shift(self, float_text: str | None = None) -> None:
        if float_text is None:
            float_text, ok = QInputDialog.getText(self, _("Open shift"), _("Cash float (¥):"), text="200.00")
            if not ok:
                return
        try:
            fen = counter.parse_fen(float_text, "float")
            shifts.open_shift(self.ctx, fen)
        except Exception as exc:
            self.action_error.show_error(exc)
            QMessageBox.warning(self, _("Open shift"), error_text(exc)) if self.isVisible() else None
        self.refresh_shift()

    def show_summary(self) -> None:
        """Today's summary of the clerk's open shift, computed off the UI thread."""
        self.action_error.clear_error()
        job_ctx = self.ctx.as_actor(self.ctx.actor)

        def done(summary: counter.ShiftSummary) -> None:
            dlg = SummaryDialog(summary, self)
            self.last_dialog = dlg
            dlg.open()

        self.tasks.run(lambda: counter.shift_summary(job_ctx), done, self.action_error.show_error)

    def close_shift(self) -> CloseShiftDialog | None:
        s = counter.my_open_shift(self.ctx)
        if s is None:
            self.action_error.show_error(_("You have no open shift to close."))
            return None
        from core.property.counter import expected_by_channel

        dlg = CloseShiftDialog(self.ctx, self.tasks, s, expected_by_channel(self.ctx, s), self)
        self.last_dialog = dlg
        dlg.finished.connect(lambda code: self._shift_closed(dlg, code))
        dlg.open()
        return dlg

    def _shift_closed(self, dlg: CloseShiftDialog, code: int) -> None:
        self.refresh_shift()
        if code == QDialog.DialogCode.Accepted and dlg.result is not None:
            self.last_closed_shift = dlg.result
            self.last_cash_count = dlg.cash_count()
            self.shift_label.setText(self.shift_label.text() + "  " + _("Ctrl+H prints the handover slip."))

    def print_handover(self) -> PreviewDialog | None:
        """交班单 of the shift just closed, in the print preview (A4)."""
        self.action_error.clear_error()
        sh = self.last_closed_shift
        if sh is None:
            self.action_error.show_error(_("Close your shift first (F10); then print its handover slip."))
            return None
        try:
            html = handover_html(self.ctx, sh, self.last_cash_count)
        except Exception as exc:
            self.action_error.show_error(exc)
            return None
        st = desktop_settings.load(self.ctx)
        dlg = PreviewDialog(html, "A4", _("Shift handover {no}").format(no=sh.shift_no), st.printer, self)
        self.last_dialog = dlg
        dlg.open()
        return dlg

    # --- refunds
    def request_refund(self) -> RefundRequestDialog | None:
        self.action_error.clear_error()
        rid = self._selected_receipt_id()
        if rid is None:
            self.action_error.show_error(_("Choose a receipt first."))
            return None
        try:
            receipt = billing.get_receipt(self.ctx, rid)
        except Exception as exc:
            self.action_error.show_error(exc)
            return None
        dlg = RefundRequestDialog(self.ctx, self.tasks, receipt, self)
        self.last_dialog = dlg
        dlg.finished.connect(lambda code: self._after_form(dlg, code, "refunds"))
        dlg.open()
        return dlg

    def pay_out(self) -> None:
        """Pay out the chosen (or the first) approved refund request of the house."""
        self.action_error.clear_error()
        idx = self.refunds_view.currentIndex()
        rows = self.refunds.items
        chosen = rows[idx.row()] if idx.isValid() else next((r for r in rows if r.status == "approved"), None)
        if chosen is None:
            self.action_error.show_error(_("This house has no approved refund to pay out."))
            return
        job_ctx = self.ctx.as_actor(self.ctx.actor)

        def done(view) -> None:
            self.open_house(view.house_id)
            self.show_receipt(view)

        self.tasks.run(lambda: counter.pay_out_refund(job_ctx, chosen.id), done, self.action_error.show_error)

    # --- front desk
    def _house_or_error(self) -> counter.HouseDetail | None:
        self.action_error.clear_error()
        if self.detail is None:
            self.action_error.show_error(_("Find and open a house first."))
        return self.detail

    def _after_form(self, dlg, code: int, panel: str) -> None:
        if code != QDialog.DialogCode.Accepted or self.detail is None:
            return
        if panel in self.panel_views:
            self.panel_tabs.setCurrentWidget(self.panel_views[panel])
        self.load_panels(self.detail.house.id)
        v = dlg.result_view
        text = {
            "refunds": lambda: _("Refund of receipt {no} asked for; it waits for approval.").format(
                no=v.receipt_no
            ),
            "repairs": lambda: _("Repair request {no} registered.").format(no=v.number),
            "complaints": lambda: _("Complaint {no} registered.").format(no=v.number),
            "activities": lambda: (
                _("Signed up: place confirmed.")
                if v.status == "confirmed"
                else _("The activity is full: on the waiting list as number {n}.").format(n=v.queue_no)
            ),
        }
        self.due_label.setText(text.get(panel, lambda: "")())

    def register_repair(self) -> RepairDialog | None:
        d = self._house_or_error()
        if d is None:
            return None
        try:
            types = repairs.list_repair_types(self.ctx)
        except Exception as exc:
            self.action_error.show_error(exc)
            return None
        dlg = RepairDialog(self.ctx, self.tasks, d, types, self)
        self.last_dialog = dlg
        dlg.finished.connect(lambda code: self._after_form(dlg, code, "repairs"))
        dlg.open()
        return dlg

    def register_complaint(self) -> ComplaintDialog | None:
        d = self._house_or_error()
        if d is None:
            return None
        dlg = ComplaintDialog(self.ctx, self.tasks, d, self)
        self.last_dialog = dlg
        dlg.finished.connect(lambda code: self._after_form(dlg, code, "complaints"))
        dlg.open()
        return dlg

    def sign_up(self) -> SignupDialog | None:
        d = self._house_or_error()
        if d is None:
            return None
        try:
            open_now = counter.open_activities(self.ctx, d.house.community_id)
        except Exception as exc:
            self.action_error.show_error(exc)
            return None
        dlg = SignupDialog(self.ctx, self.tasks, d, open_now, self)
        self.last_dialog = dlg
        dlg.finished.connect(lambda code: self._after_form(dlg, code, "activities"))
        dlg.open()
        return dlg


def handover_html(ctx: Context, shift: shifts.ShiftView, cash_count: dict[int, int]) -> str:
    """The handover slip (交班单) of a closed shift as the reports module lays it out, as rich text."""
    from reports.shift import ChannelTakings, ShiftHandoverData, handover_report

    summary = counter.shift_summary(ctx, shift)
    try:
        site = ctx.site.name
    except Exception:
        site = ""
    data = ShiftHandoverData(
        site_name=site,
        shift_no=shift.shift_no,
        cashier=shift.cashier,
        business_date=shift.business_date,
        opened_at=shift.opened_at,
        closed_at=shift.closed_at,
        float_fen=shift.float_fen,
        takings=[
            ChannelTakings(c.channel, c.payments, c.paid_fen, c.refunds, c.refunded_fen)
            for c in summary.channels
        ],
        counted_cash_fen=shift.counted_fen,
        cash_count=cash_count,
        difference_reason=shift.difference_reason or "",
    )
    report = handover_report(data)
    report.site_name = site
    return printing.report_html(report)


register_module(PropertyCounter)
