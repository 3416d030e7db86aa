"""The front desk's dialogs beside payments: ask for a refund of a receipt, register a walk-in owner's repair
request or complaint, sign an owner up for an activity (places and waiting list shown). Each calls one core
service off the UI thread and shows a refused input next to the field that caused it."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QFormLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from core.clock import BUSINESS_TZ
from core.context import Context
from core.i18n import N_, _
from core.property import counter
from core.property.activities import services as activities
from core.property.complaints import services as complaints
from core.property.repairs import services as repairs
from desktop.qt import RIGHT, ErrorLabel, Tasks, confirm_buttons, error_text, money

COMPLAINT_CATEGORIES = {
    "service": N_("Service"),
    "environment": N_("Environment"),
    "security": N_("Security"),
    "noise": N_("Noise"),
    "facility": N_("Facilities"),
    "fee": N_("Fees"),
    "neighbour": N_("Neighbours"),
    "other": N_("Other"),
}


class FormDialog(QDialog):
    """A form whose rows each carry an error label: a ValidationError naming a field shows under that field,
    anything else under the form. Enter submits (once at a time), Esc cancels."""

    def __init__(self, ctx: Context, tasks: Tasks, title: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx, self.tasks = ctx, tasks
        self.result_view: Any = None
        self.setWindowTitle(title)
        self.form = QFormLayout()
        self.field_errors: dict[str, ErrorLabel] = {}
        self.field_labels: dict[str, str] = {}
        self.error = ErrorLabel()
        self.error.setObjectName("form_error")
        self.confirm, buttons = confirm_buttons(self.submit, self.reject)
        self.layout_ = QVBoxLayout(self)
        self.layout_.addLayout(self.form)
        self.layout_.addWidget(self.error)
        self.layout_.addLayout(buttons)
        self.setMinimumWidth(480)

    def add_row(self, label: str, widget: QWidget, *fields: str) -> QWidget:
        """A labelled row; errors about any of `fields` appear right under it."""
        box = QWidget()
        v = QVBoxLayout(box)
        v.setContentsMargins(0, 0, 0, 0)
        v.addWidget(widget)
        err = ErrorLabel()
        v.addWidget(err)
        for f in fields:
            self.field_errors[f] = err
            self.field_labels[f] = label
            err.setObjectName(f"error_{f}")
        self.form.addRow(label, box)
        return widget

    def clear_errors(self) -> None:
        self.error.clear_error()
        for e in self.field_errors.values():
            e.clear_error()

    def show_failure(self, exc: BaseException) -> None:
        field = getattr(exc, "field", None) or ""
        label = self.field_errors.get(field)
        # Some services name the field only as `field=` (which the error keeps apart from its message's
        # parameters), leaving "{field}" in the text: the row's own label says it better.
        text = error_text(exc).replace("{field}", self.field_labels.get(field, field))
        (label or self.error).show_error(text)
        self.confirm.setEnabled(True)

    def call(self) -> Callable[[], Any]:
        """The service call to run (reads the form now, on the UI thread)."""
        raise NotImplementedError

    def submit(self) -> None:
        if not self.confirm.isEnabled():
            return
        self.clear_errors()
        try:
            fn = self.call()
        except Exception as exc:
            self.show_failure(exc)
            return
        self.confirm.setEnabled(False)
        self.tasks.run(fn, self.done_, self.show_failure)

    def done_(self, view: Any) -> None:
        self.result_view = view
        self.accept()


class RefundRequestDialog(FormDialog):
    """退款申请: a receipt, the amount and a reason; it goes to an approver, nothing is refunded yet."""

    def __init__(self, ctx: Context, tasks: Tasks, receipt, parent: QWidget | None = None) -> None:
        super().__init__(
            ctx, tasks, _("Ask for a refund of receipt {no}").format(no=receipt.receipt_no), parent
        )
        self.receipt = receipt
        self.add_row(_("Receipt no."), QLabel(f"{receipt.receipt_no}  {receipt.house_code}  {receipt.payer}"))
        total = QLabel(money(receipt.total_fen))
        total.setStyleSheet("font-size: 18px; font-weight: bold;")
        self.add_row(_("Receipt total"), total)
        self.amount = QLineEdit(money(receipt.total_fen).lstrip("¥"))
        self.amount.setObjectName("amount")
        self.amount.setAlignment(RIGHT)
        self.add_row(_("Amount to refund"), self.amount, "amount")
        self.reason = QLineEdit()
        self.reason.setObjectName("reason")
        self.add_row(_("Reason"), self.reason, "reason")
        note = QLabel(_("An approver decides; once approved, pay it out here (Ctrl+Shift+R)."))
        note.setWordWrap(True)
        self.layout_.insertWidget(1, note)
        self.reason.setFocus()

    def call(self) -> Callable[[], Any]:
        amount = counter.parse_fen(self.amount.text(), "amount")
        rid, reason, job_ctx = self.receipt.id, self.reason.text(), self.ctx.as_actor(self.ctx.actor)
        return lambda: counter.request_refund(job_ctx, rid, amount, reason)


def _owner_combo(detail: counter.HouseDetail) -> QComboBox:
    box = QComboBox()
    box.setObjectName("owner")
    for o in detail.owners:
        box.addItem(f"{o.name} {o.phone or ''}".strip(), o.id)
    if not detail.owners:
        box.addItem(_("(no owner recorded)"), None)
    return box


class RepairDialog(FormDialog):
    """报修 for a walk-in owner: the house, the kind of repair and what is wrong; opens a work order."""

    def __init__(
        self, ctx: Context, tasks: Tasks, detail: counter.HouseDetail, types, parent: QWidget | None = None
    ) -> None:
        super().__init__(ctx, tasks, _("Repair request — {house}").format(house=detail.house.code), parent)
        self.detail = detail
        self.owner = self.add_row(_("Owner"), _owner_combo(detail), "owner_id")
        self.kind = QComboBox()
        self.kind.setObjectName("repair_type")
        for t in types:
            if t.active:
                self.kind.addItem(t.name, t.code)
        self.add_row(_("Kind of repair"), self.kind, "repair_type")
        self.description = QPlainTextEdit()
        self.description.setObjectName("description")
        self.description.setTabChangesFocus(True)
        self.description.setMaximumHeight(90)
        self.add_row(_("What is wrong"), self.description, "description")
        self.contact = QLineEdit()
        self.contact.setObjectName("contact")
        self.add_row(_("Contact person (if not the owner)"), self.contact, "contact_name")
        if self.kind.count() == 0:
            self.field_errors["repair_type"].show_error(
                _("No repair kinds are defined yet; ask the back office to add them.")
            )
        self.description.setFocus()

    def call(self) -> Callable[[], Any]:
        d, job_ctx = self.detail, self.ctx.as_actor(self.ctx.actor)
        kw = {
            "community_id": d.house.community_id,
            "repair_type": self.kind.currentData() or "",
            "description": self.description.toPlainText(),
            "house_id": d.house.id,
            "owner_id": self.owner.currentData(),
            "contact_name": self.contact.text().strip() or None,
        }
        return lambda: repairs.report(job_ctx, **kw)


class ComplaintDialog(FormDialog):
    """投诉 for a walk-in owner: a category and what happened; opens a complaint ticket."""

    def __init__(
        self, ctx: Context, tasks: Tasks, detail: counter.HouseDetail, parent: QWidget | None = None
    ):
        super().__init__(ctx, tasks, _("Complaint — {house}").format(house=detail.house.code), parent)
        self.detail = detail
        self.owner = self.add_row(_("Owner"), _owner_combo(detail), "owner_id")
        self.category = QComboBox()
        self.category.setObjectName("category")
        for code in complaints.CATEGORIES:
            self.category.addItem(_(COMPLAINT_CATEGORIES.get(code, code)), code)
        self.add_row(_("Category"), self.category, "category")
        self.content = QPlainTextEdit()
        self.content.setObjectName("content")
        self.content.setTabChangesFocus(True)
        self.content.setMaximumHeight(110)
        self.add_row(_("What happened"), self.content, "content")
        self.content.setFocus()

    def call(self) -> Callable[[], Any]:
        d, job_ctx = self.detail, self.ctx.as_actor(self.ctx.actor)
        kw = {
            "community_id": d.house.community_id,
            "category": self.category.currentData(),
            "content": self.content.toPlainText(),
            "house_id": d.house.id,
            "owner_id": self.owner.currentData(),
        }
        return lambda: complaints.submit_complaint(job_ctx, **kw)


def activity_text(a: counter.ActivityLine) -> str:
    when = a.starts_at.astimezone(BUSINESS_TZ).strftime("%m-%d %H:%M")
    fee = money(a.fee_fen) if a.fee_fen else _("no fee")
    return _("{title} · {when} · {place} · {fee} · {taken}/{capacity} taken, {waiting} waiting").format(
        title=a.title,
        when=when,
        place=a.place,
        fee=fee,
        taken=f"{a.confirmed:,}",
        capacity=f"{a.capacity:,}",
        waiting=f"{a.waiting:,}",
    )


class SignupDialog(FormDialog):
    """Sign an owner up for an activity: each activity with its places taken and waiting list; a full one
    puts the owner on the waiting list (the dialog says so before confirming)."""

    def __init__(
        self,
        ctx: Context,
        tasks: Tasks,
        detail: counter.HouseDetail,
        open_activities: list[counter.ActivityLine],
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(ctx, tasks, _("Activity sign-up — {house}").format(house=detail.house.code), parent)
        self.detail, self.activities = detail, list(open_activities)
        self.activity = QComboBox()
        self.activity.setObjectName("activity")
        for a in self.activities:
            self.activity.addItem(activity_text(a), a.id)
        self.add_row(_("Activity"), self.activity, "activity_id")
        self.owner = self.add_row(_("Owner"), _owner_combo(detail), "owner_id")
        self.party = QSpinBox()
        self.party.setObjectName("party_size")
        self.party.setRange(1, 20)
        self.party.setAlignment(RIGHT)
        self.add_row(_("People"), self.party, "party_size")
        self.places = QLabel()
        self.places.setObjectName("places")
        self.add_row(_("Places"), self.places)
        self.activity.currentIndexChanged.connect(self._places)
        self.party.valueChanged.connect(self._places)
        if not self.activities:
            self.field_errors["activity_id"].show_error(_("No activity is open for sign-up."))
        self._places()
        self.activity.setFocus()

    def _places(self) -> None:
        i = self.activity.currentIndex()
        if not 0 <= i < len(self.activities):
            self.places.setText("")
            return
        a = self.activities[i]
        if a.waiting or a.free < self.party.value():
            self.places.setText(
                _("Full: the owner joins the waiting list ({n} waiting).").format(n=f"{a.waiting:,}")
            )
            self.places.setStyleSheet("color: #b35c00; font-weight: bold;")
        else:
            self.places.setText(_("{n} places left.").format(n=f"{a.free:,}"))
            self.places.setStyleSheet("color: #0b6e4f;")

    def call(self) -> Callable[[], Any]:
        aid: uuid.UUID | None = self.activity.currentData()
        if aid is None:
            from core.errors import ValidationError

            raise ValidationError(N_("Choose an activity."), field="activity_id")
        owner_id = self.owner.currentData()
        if owner_id is None:
            from core.errors import ValidationError

            raise ValidationError(N_("The house has no owner recorded to sign up."), field="owner_id")
        job_ctx, party, house_id = self.ctx.as_actor(self.ctx.actor), self.party.value(), self.detail.house.id
        return lambda: activities.signup(job_ctx, aid, owner_id, party_size=party, house_id=house_id)
