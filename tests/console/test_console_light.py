"""What keeps the back office light (issue 6): list cells are ready-made Text, fixed-width columns are not
measured cell by cell, the export bar is mounted only for an export, the audit screen fits at 80×24 and
120×40; long jobs run below the app's priority, pass progress on at a bounded rate and send a verify back as a
summary; and the one FormDialog (password fields, Enter to the next field, choices)."""

from __future__ import annotations

import os
import pickle

import pytest
from rich.text import Text
from sqlalchemy import update
from textual.app import App
from textual.widgets import Input, ProgressBar, Select

from console.screens.audit import AuditScreen, verdict_text
from console.widgets import jobs
from console.widgets.form import FormDialog, FormField
from console.widgets.paged_table import PagedTable, WindowTable, format_cell
from core.audit.models import AuditRecord
from core.context import Actor
from core.overview import check_audit
from tests.console.test_back_office import PASSWORD, _fast_hashing, make_app, run, screen_text, site  # noqa: F401
from tests.console.test_console_app import log_in, settle
from tests.console.test_hub_screens import hub, open_place  # noqa: F401 - the hub fixture (a site on disk)

# ---------------------------------------------------------------------------------------------- list cells


def test_every_cell_is_text_and_never_markup():
    from datetime import UTC, date, datetime

    cells = [
        format_cell("text", "[bold]not markup[/bold]"),
        format_cell("fen", 12345),
        format_cell("int", 7),
        format_cell("datetime", datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)),
        format_cell("date", date(2026, 1, 2)),
        format_cell("bool", True),
        format_cell("text", None),
    ]
    assert all(isinstance(c, Text) for c in cells)
    assert cells[0].plain == "[bold]not markup[/bold]" and not cells[0].spans
    assert cells[1].plain == "123.45" and cells[1].justify == "right"
    assert cells[3].plain == "2026-01-02 11:04:05"  # business time (UTC+8)
    assert cells[6].plain == ""


class _TableApp(App[None]):
    def compose(self):
        yield WindowTable()


def test_fixed_width_columns_keep_their_width_and_only_auto_ones_are_measured():
    async def scenario() -> None:
        app = _TableApp()
        async with app.run_test(size=(80, 20)) as pilot:
            table = app.query_one(WindowTable)
            table.add_column("fixed", key="fixed", width=5)
            table.add_column("auto", key="auto")
            table.add_rows([[Text("a much longer text than five"), Text("x" * n)] for n in (3, 17, 9)])
            await pilot.pause()
            fixed, auto = table.ordered_columns
            assert fixed.get_render_width(table) == 5 + 2 * table.cell_padding
            assert auto.content_width == 17  # measured: the longest cell
            assert table.virtual_size.height == 3 + table.header_height
            assert table.virtual_size.width == 5 + 17 + 4 * table.cell_padding
            # More rows later: the auto column grows, the fixed one does not.
            table.add_rows([[Text("y"), Text("z" * 30)]])
            await pilot.pause()
            assert auto.content_width == 30 and fixed.get_render_width(table) == 5 + 2 * table.cell_padding
            assert table.virtual_size.height == 4 + table.header_height

    run(scenario())


def test_plain_cells_are_drawn_exactly_as_datatable_draws_them():
    """The quick path for one-line plain Text cells gives the same characters and styles as DataTable's own
    path, for every row style (zebra, cursor, hover), justification, and text that fits, fills or is cropped
    (wide characters split at the edge too); styled text and markup-free str cells still take DataTable's path."""
    from textual.widgets import DataTable

    def chars(lines) -> list:
        return [[(ch, seg.style) for seg in line for ch in seg.text] for line in lines]

    async def scenario() -> None:
        app = _TableApp()
        async with app.run_test(size=(80, 20)) as pilot:
            table = app.query_one(WindowTable)
            table.zebra_stripes = True
            table.add_column("a", key="a", width=6)
            table.add_column("b", key="b", width=3)
            table.add_column("c", key="c")
            samples = [
                Text(""),
                Text("abc"),
                Text("123.45", justify="right"),
                Text("一二三四", justify="left"),
                Text("x一二三", justify="right"),
                Text("a much longer text than any width"),
                Text("[bold]not markup[/bold]"),
                Text("styled", style="bold"),
                Text.assemble(("red", "red"), " plain"),
            ]
            table.add_rows([[samples[i], samples[(i + 3) % 9], samples[(i + 5) % 9]] for i in range(9)])
            await pilot.pause()
            quick = 0
            for row in range(9):
                for column in range(3):
                    for cursor in (False, True):
                        for hover in (False, True):
                            for width in (2, 3, 5, 8, 14):
                                base = table.rich_style
                                table._cell_render_cache.clear()
                                ours = table._render_cell(row, column, base, width, cursor, hover)
                                cell = table.get_cell_at((row, column))
                                quick += not cell.spans and not cell.style
                                table._cell_render_cache.clear()
                                theirs = DataTable._render_cell(
                                    table, row, column, base, width, cursor, hover
                                )
                                assert chars(ours) == chars(theirs), (cell, width, cursor, hover)
            assert quick > 0
            # Headers take DataTable's path and stay as they were.
            table._cell_render_cache.clear()
            header = table._render_cell(-1, 0, table.rich_style, 8)
            assert "".join(seg.text for seg in header[0]).strip() == "a"

    run(scenario())


# ---------------------------------------------------------------------------------------------- audit screen


