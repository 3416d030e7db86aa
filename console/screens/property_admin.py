"""Property administration in the back office: base data (communities, buildings, houses, owners), fees (items
and standards, late-fee rules, discounts, waivers, meter readings), parking, access control, cameras and alarms,
notices, complaints and suggestions, activities and the work-order dispatch board.

Each screen is a PropertyListScreen: its lists and the services its keys call. What the clerk types in a form
is turned into a service call here (a community named by its code, money in yuan, areas in m²); the service
checks it. A form that adds or changes a record (`form`) shows a refusal inside the dialog, keeping what was
typed; the one-field prompts (`ask`) show it on the message line.
"""

from __future__ import annotations

import re
import uuid
from datetime import date, datetime
from typing import Any

import core.property.console_reads as reads
from console.keys import bindings
from console.screens.property_base import Ask, ListTab, MarkedTable, PropertyListScreen
from core.clock import BUSINESS_TZ, today
from core.context import Context
from core.errors import ValidationError
from core.i18n import N_, _
from core.money import format_fen, parse_yuan
from core.property import billing, fee_standards
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


def a_time(text: str, field: str) -> datetime | None:
    """A moment typed as "YYYY-MM-DD HH:MM" in business time (blank: None)."""
    text = text.strip()
    if not text:
        return None
    try:
        return datetime.strptime(text, "%Y-%m-%d %H:%M").replace(tzinfo=BUSINESS_TZ)
    except ValueError:
        raise ValidationError(N_("{field}: write the time as YYYY-MM-DD HH:MM."), field=field) from None


def yuan(text: str, field: str) -> int | None:
    """Money typed in yuan as fen (blank: None)."""
    text = text.strip()
    if not text:
        return None
    try:
        return parse_yuan(text)
    except ValidationError as err:
        raise ValidationError(N_("{field}: {problem}"), field=field, problem=str(err)) from None


YES = ("yes", "y", "1", "是", "true")
NO = ("no", "n", "0", "否", "false")


def yes_no(text: str, field: str) -> bool:
    """Yes or no typed by the clerk (also 是/否, y/n, 1/0)."""
    word = text.strip().lower()
    if word in YES:
        return True
    if word in NO:
        return False
    raise ValidationError(N_("{field}: write yes or no."), field=field)


def yes_no_text(value: bool) -> str:
    return "yes" if value else "no"


def tiers_text(tiers: list | None) -> str:
    """Tiers as the clerk types them: "10:3.00, 20:4.50, *:6.00" (up to so many units: price; * for the rest)."""
    return ", ".join(f"{t['up_to'] if t['up_to'] is not None else '*'}:{t['price']}" for t in tiers or [])


def parse_tiers_text(text: str) -> list[dict] | None:
    """The tiers typed as tiers_text writes them (blank: no tiers); the service checks the numbers."""
    if not text.strip():
        return None
    out = []
    for part in text.split(","):
        up_to, sep, price = part.partition(":")
        if not sep or not price.strip():
            raise ValidationError(N_("Write tiers as 10:3.00, 20:4.50, *:6.00."), field="tiers")
        up_to = up_to.strip()
        out.append({"up_to": None if up_to in ("*", "") else up_to, "price": price.strip()})
    return out


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


def edit_fee_item(ctx: Context, item_id: uuid.UUID, v: dict[str, str]) -> fee_standards.VersionView:
    return fee_standards.change_fee_item(
        ctx,
        item_id,
        v["effective_from"].strip(),
        v["reason"],
        name=v["name"],
        unit_price=v["unit_price"].strip() or "0",
        amount_fen=yuan(v["amount"], "amount") or 0,
        tiers=parse_tiers_text(v["tiers"]),
        tier_scope=v["tier_scope"].strip(),
        cycle=v["cycle"].strip(),
        billing_mode=v["billing_mode"].strip(),
        rounding=v["rounding"].strip(),
        prorate=yes_no(v["prorate"], "prorate"),
        due_days=whole(v["due_days"], "due_days"),
        active=yes_no(v["active"], "active"),
    )


def retire_fee_item(ctx: Context, item_id: uuid.UUID, v: dict[str, str]) -> fee_standards.VersionView:
    return fee_standards.retire_fee_item(ctx, item_id, v["effective_from"].strip(), v["reason"])


