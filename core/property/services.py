"""Base-data use cases of smart property: communities, buildings, units, houses (with their status machine),
owners (personal data encrypted, searchable by blind index, shown masked), occupants and facilities.

Fees, bill runs, discounts, late fees, payments, receipts and statistics are in core.property.billing.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import func, insert, select, update
from sqlalchemy.orm import Session

from core import validate
from core.clock import today
from core.context import Context
from core.errors import Conflict, NotFound, StateError, ValidationError
from core.i18n import N_
from core.ids import new_id
from core.property.models import (
    HOUSE_STATUSES,
    OWNER_KINDS,
    RELATIONS,
    Building,
    Community,
    Facility,
    House,
    HouseOccupant,
    HouseStatusChange,
    Owner,
    Unit,
)
from core.security.pii import KIND_ID_NUMBER, KIND_PHONE, reveal_or_mask
from core.uow import UnitOfWork

PERM_VIEW = "property.view"
PERM_MANAGE = "property.manage"

NAME_MAX = 200
CODE_RE = re.compile(r"^[A-Za-z0-9_-]{1,40}$")
NUMBER_RE = re.compile(r"^[A-Za-z0-9]{1,20}$")
AREA_DM2_MAX = 10**9  # 1,000 万 m²: no house or community is larger
SEARCH_LIMIT_MAX = 500
SHARE_BP_FULL = 10_000

# 房屋状态: every move a clerk may make. No state is terminal (a house is resold, re-let, renovated again).
HOUSE_TRANSITIONS: dict[str, frozenset[str]] = {
    "unsold": frozenset({"vacant", "occupied", "renovating"}),
    "vacant": frozenset({"occupied", "renovating"}),
    "occupied": frozenset({"vacant", "renovating"}),
    "renovating": frozenset({"occupied", "vacant"}),
}


# ---------------------------------------------------------------------------------------------------------
# Views


@dataclass(frozen=True)
class CommunityView:
    id: uuid.UUID
    code: str
    name: str
    address: str
    area_dm2: int
    household_count: int
    property_company: str


@dataclass(frozen=True)
class BuildingView:
    id: uuid.UUID
    community_id: uuid.UUID
    number: str
    name: str
    floors: int


@dataclass(frozen=True)
class UnitView:
    id: uuid.UUID
    building_id: uuid.UUID
    number: str


@dataclass(frozen=True)
class HouseView:
    id: uuid.UUID
    community_id: uuid.UUID
    building_id: uuid.UUID
    unit_id: uuid.UUID | None
    number: str
    code: str
    floor: int
    building_area_dm2: int
    inner_area_dm2: int
    layout: str
    use: str
    status: str
    charge_start_on: date | None


@dataclass(frozen=True)
class OwnerView:
    """An owner as the actor may see them: ID number and phone masked unless the actor holds pii.reveal."""

    id: uuid.UUID
    kind: str
    name: str
    id_number: str | None
    phone: str | None
    uscc: str | None


@dataclass(frozen=True)
class OccupantView:
    id: uuid.UUID
    house_id: uuid.UUID
    owner_id: uuid.UUID
    owner_name: str
    relation: str
    share_bp: int
    move_in_date: date
    move_out_date: date | None


@dataclass(frozen=True)
class FacilityView:
    id: uuid.UUID
    community_id: uuid.UUID
    kind: str
    name: str
    location: str
    installed_on: date | None
    last_maintained_on: date | None
    next_maintenance_on: date | None


# ---------------------------------------------------------------------------------------------------------
# Input checks


def text(value: object, field: str, max_chars: int = NAME_MAX, *, required: bool = True) -> str:
    """Stripped text of at most `max_chars`; "" when optional and empty."""
    if value is None:
        value = ""
    if not isinstance(value, str):
        raise ValidationError(N_("{field} must be text."), field=field)
    value = value.strip()
    if required and not value:
        raise ValidationError(N_("Please fill in {field}."), field=field)
    if len(value) > max_chars:
        raise ValidationError(N_("{field} is longer than {max} characters."), field=field, max=max_chars)
    return value


def area(value: object, field: str, *, allow_zero: bool = False) -> int:
    """An area in dm² (0.01 m²) as a positive int."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValidationError(N_("{field} must be a whole number of 0.01 m²."), field=field)
    if value < 0 or (value == 0 and not allow_zero) or value > AREA_DM2_MAX:
        raise ValidationError(N_("The area must be greater than 0."), field=field)
    return value


