"""What exists at this site, in numbers, and whether its records hold together: the figures and checks the
back office shows (home screen counts, audit and ledger verification)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from core.audit.log import VerifyResult
from core.audit.models import AuditRecord
from core.context import Context
from core.ledger.models import Account, Book, JournalEntry, Posting
from core.security.models import Role, User
from core.sync.outbox import pending_count
from core.workflow.models import STATUS_PENDING, ApprovalInstance


@dataclass(frozen=True)
class Overview:
    """站点概况 — counts of the site's records, read in one snapshot."""

    site_code: str
    site_name: str
    users: int
    roles: int
    books: int
    accounts: int
    journal_entries: int
    postings: int
    audit_records: int
    pending_approvals: int
    outbox_pending: int


def _count(session: Session, model: type, *where: object) -> int:
    return session.execute(select(func.count()).select_from(model).where(*where)).scalar_one()


def site_overview(ctx: Context) -> Overview:
    """Counts of users, roles, books, accounts, entries, postings, audit records, pending approvals and
    outbox events not yet synced. Anyone logged in may see them: they are numbers, not records."""
    site = ctx.site
    with ctx.read() as s:
        return Overview(
            site_code=site.code,
            site_name=site.name,
            users=_count(s, User),
            roles=_count(s, Role),
            books=_count(s, Book),
            accounts=_count(s, Account),
            journal_entries=_count(s, JournalEntry),
            postings=_count(s, Posting),
            audit_records=_count(s, AuditRecord),
            pending_approvals=_count(s, ApprovalInstance, ApprovalInstance.status == STATUS_PENDING),
            # Until sync records what the hub has acknowledged, every outbox event counts as pending.
            outbox_pending=pending_count(s),
        )


# ---------------------------------------------------------------------------------------------- checks


def check_audit(ctx: Context) -> VerifyResult:
    """Walk the audit log's hash chain (permission audit.verify); every broken link is a problem."""
    from core.audit.log import verify

    with ctx.read("audit.verify") as s:
        return verify(s)


def check_ledger(ctx: Context) -> VerifyResult:
    """Recompute every ledger balance and invariant from the postings (permission ledger.verify)."""
    from core.ledger.verify import verify

    with ctx.read("ledger.verify") as s:
        return verify(s)