def fee_item_detail(ctx: Context, row: dict[str, Any]) -> reads.Detail:
    """The item's standards over time: one line per change, from the start to the latest."""
    cycles, modes = dict(reads.FEE_CYCLE), dict(reads.BILLING_MODE)
    by_amount = row["rule"] in ("fixed", "deposit", "one_off")
    lines = []
    for version in reversed(fee_standards.history(ctx, row_id(row))):
        std = version.standard
        since = (
            _("from the start")
            if version.effective_from == fee_standards.BASE_PERIOD
            else _("from {period}").format(period=version.effective_from)
        )
        price = format_fen(std.amount_fen) if by_amount else (tiers_text(std.tiers) or std.unit_price)
        parts = [
            f"{since}:",
            std.name,
            price,
            _(cycles.get(std.cycle, std.cycle)),
            _(modes.get(std.billing_mode, std.billing_mode)),
            _("due in {days} days").format(days=std.due_days),
        ]
        if not std.active:
            parts.append(_("(retired)"))
        if version.reason:
            parts.append(f"— {version.reason}")
        lines.append(" ".join(parts))
    return reads.Detail((), lines)


ROUNDING_CODES = "half_up_fen/down_fen/half_up_jiao"


def add_discount(ctx: Context, v: dict[str, str]) -> billing.DiscountView:
    cid = community_id(ctx, v["community"])
    code = v["item"].strip().upper()
    item = next((i for i in billing.fee_items(ctx, cid) if i.code == code), None)
    if item is None:
        raise ValidationError(N_("There is no fee item {item} in this community."), field="item", item=code)
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
        ListTab(reads.FEE_ITEMS, N_("Fee items"), "fee-items", detail=fee_item_detail),
        ListTab(reads.LATE_FEE_RULES, N_("Late-fee rules"), "late-fees"),
        ListTab(reads.DISCOUNTS, N_("Discounts"), "discounts"),
        ListTab(reads.WAIVERS, N_("Late-fee waivers"), "waivers"),
        ListTab(reads.METER_READINGS, N_("Meter readings"), "readings"),
    )

    ACTION_TABS = {"edit_item": "fee-items", "retire_item": "fee-items"}  # noqa: RUF012

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

    def action_edit_item(self) -> None:
        """Change the selected item's standard from a period on (the form starts from its latest standard)."""
        row = self.selected()
        if row is not None:
            self.call(fee_standards.edit_start, row_id(row), done=self._edit_form)

    def _edit_form(self, start: fee_standards.EditStart) -> None:
        item = start.standard
        fields = [
            Ask("effective_from", _("From period"), hint="YYYY-MM", value=start.first_period),
            Ask("name", _("Item name"), value=item.name),
            Ask("unit_price", _("Unit price (yuan)"), value=item.unit_price),
            Ask(
                "amount", _("Amount (yuan)"), value=format_fen(item.amount_fen, symbol=False).replace(",", "")
            ),
            Ask("tiers", _("Tiers"), hint="10:3.00, 20:4.50, *:6.00", value=tiers_text(item.tiers)),
            Ask("tier_scope", _("Tiers count per"), hint="month/year", value=item.tier_scope),
            Ask("cycle", _("Cycle"), hint=_codes(reads.FEE_CYCLE), value=item.cycle),
            Ask("billing_mode", _("Billed"), hint=_codes(reads.BILLING_MODE), value=item.billing_mode),
            Ask("rounding", _("Rounding"), hint=ROUNDING_CODES, value=item.rounding),
            Ask("prorate", _("Prorated"), hint="yes/no", value=yes_no_text(item.prorate)),
            Ask("due_days", _("Due days"), value=str(item.due_days)),
            Ask("active", _("Active"), hint="yes/no", value=yes_no_text(item.active)),
            Ask("reason", _("Reason"), max_length=400),
        ]
        self.form(
            _("Standard of fee item {code}").format(code=start.code),
            fields,
            lambda ctx, v: edit_fee_item(ctx, start.id, v),
            lambda done: _("Fee item {code} changed from {period}.").format(
                code=start.code, period=done.effective_from
            ),
            tab_id="fee-items",
        )

    def action_retire_item(self) -> None:
        """停用: bill runs from the chosen period on leave the selected item out."""
        row = self.selected()
        if row is not None:
            self.call(
                fee_standards.edit_start,
                row_id(row),
                done=lambda start: self.form(
                    _("Retire fee item {code}").format(code=start.code),
                    [
                        Ask("effective_from", _("From period"), hint="YYYY-MM", value=start.first_period),
                        Ask("reason", _("Reason"), max_length=400),
                    ],
                    lambda ctx, v: retire_fee_item(ctx, start.id, v),
                    lambda done: _("Fee item {code} retired from {period}.").format(
                        code=start.code, period=done.effective_from
                    ),
                    tab_id="fee-items",
                    ok=_("Retire"),
                ),
            )

    def action_import(self) -> None:
        self.app.run_action("goto('property_import')")


