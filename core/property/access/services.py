"""Access control and security: devices with heartbeats, credentials (card, face) with building/device grants and
validity, revocation on move-out, access records imported from device CSV exports and searched, cameras with
playback references, and alarms (received → acknowledged → dispatched → closed, with the response time).
"""

from __future__ import annotations

import csv
import io
import uuid
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import and_, or_, select, update
from sqlalchemy.orm import Session

from core.clock import BUSINESS_TZ, business_date
from core.context import Context
from core.db.bulk import binder, insert_rows
from core.errors import Conflict, NotFound, StateError, ValidationError
from core.i18n import N_
from core.ids import new_id, new_ids
from core.property.access.models import (
    ALARM_KINDS,
    CREDENTIAL_KINDS,
    DEVICE_KINDS,
    DIRECTIONS,
    METHODS,
    AccessCredential,
    AccessDevice,
    AccessGrant,
    AccessRecord,
    Alarm,
    Camera,
)
from core.property.models import Building, Community, House, HouseOccupant, Owner
from core.property.ops import services as ops
from core.uow import UnitOfWork

PERM_VIEW = "property.access.view"
PERM_MANAGE = "property.access.manage"
PERM_IMPORT = "property.access.import"
PERM_ALARMS = "property.access.alarms"
OBJ_ALARM = "prop_alarm"
OBJ_CREDENTIAL = "prop_access_credential"
EVENT_ALARM = "property.alarm_changed"
EVENT_CREDENTIAL = "property.access_credential_changed"
IMPORT_ROWS_MAX = 200_000
IMPORT_ERRORS_MAX = 1000
SEARCH_LIMIT_MAX = 1000
HEARTBEAT_STALE_MINUTES = 5
_KEEP = object()
CSV_COLUMNS = ("time", "device", "person", "direction", "method", "card")

ALARM_MACHINE = ops.Machine(
    object_type=OBJ_ALARM,
    transitions={
        "acknowledge": (frozenset({"received"}), "acknowledged"),
        "dispatch": (frozenset({"acknowledged"}), "dispatched"),
        "close": (frozenset({"acknowledged", "dispatched"}), "closed"),
    },
    terminal=frozenset({"closed"}),
    event_type=EVENT_ALARM,
)


@dataclass(frozen=True)
class DeviceView:
    id: uuid.UUID
    code: str
    name: str
    kind: str
    building_id: uuid.UUID | None
    location: str
    online: bool
    last_heartbeat_at: datetime | None
    retired: bool = False


@dataclass(frozen=True)
class CameraView:
    id: uuid.UUID
    code: str
    name: str
    location: str
    recorder: str
    channel: int
    retention_days: int
    retired: bool


@dataclass(frozen=True)
class CredentialView:
    id: uuid.UUID
    owner_id: uuid.UUID
    house_id: uuid.UUID
    kind: str
    identifier: str
    valid_from: date
    valid_until: date | None
    status: str
    building_ids: list[uuid.UUID]
    device_ids: list[uuid.UUID]


@dataclass(frozen=True)
class ImportError_:
    row: int
    column: str
    message: str


@dataclass(frozen=True)
class ImportReport:
    imported: int
    duplicates: int
    rejected: int
    errors: list[ImportError_] = field(default_factory=list)


@dataclass(frozen=True)
class RecordView:
    at: datetime
    device_code: str
    person: str
    owner_id: uuid.UUID | None
    direction: str
    method: str


@dataclass(frozen=True)
class PlaybackRef:
    camera_code: str
    recorder: str
    channel: int
    start: datetime
    end: datetime
    url: str


@dataclass(frozen=True)
class AlarmView:
    id: uuid.UUID
    kind: str
    location: str
    status: str
    version: int
    raised_at: datetime
    acknowledged_at: datetime | None
    dispatched_to: str | None
    closed_at: datetime | None
    response_seconds: int | None
    resolution: str | None


def _device_view(d: AccessDevice) -> DeviceView:
    return DeviceView(
        d.id, d.code, d.name, d.kind, d.building_id, d.location, d.online, d.last_heartbeat_at,
        d.retired_at is not None,
    )  # fmt: skip


def _camera_view(c: Camera) -> CameraView:
    return CameraView(
        c.id, c.code, c.name, c.location, c.recorder, c.channel, c.retention_days, c.retired_at is not None
    )