def parse_area_m2(raw: object, field: str) -> int:
    """ "89.5" / 89.5 m² typed by a clerk or read from Excel → 8950 dm²; at most two decimals."""
    s = str(raw).strip() if raw is not None else ""
    m = re.fullmatch(r"(\d{1,7})(?:\.(\d{1,2})0*)?", s)
    if not m:
        raise ValidationError(
            N_("“{text}” is not an area in m² (at most two decimals)."), field=field, text=s
        )
    return area(int(m.group(1)) * 100 + int((m.group(2) or "").ljust(2, "0")), field)


def _number(value: object, field: str) -> str:
    value = text(value, field, 20)
    if not NUMBER_RE.match(value):
        raise ValidationError(N_("{field} may contain only letters and digits."), field=field)
    return value


def _uuid(value: object, field: str) -> uuid.UUID:
    if isinstance(value, uuid.UUID):
        return value
    try:
        return uuid.UUID(str(value))
    except ValueError:
        raise ValidationError(N_("“{text}” is not a valid id."), field=field, text=str(value)) from None


def _get(session: Session, model: type, object_id: object, what: str):
    row = session.get(model, _uuid(object_id, what))
    if row is None:
        raise NotFound(N_("There is no {what} {id}."), what=what, id=str(object_id))
    return row


# ---------------------------------------------------------------------------------------------------------
# Communities, buildings, units


def _community_view(c: Community) -> CommunityView:
    return CommunityView(c.id, c.code, c.name, c.address, c.area_dm2, c.household_count, c.property_company)


def create_community(
    ctx: Context,
    code: str,
    name: str,
    *,
    address: str = "",
    area_dm2: int = 0,
    household_count: int = 0,
    property_company: str = "",
) -> CommunityView:
    """Register a community (小区) under a short code used on screens and imports."""
    code = text(code, "code", 40)
    if not CODE_RE.match(code):
        raise ValidationError(N_("A community code is letters, digits, - and _ (at most 40)."), field="code")
    name = text(name, "name")
    address = text(address, "address", 400, required=False)
    area_dm2 = area(area_dm2, "area_dm2", allow_zero=True)
    if isinstance(household_count, bool) or not isinstance(household_count, int) or household_count < 0:
        raise ValidationError(
            N_("The household count must be a whole number, 0 or more."), field="household_count"
        )
    company = text(property_company, "property_company", required=False)
    with ctx.uow(PERM_MANAGE) as uow:
        s = uow.session
        if s.execute(select(Community.id).where(Community.code == code)).first():
            raise Conflict(N_("A community with code {code} already exists."), code=code)
        c = Community(
            id=new_id(),
            code=code,
            name=name,
            address=address,
            area_dm2=area_dm2,
            household_count=household_count,
            property_company=company,
            created_at=uow.now,
        )
        s.add(c)
        s.flush()
        view = _community_view(c)
        uow.audit("property.community_create", "prop_community", c.id, after=_public(view))
        uow.emit("property.community_created", _public(view))
        return view


def _public(view: object) -> dict:
    """A view as JSON-able data for audit records and events."""
    out = {}
    for k, v in vars(view).items():
        out[k] = v if isinstance(v, int | str | bool) or v is None else str(v)
    return out


def community_by_code(ctx: Context, code: str) -> CommunityView:
    with ctx.read(PERM_VIEW) as s:
        c = s.execute(select(Community).where(Community.code == code)).scalar_one_or_none()
        if c is None:
            raise NotFound(N_("There is no community {code}."), code=code)
        return _community_view(c)


def list_communities(ctx: Context) -> list[CommunityView]:
    with ctx.read(PERM_VIEW) as s:
        return [_community_view(c) for c in s.execute(select(Community).order_by(Community.code)).scalars()]


def create_building_in(
    uow: UnitOfWork, community_id: uuid.UUID, number: str, *, name: str = "", floors: int = 0
) -> BuildingView:
    number = _number(number, "number")
    name = text(name, "name", 100, required=False)
    if isinstance(floors, bool) or not isinstance(floors, int) or not 0 <= floors <= 300:
        raise ValidationError(N_("Floors must be a whole number from 0 to 300."), field="floors")
    s = uow.session
    _get(s, Community, community_id, "community")
    if s.execute(
        select(Building.id).where(Building.community_id == community_id, Building.number == number)
    ).first():
        raise Conflict(N_("Building {number} already exists in this community."), number=number)
    b = Building(
        id=new_id(), community_id=community_id, number=number, name=name, floors=floors, created_at=uow.now
    )
    s.add(b)
    s.flush()
    view = BuildingView(b.id, b.community_id, b.number, b.name, b.floors)
    uow.audit("property.building_create", "prop_building", b.id, after=_public(view))
    uow.emit("property.building_created", _public(view))
    return view


