"""The counter beyond payments: the void permission, refunds through approval and paid out at the counter,
print previews (receipt on A5 / 三联, handover slip), walk-in repair requests, complaints and activity
sign-ups, the house's panels, and the settings file."""

from __future__ import annotations

from datetime import timedelta

import pytest
from PySide6.QtWidgets import QDialog, QLabel

from core.context import Actor
from core.errors import PermissionDenied, StateError, ValidationError
from core.payments import services as payments
from core.property import billing
from core.property import counter as svc
from core.property.activities import services as activities
from core.property.parking import services as parking
from core.property.repairs import services as repairs
from core.security import services as security
from core.workflow import services as wf
from desktop import settings as desktop_settings
from desktop.printing import PreviewDialog
from desktop.property.frontdesk import ComplaintDialog, RefundRequestDialog, RepairDialog, SignupDialog
from tests.desktop.conftest import PASSWORD
from tests.desktop.test_counter_app import find_and_open, idle, ledger_ok, login, window
from tests.desktop.test_summary import pay


def narrowed(ctx, *permissions: str):
    """The clerk with exactly `permissions` (a role made for the test)."""
    a = ctx.actor
    return ctx.as_actor(Actor(a.user_id, a.username, a.display_name, ("test",), frozenset(permissions)))


def cash_payment(clerk, house_id):
    line = svc.house_detail(clerk, house_id).lines[0]
    return pay(
        clerk, house_id, [line.bill_id], line.outstanding_fen, "cash", tendered_fen=line.outstanding_fen
    )


def test_voiding_in_ones_shift_needs_only_the_counter_void_permission(qtbot, site):
    ctx, data = site
    _w, counter = window(qtbot, ctx)
    counter.open_shift("100.00")
    house = data["houses"][0].id
    r = cash_payment(counter.ctx, house)
    base = ("property.view", "payments.view", "property.counter.pay")
    without = narrowed(counter.ctx, *base)
    with pytest.raises(PermissionDenied):
        svc.void_receipt(without, r.receipt.id, "录错")
    assert billing.get_receipt(ctx, r.receipt.id).status == "issued"
    # Neither property.counter.void nor payments.refund: the counter's own permission is enough.
    only_counter = narrowed(counter.ctx, *base, svc.PERM_VOID)
    view = svc.void_receipt(only_counter, r.receipt.id, "录错")
    assert view.status == "voided"
    order = payments.get_order(ctx, order_no=r.order_no)
    assert order.refunded_fen == r.receipt.total_fen
    assert ledger_ok(ctx)


def test_refund_asked_approved_by_someone_else_then_paid_out_once(qtbot, site):
    ctx, data = site
    security.add_user(ctx, "approver1", PASSWORD, roles=["approver"])
    w, counter = window(qtbot, ctx)
    counter.open_shift("500.00")
    house = data["houses"][0].id
    r = cash_payment(counter.ctx, house)
    find_and_open(qtbot, w, counter, "1-1-101")
    counter.receipts_view.selectRow(0)

    # Ctrl+R: the dialog shows a refused amount next to the amount field, and nothing is asked.
    dlg = counter.request_refund()
    assert isinstance(dlg, RefundRequestDialog)
    dlg.amount.setText("1.00")
    dlg.reason.setText("业主多缴")
    dlg.submit()
    idle(qtbot, w)
    assert (
        dlg.field_errors["amount"].isVisibleTo(dlg) and "whole receipt" in dlg.field_errors["amount"].text()
    )
    assert svc.refund_requests(counter.ctx, house) == []
    dlg.amount.setText(f"{r.receipt.total_fen / 100:.2f}")
    dlg.reason.setText("")
    dlg.submit()
    idle(qtbot, w)
    assert dlg.field_errors["reason"].isVisibleTo(dlg)
    dlg.reason.setText("业主多缴")
    dlg.submit()
    qtbot.waitUntil(lambda: dlg.result() == QDialog.DialogCode.Accepted, timeout=5000)
    idle(qtbot, w)
    assert [(x.receipt_no, x.status) for x in counter.refunds.items] == [(r.receipt.receipt_no, "pending")]

    # Before approval nothing can be paid out; the clerk cannot approve their own request.
    counter.pay_out()
    assert "no approved refund" in counter.action_error.text()
    counter.refunds_view.selectRow(0)
    counter.pay_out()
    idle(qtbot, w)
    assert "only an approved refund" in counter.action_error.text()
    request_id = counter.refunds.items[0].id
    with pytest.raises(PermissionDenied):
        wf.approve(counter.ctx, request_id)
    approver = login(qtbot, ctx, "approver1").actor
    wf.approve(ctx.as_actor(approver), request_id)

    counter.load_panels(house)
    idle(qtbot, w)
    assert counter.refunds.items[0].status == "approved"
    counter.pay_out()
    idle(qtbot, w)
    assert billing.get_receipt(ctx, r.receipt.id).status == "voided"
    order = payments.get_order(ctx, order_no=r.order_no)
    assert order.status == "REFUNDED" and order.refunded_fen == r.receipt.total_fen
    assert len(billing.outstanding(ctx, house)) == 2  # the bill is owed again
    assert svc.refund_requests(counter.ctx, house)[0].status == "paid"
    with pytest.raises(StateError):
        svc.pay_out_refund(counter.ctx, request_id)
    summary = svc.shift_summary(counter.ctx)
    assert summary.refunded_fen == r.receipt.total_fen  # the cash left this clerk's drawer
    assert ledger_ok(ctx)


