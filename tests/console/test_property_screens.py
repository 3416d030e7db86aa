"""The property administration screens of the back office: every property list pages, sorts and filters in
SQL (and keeps an owner's personal data out of the list), the houses import shows its row-by-row report and
imports the good rows on request, a work order is dispatched from the board, an alarm is acknowledged."""

from __future__ import annotations

from datetime import timedelta

import pytest
from rich.text import Text
from sqlalchemy import func, insert, select
from textual.widgets import DataTable, Input, Static, TabbedContent
from textual.widgets.data_table import ColumnKey

from console.screens.billing import arrears_by_building
from console.screens.property_admin import PropertyBaseScreen, SecurityScreen, WorkOrdersScreen, sla_style
from console.screens.property_import import PropertyImportScreen
from console.widgets.paged_table import PagedTable
from core import listing
from core.errors import ValidationError
from core.ids import new_id
from core.property import console_reads as reads
from core.property.access import services as access
from core.property.access.models import Alarm
from core.property.models import Building, House
from core.property.repairs import services as repairs
from core.property.repairs.models import WorkOrder
from core.security.services import add_user
from tests.console.test_back_office import PASSWORD, _fast_hashing, make_app, run  # noqa: F401
from tests.console.test_console_app import log_in, settle, text_of
from tests.property.ops_support import make_base


@pytest.fixture
def site(sqlite_ctx):
    """Community C1 (buildings 1 and 2, four houses with owners), an open work order and a fresh fire alarm;
    a boss (admin) and a property clerk who may not see personal data in clear."""
    b = make_base(sqlite_ctx)
    repairs.define_repair_type(sqlite_ctx, "PIPE", "水管", response_minutes=30, completion_minutes=240)
    repairs.report(
        sqlite_ctx,
        community_id=b.community_id,
        repair_type="PIPE",
        description="厨房漏水",
        house_id=b.house_ids[0],
    )
    access.receive_alarm(sqlite_ctx, b.community_id, "fire", location="2号楼", description="烟感报警")
    add_user(sqlite_ctx, "boss", PASSWORD, display_name="管理员", roles=["admin"])
    add_user(sqlite_ctx, "clerk", PASSWORD, display_name="物业", roles=["property"])
    sqlite_ctx.base = b
    return sqlite_ctx


def add_building_with_houses(ctx, number: str, houses: int) -> None:
    """A building of `houses` houses written in one statement (a big list without a slow set-up)."""
    with ctx.uow() as uow:
        bid = new_id()
        uow.session.add(
            Building(
                id=bid,
                community_id=ctx.base.community_id,
                number=number,
                name="",
                floors=30,
                created_at=uow.now,
            )
        )
        uow.session.flush()
        uow.session.execute(
            insert(House),
            [
                {
                    "id": new_id(),
                    "community_id": ctx.base.community_id,
                    "building_id": bid,
                    "number": f"{i + 1}",
                    "code": f"{number}-{i + 1}",
                    "floor": i % 30,
                    "building_area_dm2": 9000 + i,
                    "inner_area_dm2": 7000,
                    "status": "vacant",
                    "created_at": uow.now,
                }
                for i in range(houses)
            ],
        )


def houses(ctx) -> int:
    with ctx.db.reader() as s:
        return s.execute(select(func.count()).select_from(House)).scalar_one()


async def open_place(app, pilot, place: str) -> None:
    await app.run_action(f"goto('{place}')")
    await settle(app, pilot)


# ------------------------------------------------------------------------------------------ read models


def test_every_property_list_reads_a_page_in_every_order(site):
    codes = [s.code for s in listing.sources_for(site) if s.code.startswith("property.")]
    assert reads.WORK_ORDERS in codes and reads.HOUSES in codes and reads.ALARMS in codes
    for code in codes:
        source = listing.get_source(code)
        for sort in source.sorts:
            for descending in (False, True):
                page = listing.paged(site, code, listing.ListQuery(sort=sort, descending=descending, limit=5))
                assert all(len(r) == len(source.columns) for r in page.rows), code


