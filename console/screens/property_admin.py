"""Property administration in the back office: base data (communities, buildings, houses, owners), fees (items
and standards, late-fee rules, discounts, waivers, meter readings), parking, access control, cameras and alarms,
notices, complaints and suggestions, activities and the work-order dispatch board.

Each screen is a PropertyListScreen: its lists and the services its keys call. What the clerk types in a form
is turned into a service call here (a community named by its code, money in yuan, areas in m²); the service
checks it and a refusal is shown on the message line.
"""

from __future__ import annotations

import re
import uuid
from datetime import date
from typing import Any

import core.property.console_reads as reads
from console.keys import bindings
from console.screens.property_base import Ask, ListTab, MarkedTable, PropertyListScreen
from core.clock import today
from core.context import Context
from core.errors import ValidationError
from core.i18n import N_, _
from core.money import parse_yuan
from core.property import billing
from core.property import services as ps
from core.property.access import services as access
from core.property.activities import services as activities
from core.property.complaints import services as complaints
from core.property.notices import services as notices
from core.property.parking import services as parking
from core.property.repairs import rules as repair_rules
from core.property.repairs import services as repairs

# ---------------------------------------------------------------------------------------------- typed input


def whole(text: str, field: str, *, default: int | None = None) -> int:
    """A whole number typed by the clerk (blank: `default`), or ValidationError naming the field."""
    text = text.strip()
    if not text and default is not None:
        return default
    if not re.fullmatch(r"-?\d{1,18}", text):
        raise ValidationError(N_("{field}: write a whole number."), field=field)
    return int(text)


def a_date(text: str, field: str) -> date | None:
    text = text.strip()
    if not text:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise ValidationError(N_("{field}: write the date as YYYY-MM-DD."), field=field) from None


def yuan(text: str, field: str) -> int | None:
    """Money typed in yuan as fen (blank: None)."""
    text = text.strip()
    if not text:
        return None
    try:
        return parse_yuan(text)
    except ValidationError as err:
        raise ValidationError(N_("{field}: {problem}"), field=field, problem=str(err)) from None


def community_id(ctx: Context, code: str) -> uuid.UUID:
    return ps.community_by_code(ctx, code.strip()).id


def row_id(row: dict[str, Any]) -> uuid.UUID:
    return uuid.UUID(str(row["id"]))


# ---------------------------------------------------------------------------------------------- base data


def add_community(ctx: Context, v: dict[str, str]) -> ps.CommunityView:
    return ps.create_community(
        ctx,
        v["code"],
        v["name"],
        address=v["address"],
        household_count=whole(v["households"], "households", default=0),
        property_company=v["company"],
    )


def add_building(ctx: Context, v: dict[str, str]) -> ps.BuildingView:
    return ps.create_building(
        ctx,
        community_id(ctx, v["community"]),
        v["number"],
        name=v["name"],
        floors=whole(v["floors"], "floors", default=0),
    )


def add_house(ctx: Context, v: dict[str, str]) -> ps.HouseView:
    house = ps.HouseInput(
        v["building"].strip(),
        v["unit"].strip() or None,
        v["number"].strip(),
        ps.parse_area_m2(v["building_area"], "building_area"),
        ps.parse_area_m2(v["inner_area"], "inner_area"),
        floor=whole(v["floor"], "floor", default=0),
        layout=v["layout"].strip(),
        status=v["status"].strip() or "unsold",
        charge_start_on=a_date(v["charge_start_on"], "charge_start_on"),
    )
    return ps.add_house(ctx, community_id(ctx, v["community"]), house)


def add_owner(ctx: Context, v: dict[str, str]) -> ps.OwnerView:
    owner = ps.OwnerInput(
        v["name"].strip(),
        v["kind"].strip() or "individual",
        v["id_number"].strip() or None,
        v["phone"].strip() or None,
        v["uscc"].strip() or None,
    )
    return ps.create_owner(ctx, owner)


def house_detail(ctx: Context, row: dict[str, Any]) -> reads.Detail:
    return reads.house_detail(ctx, row_id(row))


def owner_detail(ctx: Context, row: dict[str, Any]) -> reads.Detail:
    return reads.owner_detail(ctx, row_id(row))


def _codes(labels: reads.Labels) -> str:
    return "/".join(code for code, _label in labels)