def test_refund_request_refused_for_void_receipt_and_bad_input(qtbot, site):
    ctx, data = site
    _w, counter = window(qtbot, ctx)
    counter.open_shift("100.00")
    r = cash_payment(counter.ctx, data["houses"][0].id)
    with pytest.raises(ValidationError) as e:
        svc.request_refund(counter.ctx, r.receipt.id, 0, "x")
    assert e.value.field == "amount"
    svc.void_receipt(counter.ctx, r.receipt.id, "录错")
    with pytest.raises(StateError):
        svc.request_refund(counter.ctx, r.receipt.id, r.receipt.total_fen, "退款")
    with pytest.raises(PermissionDenied):
        svc.request_refund(narrowed(counter.ctx, "property.view"), r.receipt.id, r.receipt.total_fen, "退款")


def test_receipt_print_preview_pages_by_paper_and_handover_slip(qtbot, site, tmp_path):
    ctx, data = site
    w, counter = window(qtbot, ctx)
    counter.open_shift("200.00")
    r = cash_payment(counter.ctx, data["houses"][0].id)
    receipt_dlg = counter.show_receipt(r.receipt)
    preview = receipt_dlg.print_preview(show=False)
    qtbot.addWidget(preview)
    assert isinstance(preview, PreviewDialog) and preview.page_count() == 1  # A5 by default
    desktop_settings.save(ctx, desktop_settings.DesktopSettings(paper="triplicate"))
    receipt_dlg = counter.show_receipt(r.receipt)
    preview = receipt_dlg.print_preview(show=False)
    qtbot.addWidget(preview)
    assert preview.page_count() == 3  # one page per ply
    pdf = receipt_dlg.print_to_pdf(str(tmp_path / "three.pdf"))
    assert pdf and (tmp_path / "three.pdf").read_bytes()[:4] == b"%PDF"

    # Ctrl+H before closing says what to do; after closing with a shortage, the slip previews.
    assert counter.print_handover() is None and counter.action_error.text()
    close = counter.close_shift()
    close.spins[10000].setValue(2)
    close.reason.setText("找零差错")
    close.submit()
    qtbot.waitUntil(lambda: close.result is not None, timeout=5000)
    idle(qtbot, w)
    slip = counter.print_handover()
    qtbot.addWidget(slip)
    assert slip.page_count() >= 1
    assert counter.last_closed_shift.shift_no in slip.html and "找零差错" in slip.html


@pytest.fixture
def frontdesk(site):
    ctx, data = site
    c = data["community"]
    repairs.define_repair_type(ctx, "water", "水电维修", response_minutes=60, completion_minutes=480)
    now = ctx.clock.now()
    a = activities.plan(
        ctx, community_id=c.id, title="中秋游园会", content="猜灯谜", place="中心广场",
        starts_at=now + timedelta(days=3), ends_at=now + timedelta(days=3, hours=2), capacity=2,
    )  # fmt: skip
    activities.publish(ctx, a.id)
    return ctx, data, a


def test_walk_in_repair_complaint_and_signup_with_waiting_list(qtbot, frontdesk):
    ctx, data, _activity = frontdesk
    w, counter = window(qtbot, ctx)
    assert counter.register_repair() is None and "Find and open a house" in counter.action_error.text()
    find_and_open(qtbot, w, counter, "1-1-101")
    house = data["houses"][0].id

    dlg = counter.register_repair()
    assert isinstance(dlg, RepairDialog) and dlg.kind.count() == 1
    dlg.submit()  # no description: the error sits under the description
    idle(qtbot, w)
    assert dlg.field_errors["description"].isVisibleTo(dlg)
    dlg.description.setPlainText("厨房水管漏水")
    dlg.submit()
    qtbot.waitUntil(lambda: dlg.result_view is not None, timeout=5000)
    idle(qtbot, w)
    assert [o.description for o in repairs.list_orders(ctx, house_id=house)] == ["厨房水管漏水"]
    assert [x.description for x in counter.repairs.items] == ["厨房水管漏水"]

    c = counter.register_complaint()
    assert isinstance(c, ComplaintDialog)
    c.content.setPlainText("楼道灯坏了一周")
    c.submit()
    qtbot.waitUntil(lambda: c.result_view is not None, timeout=5000)
    assert c.result_view.house_id == house and c.result_view.category == "service"

    s = counter.sign_up()
    assert isinstance(s, SignupDialog) and "0/2" in s.activity.currentText()
    s.party.setValue(3)
    assert "waiting list" in s.places.text()
    s.party.setValue(2)
    s.submit()
    qtbot.waitUntil(lambda: s.result_view is not None, timeout=5000)
    assert s.result_view.status == "confirmed"
    idle(qtbot, w)
    assert [(a.confirmed, a.waiting) for a in counter.activities.items] == [(2, 0)]
    again = counter.sign_up()
    again.submit()  # the same owner twice: refused, shown in the dialog
    idle(qtbot, w)
    assert again.result_view is None and (
        again.error.text() or any(e.text() for e in again.field_errors.values())
    )