# ---------------------------------------------------------------------------------------------- parking


SPACE_NUMBERS_MAX = 5000  # as parking.add_spaces takes at once


def space_numbers(text: str) -> list[str]:
    """Space numbers typed as a list and ranges: "A01, A02" or "001-120" (the width of the first kept)."""
    out: list[str] = []
    for part in (p.strip() for p in text.split(",")):
        m = re.fullmatch(r"([A-Za-z]*)(\d{1,6})-\1?(\d{1,6})", part)
        if m:
            prefix, lo, hi = m.group(1), int(m.group(2)), int(m.group(3))
            if hi < lo or hi - lo >= SPACE_NUMBERS_MAX:
                raise ValidationError(N_("Give 1 to 5000 space numbers."), field="numbers")
            out += [f"{prefix}{n:0{len(m.group(2))}d}" for n in range(lo, hi + 1)]
        elif part:
            out.append(part)
    return out


def house_in(ctx: Context, community: str, house: str) -> ps.HouseView:
    return ps.find_house(ctx, house.strip(), community_id(ctx, community))


def owner_of(ctx: Context, house: ps.HouseView, name: str = "") -> uuid.UUID:
    """The house's owner (named `name` when it has several people living there) for a vehicle or a card."""
    people = ps.occupants(ctx, house.id)
    if name.strip():
        found = [p for p in people if p.owner_name == name.strip()]
    else:
        found = [p for p in people if p.relation == "owner"]
    if not found:
        raise ValidationError(
            N_("Nobody named {name} lives in house {house}."), field="holder", name=name.strip() or "—",
            house=house.code,
        )  # fmt: skip
    return found[0].owner_id


def add_area(ctx: Context, v: dict[str, str]) -> parking.AreaView:
    return parking.create_area(
        ctx, community_id(ctx, v["community"]), v["code"], v["name"], v["kind"].strip()
    )


def add_spaces(ctx: Context, v: dict[str, str]) -> list[parking.SpaceView]:
    area = parking.area_by_code(ctx, community_id(ctx, v["community"]), v["area"])
    return parking.add_spaces(
        ctx, area.id, space_numbers(v["numbers"]), kind=v["kind"].strip() or "fixed", location=v["location"]
    )


def edit_space(ctx: Context, space_id: uuid.UUID, v: dict[str, str]) -> parking.SpaceView:
    return parking.update_space(ctx, space_id, location=v["location"], kind=v["kind"].strip())


def register_vehicle(ctx: Context, v: dict[str, str]) -> parking.VehicleView:
    house = house_in(ctx, v["community"], v["house"])
    return parking.register_vehicle(
        ctx,
        house.community_id,
        owner_of(ctx, house, v["owner"]),
        v["plate"],
        house_id=house.id,
        brand=v["brand"],
        color=v["color"],
    )


def space_in(ctx: Context, community: str, area: str, number: str) -> uuid.UUID:
    found = parking.area_by_code(ctx, community_id(ctx, community), area)
    return parking.space_by_number(ctx, found.id, number).id


def rent_space(ctx: Context, v: dict[str, str]) -> parking.RentalView:
    house = house_in(ctx, v["community"], v["house"])
    start = a_date(v["start"], "start_date")
    end = a_date(v["end"], "end_date")
    if start is None or end is None:
        raise ValidationError(N_("Give the start and end dates."), field="start_date")
    fee = yuan(v["fee"], "monthly_fee")
    if fee is None:
        raise ValidationError(N_("Please fill in {field}."), field=_("Monthly fee"))
    return parking.rent_space(
        ctx,
        space_in(ctx, v["community"], v["area"], v["space"]),
        house_id=house.id,
        start_date=start,
        end_date=end,
        monthly_fee_fen=fee,
        owner_id=owner_of(ctx, house),
    )