def _alarm_view(a: Alarm) -> AlarmView:
    return AlarmView(
        a.id,
        a.kind,
        a.location,
        a.status,
        a.version,
        a.raised_at,
        a.acknowledged_at,
        a.dispatched_to,
        a.closed_at,
        a.response_seconds,
        a.resolution,
    )


# --- devices ---------------------------------------------------------------------------------------------


def add_device(
    ctx: Context,
    community_id: uuid.UUID,
    code: str,
    name: str,
    kind: str,
    *,
    building_id: uuid.UUID | None = None,
    location: str = "",
) -> DeviceView:
    code = ops.text(code, "code", 40)
    name = ops.text(name, "name", 100)
    kind = ops.choice(kind, "kind", DEVICE_KINDS)
    location = ops.text(location, "location", 200, required=False) or ""
    with ctx.uow(PERM_MANAGE) as uow:
        s = uow.session
        community = ops.get_or_404(s, Community, community_id, "Community")
        if (
            building_id is not None
            and ops.get_or_404(s, Building, building_id, "Building").community_id != community.id
        ):
            raise ValidationError(N_("The building is not in this community."), field="building_id")
        if s.execute(
            select(AccessDevice.id).where(
                AccessDevice.community_id == community.id, AccessDevice.code == code
            )
        ).first():
            raise Conflict(N_("Device {device} already exists."), device=code)
        d = AccessDevice(
            id=new_id(),
            community_id=community.id,
            code=code,
            name=name,
            kind=kind,
            building_id=None if building_id is None else ops.as_uuid(building_id, "Building"),
            location=location,
            online=False,
            last_heartbeat_at=None,
            created_at=uow.now,
        )
        s.add(d)
        s.flush()
        view = _device_view(d)
        uow.audit("property.access_device_add", "prop_access_device", d.id, after=view.__dict__)
        uow.emit("property.access_device_changed", view.__dict__)
        return view


def device_by_code(ctx: Context, community_id: uuid.UUID, code: str) -> DeviceView:
    with ctx.read(PERM_VIEW) as s:
        d = s.execute(
            select(AccessDevice).where(
                AccessDevice.community_id == community_id, AccessDevice.code == code.strip()
            )
        ).scalar_one_or_none()
        if d is None:
            raise NotFound(N_("There is no device {device} in this community."), device=code.strip())
        return _device_view(d)


def update_device(
    ctx: Context,
    device_id: uuid.UUID,
    *,
    name: str | None = None,
    location: str | None = None,
    building_id: uuid.UUID | object | None = _KEEP,
) -> DeviceView:
    """Correct a device's name, location or building (the building's residents' cards open it)."""
    name = None if name is None else ops.text(name, "name", 100)
    location = None if location is None else (ops.text(location, "location", 200, required=False) or "")
    with ctx.uow(PERM_MANAGE) as uow:
        s = uow.session
        d = ops.get_or_404(s, AccessDevice, device_id, "Device")
        if d.retired_at is not None:
            raise StateError(N_("Device {device} is retired."), device=d.code)
        before = {"name": d.name, "location": d.location, "building_id": d.building_id}
        if building_id is not _KEEP and building_id is not None:
            if ops.get_or_404(s, Building, building_id, "Building").community_id != d.community_id:
                raise ValidationError(N_("The building is not in this community."), field="building_id")
            d.building_id = ops.as_uuid(building_id, "Building")
        elif building_id is None:
            d.building_id = None
        d.name = d.name if name is None else name
        d.location = d.location if location is None else location
        after = {"name": d.name, "location": d.location, "building_id": d.building_id}
        if after == before:
            raise ValidationError(N_("Nothing was changed."), field="name")
        s.flush()
        view = _device_view(d)
        uow.audit("property.access_device_update", "prop_access_device", d.id, before=before, after=after)
        uow.emit("property.access_device_changed", view.__dict__)
        return view


def retire_device(ctx: Context, device_id: uuid.UUID, reason: str) -> DeviceView:
    """停用 a device taken down: it keeps its access records, opens nothing and raises no offline alarm."""
    reason = ops.text(reason, "reason")
    with ctx.uow(PERM_MANAGE) as uow:
        d = ops.get_or_404(uow.session, AccessDevice, device_id, "Device")
        if d.retired_at is not None:
            raise StateError(N_("Device {device} is retired."), device=d.code)
        d.retired_at, d.online = uow.now, False
        uow.session.flush()
        view = _device_view(d)
        uow.audit(
            "property.access_device_retire",
            "prop_access_device",
            d.id,
            before={"retired": False},
            after={"retired": True, "reason": reason},
        )
        uow.emit("property.access_device_changed", {**view.__dict__, "reason": reason})
        return view


