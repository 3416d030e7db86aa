"""Ledger reports per book and period, built from core.ledger read services: trial balance (试算平衡表),
account statement (明细账), journal listing (序时账), income and expense statement (收支报表) and balance
sheet (资产负债表).

Period figures come from two cumulative trial balances (as of the day before the period and as of its last
day), so every number here is one the ledger itself reports.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date

from core.context import Context
from core.errors import NotFound
from core.i18n import N_, _
from core.ledger import services as ledger
from core.ledger.rules import normal_balance_fen
from core.ledger.services import TrialBalanceLine
from reports.model import Column, ReportData, Table
from reports.registry import ReportDef, ReportParams, register

PAGE = ledger.PAGE_SIZE_MAX
ROWS_MAX = 1_000_000  # a listing longer than this is a query, not a report

ACCOUNT_TYPE_TITLES = {
    "asset": N_("Asset"),
    "liability": N_("Liability"),
    "equity": N_("Net assets"),
    "income": N_("Income"),
    "expense": N_("Expense"),
}


def book_fact(ctx: Context, code: str) -> tuple[str, str]:
    for b in ledger.list_books(ctx):
        if b.code == code:
            return (N_("Book"), f"{b.code} {b.name}")
    raise NotFound(N_("There is no book {book}."), book=code)


def _by_code(lines: list[TrialBalanceLine]) -> dict[str, TrialBalanceLine]:
    return {line.account_code: line for line in lines}


def _sides(debits: int, credits: int) -> tuple[int, int]:
    """A balance on the side it falls: (debit, 0) or (0, credit)."""
    net = debits - credits
    return (net, 0) if net >= 0 else (0, -net)


# ---------------------------------------------------------------------------------------------------------
# 试算平衡表


def collect_trial_balance(ctx: Context, p: ReportParams) -> ReportData:
    opening = _by_code(ledger.trial_balance(ctx, p.book, as_of=p.period.day_before))
    closing = ledger.trial_balance(ctx, p.book, as_of=p.period.end)
    cols = (
        Column("code", N_("Account code"), width=10),
        Column("name", N_("Account name"), width=16),
        Column("type", N_("Type"), width=6),
        Column("open_dr", N_("Opening debit"), "money", 11, total=True),
        Column("open_cr", N_("Opening credit"), "money", 11, total=True),
        Column("period_dr", N_("Period debits"), "money", 11, total=True),
        Column("period_cr", N_("Period credits"), "money", 11, total=True),
        Column("close_dr", N_("Closing debit"), "money", 11, total=True),
        Column("close_cr", N_("Closing credit"), "money", 11, total=True),
    )
    rows = []
    for line in closing:
        before = opening.get(line.account_code)
        d0, c0 = (before.debits_fen, before.credits_fen) if before else (0, 0)
        rows.append(
            (
                line.account_code,
                line.name,
                _(ACCOUNT_TYPE_TITLES.get(line.type, line.type)),
                *_sides(d0, c0),
                line.debits_fen - d0,
                line.credits_fen - c0,
                *_sides(line.debits_fen, line.credits_fen),
            )
        )
    totals = {c.key: sum(r[i] for r in rows) for i, c in enumerate(cols) if c.total}
    balanced = all(
        totals[a] == totals[b]
        for a, b in (("open_dr", "open_cr"), ("period_dr", "period_cr"), ("close_dr", "close_cr"))
    )
    data = ReportData(
        name="trial_balance",
        title=N_("Trial balance"),
        period_label=p.period.label,
        facts=[book_fact(ctx, p.book)],
        tables=[Table(cols, rows, totals=totals)],
        landscape=True,
    )
    # The ledger keeps every entry balanced, so this can only fail if the ledger itself is damaged.
    data.notes.append(N_("Debits equal credits.") if balanced else N_("Debits DO NOT equal credits!"))
    return data


# ---------------------------------------------------------------------------------------------------------
# 明细账


def _statement_pages(ctx: Context, p: ReportParams) -> Iterator[ledger.StatementLine]:
    offset = 0
    while offset < ROWS_MAX:
        page = ledger.account_statement(
            ctx, p.book, p.account, p.period.start, p.period.end, limit=PAGE, offset=offset
        )
        yield from page
        if len(page) < PAGE:
            return
        offset += PAGE


def collect_account_statement(ctx: Context, p: ReportParams) -> ReportData:
    acct = ledger.get_balance(ctx, p.book, p.account)  # NotFound for an unknown account, before anything
    opening = _by_code(ledger.trial_balance(ctx, p.book, as_of=p.period.day_before)).get(p.account)
    d0, c0 = (opening.debits_fen, opening.credits_fen) if opening else (0, 0)
    running = normal_balance_fen(acct.type, d0, c0)
    cols = (
        Column("date", N_("Date"), "date", 9),
        Column("doc", N_("Document"), width=19),
        Column("description", N_("Description"), width=21),
        Column("debit", N_("Debit"), "money", 12, total=True),
        Column("credit", N_("Credit"), "money", 12, total=True),
        Column("balance", N_("Balance"), "money", 13),
    )
    rows: list[tuple] = [(p.period.start, "", _("Opening balance"), None, None, running)]
    debit_total = credit_total = 0
    for line in _statement_pages(ctx, p):
        debit = line.amount_fen if line.amount_fen > 0 else None
        credit = -line.amount_fen if line.amount_fen < 0 else None
        debit_total += debit or 0
        credit_total += credit or 0
        running += normal_balance_fen(acct.type, debit or 0, credit or 0)
        doc = doc_text(line.doc_type, line.doc_id)
        rows.append((line.business_date, doc, line.description, debit, credit, running))
    return ReportData(
        name="account_statement",
        title=N_("Account statement"),
        period_label=p.period.label,
        facts=[
            book_fact(ctx, p.book),
            (N_("Account"), f"{acct.account_code} {acct.name}"),
            (N_("Normal balance"), _("debit") if acct.type in ("asset", "expense") else _("credit")),
        ],
        tables=[Table(cols, rows, totals={"debit": debit_total, "credit": credit_total})],
    )


# ---------------------------------------------------------------------------------------------------------
# 序时账


def _journal_pages(ctx: Context, p: ReportParams) -> Iterator[ledger.EntryView]:
    offset = 0
    while offset < ROWS_MAX:
        page = ledger.journal(ctx, p.book, p.period.start, p.period.end, limit=PAGE, offset=offset)
        yield from page
        if len(page) < PAGE:
            return
        offset += PAGE


# What the ledger's document types are called on paper (an unknown type is shown as its code).
DOC_TYPES = {
    "prop_receipt": N_("Property receipt"),
    "prop_bill_run": N_("Bill run"),
    "prop_deposit_refund": N_("Deposit refund"),
    "prop_deposit_deduction": N_("Deposit deduction"),
    "prop_prepaid": N_("Prepaid account"),
    "prop_discount": N_("Fee discount"),
    "pay_order": N_("Payment order"),
    "pay_refund": N_("Refund"),
    "pay_fee": N_("Channel fee"),
    "pay_fee_refund": N_("Channel fee returned"),
    "pay_shift": N_("Cashier shift"),
    "recon_difference": N_("Reconciliation difference"),
    "settle_batch": N_("Settlement batch"),
}


def doc_text(doc_type: str, doc_id: str) -> str:
    """An entry's document as a reader knows it: its kind in words, then its number."""
    kind = _(DOC_TYPES[doc_type]) if doc_type in DOC_TYPES else doc_type
    return f"{kind} {doc_id}".strip()