def test_house_and_building_codes_sort_naturally_and_filters_are_checked(site):
    add_building_with_houses(site, "10", 3)
    by_code = listing.paged(site, reads.HOUSES, listing.ListQuery(limit=50)).rows
    assert [r[0] for r in by_code][:3] == ["1-1-101", "1-1-102", "10-1"]  # by code: the index's order
    rows = listing.paged(site, reads.HOUSES, listing.ListQuery(sort="building", limit=50)).rows
    assert [r[2] for r in rows] == ["1", "1", "2", "2", "10", "10", "10"]
    assert [r[0] for r in rows][4:] == ["10-1", "10-2", "10-3"]
    assert rows[0][4] == "89.50"  # areas in m², from dm²
    assert rows[0][9] == "业主1"  # the owners' names
    buildings = listing.paged(site, reads.BUILDINGS, listing.ListQuery(limit=10)).rows
    assert [r[1] for r in buildings] == ["1", "2", "10"]
    assert listing.count(site, reads.HOUSES, {"building": "10"}) == 3
    assert listing.count(site, reads.HOUSES, {"community": "nope"}) == 0
    with pytest.raises(ValidationError):
        listing.paged(site, reads.HOUSES, listing.ListQuery(filters={"status": "haunted"}))
    with pytest.raises(ValidationError):
        listing.paged(site, reads.SIGNUPS, listing.ListQuery(filters={"activity": "not-an-id"}))
    # An owner's ID number and phone are not in the list at all (the detail shows them masked).
    owners = listing.get_source(reads.OWNERS)
    assert not {"phone", "id_number"} & set(owners.column_keys())


def test_arrears_lists_buildings_in_natural_order(site):
    add_building_with_houses(site, "10", 1)
    rows = arrears_by_building(site, site.base.community_id)
    assert [r.building.split()[0] for r in rows[1:]] == ["1", "2", "10"]


def test_work_order_sla_style(site):
    now = site.clock.now()
    row = {
        "status": "dispatched",
        "respond_by": now - timedelta(minutes=1),
        "complete_by": now + timedelta(hours=1),
    }
    assert sla_style(row, now) == "red"
    assert sla_style({**row, "complete_by": now - timedelta(seconds=1)}, now) == "bold red"
    assert sla_style({**row, "status": "accepted"}, now) is None
    assert sla_style({**row, "status": "completed", "complete_by": now - timedelta(days=1)}, now) is None


# ------------------------------------------------------------------------------------------ journeys


def test_import_a_houses_file_with_errors_read_the_report_then_import_the_good_rows(site, tmp_path):
    from core.property.importexport import COLUMNS
    from reports.xlsx_io import write_rows

    path = tmp_path / "houses.xlsx"
    write_rows(
        path,
        COLUMNS["houses"],
        [
            ("C1", "1", "1", "901", 9, "90.00", "70.00", "2室1厅", "住宅", "空置", "2026-01-01"),
            ("C1", "1", "1", "902", 9, "0", "70.00", "2室1厅", "住宅", "空置", "2026-01-01"),
            ("C1", "9", "1", "903", 9, "90.00", "70.00", "2室1厅", "住宅", "空置", "2026-01-01"),
        ],
        "houses",
    )
    before = houses(site)

    async def scenario() -> None:
        app = make_app(site)
        async with app.run_test(size=(120, 40)) as pilot:
            await settle(app, pilot)
            await log_in(app, pilot, "boss", PASSWORD)
            await open_place(app, pilot, "property_import")
            assert isinstance(app.screen, PropertyImportScreen)

            # A file that is not there: said in words, nothing happens.
            box = app.screen.query_one("#import-path", Input)
            box.value = str(tmp_path / "missing.xlsx")
            box.focus()
            await pilot.press("enter")
            await settle(app, pilot)
            assert "There is no file" in text_of(app, "#message")

            # G before any report: refused.
            app.screen.query_one("#import-errors", DataTable).focus()
            await pilot.press("g")
            await settle(app, pilot)
            assert "Check the file first" in text_of(app, "#message")

            box.value = str(path)
            box.focus()
            await pilot.press("enter")
            await settle(app, pilot)
            summary = text_of(app, "#import-summary")
            assert "Nothing was imported: 2 rows have errors." in summary
            errors = app.screen.query_one("#import-errors", DataTable)
            assert errors.row_count == 2
            rows = [
                [str(c.plain if isinstance(c, Text) else c) for c in errors.get_row_at(i)] for i in range(2)
            ]
            assert [r[0] for r in rows] == ["3", "4"]  # spreadsheet rows (the header is row 1)
            assert rows[0][1] == "建筑面积"
            assert houses(site) == before

            await pilot.press("g")  # the report has the focus
            await settle(app, pilot)
            assert "Imported 1 rows." in text_of(app, "#import-summary")
            assert "2 rows with errors were left out." in text_of(app, "#import-summary")
            assert houses(site) == before + 1

    run(scenario())