def create_building(
    ctx: Context, community_id: uuid.UUID, number: str, *, name: str = "", floors: int = 0
) -> BuildingView:
    """Add a building (楼栋) to a community."""
    with ctx.uow(PERM_MANAGE) as uow:
        return create_building_in(uow, community_id, number, name=name, floors=floors)


def create_unit(ctx: Context, building_id: uuid.UUID, number: str) -> UnitView:
    """Add a unit (单元) to a building."""
    number = _number(number, "number")
    with ctx.uow(PERM_MANAGE) as uow:
        return _ensure_unit(uow, building_id, number, create_only=True)


def _ensure_unit(
    uow: UnitOfWork, building_id: uuid.UUID, number: str, *, create_only: bool = False
) -> UnitView:
    s = uow.session
    _get(s, Building, building_id, "building")
    row = s.execute(
        select(Unit).where(Unit.building_id == building_id, Unit.number == number)
    ).scalar_one_or_none()
    if row is not None:
        if create_only:
            raise Conflict(N_("Unit {number} already exists in this building."), number=number)
        return UnitView(row.id, row.building_id, row.number)
    u = Unit(id=new_id(), building_id=building_id, number=number)
    s.add(u)
    s.flush()
    uow.audit(
        "property.unit_create", "prop_unit", u.id, after={"building_id": str(building_id), "number": number}
    )
    uow.emit("property.unit_created", {"id": str(u.id), "building_id": str(building_id), "number": number})
    return UnitView(u.id, u.building_id, u.number)


def list_buildings(ctx: Context, community_id: uuid.UUID) -> list[BuildingView]:
    with ctx.read(PERM_VIEW) as s:
        rows = s.execute(
            select(Building).where(Building.community_id == community_id).order_by(Building.number)
        ).scalars()
        return [BuildingView(b.id, b.community_id, b.number, b.name, b.floors) for b in rows]


# ---------------------------------------------------------------------------------------------------------
# Houses


def house_code(building_no: str, unit_no: str | None, number: str) -> str:
    """The display code of a house: "3-2-1201" (building-unit-number) or "3-1201" without units."""
    return f"{building_no}-{unit_no}-{number}" if unit_no else f"{building_no}-{number}"


def _house_view(h: House) -> HouseView:
    return HouseView(
        h.id,
        h.community_id,
        h.building_id,
        h.unit_id,
        h.number,
        h.code,
        h.floor,
        h.building_area_dm2,
        h.inner_area_dm2,
        h.layout,
        h.use,
        h.status,
        h.charge_start_on,
    )


@dataclass(frozen=True)
class HouseInput:
    """A house as typed or imported; areas in dm²."""

    building_no: str
    unit_no: str | None
    number: str
    building_area_dm2: int
    inner_area_dm2: int
    floor: int = 0
    layout: str = ""
    use: str = "住宅"
    status: str = "unsold"
    charge_start_on: date | None = None


def check_house_input(h: HouseInput) -> HouseInput:
    """The normalised input, or ValidationError naming the first bad field (no database needed)."""
    b_no = _number(h.building_no, "building")
    u_no = _number(h.unit_no, "unit") if h.unit_no not in (None, "") else None
    number = _number(h.number, "number")
    b_area = area(h.building_area_dm2, "building_area")
    i_area = area(h.inner_area_dm2, "inner_area")
    if i_area > b_area:
        raise ValidationError(
            N_("The inner area cannot be larger than the building area."), field="inner_area"
        )
    if isinstance(h.floor, bool) or not isinstance(h.floor, int) or not -10 <= h.floor <= 300:
        raise ValidationError(N_("The floor must be a whole number from -10 to 300."), field="floor")
    if h.status not in HOUSE_STATUSES:
        raise ValidationError(
            N_("The house status must be one of: unsold, vacant, occupied, renovating."), field="status"
        )
    return HouseInput(
        b_no,
        u_no,
        number,
        b_area,
        i_area,
        h.floor,
        text(h.layout, "layout", 40, required=False),
        text(h.use, "use", 20) if h.use else "住宅",
        h.status,
        h.charge_start_on,
    )


