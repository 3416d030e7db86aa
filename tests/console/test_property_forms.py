"""The property administration forms of the back office: changing a fee item's standard from a period, adding
parking spaces, access devices and cameras, and the other clerk actions — each saved on OK, and each refused
inside its dialog with nothing saved when the values are wrong (the typed values kept for correcting)."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select
from textual.widgets import Input, Static, TabbedContent

from console.screens.property_admin import FeesScreen
from console.screens.property_base import SheetDialog
from console.widgets.paged_table import PagedTable
from core.property import billing
from core.property.models import FeeItem, FeeItemVersion
from core.security.services import add_user
from tests.console.test_back_office import PASSWORD, _fast_hashing, make_app, run  # noqa: F401
from tests.console.test_console_app import log_in, settle, text_of
from tests.property.ops_support import make_base


@pytest.fixture
def site(sqlite_ctx):
    """Community C1 (two buildings, four houses with owners), fee item WYF at 2.50 元/m²·月; an admin."""
    b = make_base(sqlite_ctx)
    billing.create_fee_item(sqlite_ctx, b.community_id, "WYF", "物业费", "building_area", unit_price="2.50")
    add_user(sqlite_ctx, "boss", PASSWORD, display_name="管理员", roles=["admin"])
    sqlite_ctx.base = b
    return sqlite_ctx


async def open_place(app, pilot, place: str) -> None:
    await app.run_action(f"goto('{place}')")
    await settle(app, pilot)


async def show_tab(app, pilot, tab: str) -> None:
    app.screen.query_one(TabbedContent).active = f"tab-{tab}"
    await settle(app, pilot)


def fill(app, **values: str) -> None:
    for key, value in values.items():
        app.screen.query_one(f"#field-{key}", Input).value = value


async def press_ok(app, pilot) -> None:
    app.screen.query_one("#ok").press()
    await settle(app, pilot)


def dialog_error(app) -> str:
    assert isinstance(app.screen, SheetDialog), "the dialog should still be open"
    return str(app.screen.query_one("#sheet-error", Static).content)


def count(ctx, model) -> int:
    with ctx.db.reader() as s:
        return s.execute(select(func.count()).select_from(model)).scalar_one()


def test_change_a_fee_items_price_from_a_period(site):
    async def scenario() -> None:
        app = make_app(site)
        async with app.run_test(size=(80, 24)) as pilot:
            await settle(app, pilot)
            await log_in(app, pilot, "boss", PASSWORD)
            await open_place(app, pilot, "property_fees")
            assert isinstance(app.screen, FeesScreen)
            await pilot.press("e")
            await settle(app, pilot)
            # The form starts from the item's standard and the first period open to a change.
            assert app.screen.query_one("#field-unit_price", Input).value == "2.50"
            assert app.screen.query_one("#field-effective_from", Input).value == "2026-11"
            assert app.screen.query_one("#field-cycle", Input).value == "monthly"

            # A wrong value: refused in the dialog, nothing saved, the typed values kept.
            fill(app, effective_from="2026-12", unit_price="abc", reason="物价局批复")
            await press_ok(app, pilot)
            assert "abc" in dialog_error(app)
            assert app.screen.query_one("#field-reason", Input).value == "物价局批复"
            fill(app, unit_price="3.00", prorate="maybe")
            await press_ok(app, pilot)
            assert "yes or no" in dialog_error(app)
            assert count(site, FeeItemVersion) == 0

            fill(app, prorate="yes")
            await press_ok(app, pilot)
            assert isinstance(app.screen, FeesScreen)
            assert "WYF changed from 2026-12" in text_of(app, "#message")
            with site.db.reader() as s:
                assert s.execute(select(FeeItem.unit_price)).scalar_one() == "3.00"
                periods = set(s.execute(select(FeeItemVersion.effective_from)).scalars())
            assert periods == {"0000-01", "2026-12"}
            items = app.screen.query_one("#fee-items", PagedTable)
            assert items.current_row()["unit_price"] == "3.00"  # the list was read again
            await pilot.pause(0.3)  # the detail (the item's history) is read once the cursor rests
            await settle(app, pilot)
            assert "from 2026-12" in text_of(app, "#property-detail")

            # Retire it from January: the item shows as inactive.
            await pilot.press("x")
            await settle(app, pilot)
            fill(app, effective_from="2027-01")
            await press_ok(app, pilot)
            assert "reason" in dialog_error(app).lower()
            fill(app, reason="业委会接管")
            await press_ok(app, pilot)
            assert "retired from 2027-01" in text_of(app, "#message")
            with site.db.reader() as s:
                assert s.execute(select(FeeItem.active)).scalar_one() is False

    run(scenario())


def test_add_car_park_and_spaces_edit_and_retire_a_space(site):
    from console.screens.property_admin import ParkingScreen
    from core.property.parking.models import ParkingSpace

    async def scenario() -> None:
        app = make_app(site)
        async with app.run_test(size=(80, 24)) as pilot:
            await settle(app, pilot)
            await log_in(app, pilot, "boss", PASSWORD)
            await open_place(app, pilot, "property_parking")
            assert isinstance(app.screen, ParkingScreen)
            # Spaces in a car park that does not exist yet: refused in the dialog.
            await pilot.press("n")
            await settle(app, pilot)
            fill(app, community="C1", area="B1", numbers="001-003, 010", location="负一层")
            await press_ok(app, pilot)
            assert "B1" in dialog_error(app)
            assert count(site, ParkingSpace) == 0
            await pilot.press("escape")
            await settle(app, pilot)

            await pilot.press("a")
            await settle(app, pilot)
            fill(app, community="C1", code="B1", name="地下车库", kind="underground")
            await press_ok(app, pilot)
            assert "Car park B1 added." in text_of(app, "#message")

            await pilot.press("n")
            await settle(app, pilot)
            fill(app, community="C1", area="B1", numbers="001-003, 010", location="负一层")
            await press_ok(app, pilot)
            assert "4 spaces added." in text_of(app, "#message")
            spaces = app.screen.query_one("#spaces", PagedTable)
            assert spaces.total == 4 and spaces.current_row()["number"] == "001"

            await pilot.press("e")
            await settle(app, pilot)
            fill(app, kind="valet")
            await press_ok(app, pilot)
            assert "fixed, temporary" in dialog_error(app)
            fill(app, kind="temporary", location="负一层东")
            await press_ok(app, pilot)
            assert "Space 001 changed." in text_of(app, "#message")

            await pilot.press("r")
            await settle(app, pilot)
            fill(app, reason="改为非机动车位")
            await press_ok(app, pilot)
            assert "Space 001 retired." in text_of(app, "#message")
            with site.db.reader() as s:
                row = s.execute(select(ParkingSpace).where(ParkingSpace.number == "001")).scalar_one()
            assert (row.kind, row.location, row.retired_at is not None) == ("temporary", "负一层东", True)
            assert spaces.current_row()["retired_at"] is not None  # the list was read again

    run(scenario())


def test_register_a_vehicle_and_sign_a_rental_contract(site):
    from core.property.parking import services as parking
    from core.property.parking.models import ParkingRental, Vehicle

    area = parking.create_area(site, site.base.community_id, "B1", "地下车库", "underground")
    parking.add_spaces(site, area.id, ["001"], kind="fixed")

    async def scenario() -> None:
        app = make_app(site)
        async with app.run_test(size=(120, 40)) as pilot:
            await settle(app, pilot)
            await log_in(app, pilot, "boss", PASSWORD)
            await open_place(app, pilot, "property_parking")
            await show_tab(app, pilot, "vehicles")
            await pilot.press("n")
            await settle(app, pilot)
            fill(app, community="C1", house="1-1-101", plate="not a plate")
            await press_ok(app, pilot)
            assert dialog_error(app)
            assert count(site, Vehicle) == 0
            fill(app, plate="京A12345", brand="比亚迪", color="白")
            await press_ok(app, pilot)
            assert "Vehicle 京A12345 registered." in text_of(app, "#message")

            await show_tab(app, pilot, "rentals")
            await pilot.press("n")
            await settle(app, pilot)
            values = dict(community="C1", area="B1", space="001", house="1-1-101", start="2026-12-01")
            fill(app, **values, end="2026-11-01", fee="300")
            await press_ok(app, pilot)
            assert "ends before it starts" in dialog_error(app)
            assert count(site, ParkingRental) == 0
            fill(app, end="2027-11-30")
            await press_ok(app, pilot)
            assert "signed" in text_of(app, "#message")
            with site.db.reader() as s:
                rental = s.execute(select(ParkingRental)).scalar_one()
            assert (rental.monthly_fee_fen, rental.status) == (30000, "active")

    run(scenario())


def test_add_edit_retire_a_device_and_issue_a_card(site):
    from console.screens.property_admin import AccessScreen
    from core.property.access.models import AccessCredential, AccessDevice

    async def scenario() -> None:
        app = make_app(site)
        async with app.run_test(size=(80, 24)) as pilot:
            await settle(app, pilot)
            await log_in(app, pilot, "boss", PASSWORD)
            await open_place(app, pilot, "property_access")
            assert isinstance(app.screen, AccessScreen)
            await pilot.press("n")
            await settle(app, pilot)
            fill(app, community="C1", code="G1", name="东门", kind="turnstile")
            await press_ok(app, pilot)
            assert "turnstile" in dialog_error(app) or "kind" in dialog_error(app)
            assert count(site, AccessDevice) == 0
            fill(app, kind="gate", location="东门口")
            await press_ok(app, pilot)
            assert "Device G1 added." in text_of(app, "#message")

            await pilot.press("e")
            await settle(app, pilot)
            fill(app, building="9")
            await press_ok(app, pilot)
            assert "building 9" in dialog_error(app)
            fill(app, building="", name="东大门")
            await press_ok(app, pilot)
            assert "Device G1 changed." in text_of(app, "#message")

            await show_tab(app, pilot, "cards")
            await pilot.press("n")
            await settle(app, pilot)
            fill(app, community="C1", house="1-1-101", identifier="C0001", devices="G9")
            await press_ok(app, pilot)
            assert "G9" in dialog_error(app)
            assert count(site, AccessCredential) == 0
            fill(app, devices="G1")
            await press_ok(app, pilot)
            assert "Card issued." in text_of(app, "#message")

            await show_tab(app, pilot, "devices")
            await pilot.press("x")
            await settle(app, pilot)
            fill(app, reason="东门封闭")
            await press_ok(app, pilot)
            assert "Device G1 retired." in text_of(app, "#message")
            with site.db.reader() as s:
                device = s.execute(select(AccessDevice)).scalar_one()
            assert (device.name, device.retired_at is not None) == ("东大门", True)

    run(scenario())


def test_add_edit_and_retire_a_camera(site):
    from console.screens.property_admin import SecurityScreen
    from core.property.access.models import Camera

    async def scenario() -> None:
        app = make_app(site)
        async with app.run_test(size=(80, 24)) as pilot:
            await settle(app, pilot)
            await log_in(app, pilot, "boss", PASSWORD)
            await open_place(app, pilot, "property_security")
            assert isinstance(app.screen, SecurityScreen)
            assert app.screen.check_action("add", ()) is False  # on the alarms tab
            await show_tab(app, pilot, "cameras")
            await pilot.press("n")
            await settle(app, pilot)
            fill(app, community="C1", code="CAM1", name="东门", location="东门", recorder="NVR1")
            fill(app, stream_url="ftp://10.0.0.5/1")
            await press_ok(app, pilot)
            assert "rtsp://" in dialog_error(app)
            assert count(site, Camera) == 0
            fill(app, stream_url="rtsp://10.0.0.5/1")
            await press_ok(app, pilot)
            assert "Camera added." in text_of(app, "#message")

            await pilot.press("e")
            await settle(app, pilot)
            fill(app, retention_days="0")
            await press_ok(app, pilot)
            assert dialog_error(app)
            fill(app, retention_days="90")
            await press_ok(app, pilot)
            assert "Camera CAM1 changed." in text_of(app, "#message")

            await pilot.press("x")
            await settle(app, pilot)
            fill(app, reason="拆除")
            await press_ok(app, pilot)
            assert "Camera CAM1 retired." in text_of(app, "#message")
            with site.db.reader() as s:
                cam = s.execute(select(Camera)).scalar_one()
            assert (cam.retention_days, cam.stream_url, cam.retired_at is not None) == (
                90,
                "rtsp://10.0.0.5/1",
                True,
            )

    run(scenario())


def test_plan_an_activity_and_sign_a_resident_up(site):
    from core.property.activities.models import Activity, ActivitySignup

    async def scenario() -> None:
        app = make_app(site)
        async with app.run_test(size=(80, 24)) as pilot:
            await settle(app, pilot)
            await log_in(app, pilot, "boss", PASSWORD)
            await open_place(app, pilot, "property_activities")
            await pilot.press("n")
            await settle(app, pilot)
            fill(app, community="C1", title="中秋游园", place="中心广场", capacity="2", content="猜灯谜")
            fill(app, starts_at="2026-12-20 18:00", ends_at="2026-12-20 17:00")
            await press_ok(app, pilot)
            assert "ends before it starts" in dialog_error(app)
            fill(app, ends_at="2026-12-20 21:00", deadline="12/19")
            await press_ok(app, pilot)
            assert "YYYY-MM-DD HH:MM" in dialog_error(app)
            assert count(site, Activity) == 0
            fill(app, deadline="2026-12-19 18:00")
            await press_ok(app, pilot)
            assert "Activity planned: 中秋游园" in text_of(app, "#message")
            await pilot.press("p")
            await settle(app, pilot)

            await pilot.press("s")
            await settle(app, pilot)
            fill(app, house="9-9-999")
            await press_ok(app, pilot)
            assert "no house" in dialog_error(app)  # AnjuError takes `code=` as its own code
            fill(app, house="1-1-101", party="2")
            await press_ok(app, pilot)
            assert "Signed up: Confirmed" in text_of(app, "#message")
            with site.db.reader() as s:
                signup = s.execute(select(ActivitySignup)).scalar_one()
            assert (signup.party_size, signup.status) == (2, "confirmed")

    run(scenario())


def test_record_a_complaint_and_report_a_repair(site):
    from core.property.complaints.models import Complaint
    from core.property.repairs import services as repairs
    from core.property.repairs.models import WorkOrder

    repairs.define_repair_type(site, "PIPE", "水管", response_minutes=30, completion_minutes=240)

    async def scenario() -> None:
        app = make_app(site)
        async with app.run_test(size=(120, 40)) as pilot:
            await settle(app, pilot)
            await log_in(app, pilot, "boss", PASSWORD)
            await open_place(app, pilot, "property_complaints")
            await pilot.press("n")
            await settle(app, pilot)
            fill(app, community="C1", house="1-1-101", category="weather", content="楼道灯不亮")
            await press_ok(app, pilot)
            assert "category" in dialog_error(app)
            assert count(site, Complaint) == 0
            fill(app, category="facility")
            await press_ok(app, pilot)
            assert "recorded" in text_of(app, "#message")
            await pilot.press("a")
            await settle(app, pilot)
            await pilot.press("s")
            await settle(app, pilot)
            fill(app, handler="老李")
            app.screen.query_one("#ok").press()
            await settle(app, pilot)
            await pilot.press("h")
            await settle(app, pilot)
            assert "being handled" in text_of(app, "#message")
            with site.db.reader() as s:
                assert s.execute(select(Complaint.status)).scalar_one() == "handling"

            await open_place(app, pilot, "property_workorders")
            await pilot.press("n")
            await settle(app, pilot)
            fill(
                app, community="C1", house="1-1-102", type="ROOF", description="卫生间漏水", contact="王先生"
            )
            await press_ok(app, pilot)
            assert "repair type" in dialog_error(app)
            assert count(site, WorkOrder) == 0
            fill(app, type="pipe")
            await press_ok(app, pilot)
            assert "opened" in text_of(app, "#message")
            with site.db.reader() as s:
                order = s.execute(select(WorkOrder)).scalar_one()
            assert (order.status, order.description) == ("pending", "卫生间漏水")

    run(scenario())
