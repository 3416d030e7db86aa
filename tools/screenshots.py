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
    build_site(ctx)
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
    counter.pay_selected()
    dlg = counter.last_dialog
    dlg.tendered.setText("1000")
    app.processEvents()
    dlg.grab().save(str(out / "03_pay.png"))
    dlg.submit()
    wait_until(app, lambda: not w.tasks.running and dlg.result is not None)
    wait_until(app, lambda: counter.last_dialog is not dlg)
    app.processEvents()
    counter.last_dialog.grab().save(str(out / "04_receipt.png"))
    counter.last_dialog.accept()

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
    print(f"screenshots in {out}")


if __name__ == "__main__":
    main(Path(sys.argv[1] if len(sys.argv) > 1 else "/tmp/anju_shots"))