def add_house_in(uow: UnitOfWork, community_id: uuid.UUID, h: HouseInput) -> HouseView:
    """Add a house to a community; its building must exist, its unit is created on first use."""
    h = check_house_input(h)
    s = uow.session
    _get(s, Community, community_id, "community")
    building = s.execute(
        select(Building).where(Building.community_id == community_id, Building.number == h.building_no)
    ).scalar_one_or_none()
    if building is None:
        raise NotFound(N_("There is no building {number} in this community."), number=h.building_no)
    unit_id = _ensure_unit(uow, building.id, h.unit_no).id if h.unit_no else None
    code = house_code(h.building_no, h.unit_no, h.number)
    if s.execute(select(House.id).where(House.community_id == community_id, House.code == code)).first():
        raise Conflict(N_("House {code} already exists in this community."), code=code)
    row = House(
        id=new_id(),
        community_id=community_id,
        building_id=building.id,
        unit_id=unit_id,
        number=h.number,
        code=code,
        floor=h.floor,
        building_area_dm2=h.building_area_dm2,
        inner_area_dm2=h.inner_area_dm2,
        layout=h.layout,
        use=h.use,
        status=h.status,
        charge_start_on=h.charge_start_on,
        created_at=uow.now,
    )
    s.add(row)
    s.flush()
    view = _house_view(row)
    uow.audit("property.house_create", "prop_house", row.id, after=_public(view))
    uow.emit("property.house_created", _public(view))
    return view


def add_house(ctx: Context, community_id: uuid.UUID, h: HouseInput) -> HouseView:
    """Add a house (房屋)."""
    with ctx.uow(PERM_MANAGE) as uow:
        return add_house_in(uow, community_id, h)


def update_house(
    ctx: Context,
    house_id: uuid.UUID,
    *,
    building_area_dm2: int | None = None,
    inner_area_dm2: int | None = None,
    layout: str | None = None,
    use: str | None = None,
    charge_start_on: date | None = None,
) -> HouseView:
    """Correct a house's areas, layout, use or charge start date (future bills use the new values)."""
    with ctx.uow(PERM_MANAGE) as uow:
        h = _get(uow.session, House, house_id, "house")
        before = _public(_house_view(h))
        b_area = (
            area(building_area_dm2, "building_area") if building_area_dm2 is not None else h.building_area_dm2
        )
        i_area = area(inner_area_dm2, "inner_area") if inner_area_dm2 is not None else h.inner_area_dm2
        if i_area > b_area:
            raise ValidationError(
                N_("The inner area cannot be larger than the building area."), field="inner_area"
            )
        h.building_area_dm2, h.inner_area_dm2 = b_area, i_area
        if layout is not None:
            h.layout = text(layout, "layout", 40, required=False)
        if use is not None:
            h.use = text(use, "use", 20)
        if charge_start_on is not None:
            h.charge_start_on = charge_start_on
        uow.session.flush()
        view = _house_view(h)
        uow.audit("property.house_update", "prop_house", h.id, before=before, after=_public(view))
        uow.emit("property.house_updated", _public(view))
        return view


def change_house_status(ctx: Context, house_id: uuid.UUID, to_status: str, reason: str = "") -> HouseView:
    """Move a house to another status along HOUSE_TRANSITIONS (compare-and-set, recorded with who/when/why)."""
    reason = text(reason, "reason", 400, required=False)
    if to_status not in HOUSE_STATUSES:
        raise ValidationError(
            N_("The house status must be one of: unsold, vacant, occupied, renovating."), field="status"
        )
    with ctx.uow(PERM_MANAGE) as uow:
        s = uow.session
        h = _get(s, House, house_id, "house")
        current = h.status
        if to_status not in HOUSE_TRANSITIONS[current]:
            raise StateError(
                N_("A house cannot go from {from_status} to {to_status}."),
                from_status=current,
                to_status=to_status,
            )
        done = s.execute(
            update(House)
            .where(House.id == h.id, House.status == current)
            .values(status=to_status, status_changed_at=uow.now)
            .execution_options(synchronize_session=False)
        )
        if done.rowcount != 1:
            raise StateError(N_("The house was changed by someone else; please reload it."))
        s.add(
            HouseStatusChange(
                id=new_id(),
                house_id=h.id,
                from_status=current,
                to_status=to_status,
                reason=reason,
                actor=ctx.actor.username,
                at=uow.now,
            )
        )
        s.flush()
        s.refresh(h)
        uow.audit(
            "property.house_status",
            "prop_house",
            h.id,
            before={"status": current},
            after={"status": to_status, "reason": reason},
        )
        uow.emit("property.house_status_changed", {"id": str(h.id), "from": current, "to": to_status})
        return _house_view(h)


