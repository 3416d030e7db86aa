"""The property counter's screens: search as you type, the house (owners, bills with late fees, prepaid,
receipts), the payment dialog (cash with change, POS, bank transfer), the receipt, and shift open/close."""

from __future__ import annotations

import uuid
from dataclasses import replace
from pathlib import Path

from PySide6.QtCore import Qt, QTimer
from PySide6.QtGui import QAction, QKeySequence, QShortcut, QTextDocument
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
    QTextBrowser,
    QVBoxLayout,
    QWidget,
)

from core.clock import BUSINESS_TZ
from core.context import Context
from core.i18n import _
from core.payments import shifts
from core.property import billing, counter
from core.property.lists import RECEIPTS
from desktop.models import PagedListModel, RowsModel
from desktop.qt import RIGHT, ErrorLabel, Tasks, error_text, money
from desktop.shell import register_module

SEARCH_DEBOUNCE_MS = 250
CHANNEL_LABELS = (("cash", "Cash"), ("pos", "POS card"), ("bank_transfer", "Bank transfer"))
QR_LABELS = (("wechat", "WeChat Pay"), ("alipay", "Alipay"))
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


def receipt_html(r: billing.ReceiptView, site_name: str) -> str:
    """The receipt as Qt rich text: shown on screen and printed through QPrinter."""
    mark = f"<span style='color:#b00020'>【{r.copy_mark}】</span>" if r.copy_mark else ""
    rows = "".join(
        f"<tr><td>{ln.item_name}</td><td>{ln.period}</td><td>{ln.quantity}</td>"
        f"<td align='right'>{money(ln.amount_fen)}</td></tr>"
        for ln in r.lines
    )
    issued = r.issued_at.strftime("%Y-%m-%d %H:%M") if r.issued_at else ""
    return (
        f"<h2 align='center'>{site_name} {_('Receipt')} {mark}</h2>"
        f"<p>{_('Receipt no.')}: <b>{r.receipt_no}</b> &nbsp; {_('House')}: {r.house_code}"
        f" &nbsp; {_('Payer')}: {r.payer}</p>"
        f"<table width='100%' border='1' cellspacing='0' cellpadding='3'>"
        f"<tr><th>{_('Item')}</th><th>{_('Period')}</th><th>{_('Quantity')}</th><th>{_('Amount')}</th></tr>"
        f"{rows}<tr><td colspan='3'><b>{_('Total')}</b> {r.total_upper}</td>"
        f"<td align='right'><b>{money(r.total_fen)}</b></td></tr></table>"
        f"<p>{_('Channel')}: {r.channel} &nbsp; {_('Cashier')}: {r.cashier} &nbsp; {issued}</p>"
    )


