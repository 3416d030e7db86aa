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
    # Payment hub and administration screens without a function key of their own ("" = no key): reached from
    # the home screen's menu and the command palette.
    Place(
        "recon",
        "",
        N_("Reconciliation"),
        N_("Reconciliation runs and the differences to resolve"),
        "recon.view",
    ),
    Place(
        "settlement",
        "",
        N_("Settlement"),
        N_("Settlement batches per app and day; settle a day"),
        "payments.settlement.view",
    ),
    Place(
        "notify_log",
        "",
        N_("Notification log"),
        N_("Notices of payment results to the apps; re-send one"),
        "payments.view",
    ),
    Place(
        "routing",
        "",
        N_("Channels and routing"),
        N_("Channel switches, fee rates and routing rules"),
        "payments.view",
    ),
    Place("apps", "", N_("Apps and keys"), N_("The apps that pay through the hub; add one"), "payments.view"),
    Place(
        "sync",
        "",
        N_("Sync status"),
        N_("Sync with the central hub: last round, pending, start a round"),
        "sync.view",
    ),
    Place("reports", "", N_("Reports"), N_("Preview a report; write it as PDF or Excel"), "reports.view"),
    # Property administration (no function key: the command palette and the home menu reach them).
    Place(
        "property_base",
        "",
        N_("Communities and houses"),
        N_("Communities, buildings, houses and owners"),
        "property.view",
    ),
    Place(
        "property_import",
        "",
        N_("Import from Excel"),
        N_("Import houses, owners, buildings or meter readings, with the validation report"),
        "property.import",
    ),
    Place(
        "property_fees",
        "",
        N_("Fees and standards"),
        N_("Fee items, late-fee rules, discounts, waivers, meter readings"),
        "property.view",
    ),
    Place(
        "property_parking",
        "",
        N_("Parking"),
        N_("Parking spaces, vehicles and rental contracts"),
        "property.parking.view",
    ),
    Place(
        "property_access",
        "",
        N_("Access control"),
        N_("Access devices, cards and access records"),
        "property.access.view",
    ),
    Place(
        "property_security",
        "",
        N_("Cameras and alarms"),
        N_("Alarms to acknowledge, dispatch and close; cameras"),
        "property.access.view",
    ),
    Place(
        "property_notices",
        "",
        N_("Notices and announcements"),
        N_("Notices and announcements: write, publish, withdraw"),
        "property.notices.view",
    ),
    Place(
        "property_complaints",
        "",
        N_("Complaints and suggestions"),
        N_("Complaints to accept, assign and answer; suggestions to decide"),
        "property.complaints.view",
    ),
    Place(
        "property_activities",
        "",
        N_("Community activities"),
        N_("Community activities and their sign-ups"),
        "property.activities.view",
    ),
    Place(
        "property_workorders",
        "",
        N_("Work-order board"),
        N_("Open repair work orders by deadline; dispatch them"),
        "property.repairs.view",
    ),
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
    "arrears": (
        KeySpec("r", "send_reminders", N_("Send reminders"), N_("Send the community's reminders due today")),
    ),
    "recon": (
        KeySpec(
            "d", "resolve", N_("Resolve"), N_("Resolve the selected difference with a decision and a note")
        ),
        KeySpec(
            "o", "open_only", N_("Open only"), N_("Show only the differences still open, or all of them")
        ),
    ),
    "settlement": (
        KeySpec("n", "settle", N_("Settle a day"), N_("Run the settlement of a day for one app or all apps")),
    ),
    "notify_log": (KeySpec("s", "resend", N_("Re-send"), N_("Send the selected notice to its app again")),),
    "routing": (
        KeySpec(
            "e", "toggle", N_("Enable/disable"), N_("Switch the selected channel or routing rule on or off")
        ),
        KeySpec("r", "fee_rate", N_("Fee rate"), N_("Change the selected channel's fee rate")),
        KeySpec("n", "add_route", N_("New rule"), N_("Add a routing rule")),
    ),
    "apps": (KeySpec("n", "add_app", N_("Add app"), N_("Register an app; its secret is shown once")),),
    "reports": (
        KeySpec(
            "ctrl+r", "preview", N_("Preview"), N_("Show the report's title, pages, first rows and totals")
        ),
        KeySpec("ctrl+g", "generate", N_("Generate"), N_("Write the report as PDF or Excel to the file")),
    ),
    "sync": (KeySpec("s", "sync_now", N_("Sync now"), N_("Run a sync round with the central hub")),),
    "property_base": (
        KeySpec("n", "add", N_("New"), N_("Add a record to the list shown")),
        KeySpec("s", "house_status", N_("House status"), N_("Change the selected house's status")),
        KeySpec("e", "owner_contact", N_("Edit contact"), N_("Change the selected owner's name or phone")),
        KeySpec("i", "import", N_("Import"), N_("Import houses, owners or buildings from Excel")),
    ),
    "property_import": (
        KeySpec(
            "ctrl+r",
            "run_import",
            N_("Check and import"),
            N_("Check the file; import it if it has no errors"),
        ),
        KeySpec(
            "g",
            "import_good",
            N_("Import good rows"),
            N_("Import the rows of the checked file without errors"),
        ),
        KeySpec("t", "template", N_("Template"), N_("Write the empty import template of the chosen kind")),
    ),
    "property_fees": (
        KeySpec("n", "add", N_("New"), N_("Add a fee item, or request a discount")),
        KeySpec("e", "edit_item", N_("Edit"), N_("Change the selected fee item's standard from a period on")),
        KeySpec("x", "retire_item", N_("Retire"), N_("Stop billing the selected fee item from a period on")),
        KeySpec("i", "import", N_("Import readings"), N_("Import meter readings from Excel")),
    ),
    "property_parking": (
        KeySpec("n", "add", N_("New"), N_("Add spaces, register a vehicle or sign a rental contract")),
        KeySpec("a", "add_area", N_("New car park"), N_("Add a car park to a community")),
        KeySpec("e", "edit_space", N_("Edit space"), N_("Change the selected space's location or kind")),
        KeySpec("r", "retire_space", N_("Retire space"), N_("Take the selected free space out of service")),
        KeySpec("t", "end_rental", N_("End contract"), N_("End the selected rental contract")),
        KeySpec("x", "remove_vehicle", N_("Remove vehicle"), N_("Remove the selected vehicle")),
    ),
    "property_access": (
        KeySpec("n", "add", N_("New"), N_("Add an access device, or issue a card or face credential")),
        KeySpec("e", "edit_device", N_("Edit device"), N_("Rename or move the selected device")),
        KeySpec("x", "retire_device", N_("Retire device"), N_("Take the selected device out of service")),
        KeySpec("r", "revoke_card", N_("Revoke"), N_("Revoke the selected card or face credential")),
    ),
    "property_security": (
        KeySpec("a", "acknowledge", N_("Acknowledge"), N_("Acknowledge the selected alarm")),
        KeySpec("d", "dispatch", N_("Dispatch"), N_("Send someone to the selected alarm")),
        KeySpec("c", "close_alarm", N_("Close"), N_("Close the selected alarm with what was found")),
        KeySpec("n", "add", N_("New camera"), N_("Add a camera with its stream and recorder")),
        KeySpec("e", "edit_camera", N_("Edit camera"), N_("Change the selected camera's stream or recorder")),
        KeySpec("x", "retire_camera", N_("Retire camera"), N_("Take the selected camera out of service")),
    ),
    "property_notices": (
        KeySpec("n", "add", N_("New"), N_("Write a notice or announcement (saved as a draft)")),
        KeySpec("p", "publish", N_("Publish"), N_("Send the selected notice to its residents")),
        KeySpec("w", "withdraw", N_("Withdraw"), N_("Withdraw the selected notice")),
    ),
    "property_complaints": (
        KeySpec("n", "add", N_("New"), N_("Record a complaint taken at the desk or on the phone")),
        KeySpec("h", "handle", N_("Handle"), N_("Start handling the selected complaint")),
        KeySpec("a", "accept", N_("Accept"), N_("Accept the selected complaint")),
        KeySpec("s", "assign", N_("Assign"), N_("Assign the selected complaint to a handler")),
        KeySpec("r", "reply", N_("Reply"), N_("Reply to the owner of the selected complaint")),
        KeySpec("v", "evaluate", N_("Evaluate"), N_("Start evaluating the selected suggestion")),
        KeySpec("o", "adopt", N_("Adopt"), N_("Adopt the selected suggestion")),
        KeySpec("x", "decline", N_("Decline"), N_("Decline the selected suggestion (give a reason)")),
    ),
    "property_activities": (
        KeySpec("n", "add", N_("New"), N_("Plan an activity: time, place, capacity, fee")),
        KeySpec("s", "sign_up", N_("Sign up"), N_("Sign a resident up for the selected activity")),
        KeySpec("p", "publish", N_("Publish"), N_("Publish the selected activity for sign-ups")),
        KeySpec("f", "finish", N_("Finish"), N_("Mark the selected activity as held")),
        KeySpec("c", "cancel_activity", N_("Cancel"), N_("Cancel the selected activity (give a reason)")),
        KeySpec("u", "signups", N_("Sign-ups"), N_("Show the sign-ups of the selected activity")),
    ),
    "property_workorders": (
        KeySpec("n", "add", N_("New"), N_("Open a work order for a repair reported to the desk")),
        KeySpec("s", "assign", N_("Dispatch"), N_("Dispatch the selected work order to a worker")),
        KeySpec("g", "grab_pool", N_("Grab pool"), N_("Put the selected work order in the grab pool")),
        KeySpec("c", "cancel_order", N_("Cancel"), N_("Cancel the selected work order (give a reason)")),
    ),
    "dialog": (KeySpec("escape", "cancel", N_("Cancel"), N_("Close this dialog without doing anything")),),
    "back": (KeySpec("escape", "back", N_("Back"), N_("Return to the home screen"), show=False),),
}


def app_bindings() -> list[Binding]:
    """The app's BINDINGS: the app-wide keys and the keys of the places (labels translated now)."""
    keys = [Binding(k.key, k.action, _(k.label), show=k.show, priority=True, tooltip=_(k.help)) for k in KEYS]
    keys += [
        Binding(p.key, f"goto('{p.code}')", _(p.label), show=False, priority=True, tooltip=_(p.help))
        for p in PLACES
        if p.key
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
    rows += [(p.key or "ctrl+p", _(p.label), _(p.help)) for p in PLACES]
    rows += [(k.key, _(k.label), _(k.help)) for s in scopes for k in SCOPED[s]]
    return rows
