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
            "property.counter.*",
            "payments.view",
            "property.view",
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
        N_("Finance: ledger, payments, reconciliation and reports."),
        ("ledger.*", "payments.*", "recon.*", "reports.*", "workflow.view", "workflow.submit"),
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