def get_house(ctx: Context, house_id: uuid.UUID) -> HouseView:
    with ctx.read(PERM_VIEW) as s:
        return _house_view(_get(s, House, house_id, "house"))


def find_house(ctx: Context, code: str, community_id: uuid.UUID | None = None) -> HouseView:
    """The house with display code "3-2-1201" (in `community_id`, or the only one with that code)."""
    code = text(code, "code", 60)
    with ctx.read(PERM_VIEW) as s:
        q = select(House).where(House.code == code)
        if community_id is not None:
            q = q.where(House.community_id == community_id)
        rows = s.execute(q.limit(2)).scalars().all()
        if not rows:
            raise NotFound(N_("There is no house {code}."), code=code)
        if len(rows) > 1:
            raise ValidationError(
                N_("House {code} exists in several communities; choose the community."), code=code
            )
        return _house_view(rows[0])


def search_houses(
    ctx: Context,
    community_id: uuid.UUID,
    *,
    code_prefix: str = "",
    status: str | None = None,
    limit: int = 100,
) -> list[HouseView]:
    """Houses of a community whose code starts with `code_prefix` ("3-2-" for building 3 unit 2), by code."""
    limit = max(1, min(limit, SEARCH_LIMIT_MAX))
    prefix = text(code_prefix, "code", 60, required=False)
    with ctx.read(PERM_VIEW) as s:
        q = select(House).where(House.community_id == community_id)
        if prefix:
            # Range on the indexed code instead of LIKE, so no wildcard in the input can widen the search.
            q = q.where(House.code >= prefix, House.code < prefix + "\uffff")
        if status:
            q = q.where(House.status == status)
        return [_house_view(h) for h in s.execute(q.order_by(House.code).limit(limit)).scalars()]


# ---------------------------------------------------------------------------------------------------------
# Owners


@dataclass(frozen=True)
class OwnerInput:
    name: str
    kind: str = "individual"
    id_number: str | None = None
    phone: str | None = None
    uscc: str | None = None


def check_owner_input(o: OwnerInput, *, on: date) -> OwnerInput:
    """Validated, normalised owner data: 身份证号 (GB 11643), mobile, USCC (GB 32100) for companies."""
    if o.kind not in OWNER_KINDS:
        raise ValidationError(N_("An owner is an individual or a company."), field="kind")
    name = text(o.name, "name")
    id_no = validate.id_number(o.id_number, today=on) if o.id_number else None
    phone = validate.mobile(o.phone) if o.phone else None
    uscc = None
    if o.kind == "company":
        if id_no:
            raise ValidationError(
                N_("A company has a unified social credit code, not an ID number."), field="id_number"
            )
        uscc = validate.uscc(o.uscc) if o.uscc else None
    elif o.uscc:
        raise ValidationError(N_("Only a company has a unified social credit code."), field="uscc")
    return OwnerInput(name, o.kind, id_no, phone, uscc)


def _owner_view(ctx: Context, o: Owner) -> OwnerView:
    pii = ctx.pii if (o.id_number_enc or o.phone_enc) else None
    id_no = pii.decrypt(o.id_number_enc) if pii and o.id_number_enc else None
    phone = pii.decrypt(o.phone_enc) if pii and o.phone_enc else None
    return OwnerView(
        o.id,
        o.kind,
        o.name,
        reveal_or_mask(ctx.actor, KIND_ID_NUMBER, id_no),
        reveal_or_mask(ctx.actor, KIND_PHONE, phone),
        o.uscc,
    )