class PropertyBaseScreen(PropertyListScreen):
    """基础信息 — communities, buildings, houses and owners; owners' personal data masked unless pii.reveal."""

    PLACE = "property_base"
    SCOPES = ("property_base", "list")
    BINDINGS = bindings("back", "property_base")
    TABS = (
        ListTab(reads.COMMUNITIES, N_("Communities"), "communities"),
        ListTab(reads.BUILDINGS, N_("Buildings"), "buildings"),
        ListTab(reads.HOUSES, N_("House list"), "houses", detail=house_detail),
        ListTab(reads.OWNERS, N_("Owners"), "owners", detail=owner_detail),
    )
    ACTION_TABS = {"house_status": "houses", "owner_contact": "owners"}  # noqa: RUF012

    def action_add(self) -> None:
        tab = self.active_tab().id
        if tab == "communities":
            fields = [
                Ask("code", _("Code")),
                Ask("name", _("Community name")),
                Ask("address", _("Address"), max_length=400),
                Ask("households", _("Households")),
                Ask("company", _("Property company")),
            ]
            self.ask(_("New community"), fields, lambda v: self._added(add_community, v))
        elif tab == "buildings":
            fields = [
                Ask("community", _("Community code")),
                Ask("number", _("Building")),
                Ask("name", _("Building name")),
                Ask("floors", _("Floors")),
            ]
            self.ask(_("New building"), fields, lambda v: self._added(add_building, v))
        elif tab == "houses":
            fields = [
                Ask("community", _("Community code")),
                Ask("building", _("Building")),
                Ask("unit", _("Unit"), hint=_("may be blank")),
                Ask("number", _("House number")),
                Ask("floor", _("Floor")),
                Ask("building_area", _("Building area (m²)")),
                Ask("inner_area", _("Inner area (m²)")),
                Ask("layout", _("Layout")),
                Ask("status", _("Status"), hint=_codes(reads.HOUSE_STATUS)),
                Ask("charge_start_on", _("Charged from"), hint="YYYY-MM-DD"),
            ]
            self.ask(_("New house"), fields, lambda v: self._added(add_house, v))
        else:
            fields = [
                Ask("name", _("Owner name")),
                Ask("kind", _("Kind"), hint=_codes(reads.OWNER_KIND)),
                Ask("id_number", _("ID number")),
                Ask("phone", _("Phone")),
                Ask("uscc", _("Credit code"), hint=_("companies only")),
            ]
            self.ask(_("New owner"), fields, lambda v: self._added(add_owner, v))

    def _added(self, adder, values: dict[str, str]) -> None:
        self.act(adder, values, said=_("Added."))

    def action_house_status(self) -> None:
        row = self.selected()
        if row is None:
            return
        fields = [
            Ask("status", _("New status"), hint=_codes(reads.HOUSE_STATUS)),
            Ask("reason", _("Reason")),
        ]
        title = _("Status of house {code}").format(code=row["code"])
        self.ask(
            title,
            fields,
            lambda v: self.act(
                ps.change_house_status,
                row_id(row),
                v["status"].strip(),
                v["reason"],
                said=_("House {code} changed.").format(code=row["code"]),
            ),
        )

    def action_owner_contact(self) -> None:
        row = self.selected()
        if row is None:
            return
        fields = [
            Ask("name", _("Owner name"), value=str(row["name"])),
            Ask("phone", _("New phone"), hint=_("blank: keep")),
        ]
        self.ask(
            _("Contact of {name}").format(name=row["name"]),
            fields,
            lambda v: self.act(
                ps.update_owner_contact,
                row_id(row),
                phone=v["phone"].strip() or None,
                name=v["name"],
                said=_("Owner {name} changed.").format(name=v["name"]),
            ),
        )

    def action_import(self) -> None:
        self.app.run_action("goto('property_import')")


# ---------------------------------------------------------------------------------------------- fees


def add_fee_item(ctx: Context, v: dict[str, str]) -> billing.FeeItemView:
    rule = v["rule"].strip()
    return billing.create_fee_item(
        ctx,
        community_id(ctx, v["community"]),
        v["code"],
        v["name"],
        rule,
        cycle=v["cycle"].strip() or ("once" if rule in ("one_off", "deposit", "usage") else "monthly"),
        unit_price=v["unit_price"].strip() or "0",
        amount_fen=yuan(v["amount"], "amount") or 0,
        meter_kind=v["meter_kind"].strip() or None,
        due_days=whole(v["due_days"], "due_days", default=15),
        late_daily_rate=v["late_daily_rate"].strip() or "0",
        late_grace_days=whole(v["late_grace_days"], "late_grace_days", default=0),
        late_cap_fen=yuan(v["late_cap"], "late_cap"),
    )


