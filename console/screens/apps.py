"""Apps and keys (接入应用): the business lines and external systems that pay through the hub. Adding an app
shows its id and signing secret once (core.payments.services.add_app keeps only the encrypted secret)."""

from __future__ import annotations

from textual.app import ComposeResult

import core.payments.console_reads as reads
from console.keys import bindings
from console.screens.base import WorkScreen
from console.widgets.form import FormDialog, FormField, ShownOnceDialog
from console.widgets.paged_table import PagedTable
from core.i18n import _
from core.payments import services as payments


def add_app_from_form(ctx, answer: dict[str, str]) -> tuple[str, str]:
    return payments.add_app(
        ctx,
        answer["name"],
        answer["url"].strip() or None,
        app_id=answer["app_id"].strip() or None,
    )


class AppsScreen(WorkScreen):
    """接入应用 — list and add."""

    PLACE = "apps"
    SCOPES = ("apps", "list")
    BINDINGS = bindings("back", "apps")

    def body(self) -> ComposeResult:
        yield PagedTable(reads.APPS, self.context, export_dir=self.app.export_dir, id="apps")

    def on_mount(self) -> None:
        super().on_mount()
        self.query_one("#apps .rows").focus()

    def reload(self) -> None:
        self.query_one("#apps", PagedTable).refresh_rows()

    def action_add_app(self) -> None:
        if self.app.actor is None or not self.app.actor.can(payments.PERM_MANAGE):
            self.say_error(_("You may not add apps."))
            return
        fields = [
            FormField("name", _("Name"), max_length=100),
            FormField("app_id", _("App id (empty: generated)"), max_length=40),
            FormField("url", _("Callback address (empty: none)"), placeholder="https://…", max_length=500),
        ]
        self.app.push_screen(FormDialog(_("Add an app"), fields, ok=_("Add")), self._add)

    def _add(self, answer: dict[str, str] | None) -> None:
        if answer is None:
            return

        def done(result: tuple[str, str]) -> None:
            app_id, secret = result
            self.say(_("App {app} added.").format(app=app_id))
            self.reload()
            self.app.push_screen(
                ShownOnceDialog(
                    _("The new app's key"),
                    [(_("App id"), app_id), (_("Secret"), secret)],
                    _("Copy the secret now: it is not shown again."),
                )
            )

        self.call(add_app_from_form, answer, done=done, group="add")
