"""Human-facing document numbers: site-prefixed, gapless per site, kind and year (收据号, 账单号, 合同号)."""

from __future__ import annotations

from core.db import sequences
from core.uow import UnitOfWork


def next_document_no(uow: UnitOfWork, kind: str, year: int) -> str:
    """E.g. `BJ01-SJ2026-000123`. Taken inside the caller's transaction: a rollback gives the number back."""
    n = sequences.take(uow.session, f"doc:{kind}:{year}")
    return f"{uow.ctx.site.code}-{kind}{year}-{n:06d}"
