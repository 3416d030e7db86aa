"""The ledger: choose a book, then its accounts with balances, the journal (paged), the trial balance as of a
date, one account's statement (paged, with running balance), and Verify over the whole ledger."""

from __future__ import annotations

from datetime import date

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.widgets import DataTable, Input, Select, Static, TabbedContent, TabPane

from console.keys import bindings
from console.screens.audit import verdict_text
from console.screens.base import WorkScreen
from console.widgets.jobs import VerifySummary, call_in_process, target_of, verify_summary
from console.widgets.paged_table import PagedTable
from core.i18n import _
from core.ledger import services as ledger
from core.money import format_fen
from core.overview import check_ledger

# A ledger filter needs some book; before one is chosen the lists read this, which matches nothing.
NO_BOOK = "-"


def _fen(value: int) -> Text:
    return Text(format_fen(value, symbol=False), justify="right")


class LedgerScreen(WorkScreen):
    """账簿 — books, accounts, journal, trial balance, statement."""

    PLACE = "ledger"
    SCOPES = ("ledger", "list")
    BINDINGS = bindings("back", "ledger")

    def __init__(self) -> None:
        super().__init__()
        self.book: str | None = None
        self.account: str | None = None
        self.accounts: list[ledger.TrialBalanceLine] = []

    def body(self) -> ComposeResult:
        with Horizontal(id="ledger-top"):
            yield Select([], prompt=_("Book"), id="book", compact=True)
            yield Static("", id="book-info")
        with TabbedContent(id="ledger-tabs"):
            with TabPane(_("Accounts"), id="tab-accounts"):
                yield DataTable(id="accounts", cursor_type="row", zebra_stripes=True)
            with TabPane(_("Journal"), id="tab-journal"):
                yield PagedTable(
                    "ledger.journal",
                    self.context,
                    fixed={"book": NO_BOOK},
                    export_dir=self.app.export_dir,
                    id="journal",
                )
            with TabPane(_("Trial balance"), id="tab-trial"), Vertical():
                yield Input(placeholder=_("As of date YYYY-MM-DD (empty: now)"), id="as-of", compact=True)
                yield DataTable(id="trial", cursor_type="row", zebra_stripes=True)
                yield Static("", id="trial-total")
            with TabPane(_("Statement"), id="tab-statement"):
                yield Static(_("Choose an account on the Accounts tab and press S."), id="statement-title")
                yield PagedTable(
                    "ledger.statement",
                    self.context,
                    fixed={"book": NO_BOOK, "account": NO_BOOK},
                    export_dir=self.app.export_dir,
                    id="statement",
                )
        yield Static("", id="verify-result", classes="verdict")

    def on_mount(self) -> None:
        super().on_mount()
        self.query_one("#verify-result").display = False
        for table_id in ("#accounts", "#trial"):
            table = self.query_one(table_id, DataTable)
            table.add_column(_("Account"), key="code", width=14)
            table.add_column(_("Name"), key="name", width=18)
            table.add_column(_("Type"), key="type", width=9)
            table.add_column(Text(_("Debits"), justify="right"), key="debits", width=14)
            table.add_column(Text(_("Credits"), justify="right"), key="credits", width=14)
            table.add_column(Text(_("Balance"), justify="right"), key="balance", width=14)
        self.call(ledger.list_books, done=self._show_books, group="books")

    def _show_books(self, books: list[ledger.BookView]) -> None:
        select = self.query_one("#book", Select)
        select.set_options([(f"{b.code}  {b.name}", b.code) for b in books])
        if books:
            select.value = books[0].code
        else:
            self.query_one("#book-info", Static).update(Text(_("No books yet."), style="dim"))

    @on(Select.Changed, "#book")
    def _book_chosen(self, event: Select.Changed) -> None:
        if event.value is Select.NULL:
            return
        self.book = str(event.value)
        self.account = None
        self.query_one("#book-info", Static).update("")
        self.query_one("#journal", PagedTable).set_fixed(book=self.book)
        self.query_one("#statement", PagedTable).set_fixed(book=self.book, account=NO_BOOK)
        self.query_one("#statement-title", Static).update(
            _("Choose an account on the Accounts tab and press S.")
        )
        self.reload()

    def reload(self) -> None:
        if self.book is None:
            return
        self.call(ledger.trial_balance, self.book, done=self._show_accounts, group="accounts")
        self._read_trial()
        for table in self.query(PagedTable):
            if table.fixed.get("book") != NO_BOOK:
                table.refresh_rows()

    def _fill(self, table: DataTable, lines: list[ledger.TrialBalanceLine]) -> None:
        table.clear()
        for line in lines:
            table.add_row(
                line.account_code,
                Text(line.name),
                _(line.type),
                _fen(line.debits_fen),
                _fen(line.credits_fen),
                _fen(line.balance_fen),
                key=line.account_code,
            )

    def _show_accounts(self, lines: list[ledger.TrialBalanceLine]) -> None:
        self.accounts = lines
        self._fill(self.query_one("#accounts", DataTable), lines)

    # ------------------------------------------------------------------------------------ trial balance

    @on(Input.Submitted, "#as-of")
    def _as_of_entered(self) -> None:
        self._read_trial()

    def _read_trial(self) -> None:
        if self.book is None:
            return
        text = self.query_one("#as-of", Input).value.strip()
        as_of: date | None = None
        if text:
            try:
                as_of = date.fromisoformat(text)
            except ValueError:
                self.say_error(_("Write the date as YYYY-MM-DD."))
                return
        self.call(ledger.trial_balance, self.book, as_of, done=self._show_trial, group="trial")

    def _show_trial(self, lines: list[ledger.TrialBalanceLine]) -> None:
        self._fill(self.query_one("#trial", DataTable), lines)
        debits = sum(line.debits_fen for line in lines)
        credits = sum(line.credits_fen for line in lines)
        verdict = _("balanced") if debits == credits else _("NOT balanced")
        text = Text(
            _("Total debits {debits}, total credits {credits}: {verdict}").format(
                debits=format_fen(debits), credits=format_fen(credits), verdict=verdict
            ),
            style="bold" if debits == credits else "bold red",
        )
        self.query_one("#trial-total", Static).update(text)

    # ------------------------------------------------------------------------------------ statement

    @on(DataTable.RowSelected, "#accounts")
    def _account_chosen(self) -> None:
        self.action_statement()

    def action_statement(self) -> None:
        table = self.query_one("#accounts", DataTable)
        if self.book is None or not self.accounts or not 0 <= table.cursor_row < len(self.accounts):
            self.say_error(_("Choose an account on the Accounts tab first."))
            return
        line = self.accounts[table.cursor_row]
        self.account = line.account_code
        self.query_one("#statement-title", Static).update(
            Text(f"{self.book} · {line.account_code} {line.name}", style="bold")
        )
        self.query_one("#statement", PagedTable).set_fixed(book=self.book, account=line.account_code)
        self.query_one("#ledger-tabs", TabbedContent).active = "tab-statement"

    # ------------------------------------------------------------------------------------ verify

    def action_verify(self) -> None:
        panel = self.query_one("#verify-result", Static)
        panel.display = True
        panel.update(Text(_("Verifying the ledger…"), style="dim"))
        # In a process of its own: a verify walks every record in Python, and keys must not wait for it. Only
        # a summary comes back (a damaged ledger may have a great many problems; the panel shows the first few).
        call_in_process(
            self,
            verify_summary,
            target_of(check_ledger),
            done=self._verified,
            failed=self._verify_failed,
            group="verify",
        )

    def _verified(self, result: VerifySummary) -> None:
        self.query_one("#verify-result", Static).update(verdict_text(result, _("Ledger")))

    def _verify_failed(self, message: str) -> None:
        self.query_one("#verify-result", Static).update(Text(message, style="bold red"))
