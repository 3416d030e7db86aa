"""Access control and security: devices, credentials and grants, move-out revocation, CSV import and search,
camera playback references, alarms with their response time."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import func, select

from core.errors import Conflict, PermissionDenied, StateError, ValidationError
from core.property.access import services as acc
from core.property.access.models import AccessRecord
from tests.property.ops_support import as_person, make_base


@pytest.fixture
def site(ctx):
    base = make_base(ctx)
    gate = acc.add_device(ctx, base.community_id, "G1", "东门", "gate", location="东门")
    door1 = acc.add_device(
        ctx, base.community_id, "D1", "1号楼单元门", "door", building_id=base.building_ids[0]
    )
    door2 = acc.add_device(
        ctx, base.community_id, "D2", "2号楼单元门", "door", building_id=base.building_ids[1]
    )
    return base, gate, door1, door2


def test_credentials_grants_validity_and_move_out(ctx, site, clock):
    base, gate, _door1, _door2 = site
    card = acc.issue_credential(
        ctx,
        owner_id=base.owner_ids[0],
        house_id=base.house_ids[0],
        kind="card",
        identifier="CARD-0001",
        device_ids=[gate.id],
        building_ids=[base.building_ids[0]],
        valid_until=date(2026, 12, 31),
    )
    face = acc.issue_credential(
        ctx, owner_id=base.owner_ids[0], house_id=base.house_ids[0], kind="face", identifier="FACE-abc"
    )
    assert face.building_ids == [base.building_ids[0]]  # default: the house's own building
    cid = base.community_id
    assert acc.may_open(ctx, cid, "card", "CARD-0001", "G1")
    assert acc.may_open(ctx, cid, "card", "CARD-0001", "D1")
    assert not acc.may_open(ctx, cid, "card", "CARD-0001", "D2")
    assert not acc.may_open(ctx, cid, "face", "FACE-abc", "G1")
    with pytest.raises(Conflict):
        acc.issue_credential(
            ctx, owner_id=base.owner_ids[1], house_id=base.house_ids[1], kind="card", identifier="CARD-0001"
        )
    with pytest.raises(ValidationError):  # owner 2 does not live in house 1
        acc.issue_credential(
            ctx, owner_id=base.owner_ids[1], house_id=base.house_ids[0], kind="card", identifier="CARD-0002"
        )
    clock.set(datetime(2027, 1, 2, 2, 0, tzinfo=UTC))
    assert not acc.may_open(ctx, cid, "card", "CARD-0001", "G1")  # expired
    assert acc.may_open(ctx, cid, "face", "FACE-abc", "D1")
    with ctx.uow() as uow:
        assert acc.revoke_for_occupant(uow, base.owner_ids[0], base.house_ids[0]) == 2
    with ctx.uow() as uow:
        assert acc.revoke_for_occupant(uow, base.owner_ids[0], base.house_ids[0]) == 0
    assert not acc.may_open(ctx, cid, "face", "FACE-abc", "D1")
    assert acc.list_credentials(ctx, house_id=base.house_ids[0]) == []
    assert card.id in {
        c.id for c in acc.list_credentials(ctx, house_id=base.house_ids[0], include_revoked=True)
    }


CSV = """time,device,person,direction,method,card
2026-11-24 08:01:02,G1,业主1,in,card,CARD-0001
2026-11-24 08:05:00,D1,业主1,in,face,
2026-11-24 09:00:00,G9,访客,in,qr,
bad time,G1,x,in,card,
2026-11-24 10:00:00,G1,业主2,sideways,card,
2026-11-24 10:30:00,G1,,out,card,
2026-11-24 18:00:00,G1,业主1,out,card,CARD-0001
"""


def test_import_records_report_and_search(ctx, site):
    base, *_ = site
    acc.issue_credential(
        ctx, owner_id=base.owner_ids[0], house_id=base.house_ids[0], kind="card", identifier="CARD-0001"
    )
    strict = acc.import_records(ctx, base.community_id, CSV, good_rows_only=False)
    assert (strict.imported, strict.rejected) == (0, 4)
    with ctx.read() as s:
        assert s.execute(select(func.count()).select_from(AccessRecord)).scalar_one() == 0
    report = acc.import_records(ctx, base.community_id, CSV)
    assert (report.imported, report.duplicates, report.rejected) == (3, 0, 4)
    assert [(e.row, e.column) for e in report.errors] == [
        (4, "device"),
        (5, "time"),
        (6, "direction"),
        (7, "person"),
    ]
    again = acc.import_records(ctx, base.community_id, CSV.encode("utf-8-sig"))
    assert (again.imported, again.duplicates) == (0, 3)
    day = (datetime(2026, 11, 24, tzinfo=UTC) - timedelta(hours=8), datetime(2026, 11, 25, tzinfo=UTC))
    found = acc.search_records(ctx, base.community_id, start=day[0], end=day[1], owner_id=base.owner_ids[0])
    assert [(r.device_code, r.direction) for r in found] == [("G1", "out"), ("G1", "in")]
    assert len(acc.search_records(ctx, base.community_id, start=day[0], end=day[1], device_code="D1")) == 1
    with pytest.raises(ValidationError):
        acc.import_records(ctx, base.community_id, "when,who\n1,2\n")


def test_cameras_playback_within_retention(ctx, site, clock):
    base, *_ = site
    cam = acc.add_camera(
        ctx,
        base.community_id,
        "CAM1",
        "东门",
        location="东门岗亭",
        stream_url="rtsp://10.0.0.5/stream1",
        recorder="NVR-1",
        channel=3,
        retention_days=30,
    )
    now = clock.now()
    ref = acc.playback(ctx, cam, now - timedelta(hours=2), now - timedelta(hours=1))
    assert ref.url.startswith("rtsp://10.0.0.5/stream1?playback=1&channel=3&start=")
    with pytest.raises(ValidationError):
        acc.playback(ctx, cam, now - timedelta(days=31), now - timedelta(days=31) + timedelta(hours=1))
    with pytest.raises(ValidationError):
        acc.playback(ctx, cam, now - timedelta(minutes=5), now + timedelta(minutes=5))
    with pytest.raises(ValidationError):
        acc.add_camera(
            ctx,
            base.community_id,
            "CAM2",
            "x",
            location="x",
            stream_url="file:///etc/passwd",
            recorder="NVR-1",
        )


def test_alarm_lifecycle_and_refusals(ctx, site, clock):
    base, *_ = site
    alarm = acc.receive_alarm(ctx, base.community_id, "intrusion", location="北围墙")
    with pytest.raises(StateError):
        acc.dispatch_alarm(ctx, alarm.id, "保安张三")  # acknowledge first
    with pytest.raises(StateError):
        acc.close_alarm(ctx, alarm.id, "误报")
    clock.advance(seconds=95)
    assert acc.acknowledge_alarm(ctx, alarm.id).response_seconds == 95
    with pytest.raises(StateError):
        acc.acknowledge_alarm(ctx, alarm.id)
    acc.dispatch_alarm(ctx, alarm.id, "保安张三")
    closed = acc.close_alarm(ctx, alarm.id, "野猫触发，已复位")
    assert closed.status == "closed"
    for call in (lambda: acc.close_alarm(ctx, alarm.id, "x"), lambda: acc.acknowledge_alarm(ctx, alarm.id)):
        with pytest.raises(StateError):
            call()
    assert acc.open_alarms(ctx, base.community_id) == []


def test_offline_devices_raise_alarms(ctx, site, clock):
    base, _gate, *_ = site
    acc.heartbeat(ctx, base.community_id, "G1")
    acc.heartbeat(ctx, base.community_id, "D1")
    clock.advance(minutes=3)
    acc.heartbeat(ctx, base.community_id, "D1")
    clock.advance(minutes=3)
    gone = acc.sweep_offline(ctx)
    assert [d.code for d in gone] == ["G1"]
    assert [a.kind for a in acc.open_alarms(ctx, base.community_id)] == ["device_offline"]
    assert acc.sweep_offline(ctx) == []


def test_permissions(ctx, site):
    base, *_ = site
    guard = as_person(ctx, "guard", "property.access.view")
    with pytest.raises(PermissionDenied):
        acc.receive_alarm(guard, base.community_id, "fire", location="3号楼")
    with pytest.raises(PermissionDenied):
        acc.import_records(guard, base.community_id, CSV)
