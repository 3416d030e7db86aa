"""The permission codes services check, and the built-in roles granting them (as fnmatch patterns).

A permission code is `area.action` or `area.sub.action` (`payments.counter.collect`). Roles hold patterns,
matched with `fnmatchcase` by `Actor.can`: `*`, `ledger.*`, `*.view`. Anything that only reads ends in
`.view`, so the auditor's `*.view` stays read-only as later areas add codes. Seeing unmasked personal data is
`pii.reveal` — deliberately not a `.view` code, so `*.view` never includes it.
"""

from __future__ import annotations

from dataclasses import dataclass

from core.i18n import N_

PERMISSIONS: dict[str, str] = {
    "users.view": N_("See user accounts"),
    "users.manage": N_("Create, disable, unlock user accounts, set their roles and reset passwords"),
    "roles.view": N_("See roles and their permissions"),
    "audit.view": N_("Read the audit log"),
    "audit.verify": N_("Verify the audit log's hash chain"),
    "ledger.view": N_("See books, accounts, entries and balances"),
    "ledger.manage": N_("Open books and accounts"),
    "ledger.post": N_("Post journal entries"),
    "ledger.hold": N_("Place, post and void holds (freezes)"),
    "ledger.verify": N_("Verify the ledger's balances and invariants"),
    "workflow.view": N_("See approval requests"),
    "workflow.submit": N_("Submit requests for approval"),
    "workflow.approve": N_("Approve or reject requests"),
    "site.manage": N_("Manage the site's settings"),
    "backup.manage": N_("Back up, restore and check the database"),
    "pii.reveal": N_("See personal data (ID numbers, phones, bank accounts) unmasked"),
    "property.view": N_("See property base data, fees, bills, arrears and receipts"),
    "property.manage": N_("Maintain communities, houses, owners, facilities and fee items"),
    "property.billing": N_("Run property bill runs and record meter readings"),
    "property.counter.pay": N_("Take property fee payments at the counter and print receipts"),
    "property.counter.void": N_("Void property receipts"),
    "property.discount": N_("Request property fee discounts"),
    "property.latefee.waive": N_("Request late fee waivers"),
    "property.import": N_("Import property data from Excel"),
    "property.deposits.refund": N_("Ask for deposit refunds (押金退还) and pay out approved ones"),
    "property.deposits.deduct": N_("Deduct from or forfeit deposits, with a reason"),
    "property.reminders.manage": N_("Set arrears reminder schedules and the reminder stop list"),
    "property.reminders.send": N_("Run the arrears reminders"),
    "property.repairs.view": N_("See repair work orders, their progress, SLA alerts and statistics"),
    "property.repairs.report": N_("Take owners' repair requests"),
    "property.repairs.dispatch": N_("Dispatch, cancel and close repair work orders (return visits)"),
    "property.repairs.work": N_("Grab, accept and carry out repair work orders"),
    "property.repairs.rate": N_("Record owners' ratings of repairs"),
    "property.repairs.manage": N_("Define repair types and their SLA"),
    "property.parking.view": N_("See parking spaces, vehicles, rentals, occupancy and statistics"),
    "property.parking.manage": N_("Maintain car parks, spaces, vehicles and parking fee rules"),
    "property.parking.rent": N_("Make and end parking space rental contracts"),
    "property.parking.gate": N_("Record vehicles entering and leaving car parks"),
    "property.access.view": N_("See access devices, credentials, access records, cameras and alarms"),
    "property.access.manage": N_("Maintain access devices and cameras; issue and revoke access credentials"),
    "property.access.import": N_("Import access records from devices"),
    "property.access.alarms": N_("Receive, acknowledge, dispatch and close alarms"),
    "property.notices.view": N_("See notices and their read status"),
    "property.notices.manage": N_("Write, publish and withdraw notices"),
    "property.notices.read": N_("Record that a resident read a notice"),
    "property.complaints.view": N_("See complaints and suggestions"),
    "property.complaints.submit": N_("Take owners' complaints and suggestions"),
    "property.complaints.handle": N_("Handle complaints and evaluate suggestions"),
    "property.complaints.confirm": N_("Record an owner's confirmation or reopening of a complaint"),
    "property.activities.view": N_("See community activities, sign-ups and statistics"),
    "property.activities.manage": N_(
        "Plan, publish, cancel and finish community activities; record attendance"
    ),
    "property.activities.signup": N_("Sign owners up for activities and cancel sign-ups"),
    "property.charges.view": N_("See pending charges of repairs and activities"),
    "property.charges.collect": N_("Mark pending charges as paid"),
    "notify.view": N_("See the notification outbox"),
    "notify.send": N_("Deliver queued notifications"),
    "recon.view": N_("See reconciliation batches and differences"),
    "recon.run": N_("Reconcile a channel's daily statement"),
    "recon.resolve": N_("Resolve reconciliation differences with a decision"),
    "payments.settlement.view": N_("See settlement batches and bank transfer files"),
    "payments.settlement.run": N_("Run the daily settlement to the apps"),
    "payments.view": N_("See payment orders, refunds, channels, notifications and shifts"),
    "payments.manage": N_("Manage payment apps, channels, routing rules and re-send notifications"),
    "payments.pay": N_("Create and close payment orders (apps and the HTTP API)"),
    "payments.counter.take": N_("Take payments at the counter"),
    "payments.counter.qr": N_("Take WeChat/Alipay QR payments at the counter"),
    "payments.counter.void": N_("Void a receipt of one's own open shift (refunds the counter payment)"),
    "payments.counter.refund": N_(
        "Ask for a refund of a receipt at the counter and pay out approved refunds"
    ),
    "payments.refund": N_("Refund payments"),
    "payments.jobs": N_("Run the payment jobs (expiry, channel queries, notification retries)"),
    "payments.shift.open": N_("Open a cashier shift"),
    "payments.shift.close": N_("Close a cashier shift with the cash counted"),
    "payments.shift.daily_close": N_("Close the site's business day (日结)"),
    "reports.view": N_(
        "Print and export reports (the data shown still needs its own area's view permission)"
    ),
    "sync.view": N_("See the site's sync status with the central hub"),
    "sync.run": N_("Run a sync round with the central hub"),
    "sync.manage": N_("Enrol the site at the hub, schedule sync and recover events from the hub"),
    "hub.sites.view": N_("See enrolled sites and compare their totals at the hub"),
    "hub.sites.manage": N_("Enrol, disable and enable sites at the hub"),
    "hub.reference.manage": N_("Publish reference data from the hub to the sites"),
    "hub.sync.receive": N_("Receive sites' sync batches at the hub"),
}