def owner_row(ctx: Context, o: OwnerInput, now: datetime) -> dict:
    """The prop_owners row of checked input: personal data encrypted, blind indexes computed."""
    pii = ctx.pii
    return {
        "id": new_id(),
        "kind": o.kind,
        "name": o.name,
        "id_number_enc": pii.encrypt(o.id_number) if o.id_number else None,
        "id_number_bidx": pii.blind_index(KIND_ID_NUMBER, o.id_number) if o.id_number else None,
        "phone_enc": pii.encrypt(o.phone) if o.phone else None,
        "phone_bidx": pii.blind_index(KIND_PHONE, o.phone) if o.phone else None,
        "uscc": o.uscc,
        "created_at": now,
    }


def _check_owner_unique(s: Session, row: dict) -> None:
    if (
        row["id_number_bidx"]
        and s.execute(select(Owner.id).where(Owner.id_number_bidx == row["id_number_bidx"])).first()
    ):
        raise Conflict(N_("An owner with this ID number is already registered."))
    if row["uscc"] and s.execute(select(Owner.id).where(Owner.uscc == row["uscc"])).first():
        raise Conflict(N_("A company with this unified social credit code is already registered."))


def create_owner_in(uow: UnitOfWork, o: OwnerInput) -> uuid.UUID:
    ctx = uow.ctx
    o = check_owner_input(o, on=today(ctx.clock))
    row = owner_row(ctx, o, uow.now)
    _check_owner_unique(uow.session, row)
    uow.session.execute(insert(Owner).values(**row))
    # Personal data stays out of the audit log and the outbox in clear: only the blind indexes go there.
    after = {
        "kind": o.kind,
        "name": o.name,
        "id_number_bidx": row["id_number_bidx"],
        "phone_bidx": row["phone_bidx"],
        "uscc": o.uscc,
    }
    uow.audit("property.owner_create", "prop_owner", row["id"], after=after)
    uow.emit("property.owner_created", {"id": str(row["id"]), **after})
    return row["id"]


def create_owner(ctx: Context, o: OwnerInput) -> OwnerView:
    """Register an owner/resident (业主/住户); ID numbers are unique."""
    with ctx.uow(PERM_MANAGE) as uow:
        owner_id = create_owner_in(uow, o)
        return _owner_view(ctx, uow.session.get(Owner, owner_id))


def update_owner_contact(
    ctx: Context, owner_id: uuid.UUID, *, phone: str | None = None, name: str | None = None
) -> OwnerView:
    """Change an owner's phone or name."""
    new_phone = validate.mobile(phone) if phone else None
    new_name = text(name, "name") if name is not None else None
    with ctx.uow(PERM_MANAGE) as uow:
        o = _get(uow.session, Owner, owner_id, "owner")
        before = {"name": o.name, "phone_bidx": o.phone_bidx}
        if new_phone:
            o.phone_enc = ctx.pii.encrypt(new_phone)
            o.phone_bidx = ctx.pii.blind_index(KIND_PHONE, new_phone)
        if new_name:
            o.name = new_name
        uow.session.flush()
        after = {"name": o.name, "phone_bidx": o.phone_bidx}
        uow.audit("property.owner_update", "prop_owner", o.id, before=before, after=after)
        uow.emit("property.owner_updated", {"id": str(o.id), **after})
        return _owner_view(ctx, o)


def get_owner(ctx: Context, owner_id: uuid.UUID) -> OwnerView:
    with ctx.read(PERM_VIEW) as s:
        return _owner_view(ctx, _get(s, Owner, owner_id, "owner"))


def search_owners(
    ctx: Context,
    *,
    name: str | None = None,
    phone: str | None = None,
    id_number: str | None = None,
    limit: int = 50,
) -> list[OwnerView]:
    """Owners by exact name, phone or 身份证号 (the last two through the blind index, so exact matches only)."""
    limit = max(1, min(limit, SEARCH_LIMIT_MAX))
    q = select(Owner)
    if id_number:
        number = validate.id_number(id_number, today=today(ctx.clock))
        q = q.where(Owner.id_number_bidx == ctx.pii.blind_index(KIND_ID_NUMBER, number))
    elif phone:
        q = q.where(Owner.phone_bidx == ctx.pii.blind_index(KIND_PHONE, validate.mobile(phone)))
    elif name:
        q = q.where(Owner.name == text(name, "name"))
    else:
        raise ValidationError(N_("Search by name, phone or ID number."), field="query")
    with ctx.read(PERM_VIEW) as s:
        return [
            _owner_view(ctx, o) for o in s.execute(q.order_by(Owner.name, Owner.id).limit(limit)).scalars()
        ]


# ---------------------------------------------------------------------------------------------------------
# Occupants


