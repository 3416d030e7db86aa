"""Start the counter app: Qt application, CJK font, login, main window with every registered counter."""

from __future__ import annotations

import sys

from PySide6.QtGui import QFont, QFontDatabase
from PySide6.QtWidgets import QApplication, QDialog

from core.context import Context


def application() -> QApplication:
    """The QApplication with the bundled CJK font, so Chinese renders anywhere (offscreen too), and garbage
    collected on the GUI thread only (desktop/collector.py: a collection in a pool thread could destroy Qt objects
    there and crash the app)."""
    app = QApplication.instance() or QApplication(sys.argv[:1])
    install_font()
    from desktop.collector import MainThreadGC

    if not _COLLECTOR:
        _COLLECTOR.append(MainThreadGC(app))
    _COLLECTOR[0].install()
    return app


_COLLECTOR: list = []


_FAMILY: list[str] = []


def install_font() -> str | None:
    if _FAMILY:
        return _FAMILY[0]
    from reports.fonts import cjk_font_path

    fid = QFontDatabase.addApplicationFont(str(cjk_font_path()))
    families = QFontDatabase.applicationFontFamilies(fid) if fid >= 0 else []
    if families:
        _FAMILY.append(families[0])
        QApplication.setFont(QFont(families[0], 10))
        return families[0]
    return None


def load_modules() -> None:
    """Import every counter package so it registers its module (a new counter adds one line here)."""
    import desktop.property.module  # noqa: F401


def show_login(site_ctx: Context):
    """The login window, shown as soon as possible: the counter modules (payments, property and their
    imports) load only after login, so starting the app waits for Qt and the security service alone."""
    from desktop.settings import apply_language
    from desktop.shell import LoginDialog

    apply_language(site_ctx)
    application()
    login = LoginDialog(site_ctx)
    login.show()
    return login


def run(site_ctx: Context) -> int:
    from desktop.shell import MainWindow

    app = application()
    login = show_login(site_ctx)
    if login.exec() != QDialog.DialogCode.Accepted or login.actor is None:
        return 1
    load_modules()
    window = MainWindow(site_ctx, login.actor)
    window.show()
    return app.exec()
