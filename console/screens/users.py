"""Users and roles: the paged list of accounts; add one, disable or enable, reset a password, choose roles,
unlock. Every change goes through core.security.services, which checks the rules (no granting what you do
not hold, never the last administrator, not your own roles) — a refusal is shown on the message line."""

from __future__ import annotations

from typing import Any

from textual.app import ComposeResult

from console.keys import bindings
from console.screens.base import WorkScreen
from console.screens.dialogs import ChoiceDialog, ConfirmDialog
from console.widgets.form import FormDialog, FormField
from console.widgets.paged_table import PagedTable
from core.i18n import _
from core.security import services as security


class UsersScreen(WorkScreen):
    """用户与角色 — user accounts."""

    PLACE = "users"
    SCOPES = ("users", "list")
    BINDINGS = bindings("back", "users")

    def body(self) -> ComposeResult:
        yield PagedTable("users", self.context, export_dir=self.app.export_dir, id="users-list")

    def on_mount(self) -> None:
        super().on_mount()
        self.query_one("#users-list .rows").focus()

    def reload(self) -> None:
        self.query_one(PagedTable).refresh_rows()

    def _selected(self) -> dict[str, Any] | None:
        row = self.query_one(PagedTable).current_row()
        if row is None:
            self.say_error(_("Choose a user in the list first."))
        return row

    def _changed(self, message: str) -> None:
        self.say(message)
        self.query_one(PagedTable).refresh_rows()

    # ------------------------------------------------------------------------------------ actions

    def action_add_user(self) -> None:
        fields = [
            FormField("username", _("User name"), max_length=200),
            FormField("display_name", _("Name"), max_length=200),
            FormField("password", _("Password"), password=True, max_length=200),
            FormField("roles", _("Roles (codes, separated by commas)"), max_length=200),
        ]

        def answered(values: dict[str, str] | None) -> None:
            if values is None:
                return
            roles = [r.strip() for r in values["roles"].replace("，", ",").split(",") if r.strip()]
            self.call(
                security.add_user,
                values["username"],
                values["password"],
                display_name=values["display_name"],
                roles=roles,
                done=lambda user: self._changed(_("User {username} added.").format(username=user.username)),
            )

        self.app.push_screen(FormDialog(_("New user"), fields, ok=_("Add")), answered)

    def action_toggle_user(self) -> None:
        row = self._selected()
        if row is None:
            return
        username = row["username"]
        if row["status"] == "active":
            question = _("Disable user {username}? They will not be able to log in.").format(
                username=username
            )

            def answered(yes: bool | None) -> None:
                if yes:
                    self.call(
                        security.disable_user,
                        username,
                        done=lambda _r: self._changed(
                            _("User {username} disabled.").format(username=username)
                        ),
                    )

            self.app.push_screen(ConfirmDialog(question, _("Disable")), answered)
        else:
            self.call(
                security.enable_user,
                username,
                done=lambda _r: self._changed(_("User {username} enabled.").format(username=username)),
            )

    def action_reset_password(self) -> None:
        row = self._selected()
        if row is None:
            return
        username = row["username"]

        def answered(values: dict[str, str] | None) -> None:
            if values is None:
                return
            if values["password"] != values["again"]:
                self.say_error(_("The two passwords differ."))
                return
            self.call(
                security.change_password,
                username,
                values["password"],
                done=lambda _r: self._changed(
                    _("The password of {username} was reset.").format(username=username)
                ),
            )

        fields = [
            FormField("password", _("New password"), password=True, max_length=200),
            FormField("again", _("New password again"), password=True, max_length=200),
        ]
        title = _("Reset the password of {username}").format(username=username)
        self.app.push_screen(FormDialog(title, fields), answered)

    def action_set_roles(self) -> None:
        row = self._selected()
        if row is None:
            return
        username = row["username"]
        current = {r for r in (row["roles"] or "").split(",") if r}
        self.call(security.list_roles, done=lambda roles: self._choose_roles(username, current, roles))

    def _choose_roles(self, username: str, current: set[str], roles: list[security.RoleView]) -> None:
        options = [(r.code, f"{r.title} ({r.code})") for r in roles]

        def answered(chosen: list[str] | None) -> None:
            if chosen is None:
                return
            self.call(
                security.set_roles,
                username,
                chosen,
                done=lambda _r: self._changed(_("Roles of {username} saved.").format(username=username)),
            )

        title = _("Roles of {username}").format(username=username)
        self.app.push_screen(ChoiceDialog(title, options, current), answered)

    def action_unlock_user(self) -> None:
        row = self._selected()
        if row is None:
            return
        username = row["username"]
        self.call(
            security.unlock_user,
            username,
            done=lambda _r: self._changed(_("User {username} unlocked.").format(username=username)),
        )
