"""Re-applying recovered ledger events at a site restored from an old backup: books, accounts and journal
entries come back with their original ids, and account totals move with them.

Limits (documented for operators): only ledger books, accounts and entries are re-created. Holds, payments,
bills and every other record of the lost events stay lost at the site (their events are back in the outbox and
held at the hub, so the centre's records are whole). Overdraft limits are not re-checked: these entries were
already posted once, in this order, before the database was lost.
"""

from __future__ import annotations

import json
import uuid
from datetime import date, datetime

from sqlalchemy import bindparam, select, update

from core.errors import IntegrityProblem
from core.i18n import N_
from core.ledger.models import Account, Book, JournalEntry, Posting
from core.uow import UnitOfWork

_BOOKS = Book.__table__
_ACCOUNTS = Account.__table__
_ENTRIES = JournalEntry.__table__
_POSTINGS = Posting.__table__
RECOVERED_BY = "sync.recover"


def reapply_ledger_event(uow: UnitOfWork, event_type: str, payload_text: str, created_at: datetime) -> int:
    """Re-create what one recovered ledger event recorded; returns the number of journal entries written."""
    s = uow.session
    data = json.loads(payload_text)
    if event_type == "ledger.book_created":
        if s.execute(select(_BOOKS.c.id).where(_BOOKS.c.code == data["code"])).first() is None:
            s.execute(
                _BOOKS.insert().values(
                    id=uuid.UUID(data["id"]),
                    code=data["code"],
                    name=data["name"],
                    fund_type=data["fund_type"],
                    currency=data.get("currency", "CNY"),
                    created_at=created_at,
                )
            )
        return 0
    if event_type == "ledger.account_opened":
        book_id = _book_id(uow, data["book"])
        exists = s.execute(
            select(_ACCOUNTS.c.id).where(_ACCOUNTS.c.book_id == book_id, _ACCOUNTS.c.code == data["code"])
        ).first()
        if exists is None:
            s.execute(
                _ACCOUNTS.insert().values(
                    id=uuid.UUID(data["id"]),
                    book_id=book_id,
                    code=data["code"],
                    name=data["name"],
                    type=data["type"],
                    debits_must_not_exceed_credits=bool(data.get("debits_must_not_exceed_credits")),
                    credits_must_not_exceed_debits=bool(data.get("credits_must_not_exceed_debits")),
                    debits_posted_fen=0,
                    credits_posted_fen=0,
                    debits_pending_fen=0,
                    credits_pending_fen=0,
                    closed=False,
                    created_at=created_at,
                )
            )
        return 0
    if event_type == "ledger.entries_posted":
        return _reapply_entries(uow, data["entries"], created_at)
    return 0


def _book_id(uow: UnitOfWork, code: str) -> uuid.UUID:
    book_id = uow.session.execute(select(_BOOKS.c.id).where(_BOOKS.c.code == code)).scalar_one_or_none()
    if book_id is None:
        raise IntegrityProblem(N_("Recovery needs book {book}, which the site does not have."), book=code)
    return book_id


def _reapply_entries(uow: UnitOfWork, entries: list[dict], created_at: datetime) -> int:
    s = uow.session
    written = 0
    moves: dict[uuid.UUID, list[int]] = {}
    for entry in entries:
        entry_id = uuid.UUID(entry["entry_id"])
        if s.execute(select(_ENTRIES.c.id).where(_ENTRIES.c.id == entry_id)).first() is not None:
            continue  # already at the site (the backup had it)
        book_id = _book_id(uow, entry["book"])
        codes = {code for code, _ in entry["postings"]}
        accounts = dict(
            s.execute(
                select(_ACCOUNTS.c.code, _ACCOUNTS.c.id).where(
                    _ACCOUNTS.c.book_id == book_id, _ACCOUNTS.c.code.in_(sorted(codes))
                )
            ).all()
        )
        if codes - set(accounts):
            raise IntegrityProblem(
                N_("Recovery needs accounts {accounts} in book {book}, which the site does not have."),
                accounts=", ".join(sorted(codes - set(accounts))),
                book=entry["book"],
            )
        if sum(amount for _, amount in entry["postings"]) != 0:
            raise IntegrityProblem(N_("A recovered entry {entry} does not balance."), entry=str(entry_id))
        reverses = entry.get("reverses_id")
        s.execute(
            _ENTRIES.insert().values(
                id=entry_id,
                book_id=book_id,
                business_date=date.fromisoformat(entry["business_date"]),
                created_at=created_at,
                description=entry["description"],
                doc_type=entry.get("doc_type") or "",
                doc_id=entry.get("doc_id") or "",
                reverses_id=uuid.UUID(reverses) if reverses else None,
                created_by=RECOVERED_BY,
            )
        )
        s.execute(
            _POSTINGS.insert(),
            [
                {"entry_id": entry_id, "line_no": n, "account_id": accounts[code], "amount_fen": amount}
                for n, (code, amount) in enumerate(entry["postings"], start=1)
            ],
        )
        for code, amount in entry["postings"]:
            totals = moves.setdefault(accounts[code], [0, 0])
            totals[0 if amount > 0 else 1] += abs(amount)
        written += 1
    if moves:
        s.execute(
            update(_ACCOUNTS)
            .where(_ACCOUNTS.c.id == bindparam("b_id"))
            .values(
                debits_posted_fen=_ACCOUNTS.c.debits_posted_fen + bindparam("b_debits"),
                credits_posted_fen=_ACCOUNTS.c.credits_posted_fen + bindparam("b_credits"),
            ),
            [{"b_id": a, "b_debits": d, "b_credits": c} for a, (d, c) in sorted(moves.items())],
        )
    return written