def test_house_panels_deposits_parking_repairs_and_roles(qtbot, frontdesk):
    ctx, data, _a = frontdesk
    c, house, owner = data["community"], data["houses"][0], data["owner"]
    billing.create_fee_item(ctx, c.id, "DEP", "装修保证金", "deposit", cycle="once", amount_fen=300_000)
    deposit_bill = billing.charge_once(ctx, house.id, "DEP")
    area = parking.create_area(ctx, c.id, "B1", "地下车库", "underground")
    space = parking.add_spaces(ctx, area.id, ["B1-008"], kind="fixed")[0]
    parking.assign_space(ctx, space.id, house.id, owner.id)
    w, counter = window(qtbot, ctx)
    counter.open_shift("0")
    pay(counter.ctx, house.id, [deposit_bill], 300_000, "cash", tendered_fen=300_000)  # the deposit is paid
    find_and_open(qtbot, w, counter, "1-1-101")
    idle(qtbot, w)
    assert [(d.item_name, d.paid_fen, d.balance_fen, d.status) for d in counter.deposits.items] == [
        ("装修保证金", 300_000, 300_000, "held")
    ]
    assert [p.space for p in counter.parking.items] == ["地下车库 B1-008"]
    assert counter.panel_note.text() == ""
    # A role without parking, repairs or activities sees those tabs disabled and named.
    narrow = svc.house_panels(narrowed(counter.ctx, "property.view"), house.id)
    assert narrow.parking is None and narrow.repairs is None and narrow.activities is None
    assert narrow.deposits is not None


def test_panel_models_pass_the_model_tester(qtbot, qtmodeltester, frontdesk):
    ctx, _data, _a = frontdesk
    w, counter = window(qtbot, ctx)
    find_and_open(qtbot, w, counter, "1-1-101")
    idle(qtbot, w)
    for model in (counter.refunds, counter.deposits, counter.parking, counter.repairs, counter.activities):
        qtmodeltester.check(model, force_py=True)


def test_settings_saved_in_the_site_directory_and_language_applied_at_start(qtbot, site):
    from core.i18n import current_language, set_language
    from desktop.app import show_login

    ctx, _data = site
    w, _counter = window(qtbot, ctx)
    dlg = w.open_settings()
    assert str(ctx.home.root) in dlg.findChild(QLabel, "site_dir").text()
    dlg.paper.setCurrentIndex(dlg.paper.findData("A4"))
    dlg.language.setCurrentIndex(dlg.language.findData("en"))
    dlg.submit()
    assert dlg.saved == desktop_settings.DesktopSettings("", "A4", "en")
    assert desktop_settings.load(ctx).paper == "A4"
    before = current_language()
    try:
        login_dlg = show_login(ctx)
        qtbot.addWidget(login_dlg)
        assert current_language() == "en" and login_dlg.windowTitle() == "Log in — Anju counter"
    finally:
        set_language(before)
    with pytest.raises(ValidationError):
        desktop_settings.save(ctx, desktop_settings.DesktopSettings(paper="B5"))
    (ctx.home.root / desktop_settings.FILENAME).write_text("{not json", encoding="utf-8")
    assert desktop_settings.load(ctx).paper == "A5"  # a broken file never stops the counter


def test_a_shift_running_past_midnight_still_voids_its_own_receipts(qtbot, site):
    ctx, data = site
    _w, counter = window(qtbot, ctx)
    counter.open_shift("100.00")
    house = data["houses"][0].id
    r = cash_payment(counter.ctx, house)
    ctx.clock.advance(days=1)  # the late shift is still open the next business day
    shift = svc.my_open_shift(counter.ctx)
    assert shift is not None and shift.status == "OPEN"
    assert svc.void_receipt(counter.ctx, r.receipt.id, "录错").status == "voided"