def add_discount(ctx: Context, v: dict[str, str]) -> billing.DiscountView:
    cid = community_id(ctx, v["community"])
    code = v["item"].strip().upper()
    item = next((i for i in billing.fee_items(ctx, cid) if i.code == code), None)
    if item is None:
        raise ValidationError(N_("There is no fee item {code} in this community."), field="item", code=code)
    house = ps.find_house(ctx, v["house"].strip(), cid).id if v["house"].strip() else None
    return billing.request_discount(
        ctx,
        item.id,
        v["kind"].strip(),
        house_id=house,
        rate_off=v["rate_off"].strip() or "0",
        reduction_fen=yuan(v["reduction"], "reduction") or 0,
        period_from=v["period_from"].strip(),
        period_to=v["period_to"].strip() or None,
        reason=v["reason"],
    )


class FeesScreen(PropertyListScreen):
    """收费标准 — fee items and their standards, late-fee rules, discounts, late-fee waivers, meter readings."""

    PLACE = "property_fees"
    SCOPES = ("property_fees", "list")
    BINDINGS = bindings("back", "property_fees")
    TABS = (
        ListTab(reads.FEE_ITEMS, N_("Fee items"), "fee-items"),
        ListTab(reads.LATE_FEE_RULES, N_("Late-fee rules"), "late-fees"),
        ListTab(reads.DISCOUNTS, N_("Discounts"), "discounts"),
        ListTab(reads.WAIVERS, N_("Late-fee waivers"), "waivers"),
        ListTab(reads.METER_READINGS, N_("Meter readings"), "readings"),
    )

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "add":
            return self.active_tab().id in ("fee-items", "late-fees", "discounts")
        if action == "import":
            return self.active_tab().id == "readings"
        return super().check_action(action, parameters)

    def action_add(self) -> None:
        if self.active_tab().id == "discounts":
            fields = [
                Ask("community", _("Community code")),
                Ask("item", _("Fee item code")),
                Ask("house", _("House"), hint=_("blank: every house")),
                Ask("kind", _("Kind"), hint=_codes(reads.DISCOUNT_KIND)),
                Ask("rate_off", _("Rate off"), hint="0.1 = 10 %"),
                Ask("reduction", _("Reduction (yuan)")),
                Ask("period_from", _("From period"), hint="YYYY-MM"),
                Ask("period_to", _("To period"), hint="YYYY-MM"),
                Ask("reason", _("Reason")),
            ]
            self.ask(
                _("Request a discount"),
                fields,
                lambda v: self.act(add_discount, v, said=_("Discount requested; it applies once approved.")),
            )
            return
        fields = [
            Ask("community", _("Community code")),
            Ask("code", _("Code")),
            Ask("name", _("Item name")),
            Ask("rule", _("Rule"), hint=_codes(reads.FEE_RULE)),
            Ask("cycle", _("Cycle"), hint=_codes(reads.FEE_CYCLE)),
            Ask("unit_price", _("Unit price (yuan)")),
            Ask("amount", _("Amount (yuan)")),
            Ask("meter_kind", _("Meter"), hint=_codes(reads.METER_KIND)),
            Ask("due_days", _("Due days")),
            Ask("late_daily_rate", _("Late fee per day"), hint="0.0003 = 0.03 %"),
            Ask("late_grace_days", _("Grace days")),
            Ask("late_cap", _("Late fee cap"), hint=_("yuan; blank: no cap")),
        ]
        self.ask(
            _("New fee item"),
            fields,
            lambda v: self.act(add_fee_item, v, said=_("Fee item added."), tab_id=self.active_tab().id),
        )

    def action_import(self) -> None:
        self.app.run_action("goto('property_import')")


# ---------------------------------------------------------------------------------------------- parking