def test_dispatch_a_work_order_from_the_board(site):
    async def scenario() -> None:
        app = make_app(site)
        async with app.run_test(size=(120, 40)) as pilot:
            await settle(app, pilot)
            await log_in(app, pilot, "boss", PASSWORD)
            await open_place(app, pilot, "property_workorders")
            assert isinstance(app.screen, WorkOrdersScreen)
            board = app.screen.query_one("#work-orders", PagedTable)
            assert len(board.rows) == 1
            assert "厨房漏水" in text_of(app, "#property-detail")
            # Past the response deadline: the row turns red.
            site.clock.advance(minutes=31)
            board.refresh_rows()
            await settle(app, pilot)
            cell = board.query_one(DataTable).get_row_at(0)[0]
            assert "red" in str(cell.spans[0].style)

            await pilot.press("s")
            await settle(app, pilot)
            await pilot.press(*"老王")
            await pilot.press("enter")
            await settle(app, pilot)
            assert "dispatched to 老王" in text_of(app, "#message")
            with site.db.reader() as s:
                order = s.execute(select(WorkOrder)).scalar_one()
            assert (order.status, order.worker) == ("dispatched", "老王")
            # Dispatching again (the order is no longer waiting): refused in words, nothing changes.
            await pilot.press("g")
            await settle(app, pilot)
            assert text_of(app, "#message") and "grab pool" not in text_of(app, "#message")
            with site.db.reader() as s:
                assert s.execute(select(WorkOrder.status)).scalar_one() == "dispatched"

    run(scenario())


def test_acknowledge_an_alarm(site):
    async def scenario() -> None:
        app = make_app(site)
        async with app.run_test(size=(120, 40)) as pilot:
            await settle(app, pilot)
            await log_in(app, pilot, "boss", PASSWORD)
            await open_place(app, pilot, "property_security")
            assert isinstance(app.screen, SecurityScreen)
            await pilot.press("a")
            await settle(app, pilot)
            assert "Alarm acknowledged." in text_of(app, "#message")
            with site.db.reader() as s:
                alarm = s.execute(select(Alarm)).scalar_one()
            assert (alarm.status, alarm.acknowledged_by) == ("acknowledged", "boss")
            await pilot.press("a")  # twice: refused by the alarm's state machine
            await settle(app, pilot)
            refusal = text_of(app, "#message")
            assert refusal and not refusal.startswith("Alarm acknowledged.")
            # The cameras tab has no alarm actions: the key does nothing there.
            app.screen.query_one(TabbedContent).active = "tab-cameras"
            await settle(app, pilot)
            assert app.screen.check_action("acknowledge", ()) is False

    run(scenario())


def test_houses_list_pages_and_sorts_and_owner_data_is_masked(site):
    add_building_with_houses(site, "10", 450)

    async def scenario() -> None:
        app = make_app(site)
        async with app.run_test(size=(120, 40)) as pilot:
            await settle(app, pilot)
            await log_in(app, pilot, "clerk", PASSWORD)
            await open_place(app, pilot, "property_base")
            assert isinstance(app.screen, PropertyBaseScreen)
            app.screen.query_one(TabbedContent).active = "tab-houses"
            await settle(app, pilot)
            houses_list = app.screen.query_one("#houses", PagedTable)
            table = houses_list.query_one(DataTable)
            assert houses_list.total == 454 and len(houses_list.rows) == 200
            assert houses_list.current_row()["code"] == "1-1-101"
            await pilot.press("ctrl+end")
            await settle(app, pilot)
            assert houses_list.first + table.cursor_row == 453
            assert houses_list.current_row()["code"] == "2-1-104"  # by code, as the index has them

            # By building: the natural order, "2" before "10" and 10-450 after 10-99.
            table.post_message(DataTable.HeaderSelected(table, ColumnKey("building"), 2, Text("")))
            await settle(app, pilot)
            assert houses_list.sort == "building" and houses_list.current_row()["code"] == "1-1-101"
            await pilot.press("ctrl+end")
            await settle(app, pilot)
            assert houses_list.first + table.cursor_row == 453
            assert houses_list.current_row()["code"] == "10-450"
            assert [r[0] for r in houses_list.rows[-3:]] == ["10-448", "10-449", "10-450"]

            # Sort by floor, then flip it: the column title shows the direction.
            table.post_message(DataTable.HeaderSelected(table, ColumnKey("floor"), 3, Text("")))
            await settle(app, pilot)
            assert houses_list.sort == "floor" and not houses_list.descending
            assert houses_list.rows[0][3] == 0
            table.post_message(DataTable.HeaderSelected(table, ColumnKey("floor"), 3, Text("")))
            await settle(app, pilot)
            assert houses_list.descending and houses_list.rows[0][3] == 29

            # Owners: the clerk sees the phone masked in the detail.
            app.screen.query_one(TabbedContent).active = "tab-owners"
            await settle(app, pilot)
            await pilot.pause(0.3)  # the detail is read once the cursor rests
            await settle(app, pilot)
            detail = text_of(app, "#property-detail")
            assert "业主1" in detail
            assert "13800138000" not in detail and "138****8000" in detail

    run(scenario())