def heartbeat(ctx: Context, community_id: uuid.UUID, device_code: str) -> DeviceView:
    """A device says it is alive (no audit record: heartbeats are not business events)."""
    with ctx.uow(PERM_IMPORT) as uow:
        d = uow.session.execute(
            select(AccessDevice).where(
                AccessDevice.community_id == community_id, AccessDevice.code == device_code
            )
        ).scalar_one_or_none()
        if d is None:
            raise ValidationError(N_("Unknown device {device}."), field="device", device=str(device_code))
        if d.retired_at is not None:
            raise StateError(N_("Device {device} is retired."), device=d.code)
        d.online, d.last_heartbeat_at = True, uow.now
        uow.session.flush()
        return _device_view(d)


def sweep_offline(ctx: Context, *, stale_minutes: int = HEARTBEAT_STALE_MINUTES) -> list[DeviceView]:
    """Mark devices silent for longer than `stale_minutes` offline, raising a device-offline alarm for each."""
    stale_minutes = ops.whole(stale_minutes, "stale_minutes", minimum=1, maximum=24 * 60)
    with ctx.uow(PERM_ALARMS) as uow:
        cutoff = uow.now - timedelta(minutes=stale_minutes)
        gone = (
            uow.session.execute(
                select(AccessDevice).where(
                    AccessDevice.online,
                    AccessDevice.retired_at.is_(None),
                    or_(AccessDevice.last_heartbeat_at.is_(None), AccessDevice.last_heartbeat_at < cutoff),
                )
            )
            .scalars()
            .all()
        )
        for d in gone:
            d.online = False
            _raise(
                uow,
                d.community_id,
                "device_offline",
                location=d.location or d.name,
                device_id=d.id,
                description=f"{d.code} {d.name}",
            )
        uow.session.flush()
        return [_device_view(d) for d in gone]


# --- credentials -----------------------------------------------------------------------------------------


def _lives_there(session: Session, owner_id: uuid.UUID, house_id: uuid.UUID, on: date) -> bool:
    return (
        session.execute(
            select(HouseOccupant.id).where(
                HouseOccupant.owner_id == owner_id,
                HouseOccupant.house_id == house_id,
                HouseOccupant.move_in_date <= on,
                or_(HouseOccupant.move_out_date.is_(None), HouseOccupant.move_out_date > on),
            )
        ).first()
        is not None
    )


def _grants(session: Session, credential_id: uuid.UUID) -> tuple[list[uuid.UUID], list[uuid.UUID]]:
    rows = session.execute(
        select(AccessGrant.building_id, AccessGrant.device_id).where(
            AccessGrant.credential_id == credential_id
        )
    ).all()
    return [b for b, _ in rows if b is not None], [d for _, d in rows if d is not None]


def _credential_view(session: Session, c: AccessCredential) -> CredentialView:
    buildings, devices = _grants(session, c.id)
    return CredentialView(
        c.id,
        c.owner_id,
        c.house_id,
        c.kind,
        c.identifier,
        c.valid_from,
        c.valid_until,
        c.status,
        buildings,
        devices,
    )