class ParkingScreen(PropertyListScreen):
    """车位管理 — car parks and spaces (add, correct, retire), vehicles (register, remove) and rental contracts."""

    PLACE = "property_parking"
    SCOPES = ("property_parking", "list")
    BINDINGS = bindings("back", "property_parking")
    TABS = (
        ListTab(reads.SPACES, N_("Parking spaces"), "spaces"),
        ListTab(reads.VEHICLES, N_("Vehicles"), "vehicles"),
        ListTab(reads.RENTALS, N_("Rental contracts"), "rentals"),
    )
    ACTION_TABS = {  # noqa: RUF012
        "end_rental": "rentals",
        "remove_vehicle": "vehicles",
        "add_area": "spaces",
        "edit_space": "spaces",
        "retire_space": "spaces",
    }

    def action_add(self) -> None:
        tab = self.active_tab().id
        if tab == "spaces":
            fields = [
                Ask("community", _("Community code")),
                Ask("area", _("Car park code")),
                Ask("numbers", _("Space numbers"), hint="001-120, A01, A02", max_length=2000),
                Ask("kind", _("Kind"), hint=_codes(reads.SPACE_KIND), value="fixed"),
                Ask("location", _("Location")),
            ]
            self.form(
                _("New parking spaces"),
                fields,
                add_spaces,
                lambda rows: _("{n} spaces added.").format(n=len(rows)),
                tab_id=tab,
            )
        elif tab == "vehicles":
            fields = [
                Ask("community", _("Community code")),
                Ask("house", _("House")),
                Ask("owner", _("Owner name"), hint=_("blank: the house's owner")),
                Ask("plate", _("Plate"), hint="京A12345"),
                Ask("brand", _("Brand")),
                Ask("color", _("Colour")),
            ]
            self.form(
                _("Register a vehicle"),
                fields,
                register_vehicle,
                lambda done: _("Vehicle {plate} registered.").format(plate=done.plate),
                tab_id=tab,
            )
        else:
            fields = [
                Ask("community", _("Community code")),
                Ask("area", _("Car park code")),
                Ask("space", _("Space")),
                Ask("house", _("House")),
                Ask("start", _("Start"), hint="YYYY-MM-DD"),
                Ask("end", _("End"), hint="YYYY-MM-DD"),
                Ask("fee", _("Rent (yuan/month)")),
            ]
            self.form(
                _("New rental contract"),
                fields,
                rent_space,
                lambda done: _("Contract {number} signed.").format(number=done.number),
                tab_id=tab,
            )

    def action_add_area(self) -> None:
        fields = [
            Ask("community", _("Community code")),
            Ask("code", _("Car park code")),
            Ask("name", _("Car park name")),
            Ask("kind", _("Kind"), hint="above_ground/underground", value="underground"),
        ]
        self.form(
            _("New car park"),
            fields,
            add_area,
            lambda done: _("Car park {code} added.").format(code=done.code),
            tab_id="spaces",
        )

    def action_edit_space(self) -> None:
        row = self.selected()
        if row is None:
            return
        fields = [
            Ask("location", _("Location"), value=str(row["location"] or "")),
            Ask("kind", _("Kind"), hint=_codes(reads.SPACE_KIND), value=str(row["kind"])),
        ]
        self.form(
            _("Space {number}").format(number=row["number"]),
            fields,
            lambda ctx, v: edit_space(ctx, row_id(row), v),
            _("Space {number} changed.").format(number=row["number"]),
            tab_id="spaces",
        )

    def action_retire_space(self) -> None:
        row = self.selected()
        if row is None:
            return
        self.form(
            _("Retire space {number}").format(number=row["number"]),
            [Ask("reason", _("Reason"))],
            lambda ctx, v: parking.retire_space(ctx, row_id(row), v["reason"]),
            _("Space {number} retired.").format(number=row["number"]),
            tab_id="spaces",
            ok=_("Retire"),
        )

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


