"""Grab the counter app's main screens to PNG for review: `python tools/screenshots.py OUT_DIR`."""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def wait_until(app, pred, timeout_s: float = 20.0) -> None:
    """Process events until `pred()` holds, pausing between rounds. A tight processEvents() loop calling
    into PySide millions of times crashed the interpreter (a None refcount leak in the binding)."""
    import time

    from PySide6.QtCore import QEventLoop

    end = time.monotonic() + timeout_s
    while not pred():
        if time.monotonic() > end:
            raise TimeoutError("the app did not finish in time")
        app.processEvents(QEventLoop.ProcessEventsFlag.AllEvents, 50)
        time.sleep(0.01)


def main(out: Path) -> None:
    from core.clock import FakeClock
    from core.db.engine import Database
    from desktop.app import application, load_modules
    from desktop.property.module import SummaryDialog
    from desktop.shell import LoginDialog, MainWindow
    from tests.conftest import build_schema, make_site_context
    from tests.desktop.conftest import PASSWORD, build_site

    out.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp())
    db = Database(f"sqlite:///{tmp / 'site.db'}")
    build_schema(db)
    ctx = make_site_context(db, FakeClock(), tmp / "home")
    data = build_site(ctx)
    front_desk_data(ctx, data)
    app = application()
    load_modules()
    login = LoginDialog(ctx)
    login.username.setText("cashier1")
    login.show()
    app.processEvents()
    login.grab().save(str(out / "01_login.png"))
    login.password.setText(PASSWORD)
    login.try_login()
    w = MainWindow(ctx, login.actor)
    w.show()
    counter = w.modules[0]
    counter.open_shift("200.00")
    counter.search.setText("1-1-")
    counter.run_search()
    wait_until(app, lambda: not w.tasks.running)
    counter.timer.stop()
    counter.open_first()
    wait_until(app, lambda: not w.tasks.running)
    app.processEvents()
    w.grab().save(str(out / "02_house.png"))
    for i, name in ((4, "02b_house_parking"), (6, "02c_house_activities")):
        counter.panel_tabs.setCurrentIndex(i)
        app.processEvents()
        w.grab().save(str(out / f"{name}.png"))
    counter.panel_tabs.setCurrentIndex(0)
    counter.pay_selected()
    dlg = counter.last_dialog
    dlg.tendered.setText("5000")
    app.processEvents()
    dlg.grab().save(str(out / "03_pay.png"))
    dlg.submit()
    wait_until(app, lambda: not w.tasks.running and dlg.result is not None)
    wait_until(app, lambda: counter.last_dialog is not dlg)
    app.processEvents()
    receipt = counter.last_dialog
    receipt.grab().save(str(out / "04_receipt.png"))
    preview = receipt.print_preview(show=False)
    preview.show()
    preview.page_count()
    app.processEvents()
    preview.grab().save(str(out / "04b_print_preview_a5.png"))
    preview.close()
    receipt.accept()

    counter.receipts_view.selectRow(0)
    dlg = counter.request_refund()
    dlg.reason.setText("业主多缴，申请退款")
    dlg.amount.setText("1.00")
    dlg.submit()
    wait_until(app, lambda: not w.tasks.running)
    app.processEvents()
    dlg.grab().save(str(out / "07_refund_request.png"))
    dlg.reject()
    for name, opener in (
        ("08_repair", counter.register_repair),
        ("09_complaint", counter.register_complaint),
    ):
        form = opener()
        form.submit()  # empty: the error shows under the field that caused it
        wait_until(app, lambda: not w.tasks.running)
        app.processEvents()
        form.grab().save(str(out / f"{name}.png"))
        form.reject()
    signup = counter.sign_up()
    signup.party.setValue(3)
    app.processEvents()
    signup.grab().save(str(out / "10_signup.png"))
    signup.reject()
    settings = w.open_settings()
    app.processEvents()
    settings.grab().save(str(out / "11_settings.png"))
    settings.reject()

    counter.show_summary()
    wait_until(app, lambda: isinstance(counter.last_dialog, SummaryDialog))
    app.processEvents()
    counter.last_dialog.grab().save(str(out / "05_summary.png"))
    counter.last_dialog.accept()

    # A WeChat QR order through a stand-in channel adapter (the simulator is a separate server).
    from core.context import Actor
    from tests.desktop.test_qr import FakeChannels

    a = counter.ctx.actor
    counter.ctx = counter.ctx.as_actor(
        Actor(a.user_id, a.username, a.display_name, a.roles, a.permissions | {"payments.pay"})
    )
    counter.search.setText("1-1-102")
    counter.run_search()
    wait_until(app, lambda: not w.tasks.running)
    counter.timer.stop()
    counter.open_first()
    wait_until(app, lambda: not w.tasks.running)
    counter.pay_selected()
    pay = counter.last_dialog
    pay.channels = FakeChannels()
    pay.channel.setCurrentIndex(pay.channel.findData("wechat"))
    pay.submit()
    wait_until(app, lambda: pay.qr_dialog is not None)
    app.processEvents()
    pay.qr_dialog.grab().save(str(out / "06_qr.png"))
    pay.qr_dialog.cancel()
    wait_until(app, lambda: not w.tasks.running)

    close = counter.close_shift()
    close.spins[10000].setValue(12)
    close.reason.setText("找零差错")
    app.processEvents()
    close.grab().save(str(out / "12_close_shift.png"))
    close.submit()
    wait_until(app, lambda: not w.tasks.running and close.result is not None)
    app.processEvents()
    slip = counter.print_handover()
    slip.page_count()
    app.processEvents()
    slip.grab().save(str(out / "13_handover_preview.png"))
    print(f"screenshots in {out}")


def front_desk_data(ctx, data) -> None:
    """What the house panels show: a deposit, a parking space and vehicle, a repair kind, an activity."""
    from datetime import timedelta

    from core.property import billing
    from core.property.activities import services as activities
    from core.property.parking import services as parking
    from core.property.repairs import services as repairs

    c, house, owner = data["community"], data["houses"][0], data["owner"]
    billing.create_fee_item(ctx, c.id, "DEP", "装修保证金", "deposit", cycle="once", amount_fen=300_000)
    billing.charge_once(ctx, house.id, "DEP")
    area = parking.create_area(ctx, c.id, "B1", "地下车库", "underground")
    space = parking.add_spaces(ctx, area.id, ["B1-008"], kind="fixed")[0]
    parking.assign_space(ctx, space.id, house.id, owner.id)
    parking.register_vehicle(ctx, c.id, owner.id, "京A12345", house_id=house.id)
    repairs.define_repair_type(ctx, "water", "水电维修", response_minutes=60, completion_minutes=480)
    repairs.report(ctx, community_id=c.id, repair_type="water", description="卫生间下水道堵塞",
                   house_id=house.id, owner_id=owner.id)  # fmt: skip
    now = ctx.clock.now()
    for title, capacity in (("中秋游园会", 2), ("社区义诊", 30)):
        a = activities.plan(
            ctx, community_id=c.id, title=title, content="欢迎参加", place="中心广场",
            starts_at=now + timedelta(days=3), ends_at=now + timedelta(days=3, hours=2), capacity=capacity,
        )  # fmt: skip
        activities.publish(ctx, a.id)


if __name__ == "__main__":
    main(Path(sys.argv[1] if len(sys.argv) > 1 else "/tmp/anju_shots"))