def test_a_bad_fee_item_is_refused_in_words_and_nothing_is_added(site):
    from core.property.models import FeeItem

    async def scenario() -> None:
        app = make_app(site)
        async with app.run_test(size=(80, 24)) as pilot:
            await settle(app, pilot)
            await log_in(app, pilot, "boss", PASSWORD)
            await open_place(app, pilot, "property_fees")
            await pilot.press("n")
            await settle(app, pilot)
            values = {"community": "C1", "code": "WYF", "name": "物业费", "rule": "by_magic"}
            for key, value in values.items():
                app.screen.query_one(f"#field-{key}", Input).value = value
            app.screen.query_one("#ok").press()
            await settle(app, pilot)
            assert "Unknown charging rule by_magic." in text_of(app, "#message")
            with site.db.reader() as s:
                assert s.execute(select(func.count()).select_from(FeeItem)).scalar_one() == 0
            # The palette offers this screen's actions (and the places), by name.
            from console.app import AnjuCommands, screen_commands

            assert "add" in {spec.action for spec in screen_commands(app.screen)}
            titles = [title for title, _help, _run in AnjuCommands(app.screen)._commands()]
            assert "Go to: Work-order board" in titles and "New" in titles

    run(scenario())


def test_arrears_screen_shows_the_schedule_and_sends_todays_reminders(sqlite_ctx):
    from console.screens.billing import ArrearsScreen
    from core.property import billing, reminders
    from core.property.models import ReminderSent
    from tests.property.helpers import property_fee, small_community

    community, _houses = small_community(sqlite_ctx, houses=3)
    property_fee(sqlite_ctx, community.id)
    billing.bill_run(sqlite_ctx, "2026-01")
    reminders.set_schedule(sqlite_ctx, community.id, "every", 7, ["printed"])
    add_user(sqlite_ctx, "boss", PASSWORD, display_name="管理员", roles=["admin"])
    expected = reminders.run_reminders(sqlite_ctx, community_id=community.id, dry_run=True)
    assert expected.messages == 3

    def sent() -> int:
        with sqlite_ctx.db.reader() as s:
            return s.execute(select(func.count()).select_from(ReminderSent)).scalar_one()

    async def scenario() -> None:
        app = make_app(sqlite_ctx)
        async with app.run_test(size=(120, 40)) as pilot:
            await settle(app, pilot)
            await log_in(app, pilot, "boss", PASSWORD)
            await open_place(app, pilot, "arrears")
            assert isinstance(app.screen, ArrearsScreen)
            await settle(app, pilot)
            assert "Every few days: 7 days, by Printed notice" in str(
                app.screen.query_one("#reminder-schedule", Static).content
            )
            app.screen.query_one("#arrears").focus()
            await pilot.press("r")
            await settle(app, pilot)
            await pilot.press("escape")  # the confirmation first: cancelled, nothing is sent
            await settle(app, pilot)
            assert sent() == 0
            await pilot.press("r")
            await settle(app, pilot)
            app.screen.query_one("#yes").press()
            await settle(app, pilot)
            assert "Reminders sent: 3 houses, 3 messages" in text_of(app, "#message")
            assert sent() == 3
            listed = app.screen.query_one("#reminders-sent", PagedTable)
            assert listed.total == 3 and listed.rows[0][2] == "printed"
            # Again the same day: nothing is due any more.
            await pilot.press("r")
            await settle(app, pilot)
            assert "No reminders are due today" in text_of(app, "#message")
            assert sent() == 3

    run(scenario())


def test_natural_key_orders_codes_as_people_read_them():
    codes = ["10", "2", "1", "B10", "B2", "A", "1-10", "1-9", ""]
    assert sorted(codes, key=reads.natural_key) == ["", "1", "1-9", "1-10", "2", "10", "A", "B2", "B10"]