class ParkingScreen(PropertyListScreen):
    """车位管理 — parking spaces, vehicles and rental contracts."""

    PLACE = "property_parking"
    SCOPES = ("property_parking", "list")
    BINDINGS = bindings("back", "property_parking")
    TABS = (
        ListTab(reads.SPACES, N_("Parking spaces"), "spaces"),
        ListTab(reads.VEHICLES, N_("Vehicles"), "vehicles"),
        ListTab(reads.RENTALS, N_("Rental contracts"), "rentals"),
    )
    ACTION_TABS = {"end_rental": "rentals", "remove_vehicle": "vehicles"}  # noqa: RUF012

    def action_end_rental(self) -> None:
        row = self.selected()
        if row is None:
            return
        fields = [Ask("last_day", _("Last day"), hint="YYYY-MM-DD"), Ask("reason", _("Reason"))]

        def end(v: dict[str, str]) -> None:
            try:
                last_day = a_date(v["last_day"], "last_day") or today(self.context().clock)
            except ValidationError as err:
                self.say_error(str(err))
                return
            self.act(
                parking.terminate_rental,
                row_id(row),
                last_day,
                v["reason"],
                said=_("Contract {number} ended.").format(number=row["number"]),
            )

        self.ask(_("End contract {number}").format(number=row["number"]), fields, end)

    def action_remove_vehicle(self) -> None:
        row = self.selected()
        if row is not None:
            self.act(
                parking.remove_vehicle,
                row_id(row),
                said=_("Vehicle {plate} removed.").format(plate=row["plate"]),
            )


# ---------------------------------------------------------------------------------------------- access, security


class AccessScreen(PropertyListScreen):
    """门禁 — access devices, cards and face credentials, access records."""

    PLACE = "property_access"
    SCOPES = ("property_access", "list")
    BINDINGS = bindings("back", "property_access")
    TABS = (
        ListTab(reads.DEVICES, N_("Access devices"), "devices"),
        ListTab(reads.CREDENTIALS, N_("Access cards"), "cards"),
        ListTab(reads.ACCESS_RECORDS, N_("Access records"), "records"),
    )
    ACTION_TABS = {"revoke_card": "cards"}  # noqa: RUF012

    def action_revoke_card(self) -> None:
        row = self.selected()
        if row is None:
            return
        self.ask(
            _("Revoke card {card}").format(card=row["identifier"]),
            [Ask("reason", _("Reason"))],
            lambda v: self.act(access.revoke_credential, row_id(row), v["reason"], said=_("Card revoked.")),
        )


def alarm_detail(ctx: Context, row: dict[str, Any]) -> reads.Detail:
    return reads.trail_detail(ctx, access.PERM_VIEW, access.OBJ_ALARM, row_id(row), reads.ALARM_STATUS)


def alarm_marker(row: dict[str, Any]) -> str | None:
    return "bold red" if row["status"] == "received" else None


class SecurityScreen(PropertyListScreen):
    """安防 — alarms (acknowledge, dispatch, close) and cameras."""

    PLACE = "property_security"
    SCOPES = ("property_security", "list")
    BINDINGS = bindings("back", "property_security")
    TABS = (
        ListTab(reads.ALARMS, N_("Alarms"), "alarms", detail=alarm_detail, marker=alarm_marker),
        ListTab(reads.CAMERAS, N_("Cameras"), "cameras"),
    )
    ACTION_TABS = {"acknowledge": "alarms", "dispatch": "alarms", "close_alarm": "alarms"}  # noqa: RUF012

    def action_acknowledge(self) -> None:
        row = self.selected()
        if row is not None:
            self.act(access.acknowledge_alarm, row_id(row), said=_("Alarm acknowledged."))

    def action_dispatch(self) -> None:
        row = self.selected()
        if row is not None:
            self.ask(
                _("Dispatch the alarm"),
                [Ask("to", _("To (guard or team)"))],
                lambda v: self.act(access.dispatch_alarm, row_id(row), v["to"], said=_("Alarm dispatched.")),
            )

    def action_close_alarm(self) -> None:
        row = self.selected()
        if row is not None:
            self.ask(
                _("Close the alarm"),
                [Ask("resolution", _("What was found"), max_length=2000)],
                lambda v: self.act(access.close_alarm, row_id(row), v["resolution"], said=_("Alarm closed.")),
            )


# ---------------------------------------------------------------------------------------------- residents


def draft_notice(ctx: Context, v: dict[str, str]) -> notices.NoticeView:
    return notices.draft(
        ctx,
        community_id=community_id(ctx, v["community"]),
        kind=v["kind"].strip() or "notice",
        category=v["category"].strip() or "other",
        title=v["title"],
        body=v["body"],
    )