class ReceiptDialog(QDialog):
    """The receipt on screen; Ctrl+P prints it (to a PDF file at least), Ctrl+S saves the reports PDF."""

    def __init__(self, ctx: Context, receipt: billing.ReceiptView, parent=None, change_fen: int = 0) -> None:
        super().__init__(parent)
        self.ctx, self.receipt = ctx, receipt
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
        self.print_btn = QPushButton(_("Print (Ctrl+P)"))
        self.print_btn.setShortcut(QKeySequence("Ctrl+P"))
        self.print_btn.clicked.connect(lambda: self.print_to_pdf())
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

    def print_to_pdf(self, path: str | None = None) -> str | None:
        """Print through QPrinter; without a printer chosen, into a PDF file."""
        from PySide6.QtPrintSupport import QPrinter

        if path is None:
            path, _f = QFileDialog.getSaveFileName(
                self, _("Print to PDF"), f"{self.receipt.receipt_no}.pdf", "PDF (*.pdf)"
            )
            if not path:
                return None
        printer = QPrinter(QPrinter.PrinterMode.HighResolution)
        printer.setOutputFormat(QPrinter.OutputFormat.PdfFormat)
        printer.setOutputFileName(path)
        doc = QTextDocument()
        doc.setHtml(receipt_html(self.receipt, self._site()))
        doc.print_(printer)
        return path

    def save_pdf(self, path: str | None = None, layout: str = "A5") -> str | None:
        """The receipt as the reports module renders it (A5 by default)."""
        from reports.receipts import ReceiptData, render_receipt

        if path is None:
            path, _f = QFileDialog.getSaveFileName(
                self, _("Save PDF"), f"{self.receipt.receipt_no}.pdf", "PDF (*.pdf)"
            )
            if not path:
                return None
        try:
            data = ReceiptData.from_view(self.receipt, self._site())
            Path(path).write_bytes(render_receipt(data, layout))
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
        self.amount = QLineEdit(money(total).lstrip("¥"))
        self.amount.setObjectName("amount")
        self.amount.setAlignment(RIGHT)
        self.channel = QComboBox()
        self.channel.setObjectName("channel")
        for code, label in PAY_CHANNELS:
            self.channel.addItem(_(label), code)
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
        form.addRow(_("Bills chosen"), QLabel(str(len(self.lines))))
        form.addRow(_("Bills due"), QLabel(money(self.due_fen)))
        form.addRow(_("Late fees to today"), QLabel(money(self.late_fen)))
        form.addRow(_("Total"), self.total_label)
        form.addRow(_("Amount received (over the total goes to prepaid)"), self.amount)
        form.addRow(_("Channel (Ctrl+1 to Ctrl+5)"), self.channel)
        self.tendered_label = QLabel(_("Cash tendered"))
        form.addRow(self.tendered_label, self.tendered)
        form.addRow(_("Change"), self.change)
        self.reference_label = QLabel(_("Terminal / transfer reference"))
        form.addRow(self.reference_label, self.reference)
        self.confirm = QPushButton(_("Confirm (Enter)"))
        self.confirm.setObjectName("confirm")
        self.confirm.setDefault(True)
        self.confirm.clicked.connect(self.submit)
        cancel = QPushButton(_("Cancel (Esc)"))
        cancel.clicked.connect(self.reject)
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        buttons.addWidget(cancel)
        buttons.addWidget(self.confirm)
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
            exp.addRow(_("Expected {channel}").format(channel=ch), lab)
        self.counted = QLabel(money(0))
        self.counted.setAlignment(RIGHT)
        self.diff = QLabel()
        self.diff.setObjectName("difference")
        self.diff.setAlignment(RIGHT)
        exp.addRow(_("Cash counted"), self.counted)
        exp.addRow(_("Difference"), self.diff)
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

    def counted_fen(self) -> int:
        return sum(d * s.value() for d, s in self.spins.items())

    def _recalc(self) -> None:
        self.counted.setText(money(self.counted_fen()))
        d = self.counted_fen() - self.expected_cash
        self.diff.setText(money(d) + ("" if d == 0 else (_(" (over)") if d > 0 else _(" (short)"))))

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
    ("Channel", "text", lambda c: c.channel),
    ("Payments", "int", lambda c: c.payments),
    ("Taken", "fen", lambda c: c.paid_fen),
    ("Refunds", "int", lambda c: c.refunds),
    ("Refunded", "fen", lambda c: c.refunded_fen),
    ("Net", "fen", lambda c: c.net_fen),
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
    ("House", "text", lambda h: h.house_code),
    ("Community", "text", lambda h: h.community),
    ("Owner", "text", lambda h: h.owner),
    ("Phone", "text", lambda h: h.phone),
]
LINE_COLUMNS = [
    ("Bill no.", "text", lambda ln: ln[0].bill_no),
    ("Item", "text", lambda ln: ln[0].item_name),
    ("Period", "text", lambda ln: ln[0].period),
    ("Due date", "date", lambda ln: ln[0].due_date),
    ("Outstanding", "fen", lambda ln: ln[0].outstanding_fen),
    ("Late fee", "fen", lambda ln: ln[1]),
]
BILL_COLUMNS = [
    ("Bill no.", "text", lambda b: b.bill_no),
    ("Period", "text", lambda b: b.period),
    ("Due date", "date", lambda b: b.due_date),
    ("Amount", "fen", lambda b: b.amount_fen),
    ("Paid", "fen", lambda b: b.paid_fen),
    ("Status", "text", lambda b: _(b.status)),
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
            (_("Void receipt (F7)"), "F7", billing.PERM_VOID, self.void),
            (_("Open shift (F9)"), "F9", "payments.shift.open", self.open_shift),
            (_("Close shift (F10)"), "F10", "payments.shift.close", self.close_shift),
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
        self.receipts = PagedListModel(self.ctx, RECEIPTS, {"house_id": str(uuid.UUID(int=0))}, page_rows=50)
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
        rv.addWidget(QLabel(_("Bills (unpaid first)")))
        rv.addWidget(self.bills_view, 2)
        rv.addWidget(QLabel(_("Receipts (F6 reprint, F7 void)")))
        rv.addWidget(self.receipts_view, 2)
        split = QSplitter()
        split.addWidget(left)
        split.addWidget(right)
        split.setSizes([420, 780])
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
                status=_(h.status),
            )
        )
        self.prepaid.setText(_("Prepaid balance: {amount}").format(amount=money(d.prepaid_fen)))
        self.lines.set_rows([(ln, d.late_fees.get(ln.id, 0)) for ln in d.lines])
        self.bills.set_rows(d.bills)
        self.receipts.set_filters({"house_id": str(h.id)})
        self.pay_btn.setEnabled(self.ctx.actor.can(billing.PERM_PAY))
        self._update_due()
        self.lines_view.setFocus()

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
            self.due_label.setText(_("Paid by QR code: order {no}").format(no=r.order_no))
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
        dlg.finished.connect(lambda _c: self.refresh_shift())
        dlg.open()
        return dlg


register_module(PropertyCounter)