def issue_credential(
    ctx: Context,
    *,
    owner_id: uuid.UUID,
    house_id: uuid.UUID,
    kind: str,
    identifier: str,
    valid_from: date | None = None,
    valid_until: date | None = None,
    building_ids: list[uuid.UUID] | None = None,
    device_ids: list[uuid.UUID] | None = None,
) -> CredentialView:
    """Issue a card or enrol a face for a resident of the house, opening the given buildings' devices and the
    given devices (community gates). Without any grant the credential opens the house's own building."""
    kind = ops.choice(kind, "kind", CREDENTIAL_KINDS)
    identifier = ops.text(identifier, "identifier", 80)
    with ctx.uow(PERM_MANAGE) as uow:
        s = uow.session
        house = ops.get_or_404(s, House, house_id, "House")
        owner = ops.get_or_404(s, Owner, owner_id, "Owner")
        today = business_date(uow.now)
        valid_from = valid_from or today
        if valid_until is not None and valid_until < valid_from:
            raise ValidationError(N_("The credential expires before it becomes valid."), field="valid_until")
        if not _lives_there(s, owner.id, house.id, today):
            raise ValidationError(N_("This person does not live in the house."), field="owner_id")
        b_ids = [ops.as_uuid(b, "Building") for b in (building_ids or ())]
        d_ids = [ops.as_uuid(d, "Device") for d in (device_ids or ())]
        if not b_ids and not d_ids:
            b_ids = [house.building_id]
        for b in b_ids:
            if ops.get_or_404(s, Building, b, "Building").community_id != house.community_id:
                raise ValidationError(N_("The building is not in this community."), field="building_ids")
        for d in d_ids:
            if ops.get_or_404(s, AccessDevice, d, "Device").community_id != house.community_id:
                raise ValidationError(N_("The device is not in this community."), field="device_ids")
        if s.execute(
            select(AccessCredential.id).where(
                AccessCredential.community_id == house.community_id,
                AccessCredential.kind == kind,
                AccessCredential.identifier == identifier,
                AccessCredential.status == "active",
            )
        ).first():
            raise Conflict(N_("This card or face is already issued to someone."), field="identifier")
        c = AccessCredential(
            id=new_id(),
            community_id=house.community_id,
            owner_id=owner.id,
            house_id=house.id,
            kind=kind,
            identifier=identifier,
            valid_from=valid_from,
            valid_until=valid_until,
            status="active",
            version=1,
            issued_at=uow.now,
        )
        s.add(c)
        s.flush()
        s.add_all(
            [AccessGrant(id=new_id(), credential_id=c.id, building_id=b) for b in dict.fromkeys(b_ids)]
            + [AccessGrant(id=new_id(), credential_id=c.id, device_id=d) for d in dict.fromkeys(d_ids)]
        )
        s.flush()
        view = _credential_view(s, c)
        uow.audit("property.access_credential_issue", OBJ_CREDENTIAL, c.id, after=view.__dict__)
        uow.emit(EVENT_CREDENTIAL, {**view.__dict__, "action": "issue", "community_id": c.community_id})
        return view


