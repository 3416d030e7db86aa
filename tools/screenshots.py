"""Grab the counter app's main screens to PNG for review: `python tools/screenshots.py OUT_DIR`."""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def main(out: Path) -> None:
    from core.clock import FakeClock
    from core.db.engine import Database
    from desktop.app import application, load_modules
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
    while w.tasks.running:
        app.processEvents()
    counter.timer.stop()
    counter.open_first()
    while w.tasks.running:
        app.processEvents()
    app.processEvents()
    w.grab().save(str(out / "02_house.png"))
    counter.pay_selected()
    dlg = counter.last_dialog
    dlg.tendered.setText("1000")
    app.processEvents()
    dlg.grab().save(str(out / "03_pay.png"))
    dlg.submit()
    while w.tasks.running or dlg.result is None:
        app.processEvents()
    app.processEvents()
    counter.last_dialog.grab().save(str(out / "04_receipt.png"))
    print(f"screenshots in {out}")


if __name__ == "__main__":
    main(Path(sys.argv[1] if len(sys.argv) > 1 else "/tmp/anju_shots"))