def building_id(ctx: Context, community: uuid.UUID, number: str) -> uuid.UUID | None:
    """The building numbered `number` in the community (blank: none)."""
    if not number.strip():
        return None
    found = next((b for b in ps.list_buildings(ctx, community) if b.number == number.strip()), None)
    if found is None:
        raise ValidationError(N_("There is no building {number} in this community."), field="building",
                              number=number.strip())  # fmt: skip
    return found.id


def add_device(ctx: Context, v: dict[str, str]) -> access.DeviceView:
    cid = community_id(ctx, v["community"])
    return access.add_device(
        ctx,
        cid,
        v["code"],
        v["name"],
        v["kind"].strip(),
        building_id=building_id(ctx, cid, v["building"]),
        location=v["location"],
    )


def edit_device(ctx: Context, device_id: uuid.UUID, community: str, v: dict[str, str]) -> access.DeviceView:
    """Blank building: keep it; "-": the device becomes a community gate (no building)."""
    building = v["building"].strip()
    moved: dict[str, Any] = {}
    if building == "-":
        moved["building_id"] = None
    elif building:
        moved["building_id"] = building_id(ctx, community_id(ctx, community), building)
    return access.update_device(ctx, device_id, name=v["name"], location=v["location"], **moved)


def issue_card(ctx: Context, v: dict[str, str]) -> access.CredentialView:
    house = house_in(ctx, v["community"], v["house"])
    codes = [c.strip() for c in v["devices"].split(",") if c.strip()]
    return access.issue_credential(
        ctx,
        owner_id=owner_of(ctx, house, v["holder"]),
        house_id=house.id,
        kind=v["kind"].strip(),
        identifier=v["identifier"],
        valid_from=a_date(v["valid_from"], "valid_from"),
        valid_until=a_date(v["valid_until"], "valid_until"),
        device_ids=[access.device_by_code(ctx, house.community_id, c).id for c in codes] or None,
    )


def add_camera(ctx: Context, v: dict[str, str]) -> uuid.UUID:
    return access.add_camera(
        ctx,
        community_id(ctx, v["community"]),
        v["code"],
        v["name"],
        location=v["location"],
        stream_url=v["stream_url"].strip(),
        recorder=v["recorder"],
        channel=whole(v["channel"], "channel", default=0),
        retention_days=whole(v["retention_days"], "retention_days", default=30),
    )