def collect_journal(ctx: Context, p: ReportParams) -> ReportData:
    names = {a.code: a.name for a in ledger.list_accounts(ctx, p.book)}
    cols = (
        Column("no", N_("No."), "int", 5),
        Column("date", N_("Date"), "date", 9),
        Column("doc", N_("Document"), width=17),
        Column("description", N_("Description"), width=18),
        Column("account", N_("Account"), width=18),
        Column("debit", N_("Debit"), "money", 12, total=True),
        Column("credit", N_("Credit"), "money", 12, total=True),
    )
    rows = []
    debit_total = credit_total = 0
    for no, entry in enumerate(_journal_pages(ctx, p), start=1):
        doc = doc_text(entry.doc_type, entry.doc_id)
        for i, (code, amount) in enumerate(entry.postings):
            debit = amount if amount > 0 else None
            credit = -amount if amount < 0 else None
            debit_total += debit or 0
            credit_total += credit or 0
            first = i == 0
            rows.append(
                (
                    no if first else None,
                    entry.business_date if first else None,
                    doc if first else "",
                    entry.description if first else "",
                    f"{code} {names.get(code, '')}".strip(),
                    debit,
                    credit,
                )
            )
    return ReportData(
        name="journal",
        title=N_("Journal"),
        period_label=p.period.label,
        facts=[book_fact(ctx, p.book)],
        tables=[Table(cols, rows, totals={"debit": debit_total, "credit": credit_total})],
        landscape=True,
    )


# ---------------------------------------------------------------------------------------------------------
# 收支报表


def _net(line: TrialBalanceLine | None) -> int:
    return line.balance_fen if line else 0


def _movement(before: TrialBalanceLine | None, after: TrialBalanceLine) -> int:
    """The period's change in the account's normal direction."""
    return after.balance_fen - _net(before)


