"""Every key of the back office in one table: app-wide keys, the screens one can go to, and each screen's actions.

Screens and widgets build their BINDINGS from here (`bindings(scope)`), the help dialog lists this table and the
command palette offers the same actions, so a key never exists in one place and not the others.
"""

from __future__ import annotations

from dataclasses import dataclass

from textual.binding import Binding

from core.i18n import N_, _


@dataclass(frozen=True)
class KeySpec:
    """One action: its key, its footer label and palette help (English msgids), and when it applies."""

    key: str
    action: str
    label: str
    help: str
    needs_login: bool = False
    show: bool = True


@dataclass(frozen=True)
class Place:
    """A screen one can go to: `goto('<code>')`, its key, its name and the permission needed to see it."""

    code: str
    key: str
    label: str
    help: str
    permission: str | None = None


# App-wide keys (bound with priority, so they work whatever has focus).
KEYS: tuple[KeySpec, ...] = (
    KeySpec("f1", "help", N_("Help"), N_("Show the keys and what they do")),
    KeySpec("f5", "refresh", N_("Refresh"), N_("Read the figures on this screen again"), needs_login=True),
    KeySpec("ctrl+l", "lock", N_("Lock"), N_("Log out and return to the login screen"), needs_login=True),
    KeySpec("ctrl+q", "quit", N_("Quit"), N_("Close the back office")),
    KeySpec("ctrl+p", "command_palette", N_("Commands"), N_("Search every action by name"), show=False),
)

# The screens, in menu order. A screen whose permission the user lacks is neither offered nor opened.
PLACES: tuple[Place, ...] = (
    Place("home", "f2", N_("Home"), N_("The dashboard: collections, arrears, approvals, alerts")),
    Place("approvals", "f3", N_("Approvals"), N_("Requests waiting for your decision"), "workflow.view"),
    Place(
        "ledger", "f4", N_("Ledger"), N_("Books, accounts, journal, trial balance, statements"), "ledger.view"
    ),
    Place("audit", "f6", N_("Audit log"), N_("Who did what and when; verify the hash chain"), "audit.view"),
    Place("users", "f7", N_("Users"), N_("User accounts and their roles"), "users.view"),
    Place(
        "site",
        "f8",
        N_("Site and backup"),
        N_("The site, database check, backup and restore"),
        "backup.manage",
    ),
    Place(
        "payments",
        "f9",
        N_("Payment hub"),
        N_("Search payment orders and refunds; open an order's history"),
        "payments.view",
    ),
    Place("billrun", "f10", N_("Bill run"), N_("Bill a period: dry run, run, summary"), "property.billing"),
    Place("arrears", "f11", N_("Arrears"), N_("Overdue amounts by community and building"), "property.view"),
)

# Keys of one screen or widget, by scope. Footer shows them while that screen (or widget) is active.
SCOPED: dict[str, tuple[KeySpec, ...]] = {
    "list": (
        KeySpec("ctrl+f", "focus_filters", N_("Filter"), N_("Type in the filters above the list")),
        KeySpec("ctrl+e", "export", N_("Export"), N_("Write the whole filtered list to an Excel file")),
        KeySpec("ctrl+home", "first", N_("First"), N_("Go to the first row of the list"), show=False),
        KeySpec("ctrl+end", "last", N_("Last"), N_("Go to the last row of the list"), show=False),
    ),
    "approvals": (
        KeySpec("a", "approve", N_("Approve"), N_("Approve the selected request")),
        KeySpec("r", "reject", N_("Reject"), N_("Reject the selected request (give a reason)")),
        KeySpec("b", "send_back", N_("Send back"), N_("Send the request back one step (give a reason)")),
    ),
    "users": (
        KeySpec("n", "add_user", N_("New user"), N_("Add a user account")),
        KeySpec("d", "toggle_user", N_("Disable/enable"), N_("Disable or enable the selected user")),
        KeySpec("p", "reset_password", N_("Reset password"), N_("Set a new password for the selected user")),
        KeySpec("o", "set_roles", N_("Roles"), N_("Choose the selected user's roles")),
        KeySpec("u", "unlock_user", N_("Unlock"), N_("Clear the selected user's login lockout")),
    ),
    "audit": (KeySpec("v", "verify", N_("Verify"), N_("Check the audit log's hash chain")),),
    "ledger": (
        KeySpec("v", "verify", N_("Verify"), N_("Recompute every ledger balance and invariant")),
        KeySpec("s", "statement", N_("Statement"), N_("Show the selected account's statement")),
    ),
    "site": (
        KeySpec("c", "check", N_("Check database"), N_("Run the database integrity check")),
        KeySpec("k", "backup", N_("Back up"), N_("Copy the live database to the backup file")),
        KeySpec("t", "restore", N_("Restore"), N_("Replace the database with the backup file")),
    ),
    "payments": (
        KeySpec("o", "open_order", N_("Open order"), N_("Show the selected order and its history")),
    ),
    "order": (KeySpec("escape", "close", N_("Back"), N_("Return to the order search")),),
    "billrun": (
        KeySpec("f12", "dry_run", N_("Dry run"), N_("Compute the bill run without writing anything")),
        KeySpec("ctrl+r", "run", N_("Run"), N_("Run the bill run for the period and community")),
    ),
    "arrears": (),
    "dialog": (KeySpec("escape", "cancel", N_("Cancel"), N_("Close this dialog without doing anything")),),
    "back": (KeySpec("escape", "back", N_("Back"), N_("Return to the home screen"), show=False),),
}


def app_bindings() -> list[Binding]:
    """The app's BINDINGS: the app-wide keys and the keys of the places (labels translated now)."""
    keys = [Binding(k.key, k.action, _(k.label), show=k.show, priority=True, tooltip=_(k.help)) for k in KEYS]
    keys += [
        Binding(p.key, f"goto('{p.code}')", _(p.label), show=False, priority=True, tooltip=_(p.help))
        for p in PLACES
    ]
    return keys


def bindings(*scopes: str) -> list[Binding]:
    """The BINDINGS of a screen or widget made of the keys of `scopes`."""
    return [
        Binding(k.key, k.action, _(k.label), show=k.show, tooltip=_(k.help))
        for s in scopes
        for k in SCOPED[s]
    ]


def help_rows(*scopes: str) -> list[tuple[str, str, str]]:
    """(key, label, help) of the app keys, the places, and the given scopes, translated: for the help dialog."""
    rows = [(k.key, _(k.label), _(k.help)) for k in KEYS]
    rows += [(p.key, _(p.label), _(p.help)) for p in PLACES]
    rows += [(k.key, _(k.label), _(k.help)) for s in scopes for k in SCOPED[s]]
    return rows