def edit_camera(ctx: Context, camera_id: uuid.UUID, v: dict[str, str]) -> access.CameraView:
    return access.update_camera(
        ctx,
        camera_id,
        name=v["name"],
        location=v["location"],
        stream_url=v["stream_url"].strip() or None,  # blank: keep (the list never shows the address)
        recorder=v["recorder"],
        channel=whole(v["channel"], "channel"),
        retention_days=whole(v["retention_days"], "retention_days"),
    )


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
    ACTION_TABS = {"revoke_card": "cards", "edit_device": "devices", "retire_device": "devices"}  # noqa: RUF012

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "add":
            return self.active_tab().id in ("devices", "cards")
        return super().check_action(action, parameters)

    def action_add(self) -> None:
        if self.active_tab().id == "devices":
            fields = [
                Ask("community", _("Community code")),
                Ask("code", _("Code")),
                Ask("name", _("Device name")),
                Ask("kind", _("Kind"), hint=_codes(reads.DEVICE_KIND)),
                Ask("building", _("Building"), hint=_("blank: a community gate")),
                Ask("location", _("Location")),
            ]
            self.form(
                _("New access device"),
                fields,
                add_device,
                lambda done: _("Device {code} added.").format(code=done.code),
                tab_id="devices",
            )
            return
        fields = [
            Ask("community", _("Community code")),
            Ask("house", _("House")),
            Ask("holder", _("Holder"), hint=_("blank: the house's owner")),
            Ask("kind", _("Kind"), hint=_codes(reads.CREDENTIAL_KIND), value="card"),
            Ask("identifier", _("Card no.")),
            Ask("valid_from", _("Valid from"), hint="YYYY-MM-DD"),
            Ask("valid_until", _("Valid until"), hint=_("YYYY-MM-DD; blank: no end")),
            Ask("devices", _("Devices"), hint=_("codes, e.g. G1, G2; blank: the building's doors")),
        ]
        self.form(_("Issue a card"), fields, issue_card, _("Card issued."), tab_id="cards")

    def action_edit_device(self) -> None:
        row = self.selected()
        if row is None:
            return
        fields = [
            Ask("name", _("Device name"), value=str(row["name"])),
            Ask("building", _("Building"), hint=_("blank: keep; -: a community gate")),
            Ask("location", _("Location"), value=str(row["location"] or "")),
        ]
        self.form(
            _("Device {code}").format(code=row["code"]),
            fields,
            lambda ctx, v: edit_device(ctx, row_id(row), row["community"], v),
            _("Device {code} changed.").format(code=row["code"]),
            tab_id="devices",
        )

    def action_retire_device(self) -> None:
        row = self.selected()
        if row is None:
            return
        self.form(
            _("Retire device {code}").format(code=row["code"]),
            [Ask("reason", _("Reason"))],
            lambda ctx, v: access.retire_device(ctx, row_id(row), v["reason"]),
            _("Device {code} retired.").format(code=row["code"]),
            tab_id="devices",
            ok=_("Retire"),
        )

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
    ACTION_TABS = {  # noqa: RUF012
        "acknowledge": "alarms",
        "dispatch": "alarms",
        "close_alarm": "alarms",
        "add": "cameras",
        "edit_camera": "cameras",
        "retire_camera": "cameras",
    }

    def action_add(self) -> None:
        fields = [
            Ask("community", _("Community code")),
            Ask("code", _("Code")),
            Ask("name", _("Camera name")),
            Ask("location", _("Location")),
            Ask("stream_url", _("Stream address"), hint="rtsp://…", max_length=400),
            Ask("recorder", _("Recorder")),
            Ask("channel", _("Channel"), value="0"),
            Ask("retention_days", _("Kept (days)"), value="30"),
        ]
        self.form(_("New camera"), fields, add_camera, _("Camera added."), tab_id="cameras")

    def action_edit_camera(self) -> None:
        row = self.selected()
        if row is None:
            return
        fields = [
            Ask("name", _("Camera name"), value=str(row["name"])),
            Ask("location", _("Location"), value=str(row["location"])),
            Ask("stream_url", _("Stream address"), hint=_("blank: keep"), max_length=400),
            Ask("recorder", _("Recorder"), value=str(row["recorder"])),
            Ask("channel", _("Channel"), value=str(row["channel"])),
            Ask("retention_days", _("Kept (days)"), value=str(row["retention"])),
        ]
        self.form(
            _("Camera {code}").format(code=row["code"]),
            fields,
            lambda ctx, v: edit_camera(ctx, row_id(row), v),
            _("Camera {code} changed.").format(code=row["code"]),
            tab_id="cameras",
        )

    def action_retire_camera(self) -> None:
        row = self.selected()
        if row is None:
            return
        self.form(
            _("Retire camera {code}").format(code=row["code"]),
            [Ask("reason", _("Reason"))],
            lambda ctx, v: access.retire_camera(ctx, row_id(row), v["reason"]),
            _("Camera {code} retired.").format(code=row["code"]),
            tab_id="cameras",
            ok=_("Retire"),
        )

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


def record_complaint(ctx: Context, v: dict[str, str]) -> complaints.ComplaintView:
    """A complaint taken by the clerk (at the desk, on the phone) for the owner of a house."""
    house = house_in(ctx, v["community"], v["house"]) if v["house"].strip() else None
    return complaints.submit_complaint(
        ctx,
        community_id=house.community_id if house else community_id(ctx, v["community"]),
        category=v["category"].strip(),
        content=v["content"],
        house_id=house.id if house else None,
        owner_id=owner_of(ctx, house, v["owner"]) if house else None,
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
        "add": "complaints",
        "handle": "complaints",
        "accept": "complaints",
        "assign": "complaints",
        "reply": "complaints",
        "evaluate": "suggestions",
        "adopt": "suggestions",
        "decline": "suggestions",
    }

    def action_add(self) -> None:
        fields = [
            Ask("community", _("Community code")),
            Ask("house", _("House"), hint=_("may be blank")),
            Ask("owner", _("Owner name"), hint=_("blank: the house's owner")),
            Ask("category", _("Category"), hint=_codes(reads.COMPLAINT_CATEGORY)),
            Ask("content", _("Complaint"), max_length=2000),
        ]
        self.form(
            _("Record a complaint"),
            fields,
            record_complaint,
            lambda done: _("Complaint {number} recorded.").format(number=done.number),
            tab_id="complaints",
        )

    def action_handle(self) -> None:
        row = self.selected()
        if row is not None:
            self.act(
                complaints.handle,
                row_id(row),
                said=_("Complaint {number} is being handled.").format(number=row["number"]),
            )

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


