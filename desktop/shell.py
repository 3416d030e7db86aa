"""The app shell: login, the main window that hosts counter modules (`CounterModule`), lock screen and
switch user. A counter (property today, escrow later) is a module registered here, not a rewrite."""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QMainWindow,
    QStackedWidget,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from core.context import Actor, Context
from core.i18n import _
from core.security import services as security
from desktop.qt import ErrorLabel, Tasks, busy_bar
from desktop.sync_status import SyncIndicator


class CounterModule(Protocol):
    """A counter the main window can host. `permission` (a class attribute, read before the module is built)
    decides whether the actor sees it at all;
    `actions()` are the module's menu entries (each with its own shortcut), already filtered by permission."""

    title: str
    permission: str

    def widget(self) -> QWidget: ...

    def actions(self) -> list[QAction]: ...

    def activate(self) -> None: ...


ModuleFactory = Callable[[Context, Tasks, QWidget], CounterModule]
_FACTORIES: list[ModuleFactory] = []


def register_module(factory: ModuleFactory) -> None:
    """Add a counter to the app (called at import time by each counter's package)."""
    if factory not in _FACTORIES:
        _FACTORIES.append(factory)


def module_factories() -> list[ModuleFactory]:
    return list(_FACTORIES)


def role_title(code: str) -> str:
    """A role as the clerk reads it: the built-in role's translated name, else the role's code."""
    from core.security.permissions import BUILTIN_ROLES

    role = BUILTIN_ROLES.get(code)
    return _(role.name) if role is not None else code


class LoginDialog(QDialog):
    """User name and password; a wrong, locked or disabled account is named in a message under the form."""

    def __init__(
        self, ctx: Context, parent: QWidget | None = None, *, username: str = "", locked: bool = False
    ):
        super().__init__(parent)
        self.ctx = ctx
        self.actor: Actor | None = None
        self.setWindowTitle(_("Unlock") if locked else _("Log in — Anju counter"))
        self.username = QLineEdit(username)
        self.username.setObjectName("username")
        self.username.setReadOnly(locked)
        self.password = QLineEdit()
        self.password.setObjectName("password")
        self.password.setEchoMode(QLineEdit.EchoMode.Password)
        self.error = ErrorLabel()
        self.error.setObjectName("login_error")
        form = QFormLayout()
        form.addRow(_("User name"), self.username)
        form.addRow(_("Password"), self.password)
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        buttons.button(QDialogButtonBox.StandardButton.Ok).setText(_("Log in"))
        buttons.button(QDialogButtonBox.StandardButton.Cancel).setText(_("Cancel"))
        buttons.accepted.connect(self.try_login)
        buttons.rejected.connect(self.reject)
        title = QLabel(_("Anju property counter"))
        title.setStyleSheet("font-size: 18px; font-weight: bold;")
        layout = QVBoxLayout(self)
        layout.addWidget(title)
        layout.addLayout(form)
        layout.addWidget(self.error)
        layout.addWidget(buttons)
        (self.password if username else self.username).setFocus()
        self.setMinimumWidth(360)

    def try_login(self) -> None:
        try:
            self.actor = security.authenticate(self.ctx, self.username.text(), self.password.text())
        except Exception as exc:
            self.password.clear()
            self.error.show_error(exc)
            return
        self.accept()