def notice_detail(ctx: Context, row: dict[str, Any]) -> reads.Detail:
    status = notices.read_status(ctx, row_id(row))
    fields = [(N_("Read"), f"{status.read}/{status.recipients}")]
    return reads.Detail(fields)


class NoticesScreen(PropertyListScreen):
    """通知公告 — notices and announcements: write, publish to the community, withdraw; who has read them."""

    PLACE = "property_notices"
    SCOPES = ("property_notices", "list")
    BINDINGS = bindings("back", "property_notices")
    TABS = (ListTab(reads.NOTICES, N_("Notices and announcements"), "notices", detail=notice_detail),)

    def action_add(self) -> None:
        fields = [
            Ask("community", _("Community code")),
            Ask("kind", _("Kind"), hint=_codes(reads.NOTICE_KIND)),
            Ask("category", _("Category"), hint=_codes(reads.NOTICE_CATEGORY)),
            Ask("title", _("Title")),
            Ask("body", _("Text"), max_length=4000),
        ]
        self.ask(
            _("New notice"), fields, lambda v: self.act(draft_notice, v, said=_("Notice saved as a draft."))
        )

    def action_publish(self) -> None:
        row = self.selected()
        if row is not None:
            self.act(
                notices.publish,
                row_id(row),
                expected_version=row["version"],
                said=_("Notice published: {title}").format(title=row["title"]),
            )

    def action_withdraw(self) -> None:
        row = self.selected()
        if row is not None:
            self.ask(
                _("Withdraw the notice"),
                [Ask("reason", _("Reason"))],
                lambda v: self.act(notices.withdraw, row_id(row), v["reason"], said=_("Notice withdrawn.")),
            )


def complaint_detail(ctx: Context, row: dict[str, Any]) -> reads.Detail:
    return reads.Detail(
        (), reads.trail_lines(complaints.complaint_trail(ctx, row_id(row)), reads.COMPLAINT_STATUS)
    )


class ComplaintsScreen(PropertyListScreen):
    """投诉建议 — complaints (accept, assign, reply) and suggestions (evaluate, adopt, decline)."""

    PLACE = "property_complaints"
    SCOPES = ("property_complaints", "list")
    BINDINGS = bindings("back", "property_complaints")
    TABS = (
        ListTab(reads.COMPLAINTS, N_("Complaints"), "complaints", detail=complaint_detail),
        ListTab(reads.SUGGESTIONS, N_("Suggestions"), "suggestions"),
    )
    ACTION_TABS = {  # noqa: RUF012
        "accept": "complaints",
        "assign": "complaints",
        "reply": "complaints",
        "evaluate": "suggestions",
        "adopt": "suggestions",
        "decline": "suggestions",
    }

    def action_accept(self) -> None:
        row = self.selected()
        if row is not None:
            self.act(
                complaints.accept,
                row_id(row),
                said=_("Complaint {number} accepted.").format(number=row["number"]),
            )

    def action_assign(self) -> None:
        row = self.selected()
        if row is not None:
            self.ask(
                _("Assign complaint {number}").format(number=row["number"]),
                [Ask("handler", _("Handler (user name)"), value=str(row["handler"] or ""))],
                lambda v: self.act(
                    complaints.assign,
                    row_id(row),
                    v["handler"].strip(),
                    said=_("Complaint {number} assigned to {handler}.").format(
                        number=row["number"], handler=v["handler"].strip()
                    ),
                ),
            )

    def action_reply(self) -> None:
        row = self.selected()
        if row is not None:
            self.ask(
                _("Reply to complaint {number}").format(number=row["number"]),
                [Ask("text", _("Reply"), max_length=2000)],
                lambda v: self.act(complaints.reply, row_id(row), v["text"], said=_("Reply sent.")),
            )

    def action_evaluate(self) -> None:
        row = self.selected()
        if row is not None:
            self.act(complaints.evaluate, row_id(row), said=_("Suggestion under evaluation."))

    def action_adopt(self) -> None:
        row = self.selected()
        if row is not None:
            self.ask(
                _("Adopt the suggestion"),
                [Ask("note", _("Note"))],
                lambda v: self.act(
                    complaints.adopt, row_id(row), v["note"].strip() or None, said=_("Suggestion adopted.")
                ),
            )

    def action_decline(self) -> None:
        row = self.selected()
        if row is not None:
            self.ask(
                _("Decline the suggestion"),
                [Ask("reason", _("Reason"))],
                lambda v: self.act(
                    complaints.decline, row_id(row), v["reason"], said=_("Suggestion declined.")
                ),
            )