def collect_income_statement(ctx: Context, p: ReportParams) -> ReportData:
    year_start = date(p.period.end.year, 1, 1)
    before = _by_code(ledger.trial_balance(ctx, p.book, as_of=p.period.day_before))
    before_year = _by_code(
        ledger.trial_balance(ctx, p.book, as_of=date.fromordinal(year_start.toordinal() - 1))
    )
    after = ledger.trial_balance(ctx, p.book, as_of=p.period.end)
    tables = []
    sums: dict[str, int] = {}
    for kind, title, total_label in (
        ("income", N_("Income"), N_("Total income")),
        ("expense", N_("Expense"), N_("Total expense")),
    ):
        cols = (
            Column("code", N_("Account code"), width=10),
            Column("name", N_("Item"), width=22),
            Column("period", N_("This period"), "money", 14, total=True),
            Column("ytd", N_("Year to date"), "money", 14, total=True),
        )
        rows = [
            (
                line.account_code,
                line.name,
                _movement(before.get(line.account_code), line),
                _movement(before_year.get(line.account_code), line),
            )
            for line in after
            if line.type == kind
        ]
        totals = {"period": sum(r[2] for r in rows), "ytd": sum(r[3] for r in rows)}
        sums[kind] = totals["period"]
        sums[kind + "_ytd"] = totals["ytd"]
        tables.append(Table(cols, rows, title=title, totals=totals, total_label=total_label))
    surplus_cols = (
        Column("item", N_("Item"), width=32),
        Column("period", N_("This period"), "money", 14),
        Column("ytd", N_("Year to date"), "money", 14),
    )
    tables.append(
        Table(
            surplus_cols,
            [
                (
                    _("Income less expense"),
                    sums["income"] - sums["expense"],
                    sums["income_ytd"] - sums["expense_ytd"],
                )
            ],
            title=N_("Surplus"),
            emphasis=frozenset({0}),
        )
    )
    return ReportData(
        name="income_statement",
        title=N_("Income and expense statement"),
        period_label=p.period.label,
        facts=[book_fact(ctx, p.book)],
        tables=tables,
    )


# ---------------------------------------------------------------------------------------------------------
# 资产负债表


def collect_balance_sheet(ctx: Context, p: ReportParams) -> ReportData:
    before = _by_code(ledger.trial_balance(ctx, p.book, as_of=p.period.day_before))
    after = ledger.trial_balance(ctx, p.book, as_of=p.period.end)
    cols = (
        Column("code", N_("Account code"), width=10),
        Column("name", N_("Item"), width=24),
        Column("opening", N_("Opening balance"), "money", 14, total=True),
        Column("closing", N_("Closing balance"), "money", 14, total=True),
    )

    def section(kinds: tuple[str, ...]) -> list[tuple]:
        return [
            (line.account_code, line.name, _net(before.get(line.account_code)), line.balance_fen)
            for line in after
            if line.type in kinds
        ]

    assets = section(("asset",))
    claims = section(("liability", "equity"))
    # Income and expense not yet closed into net assets belong to the fund until they are: one line.
    surplus_open = sum(_net(v) for v in before.values() if v.type == "income") - sum(
        _net(v) for v in before.values() if v.type == "expense"
    )
    surplus_close = sum(v.balance_fen for v in after if v.type == "income") - sum(
        v.balance_fen for v in after if v.type == "expense"
    )
    claims.append(("", _("Income less expense not yet closed"), surplus_open, surplus_close))

    def totals(rows: list[tuple]) -> dict[str, int]:
        return {"opening": sum(r[2] for r in rows), "closing": sum(r[3] for r in rows)}

    t_assets, t_claims = totals(assets), totals(claims)
    data = ReportData(
        name="balance_sheet",
        title=N_("Balance sheet"),
        period_label=p.period.label,
        facts=[book_fact(ctx, p.book), (N_("As of"), p.period.end.isoformat())],
        tables=[
            Table(cols, assets, title=N_("Assets"), totals=t_assets, total_label=N_("Total assets")),
            Table(
                cols,
                claims,
                title=N_("Liabilities and net assets"),
                totals=t_claims,
                total_label=N_("Total liabilities and net assets"),
            ),
        ],
    )
    data.notes.append(
        N_("Assets equal liabilities and net assets.")
        if t_assets == t_claims
        else N_("Assets DO NOT equal liabilities and net assets!")
    )
    return data


LEDGER = "ledger.view"  # what the ledger reports need besides reports.view
TRIAL_BALANCE = register(
    ReportDef("trial_balance", N_("Trial balance"), collect_trial_balance, LEDGER, requires=("book",))
)
ACCOUNT_STATEMENT = register(
    ReportDef(
        "account_statement",
        N_("Account statement"),
        collect_account_statement,
        LEDGER,
        requires=("book", "account"),
    )
)
JOURNAL = register(ReportDef("journal", N_("Journal"), collect_journal, LEDGER, requires=("book",)))
INCOME_STATEMENT = register(
    ReportDef(
        "income_statement",
        N_("Income and expense statement"),
        collect_income_statement,
        LEDGER,
        requires=("book",),
    )
)
BALANCE_SHEET = register(
    ReportDef("balance_sheet", N_("Balance sheet"), collect_balance_sheet, LEDGER, requires=("book",))
)
