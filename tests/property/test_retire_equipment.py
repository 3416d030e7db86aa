"""Correcting and retiring parking spaces, access devices and cameras (停用): a retired space is never given out
and leaves the occupancy, a retired device opens nothing and raises no offline alarm; refusals change nothing."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import select

from core.errors import NotFound, PermissionDenied, StateError, ValidationError
from core.property.access import services as acc
from core.property.access.models import AccessDevice, Alarm, Camera
from core.property.parking import services as parking
from core.property.parking.models import ParkingSpace
from tests.property.ops_support import as_person, make_base


@pytest.fixture
def base(ctx):
    return make_base(ctx)


def test_update_and_retire_a_space(ctx, base):
    area = parking.create_area(ctx, base.community_id, "B1", "地下车库", "underground")
    assert parking.area_by_code(ctx, base.community_id, "B1").id == area.id
    with pytest.raises(NotFound):
        parking.area_by_code(ctx, base.community_id, "B9")
    s1, s2 = parking.add_spaces(ctx, area.id, ["001", "002"], kind="fixed", location="A区")
    moved = parking.update_space(ctx, s1.id, location="B区", kind="temporary")
    assert (moved.location, moved.kind, moved.version) == ("B区", "temporary", 2)
    with pytest.raises(ValidationError):
        parking.update_space(ctx, s1.id, location="B区")  # nothing changed
    with pytest.raises(ValidationError):
        parking.update_space(ctx, s1.id, kind="valet")
    # A rented space keeps its kind and cannot be retired.
    parking.rent_space(
        ctx, s2.id, house_id=base.house_ids[0], start_date=date(2026, 11, 1), end_date=date(2027, 10, 31),
        monthly_fee_fen=30000,
    )  # fmt: skip
    with pytest.raises(StateError):
        parking.update_space(ctx, s2.id, kind="temporary")
    with pytest.raises(StateError):
        parking.retire_space(ctx, s2.id, "改建")
    with pytest.raises(ValidationError):
        parking.retire_space(ctx, s1.id, " ")  # a reason is needed
    retired = parking.retire_space(ctx, s1.id, "改为非机动车位")
    assert retired.retired
    # Never given out again, and no longer counted.
    with pytest.raises(StateError):
        parking.set_occupied(ctx, s1.id, True)
    with pytest.raises(StateError):
        parking.retire_space(ctx, s1.id, "again")
    (occ,) = parking.occupancy(ctx, base.community_id)
    assert (occ.spaces, occ.rented, occ.free) == (1, 1, 0)
    viewer = as_person(ctx, "viewer", parking.PERM_VIEW)
    with pytest.raises(PermissionDenied):
        parking.update_space(viewer, s2.id, location="x")
    with ctx.read() as s:
        row = s.get(ParkingSpace, s2.id)
    assert (row.kind, row.retired_at, row.location) == ("fixed", None, "A区")


def test_update_and_retire_a_device(ctx, base, clock):
    gate = acc.add_device(ctx, base.community_id, "G1", "东门", "gate", location="东门")
    door = acc.add_device(
        ctx, base.community_id, "D1", "1号楼单元门", "door", building_id=base.building_ids[0]
    )
    assert acc.device_by_code(ctx, base.community_id, "G1").id == gate.id
    changed = acc.update_device(ctx, door.id, name="1号楼1单元门", building_id=base.building_ids[1])
    assert (changed.name, changed.building_id) == ("1号楼1单元门", base.building_ids[1])
    with pytest.raises(ValidationError):
        acc.update_device(ctx, door.id, name="1号楼1单元门")  # nothing changed
    with pytest.raises(ValidationError):
        acc.update_device(ctx, door.id, name="")
    acc.issue_credential(
        ctx, owner_id=base.owner_ids[0], house_id=base.house_ids[0], kind="card", identifier="C0001",
        device_ids=[gate.id],
    )  # fmt: skip
    acc.heartbeat(ctx, base.community_id, "G1")
    assert acc.may_open(ctx, base.community_id, "card", "C0001", "G1")
    acc.retire_device(ctx, gate.id, "东门封闭")
    assert not acc.may_open(ctx, base.community_id, "card", "C0001", "G1")
    with pytest.raises(StateError):
        acc.heartbeat(ctx, base.community_id, "G1")
    with pytest.raises(StateError):
        acc.update_device(ctx, gate.id, name="新东门")
    clock.advance(minutes=30)
    acc.sweep_offline(ctx)  # the retired gate raises no alarm
    with ctx.read() as s:
        alarms = s.execute(select(Alarm.description)).scalars().all()
        row = s.get(AccessDevice, gate.id)
    assert not any("G1" in a for a in alarms)
    assert row.retired_at is not None and row.online is False


def test_update_and_retire_a_camera(ctx, base, clock):
    cam_id = acc.add_camera(
        ctx, base.community_id, "CAM1", "东门摄像头", location="东门", stream_url="rtsp://10.0.0.5/1",
        recorder="NVR1", retention_days=30,
    )  # fmt: skip
    view = acc.update_camera(ctx, cam_id, retention_days=90, stream_url="rtsp://user:secret@10.0.0.6/1")
    assert (view.retention_days, view.retired) == (90, False)
    with pytest.raises(ValidationError):
        acc.update_camera(ctx, cam_id, stream_url="ftp://10.0.0.6/1")
    with pytest.raises(ValidationError):
        acc.update_camera(ctx, cam_id, retention_days=0)
    acc.retire_camera(ctx, cam_id, "拆除")
    with pytest.raises(StateError):
        acc.update_camera(ctx, cam_id, name="x")
    # Its recordings stay reachable for their retention.
    now = clock.now()
    ref = acc.playback(ctx, cam_id, now - timedelta(hours=2), now - timedelta(hours=1))
    assert ref.url.startswith("rtsp://user:secret@10.0.0.6/1")
    with ctx.read() as s:
        row = s.get(Camera, cam_id)
    assert (row.retention_days, row.retired_at is not None) == (90, True)