class ActivitiesScreen(PropertyListScreen):
    """社区活动 — activities (publish, finish, cancel) and their sign-ups with the waiting list."""

    PLACE = "property_activities"
    SCOPES = ("property_activities", "list")
    BINDINGS = bindings("back", "property_activities")
    TABS = (
        ListTab(reads.ACTIVITIES, N_("Community activities"), "activities"),
        ListTab(reads.SIGNUPS, N_("Sign-ups"), "signups"),
    )
    ACTION_TABS = {  # noqa: RUF012
        "publish": "activities",
        "finish": "activities",
        "cancel_activity": "activities",
        "signups": "activities",
    }

    def action_publish(self) -> None:
        row = self.selected()
        if row is not None:
            self.act(
                activities.publish,
                row_id(row),
                said=_("Activity published: {title}").format(title=row["title"]),
            )

    def action_finish(self) -> None:
        row = self.selected()
        if row is not None:
            self.act(
                activities.finish,
                row_id(row),
                said=_("Activity finished: {title}").format(title=row["title"]),
            )

    def action_cancel_activity(self) -> None:
        row = self.selected()
        if row is not None:
            self.ask(
                _("Cancel the activity"),
                [Ask("reason", _("Reason"))],
                lambda v: self.act(
                    activities.cancel, row_id(row), v["reason"], said=_("Activity cancelled.")
                ),
            )

    def action_signups(self) -> None:
        """The sign-ups of the selected activity (its id goes into the sign-ups list's filter)."""
        from textual.widgets import Input

        row = self.selected()
        if row is None:
            return
        signups = self.table("signups")
        signups.query_one("#filter-activity", Input).value = str(row["id"])
        signups.reload()
        self.show_tab("signups")


# ---------------------------------------------------------------------------------------------- work orders


def work_order_detail(ctx: Context, row: dict[str, Any]) -> reads.Detail:
    return reads.work_order_detail(ctx, row_id(row))


class WorkOrdersScreen(PropertyListScreen):
    """派单看板 — open work orders, the most urgent deadline first; a missed SLA is shown in red."""

    PLACE = "property_workorders"
    SCOPES = ("property_workorders", "list")
    BINDINGS = bindings("back", "property_workorders")
    TABS = (ListTab(reads.WORK_ORDERS, N_("Work orders"), "work-orders", detail=work_order_detail),)

    def _table(self, tab: ListTab) -> MarkedTable:
        table = super()._table(tab)
        clock = self.app.ctx_factory().clock
        table.marker = lambda row: sla_style(row, clock.now())
        return table

    def action_assign(self) -> None:
        row = self.selected()
        if row is None:
            return
        self.ask(
            _("Dispatch work order {number}").format(number=row["number"]),
            [Ask("worker", _("Worker (user name)"), value=str(row["worker"] or ""))],
            lambda v: self.act(
                repairs.assign,
                row_id(row),
                v["worker"],
                expected_version=row["version"],
                said=_("Work order {number} dispatched to {worker}.").format(
                    number=row["number"], worker=v["worker"].strip()
                ),
            ),
        )

    def action_grab_pool(self) -> None:
        row = self.selected()
        if row is not None:
            self.act(
                repairs.open_for_grab,
                row_id(row),
                expected_version=row["version"],
                said=_("Work order {number} is in the grab pool.").format(number=row["number"]),
            )

    def action_cancel_order(self) -> None:
        row = self.selected()
        if row is None:
            return
        self.ask(
            _("Cancel work order {number}").format(number=row["number"]),
            [Ask("reason", _("Reason"))],
            lambda v: self.act(
                repairs.cancel,
                row_id(row),
                v["reason"],
                expected_version=row["version"],
                said=_("Work order {number} cancelled.").format(number=row["number"]),
            ),
        )


def sla_style(row: dict[str, Any], now) -> str | None:
    """Red for a work order past its SLA: bold when the completion deadline passed, plain for the response."""
    if row["respond_by"] is None or row["complete_by"] is None:
        return None
    kind = repair_rules.overdue_kind(row["status"], now, row["respond_by"], row["complete_by"])
    if kind == "completion":
        return "bold red"
    if kind == "response":
        return "red"
    return None