def _occupant_view(s: Session, oc: HouseOccupant) -> OccupantView:
    name = s.execute(select(Owner.name).where(Owner.id == oc.owner_id)).scalar_one()
    return OccupantView(
        oc.id, oc.house_id, oc.owner_id, name, oc.relation, oc.share_bp, oc.move_in_date, oc.move_out_date
    )


def add_occupant_in(
    uow: UnitOfWork,
    house_id: uuid.UUID,
    owner_id: uuid.UUID,
    relation: str,
    *,
    share_bp: int = 0,
    move_in_date: date | None = None,
) -> OccupantView:
    if relation not in RELATIONS:
        raise ValidationError(N_("The relation must be owner, family or tenant."), field="relation")
    if isinstance(share_bp, bool) or not isinstance(share_bp, int) or not 0 <= share_bp <= SHARE_BP_FULL:
        raise ValidationError(N_("A share is between 0 and 100 %."), field="share")
    if relation != "owner" and share_bp:
        raise ValidationError(N_("Only owners hold shares of a house."), field="share")
    if relation == "owner" and not share_bp:
        share_bp = SHARE_BP_FULL
    s = uow.session
    _get(s, House, house_id, "house")
    _get(s, Owner, owner_id, "owner")
    on = move_in_date or today(uow.ctx.clock)
    active = (
        s.execute(
            select(HouseOccupant).where(
                HouseOccupant.house_id == house_id, HouseOccupant.move_out_date.is_(None)
            )
        )
        .scalars()
        .all()
    )
    if any(a.owner_id == owner_id for a in active):
        raise Conflict(N_("This person is already registered at this house."))
    held = sum(a.share_bp for a in active if a.relation == "owner")
    if relation == "owner" and held + share_bp > SHARE_BP_FULL:
        raise ValidationError(
            N_("The owners' shares would add up to more than 100 % ({held} % already held)."),
            field="share",
            held=f"{held / 100:g}",
        )
    oc = HouseOccupant(
        id=new_id(),
        house_id=house_id,
        owner_id=owner_id,
        relation=relation,
        share_bp=share_bp,
        move_in_date=on,
        created_at=uow.now,
    )
    s.add(oc)
    s.flush()
    view = _occupant_view(s, oc)
    payload = {
        "id": str(oc.id),
        "house_id": str(house_id),
        "owner_id": str(owner_id),
        "relation": relation,
        "share_bp": share_bp,
        "move_in_date": on.isoformat(),
    }
    uow.audit("property.move_in", "prop_house_occupant", oc.id, after=payload)
    uow.emit("property.moved_in", payload)
    return view


def add_occupant(
    ctx: Context,
    house_id: uuid.UUID,
    owner_id: uuid.UUID,
    relation: str,
    *,
    share_bp: int = 0,
    move_in_date: date | None = None,
) -> OccupantView:
    """Register an owner (with share), family member or tenant at a house (入住)."""
    with ctx.uow(PERM_MANAGE) as uow:
        return add_occupant_in(
            uow, house_id, owner_id, relation, share_bp=share_bp, move_in_date=move_in_date
        )


def move_out(ctx: Context, occupant_id: uuid.UUID, move_out_date: date | None = None) -> OccupantView:
    """Record a move-out (迁出); the record stays as history."""
    with ctx.uow(PERM_MANAGE) as uow:
        s = uow.session
        oc = _get(s, HouseOccupant, occupant_id, "occupant")
        on = move_out_date or today(ctx.clock)
        if oc.move_out_date is not None:
            raise StateError(N_("This person has already moved out."))
        if on < oc.move_in_date:
            raise ValidationError(N_("The move-out date is before the move-in date."), field="move_out_date")
        done = s.execute(
            update(HouseOccupant)
            .where(HouseOccupant.id == oc.id, HouseOccupant.move_out_date.is_(None))
            .values(move_out_date=on)
            .execution_options(synchronize_session=False)
        )
        if done.rowcount != 1:
            raise StateError(N_("This person has already moved out."))
        s.refresh(oc)
        payload = {"id": str(oc.id), "house_id": str(oc.house_id), "move_out_date": on.isoformat()}
        uow.audit("property.move_out", "prop_house_occupant", oc.id, after=payload)
        uow.emit("property.moved_out", payload)
        return _occupant_view(s, oc)