def plan_activity(ctx: Context, v: dict[str, str]) -> activities.ActivityView:
    starts, ends = a_time(v["starts_at"], "starts_at"), a_time(v["ends_at"], "ends_at")
    if starts is None or ends is None:
        raise ValidationError(N_("Give the start and end times."), field="starts_at")
    return activities.plan(
        ctx,
        community_id=community_id(ctx, v["community"]),
        title=v["title"],
        content=v["content"],
        place=v["place"],
        starts_at=starts,
        ends_at=ends,
        capacity=whole(v["capacity"], "capacity"),
        fee_fen=yuan(v["fee"], "fee") or 0,
        signup_deadline=a_time(v["deadline"], "signup_deadline"),
    )


def sign_up(ctx: Context, activity: uuid.UUID, community: str, v: dict[str, str]) -> activities.SignupView:
    house = house_in(ctx, community, v["house"])
    return activities.signup(
        ctx,
        activity,
        owner_of(ctx, house, v["owner"]),
        party_size=whole(v["party"], "party_size", default=1),
        house_id=house.id,
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
        "add": "activities",
        "sign_up": "activities",
        "publish": "activities",
        "finish": "activities",
        "cancel_activity": "activities",
        "signups": "activities",
    }

    def action_add(self) -> None:
        fields = [
            Ask("community", _("Community code")),
            Ask("title", _("Title")),
            Ask("place", _("Place")),
            Ask("starts_at", _("Starts"), hint="YYYY-MM-DD HH:MM"),
            Ask("ends_at", _("Ends"), hint="YYYY-MM-DD HH:MM"),
            Ask("capacity", _("Capacity")),
            Ask("fee", _("Fee (yuan)"), hint=_("blank: free")),
            Ask("deadline", _("Sign-up until"), hint="YYYY-MM-DD HH:MM"),
            Ask("content", _("Text"), max_length=4000),
        ]
        self.form(
            _("Plan an activity"),
            fields,
            plan_activity,
            lambda done: _("Activity planned: {title}").format(title=done.title),
            tab_id="activities",
        )

    def action_sign_up(self) -> None:
        """Sign a resident up for the selected activity (at the desk, on the phone)."""
        row = self.selected()
        if row is None:
            return
        fields = [
            Ask("house", _("House")),
            Ask("owner", _("Resident"), hint=_("blank: the house's owner")),
            Ask("party", _("People"), value="1"),
        ]
        self.form(
            _("Sign up for {title}").format(title=row["title"]),
            fields,
            lambda ctx, v: sign_up(ctx, row_id(row), str(row["community"]), v),
            lambda done: _("Signed up: {status}").format(status=_(dict(reads.SIGNUP_STATUS)[done.status])),
        )

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


def report_repair(ctx: Context, v: dict[str, str]) -> repairs.WorkOrderView:
    """A repair reported to the clerk (at the desk, on the phone): in a house, or in a common area."""
    house = house_in(ctx, v["community"], v["house"]) if v["house"].strip() else None
    return repairs.report(
        ctx,
        community_id=house.community_id if house else community_id(ctx, v["community"]),
        repair_type=v["type"].strip().upper(),
        description=v["description"],
        house_id=house.id if house else None,
        common_area=v["area"].strip() or None,
        owner_id=owner_of(ctx, house) if house else None,
        contact_name=v["contact"],
    )


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

    def action_add(self) -> None:
        fields = [
            Ask("community", _("Community code")),
            Ask("house", _("House"), hint=_("blank: a common area")),
            Ask("area", _("Common area"), hint=_("where, when not in a house")),
            Ask("type", _("Repair type"), hint=_("code, e.g. PIPE")),
            Ask("contact", _("Contact")),
            Ask("description", _("Description"), max_length=2000),
        ]
        self.form(
            _("Report a repair"),
            fields,
            report_repair,
            lambda done: _("Work order {number} opened.").format(number=done.number),
        )

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