class MainWindow(QMainWindow):
    """Hosts every counter module the actor may use; F12 locks, Ctrl+Shift+U switches user."""

    user_changed = Signal(object)

    def __init__(self, site_ctx: Context, actor: Actor) -> None:
        super().__init__()
        self.site_ctx = site_ctx
        self.tasks = Tasks(self)
        self.modules: list[CounterModule] = []
        self.stack = QStackedWidget()
        self.tabs = QTabWidget()
        self.lock_page = QWidget()
        self.lock_label = QLabel()
        self.lock_label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.lock_label.setStyleSheet("font-size: 20px;")
        self.unlock_password = QLineEdit()
        self.unlock_password.setObjectName("unlock_password")
        self.unlock_password.setEchoMode(QLineEdit.EchoMode.Password)
        self.unlock_password.setPlaceholderText(_("Password"))
        self.unlock_password.setMaximumWidth(300)
        self.unlock_password.returnPressed.connect(self.try_unlock)
        self.unlock_error = ErrorLabel()
        lock_layout = QVBoxLayout(self.lock_page)
        lock_layout.addStretch(1)
        lock_layout.addWidget(self.lock_label)
        lock_layout.addWidget(self.unlock_password, 0, Qt.AlignmentFlag.AlignHCenter)
        lock_layout.addWidget(self.unlock_error, 0, Qt.AlignmentFlag.AlignHCenter)
        lock_layout.addStretch(2)
        self.stack.addWidget(self.tabs)
        self.stack.addWidget(self.lock_page)
        self.progress = busy_bar()
        self.tasks.busy.connect(self.progress.setVisible)
        self.statusBar().addPermanentWidget(self.progress)
        self.who = QLabel()
        self.statusBar().addWidget(self.who)
        # Its own task runner: the minutely status refresh must not flash the window's busy bar.
        self.sync = SyncIndicator(Tasks(self), self)
        self.statusBar().addPermanentWidget(self.sync.label)
        self.setCentralWidget(self.stack)
        self.resize(1200, 760)
        self.start(actor)

    @property
    def ctx(self) -> Context:
        return self._ctx

    def start(self, actor: Actor) -> None:
        """(Re)build the window for `actor`: only the modules and actions their permissions allow."""
        self.actor = actor
        self._ctx = self.site_ctx.as_actor(actor)
        self.tabs.clear()
        self.menuBar().clear()
        self.modules = []
        session = self.menuBar().addMenu(_("&Session"))
        self.lock_action = self._action(session, _("Lock screen"), "F12", self.lock)
        self._action(session, _("Switch user"), "Ctrl+Shift+U", self.switch_user)
        self._action(session, _("Settings (Ctrl+,)"), "Ctrl+,", self.open_settings)
        if actor.can("sync.run"):
            self._action(session, _("Sync now"), "Ctrl+Shift+Y", self.sync.sync_now)
        self._action(session, _("Quit"), "Ctrl+Q", self.close)
        for factory in module_factories():
            # Asked before the module is built: building one reads what its permission guards.
            needed = getattr(factory, "permission", None)
            if isinstance(needed, str) and needed and not actor.can(needed):
                continue
            module = factory(self._ctx, self.tasks, self)
            if not actor.can(module.permission):
                continue
            self.modules.append(module)
            self.tabs.addTab(module.widget(), module.title)
            acts = module.actions()
            if acts:
                menu = self.menuBar().addMenu(module.title)
                for a in acts:
                    menu.addAction(a)
        if actor.can("reports.view"):
            reports = self.menuBar().addMenu(_("&Reports"))
            self.reports_action = self._action(
                reports, _("Reports… (Ctrl+Shift+P)"), "Ctrl+Shift+P", self.open_reports
            )
        if not self.modules:
            none = QLabel(_("Your roles give you no counter to work at. Ask an administrator."))
            none.setObjectName("no_modules")
            none.setAlignment(Qt.AlignmentFlag.AlignCenter)
            self.tabs.addTab(none, _("Counter"))
        self.who.setText(
            _("Logged in: {name} ({roles})").format(
                name=actor.display_name or actor.username, roles=", ".join(role_title(r) for r in actor.roles)
            )
        )
        self.setWindowTitle(_("Anju counter — {site}").format(site=self._site_name()))
        self.stack.setCurrentIndex(0)
        self.sync.set_context(self._ctx)
        self.user_changed.emit(actor)
        if self.modules:
            self.modules[0].activate()

    def _site_name(self) -> str:
        try:
            return self.site_ctx.site.name
        except Exception:
            return ""

    def _action(self, menu, text: str, keys: str, slot) -> QAction:
        a = QAction(text, self)
        a.setShortcut(QKeySequence(keys))
        a.triggered.connect(slot)
        menu.addAction(a)
        self.addAction(a)
        return a

    def open_settings(self):
        from desktop.settings_dialog import SettingsDialog

        dlg = SettingsDialog(self.site_ctx, self)
        self.last_dialog = dlg
        dlg.open()
        return dlg

    def open_reports(self):
        """The Reports dialog (preview, print, save); nothing for an actor without reports.view."""
        if not self.actor.can("reports.view"):
            return None
        from desktop.reports_panel import ReportsPanel

        dlg = ReportsPanel(self._ctx, self)
        self.last_dialog = dlg
        dlg.open()
        return dlg

    def lock(self) -> None:
        """Hide the work until the same user types their password again."""
        self.lock_label.setText(
            _("Screen locked by {name}. Type the password and press Enter.").format(name=self.actor.username)
        )
        self.unlock_error.clear_error()
        self.unlock_password.clear()
        self.stack.setCurrentIndex(1)
        self.menuBar().setEnabled(False)
        self.unlock_password.setFocus()

    @property
    def locked(self) -> bool:
        return self.stack.currentIndex() == 1

    def try_unlock(self) -> bool:
        """Only the user who locked the screen unlocks it (another clerk uses switch user)."""
        try:
            security.authenticate(self.site_ctx, self.actor.username, self.unlock_password.text())
        except Exception as exc:
            self.unlock_password.clear()
            self.unlock_error.show_error(exc)
            return False
        self.stack.setCurrentIndex(0)
        self.menuBar().setEnabled(True)
        if self.modules:
            self.modules[0].activate()
        return True

    def switch_user(self, dialog: LoginDialog | None = None) -> bool:
        dialog = dialog or LoginDialog(self.site_ctx, self)
        if dialog.exec() == QDialog.DialogCode.Accepted and dialog.actor is not None:
            self.menuBar().setEnabled(True)
            self.start(dialog.actor)
            return True
        return False