def _revoke(uow: UnitOfWork, c: AccessCredential, reason: str) -> bool:
    result = uow.session.execute(
        update(AccessCredential)
        .where(AccessCredential.id == c.id, AccessCredential.status == "active")
        .values(status="revoked", revoked_at=uow.now, revoke_reason=reason[:200], version=c.version + 1)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:
        return False
    uow.session.refresh(c)
    ops.record_change(uow, OBJ_CREDENTIAL, c.id, "revoke", "active", "revoked", reason=reason)
    uow.audit(
        "property.access_credential_revoke",
        OBJ_CREDENTIAL,
        c.id,
        before={"status": "active"},
        after={"status": "revoked", "reason": reason},
    )
    uow.emit(
        EVENT_CREDENTIAL,
        {
            "id": c.id,
            "action": "revoke",
            "status": "revoked",
            "reason": reason,
            "identifier": c.identifier,
            "kind": c.kind,
            "at": uow.now,
        },
    )
    return True


def revoke_credential(ctx: Context, credential_id: uuid.UUID, reason: str) -> CredentialView:
    """Revoke (lost card, …). Revoking a revoked credential changes nothing."""
    reason = ops.text(reason, "reason", 200)
    with ctx.uow(PERM_MANAGE) as uow:
        c = ops.get_or_404(uow.session, AccessCredential, credential_id, "Credential")
        _revoke(uow, c, reason)
        return _credential_view(uow.session, c)


def revoke_for_occupant(uow: UnitOfWork, owner_id: uuid.UUID, house_id: uuid.UUID) -> int:
    """Revoke every active credential the person holds for the house (the move-out service calls this inside its
    own transaction). Returns how many were revoked."""
    rows = (
        uow.session.execute(
            select(AccessCredential).where(
                AccessCredential.owner_id == owner_id,
                AccessCredential.house_id == house_id,
                AccessCredential.status == "active",
            )
        )
        .scalars()
        .all()
    )
    return sum(_revoke(uow, c, "move_out") for c in rows)


def may_open(ctx: Context, community_id: uuid.UUID, kind: str, identifier: str, device_code: str) -> bool:
    """Would this card/face open this device now? (What the devices are told, and what an auditor checks.)"""
    with ctx.read(PERM_VIEW) as s:
        today = business_date(ctx.clock.now())
        d = s.execute(
            select(AccessDevice).where(
                AccessDevice.community_id == community_id, AccessDevice.code == device_code
            )
        ).scalar_one_or_none()
        if d is None or d.retired_at is not None:
            return False
        grant = or_(
            AccessGrant.device_id == d.id,
            and_(AccessGrant.building_id.is_not(None), AccessGrant.building_id == d.building_id),
        )
        hit = s.execute(
            select(AccessCredential.id)
            .join(AccessGrant, AccessGrant.credential_id == AccessCredential.id)
            .where(
                AccessCredential.community_id == community_id,
                AccessCredential.kind == kind,
                AccessCredential.identifier == identifier,
                AccessCredential.status == "active",
                AccessCredential.valid_from <= today,
                or_(AccessCredential.valid_until.is_(None), AccessCredential.valid_until >= today),
                grant,
            )
        ).first()
        return hit is not None


def list_credentials(
    ctx: Context, *, house_id: uuid.UUID, include_revoked: bool = False
) -> list[CredentialView]:
    with ctx.read(PERM_VIEW) as s:
        q = (
            select(AccessCredential)
            .where(AccessCredential.house_id == house_id)
            .order_by(AccessCredential.issued_at)
        )
        if not include_revoked:
            q = q.where(AccessCredential.status == "active")
        return [_credential_view(s, c) for c in s.execute(q).scalars()]


# --- access records --------------------------------------------------------------------------------------


def _parse_time(text: str) -> datetime:
    """ISO time from a device; without an offset it is the community's local time (Asia/Shanghai)."""
    value = datetime.fromisoformat(text.strip().replace("/", "-"))
    return value.replace(tzinfo=BUSINESS_TZ) if value.tzinfo is None else value


def import_records(
    ctx: Context, community_id: uuid.UUID, data: str | bytes, *, good_rows_only: bool = True
) -> ImportReport:
    """Import a device's CSV export (header: time,device,person,direction,method[,card]).

    Rows already imported are skipped (a re-import duplicates nothing). Bad rows are reported by row and column;
    the good ones are imported unless `good_rows_only` is False, in which case a file with errors imports nothing.
    """
    if isinstance(data, bytes):
        data = data.decode("utf-8-sig")
    reader = csv.DictReader(io.StringIO(data))
    header = [h.strip().lower() for h in (reader.fieldnames or [])]
    missing = [c for c in CSV_COLUMNS[:5] if c not in header]
    if missing:
        raise ValidationError(
            N_("The file lacks the columns: {columns}."), field="file", columns=", ".join(missing)
        )
    reader.fieldnames = header
    errors: list[ImportError_] = []
    parsed: list[tuple] = []
    with ctx.uow(PERM_IMPORT) as uow:
        s = uow.session
        community = ops.get_or_404(s, Community, community_id, "Community")
        devices = dict(
            s.execute(
                select(AccessDevice.code, AccessDevice.id).where(AccessDevice.community_id == community.id)
            ).all()
        )
        cards = {
            ident: (cid, oid)
            for ident, cid, oid in s.execute(
                select(AccessCredential.identifier, AccessCredential.id, AccessCredential.owner_id).where(
                    AccessCredential.community_id == community.id, AccessCredential.kind == "card"
                )
            )
        }
        seen: set[tuple] = set()
        for n, raw in enumerate(reader, start=2):  # row 1 is the header
            if n - 1 > IMPORT_ROWS_MAX:
                raise ValidationError(N_("A file has at most {max} rows."), field="file", max=IMPORT_ROWS_MAX)
            row = {k: (v or "").strip() for k, v in raw.items() if k}

            def bad(column: str, message: str, n: int = n) -> None:
                if len(errors) < IMPORT_ERRORS_MAX:
                    errors.append(ImportError_(n, column, message))

            try:
                at = _parse_time(row.get("time", ""))
            except ValueError:
                bad("time", N_("Not a date and time."))
                continue
            if at > uow.now + timedelta(minutes=5):
                bad("time", N_("The time is in the future."))
                continue
            device_id = devices.get(row.get("device", ""))
            if device_id is None:
                bad("device", N_("Unknown device."))
                continue
            person = row.get("person", "")[:100]
            if not person:
                bad("person", N_("Who passed is missing."))
                continue
            direction, method = row.get("direction", "").lower(), row.get("method", "").lower()
            if direction not in DIRECTIONS:
                bad("direction", N_("Direction must be in or out."))
                continue
            if method not in METHODS:
                bad("method", N_("Unknown opening method."))
                continue
            cred, owner = cards.get(row.get("card", ""), (None, None))
            key = (device_id, at, person, direction)
            if key in seen:
                continue
            seen.add(key)
            parsed.append((device_id, at, person, owner, cred, direction, method))
        if errors and not good_rows_only:
            return ImportReport(0, 0, len(errors), errors)
        existing: set[tuple] = set()
        if parsed:
            lo, hi = min(p[1] for p in parsed), max(p[1] for p in parsed)
            existing = {
                (d, a, p, dr)
                for d, a, p, dr in s.execute(
                    select(
                        AccessRecord.device_id, AccessRecord.at, AccessRecord.person, AccessRecord.direction
                    ).where(
                        AccessRecord.community_id == community.id,
                        AccessRecord.at >= lo,
                        AccessRecord.at <= hi,
                    )
                )
            }
        fresh = [p for p in parsed if (p[0], p[1], p[2], p[5]) not in existing]
        table = AccessRecord.__table__
        cols = (
            "id",
            "community_id",
            "device_id",
            "at",
            "person",
            "owner_id",
            "credential_id",
            "direction",
            "method",
        )
        b = {c: binder(s, table.c[c]) for c in cols}
        ids = new_ids(len(fresh))
        insert_rows(
            s,
            table,
            cols,
            [
                (
                    b["id"](i),
                    b["community_id"](community.id),
                    b["device_id"](d),
                    b["at"](a),
                    p,
                    b["owner_id"](o),
                    b["credential_id"](c),
                    dr,
                    m,
                )
                for i, (d, a, p, o, c, dr, m) in zip(ids, fresh, strict=True)
            ],
        )
        report = ImportReport(len(fresh), len(parsed) - len(fresh), len(errors), errors)
        uow.audit(
            "property.access_records_import",
            "prop_community",
            community.id,
            after={"imported": report.imported, "duplicates": report.duplicates, "rejected": report.rejected},
        )
        return report


def search_records(
    ctx: Context,
    community_id: uuid.UUID,
    *,
    start: datetime,
    end: datetime,
    person: str | None = None,
    owner_id: uuid.UUID | None = None,
    device_code: str | None = None,
    direction: str | None = None,
    limit: int = 200,
    offset: int = 0,
) -> list[RecordView]:
    """Access records in [start, end), newest first; filters combine (each served by an index)."""
    ops.aware(start, "start")
    ops.aware(end, "end")
    limit = ops.whole(limit, "limit", minimum=1, maximum=SEARCH_LIMIT_MAX)
    offset = ops.whole(offset, "offset", maximum=10**9)
    with ctx.read(PERM_VIEW) as s:
        q = (
            select(AccessRecord, AccessDevice.code)
            .join(AccessDevice, AccessDevice.id == AccessRecord.device_id)
            .where(AccessRecord.community_id == community_id, AccessRecord.at >= start, AccessRecord.at < end)
            .order_by(AccessRecord.at.desc(), AccessRecord.id.desc())
            .limit(limit)
            .offset(offset)
        )
        if person:
            q = q.where(AccessRecord.person == person)
        if owner_id is not None:
            q = q.where(AccessRecord.owner_id == owner_id)
        if device_code:
            q = q.where(AccessDevice.code == device_code)
        if direction:
            q = q.where(AccessRecord.direction == ops.choice(direction, "direction", DIRECTIONS))
        return [
            RecordView(r.at, code, r.person, r.owner_id, r.direction, r.method) for r, code in s.execute(q)
        ]


# --- cameras ---------------------------------------------------------------------------------------------


def add_camera(
    ctx: Context,
    community_id: uuid.UUID,
    code: str,
    name: str,
    *,
    location: str,
    stream_url: str,
    recorder: str,
    channel: int = 0,
    retention_days: int = 30,
) -> uuid.UUID:
    code, name = ops.text(code, "code", 40), ops.text(name, "name", 100)
    location = ops.text(location, "location", 200)
    stream_url = _check_stream_url(stream_url)
    recorder = ops.text(recorder, "recorder", 100)
    channel = ops.whole(channel, "channel", maximum=1024)
    retention_days = ops.whole(retention_days, "retention_days", minimum=1, maximum=3650)
    with ctx.uow(PERM_MANAGE) as uow:
        community = ops.get_or_404(uow.session, Community, community_id, "Community")
        if uow.session.execute(
            select(Camera.id).where(Camera.community_id == community.id, Camera.code == code)
        ).first():
            raise Conflict(N_("Camera {camera} already exists."), camera=code)
        cam = Camera(
            id=new_id(),
            community_id=community.id,
            code=code,
            name=name,
            location=location,
            stream_url=stream_url,
            recorder=recorder,
            channel=channel,
            retention_days=retention_days,
            created_at=uow.now,
        )
        uow.session.add(cam)
        uow.session.flush()
        after = {"code": code, "location": location, "recorder": recorder, "retention_days": retention_days}
        uow.audit("property.camera_add", "prop_camera", cam.id, after=after)
        uow.emit("property.camera_changed", {"id": cam.id, **after})
        return cam.id


def _check_stream_url(stream_url: str) -> str:
    stream_url = ops.text(stream_url, "stream_url", 400)
    if not stream_url.startswith(("rtsp://", "rtmp://", "http://", "https://")):
        raise ValidationError(
            N_("The stream address must start with rtsp://, rtmp://, http:// or https://."),
            field="stream_url",
        )
    return stream_url


def update_camera(
    ctx: Context,
    camera_id: uuid.UUID,
    *,
    name: str | None = None,
    location: str | None = None,
    stream_url: str | None = None,
    recorder: str | None = None,
    channel: int | None = None,
    retention_days: int | None = None,
) -> CameraView:
    """Correct a camera's name, place, stream, recorder, channel or how long its video is kept."""
    changes = {
        "name": None if name is None else ops.text(name, "name", 100),
        "location": None if location is None else ops.text(location, "location", 200),
        "stream_url": None if stream_url is None else _check_stream_url(stream_url),
        "recorder": None if recorder is None else ops.text(recorder, "recorder", 100),
        "channel": None if channel is None else ops.whole(channel, "channel", maximum=1024),
        "retention_days": (
            None
            if retention_days is None
            else ops.whole(retention_days, "retention_days", minimum=1, maximum=3650)
        ),
    }
    with ctx.uow(PERM_MANAGE) as uow:
        cam = ops.get_or_404(uow.session, Camera, camera_id, "Camera")
        if cam.retired_at is not None:
            raise StateError(N_("Camera {camera} is retired."), camera=cam.code)
        before = {k: getattr(cam, k) for k in changes}
        for key, value in changes.items():
            if value is not None:
                setattr(cam, key, value)
        after = {k: getattr(cam, k) for k in changes}
        if after == before:
            raise ValidationError(N_("Nothing was changed."), field="name")
        uow.session.flush()
        # The stream URL may carry the recorder's password: the audit and the event say only that it changed.
        hidden = {"stream_url": "changed" if after["stream_url"] != before["stream_url"] else "same"}
        uow.audit(
            "property.camera_update",
            "prop_camera",
            cam.id,
            before={**before, "stream_url": None},
            after={**after, **hidden},
        )
        uow.emit("property.camera_changed", {"id": cam.id, **after, **hidden})
        return _camera_view(cam)


def retire_camera(ctx: Context, camera_id: uuid.UUID, reason: str) -> CameraView:
    """停用 a camera taken down; its recordings stay reachable for their retention."""
    reason = ops.text(reason, "reason")
    with ctx.uow(PERM_MANAGE) as uow:
        cam = ops.get_or_404(uow.session, Camera, camera_id, "Camera")
        if cam.retired_at is not None:
            raise StateError(N_("Camera {camera} is retired."), camera=cam.code)
        cam.retired_at = uow.now
        uow.session.flush()
        uow.audit(
            "property.camera_retire",
            "prop_camera",
            cam.id,
            before={"retired": False},
            after={"retired": True, "reason": reason},
        )
        uow.emit("property.camera_changed", {"id": cam.id, "retired": True, "reason": reason})
        return _camera_view(cam)


def playback(ctx: Context, camera_id: uuid.UUID, start: datetime, end: datetime) -> PlaybackRef:
    """A reference to recorded video of [start, end]: refused beyond the recorder's retention or in the future."""
    ops.aware(start, "start")
    ops.aware(end, "end")
    if end <= start:
        raise ValidationError(N_("The period ends before it starts."), field="end")
    if end - start > timedelta(hours=24):
        raise ValidationError(N_("Play back at most 24 hours at a time."), field="end")
    now = ctx.clock.now()
    with ctx.read(PERM_VIEW) as s:
        cam = ops.get_or_404(s, Camera, camera_id, "Camera")
        if start < now - timedelta(days=cam.retention_days):
            raise ValidationError(
                N_("The recorder keeps only {days} days of video."), field="start", days=cam.retention_days
            )
        if end > now:
            raise ValidationError(N_("That time has not been recorded yet."), field="end")
        fmt = "%Y%m%dT%H%M%SZ"
        t0, t1 = start.astimezone(UTC).strftime(fmt), end.astimezone(UTC).strftime(fmt)
        url = f"{cam.stream_url}?playback=1&channel={cam.channel}&start={t0}&end={t1}"
        return PlaybackRef(cam.code, cam.recorder, cam.channel, start, end, url)


# --- alarms ----------------------------------------------------------------------------------------------


def _raise(
    uow: UnitOfWork,
    community_id: uuid.UUID,
    kind: str,
    *,
    location: str,
    device_id=None,
    camera_id=None,
    description: str = "",
    raised_at: datetime | None = None,
) -> Alarm:
    a = Alarm(
        id=new_id(),
        community_id=community_id,
        kind=kind,
        device_id=device_id,
        camera_id=camera_id,
        location=location,
        description=description,
        status="received",
        version=1,
        raised_at=raised_at or uow.now,
    )
    uow.session.add(a)
    uow.session.flush()
    ops.record_change(uow, OBJ_ALARM, a.id, "receive", None, "received")
    uow.audit("prop_alarm.receive", OBJ_ALARM, a.id, after={"kind": kind, "location": location})
    uow.emit(
        EVENT_ALARM,
        {
            "id": a.id,
            "action": "receive",
            "status": "received",
            "kind": kind,
            "community_id": community_id,
            "location": location,
            "raised_at": a.raised_at,
        },
    )
    return a


def receive_alarm(
    ctx: Context,
    community_id: uuid.UUID,
    kind: str,
    *,
    location: str,
    description: str = "",
    device_id: uuid.UUID | None = None,
    camera_id: uuid.UUID | None = None,
    raised_at: datetime | None = None,
) -> AlarmView:
    """An alarm arrives from a sensor, camera or device."""
    kind = ops.choice(kind, "kind", ALARM_KINDS)
    location = ops.text(location, "location", 200)
    description = ops.text(description, "description", required=False) or ""
    if raised_at is not None:
        ops.aware(raised_at, "raised_at")
    with ctx.uow(PERM_ALARMS) as uow:
        community = ops.get_or_404(uow.session, Community, community_id, "Community")
        if raised_at is not None and raised_at > uow.now:
            raise ValidationError(N_("The time is in the future."), field="raised_at")
        return _alarm_view(
            _raise(
                uow,
                community.id,
                kind,
                location=location,
                device_id=device_id,
                camera_id=camera_id,
                description=description,
                raised_at=raised_at,
            )
        )


def _alarm_move(ctx, alarm_id, action, *, reason=None, values=None) -> AlarmView:
    with ctx.uow(PERM_ALARMS) as uow:
        a = ops.get_or_404(uow.session, Alarm, alarm_id, "Alarm")
        ops.transition(
            uow,
            ALARM_MACHINE,
            a,
            action,
            reason=reason,
            values=values(uow, a) if callable(values) else values,
            payload={"kind": a.kind},
        )
        return _alarm_view(a)


def acknowledge_alarm(ctx: Context, alarm_id: uuid.UUID) -> AlarmView:
    """The control room saw it: the response time runs from raising to this moment."""
    me = ctx.actor.username
    return _alarm_move(
        ctx,
        alarm_id,
        "acknowledge",
        values=lambda uow, a: {
            "acknowledged_at": uow.now,
            "acknowledged_by": me,
            "response_seconds": max(0, int((uow.now - a.raised_at).total_seconds())),
        },
    )


def dispatch_alarm(ctx: Context, alarm_id: uuid.UUID, to: str) -> AlarmView:
    to = ops.text(to, "to", 80)
    return _alarm_move(ctx, alarm_id, "dispatch", reason=to, values={"dispatched_to": to})


def close_alarm(ctx: Context, alarm_id: uuid.UUID, resolution: str) -> AlarmView:
    """Closed with what was found (a false alarm too)."""
    resolution = ops.text(resolution, "resolution")
    return _alarm_move(
        ctx,
        alarm_id,
        "close",
        reason=resolution,
        values=lambda uow, a: {"closed_at": uow.now, "resolution": resolution},
    )


def open_alarms(ctx: Context, community_id: uuid.UUID) -> list[AlarmView]:
    with ctx.read(PERM_VIEW) as s:
        rows = s.execute(
            select(Alarm)
            .where(Alarm.community_id == community_id, Alarm.status != "closed")
            .order_by(Alarm.raised_at, Alarm.id)
        ).scalars()
        return [_alarm_view(a) for a in rows]