def occupants(ctx: Context, house_id: uuid.UUID, *, include_history: bool = False) -> list[OccupantView]:
    with ctx.read(PERM_VIEW) as s:
        q = select(HouseOccupant).where(HouseOccupant.house_id == house_id)
        if not include_history:
            q = q.where(HouseOccupant.move_out_date.is_(None))
        rows = s.execute(q.order_by(HouseOccupant.move_in_date, HouseOccupant.id)).scalars().all()
        return [_occupant_view(s, oc) for oc in rows]


def houses_of_owner(ctx: Context, owner_id: uuid.UUID) -> list[HouseView]:
    with ctx.read(PERM_VIEW) as s:
        q = (
            select(House)
            .join(HouseOccupant, HouseOccupant.house_id == House.id)
            .where(HouseOccupant.owner_id == owner_id, HouseOccupant.move_out_date.is_(None))
            .order_by(House.code)
        )
        return [_house_view(h) for h in s.execute(q).scalars()]


def payer_name(s: Session, house_id: uuid.UUID) -> str:
    """The name printed on a receipt: the current owner with the largest share (else any current occupant)."""
    row = s.execute(
        select(Owner.name)
        .join(HouseOccupant, HouseOccupant.owner_id == Owner.id)
        .where(HouseOccupant.house_id == house_id, HouseOccupant.move_out_date.is_(None))
        .order_by(
            (HouseOccupant.relation == "owner").desc(),
            HouseOccupant.share_bp.desc(),
            HouseOccupant.move_in_date,
        )
        .limit(1)
    ).first()
    return row[0] if row else ""


# ---------------------------------------------------------------------------------------------------------
# Facilities


def _facility_view(f: Facility) -> FacilityView:
    return FacilityView(
        f.id,
        f.community_id,
        f.kind,
        f.name,
        f.location,
        f.installed_on,
        f.last_maintained_on,
        f.next_maintenance_on,
    )


def add_facility(
    ctx: Context,
    community_id: uuid.UUID,
    kind: str,
    name: str,
    *,
    location: str = "",
    installed_on: date | None = None,
    next_maintenance_on: date | None = None,
) -> FacilityView:
    """Register equipment (电梯, 消防设备, 路灯, …) with its next maintenance date."""
    kind = text(kind, "kind", 40)
    name = text(name, "name")
    location = text(location, "location", required=False)
    with ctx.uow(PERM_MANAGE) as uow:
        _get(uow.session, Community, community_id, "community")
        f = Facility(
            id=new_id(),
            community_id=community_id,
            kind=kind,
            name=name,
            location=location,
            installed_on=installed_on,
            next_maintenance_on=next_maintenance_on,
            created_at=uow.now,
        )
        uow.session.add(f)
        uow.session.flush()
        view = _facility_view(f)
        uow.audit("property.facility_create", "prop_facility", f.id, after=_public(view))
        uow.emit("property.facility_created", _public(view))
        return view


def record_maintenance(
    ctx: Context, facility_id: uuid.UUID, on: date, next_on: date | None = None
) -> FacilityView:
    """Record that equipment was maintained on `on` and when it is next due."""
    if next_on is not None and next_on <= on:
        raise ValidationError(
            N_("The next maintenance must come after this one."), field="next_maintenance_on"
        )
    with ctx.uow(PERM_MANAGE) as uow:
        f = _get(uow.session, Facility, facility_id, "facility")
        before = _public(_facility_view(f))
        f.last_maintained_on = on
        f.next_maintenance_on = next_on
        uow.session.flush()
        view = _facility_view(f)
        uow.audit("property.facility_maintained", "prop_facility", f.id, before=before, after=_public(view))
        uow.emit("property.facility_maintained", _public(view))
        return view


def facilities_due(ctx: Context, community_id: uuid.UUID, by: date) -> list[FacilityView]:
    """Equipment whose next maintenance falls on or before `by`."""
    with ctx.read(PERM_VIEW) as s:
        q = (
            select(Facility)
            .where(Facility.community_id == community_id, Facility.next_maintenance_on <= by)
            .order_by(Facility.next_maintenance_on)
        )
        return [_facility_view(f) for f in s.execute(q).scalars()]


def count_houses(ctx: Context, community_id: uuid.UUID) -> int:
    with ctx.read(PERM_VIEW) as s:
        return s.execute(
            select(func.count()).select_from(House).where(House.community_id == community_id)
        ).scalar_one()