@dataclass(frozen=True)
class RoleDef:
    """A built-in role: English msgids for its name and description, and the permission patterns it holds."""

    name: str
    description: str
    patterns: tuple[str, ...]


# admin 管理员, cashier 收银员, property 物业后台, finance 财务, approver 审批, auditor 审计.
BUILTIN_ROLES: dict[str, RoleDef] = {
    "admin": RoleDef(N_("Administrator"), N_("Everything, including user management."), ("*",)),
    "cashier": RoleDef(
        N_("Cashier"),
        N_("Counter clerk: takes payments at the property counter and submits requests."),
        (
            "payments.counter.*",
            "payments.shift.open",
            "payments.shift.close",
            "property.counter.*",
            "payments.view",
            "property.view",
            # The front desk (前台) also takes walk-in owners' repair requests, complaints and activity sign-ups,
            # and sees the house's parking and repairs.
            "property.repairs.view",
            "property.repairs.report",
            "property.complaints.submit",
            "property.activities.view",
            "property.activities.signup",
            "property.parking.view",
            "workflow.view",
            "workflow.submit",
        ),
    ),
    "property": RoleDef(
        N_("Property back office"),
        N_("Property back office: fee standards, bills, owners and units."),
        ("property.*", "payments.view", "reports.view", "workflow.view", "workflow.submit"),
    ),
    "finance": RoleDef(
        N_("Finance"),
        N_("Finance: ledger, payments, reconciliation and reports, and reads property billing (收费、欠费)."),
        # property.view: finance answers for receivables — the collection, arrears and prepaid reports need it.
        (
            "ledger.*",
            "payments.*",
            "recon.*",
            "reports.*",
            "property.view",
            "workflow.view",
            "workflow.submit",
        ),
    ),
    "approver": RoleDef(
        N_("Approver"),
        N_("Approver: approves or rejects what others submitted."),
        ("workflow.view", "workflow.approve"),
    ),
    "auditor": RoleDef(
        N_("Auditor"),
        N_("Auditor: reads everything and verifies the audit log and the ledger; changes nothing."),
        ("*.view", "audit.verify", "ledger.verify"),
    ),
}