@pytest.mark.parametrize("size", [(120, 40), (80, 24)])
def test_audit_screen_fits_and_mounts_the_export_bar_only_to_export(hub, size, tmp_path):  # noqa: F811
    async def scenario() -> None:
        app = make_app(hub)
        app.export_dir = lambda: tmp_path  # type: ignore[method-assign]
        async with app.run_test(size=size) as pilot:
            await settle(app, pilot)
            await log_in(app, pilot, "boss", PASSWORD)
            await open_place(app, pilot, "audit")
            assert isinstance(app.screen, AuditScreen)
            audit = app.screen.query_one(PagedTable)
            assert audit.rows and app.focused is audit.query_one(WindowTable)
            assert not audit.query(ProgressBar)  # nothing mounted for an export nobody asked for
            text = screen_text(app)
            lines = text.rstrip().splitlines()
            for label in ("No.", "Time", "Who", "Action", "Row 1 of", "Record", "auth.login"):
                assert label in text, (size, label)
            assert "^q" in lines[-1]  # the footer is on the last line

            await pilot.press("ctrl+e")
            await settle(app, pilot)
            await app.workers.wait_for_complete()
            await settle(app, pilot)
            assert len(audit.query(ProgressBar)) == 1
            assert not audit.query_one(ProgressBar).display  # shown while exporting, hidden after
            assert list(tmp_path.glob("audit-*.xlsx"))

    run(scenario())


# ---------------------------------------------------------------------------------------------- jobs


def child_niceness(ctx) -> int:
    """(In the child) its priority."""
    return os.nice(0)


def many_progress(ctx, n: int, progress) -> int:
    """(In the child) report progress n + 1 times as fast as it can."""
    for i in range(n + 1):
        progress(i, n)
    return n


def test_a_job_runs_below_the_apps_priority_and_its_progress_is_paced(hub):  # noqa: F811
    spec = jobs.context_spec(hub)
    assert spec is not None
    niceness = jobs.run_in_process(spec, jobs.target_of(child_niceness))
    assert niceness == min(19, os.nice(0) + jobs.CHILD_NICENESS)

    seen: list[tuple[int, int]] = []
    done = jobs.run_in_process(
        spec, jobs.target_of(many_progress), (20_000,), progress=lambda d, t: seen.append((d, t))
    )
    assert done == 20_000
    assert seen[0] == (0, 20_000) and seen[-1] == (20_000, 20_000)
    assert len(seen) < 200  # not 20,001 messages for the app to handle


def test_a_verify_comes_back_as_a_summary_with_every_problem_counted(hub):  # noqa: F811
    with hub.db.writer() as s:
        s.execute(update(AuditRecord).where(AuditRecord.seq <= 5).values(after_json='{"forged": true}'))
        s.commit()
    full = check_audit(hub)
    assert len(full.problems) >= 5

    spec = jobs.context_spec(hub)
    summary = jobs.run_in_process(spec, jobs.target_of(jobs.verify_summary), (jobs.target_of(check_audit), 2))
    assert not summary.ok and summary.checked == full.checked
    assert summary.problem_count == len(full.problems)
    assert summary.problems == full.problems[:2]
    assert len(pickle.dumps(summary)) < 2000
    verdict = verdict_text(summary, "Audit log").plain
    assert f"{len(full.problems)} problems in {full.checked:,} records" in verdict

    # Refused in the child without the permission: the sentence comes back, nothing else.
    nobody = hub.as_actor(Actor(user_id=None, username="nobody", permissions=frozenset()))
    with pytest.raises(jobs.JobRefused):
        jobs.run_in_process(
            jobs.context_spec(nobody), jobs.target_of(jobs.verify_summary), (jobs.target_of(check_audit),)
        )


# ---------------------------------------------------------------------------------------------- the form


class _FormApp(App[None]):
    def __init__(self, dialog: FormDialog) -> None:
        super().__init__()
        self.dialog = dialog
        self.answers: list[dict[str, str] | None] = []

    def on_mount(self) -> None:
        self.push_screen(self.dialog, self.answers.append)


def _form() -> FormDialog:
    return FormDialog(
        "New user",
        [
            FormField("name", "Name"),
            FormField("kind", "Kind", choices=(("a", "Alpha"), ("b", "Beta"))),
            FormField("secret", "Password", password=True),
            FormField("again", "Again", password=True, value="pre"),
        ],
    )


def test_the_form_hides_passwords_moves_on_with_enter_and_answers_on_the_last_field():
    async def scenario() -> None:
        app = _FormApp(_form())
        async with app.run_test(size=(80, 24)) as pilot:
            await pilot.pause()
            dialog = app.screen
            assert dialog.query_one("#field-secret", Input).password
            assert not dialog.query_one("#field-name", Input).password
            dialog.query_one("#field-name", Input).focus()
            await pilot.press(*"ann", "enter")
            assert app.focused is dialog.query_one("#field-kind", Select)  # on to the next field, no answer
            assert app.answers == []
            dialog.query_one("#field-kind", Select).value = "b"
            dialog.query_one("#field-secret", Input).focus()
            await pilot.press(*"pw", "enter")
            assert app.focused is dialog.query_one("#field-again", Input) and app.answers == []
            await pilot.press("enter")
            await pilot.pause()
            assert app.answers == [{"name": "ann", "kind": "b", "secret": "pw", "again": "pre"}]

    run(scenario())


def test_the_form_cancelled_answers_none_and_an_unchosen_choice_is_empty():
    async def scenario() -> None:
        app = _FormApp(_form())
        async with app.run_test(size=(80, 24)) as pilot:
            await pilot.pause()
            await pilot.press("escape")
            await pilot.pause()
            assert app.answers == [None]
        app = _FormApp(_form())
        async with app.run_test(size=(80, 24)) as pilot:
            await pilot.pause()
            await pilot.click("#ok")
            await pilot.pause()
            assert app.answers == [{"name": "", "kind": "", "secret": "", "again": "pre"}]

    run(scenario())
