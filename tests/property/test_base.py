"""Base data: communities, buildings, houses and their status machine, owners with encrypted personal data,
occupants with shares and move-in/out history, facilities."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select

from core.errors import Conflict, NotFound, PermissionDenied, StateError, ValidationError
from core.property import services as ps
from core.property.models import House, Owner
from tests.property.helpers import person, small_community

ID_NO = "11010519491231002X"


def test_house_codes_search_and_validation(ctx):
    c, houses = small_community(ctx)
    assert [h.code for h in houses] == ["1-1-101", "1-1-102", "1-1-103"]
    assert ps.find_house(ctx, "1-1-102").id == houses[1].id
    assert [h.code for h in ps.search_houses(ctx, c.id, code_prefix="1-1-10")] == [
        "1-1-101",
        "1-1-102",
        "1-1-103",
    ]
    assert ps.search_houses(ctx, c.id, code_prefix="1-1-%") == []  # no wildcard through the input
    with pytest.raises(NotFound):
        ps.find_house(ctx, "9-9-999")
    with pytest.raises(Conflict):
        ps.add_house(ctx, c.id, ps.HouseInput("1", "1", "101", 8950, 7000))
    for bad in (
        ps.HouseInput("1", "1", "201", 0, 0),
        ps.HouseInput("1", "1", "201", 8950, 9000),  # inner > building
        ps.HouseInput("1", "1", "2-01", 8950, 7000),
        ps.HouseInput("1", "1", "201", 8950, 7000, status="sold"),
    ):
        with pytest.raises(ValidationError):
            ps.add_house(ctx, c.id, bad)
    with pytest.raises(NotFound):
        ps.add_house(ctx, c.id, ps.HouseInput("7", "1", "201", 8950, 7000))
    assert ps.count_houses(ctx, c.id) == 3


def test_parse_area():
    assert ps.parse_area_m2("89.5", "a") == 8950
    assert ps.parse_area_m2("89.50", "a") == 8950
    assert ps.parse_area_m2(120, "a") == 12000
    for bad in ("0", "-3", "1.234", "abc", ""):
        with pytest.raises(ValidationError):
            ps.parse_area_m2(bad, "a")


def test_house_status_transitions_allowed_and_refused(ctx):
    c, _ = small_community(ctx, houses=0)
    h = ps.add_house(ctx, c.id, ps.HouseInput("1", "1", "501", 8950, 7000))
    assert h.status == "unsold"
    assert ps.change_house_status(ctx, h.id, "vacant", "交房").status == "vacant"
    assert ps.change_house_status(ctx, h.id, "renovating").status == "renovating"
    assert ps.change_house_status(ctx, h.id, "occupied").status == "occupied"
    with pytest.raises(StateError):
        ps.change_house_status(ctx, h.id, "unsold")  # never back to unsold
    with pytest.raises(StateError):
        ps.change_house_status(ctx, h.id, "occupied")  # not a move
    with pytest.raises(ValidationError):
        ps.change_house_status(ctx, h.id, "demolished")
    assert ps.get_house(ctx, h.id).status == "occupied"


def test_owner_pii_encrypted_masked_and_searchable(ctx):
    o = ps.create_owner(ctx, ps.OwnerInput("张三", id_number=ID_NO.lower(), phone="+86 138-1234-5678"))
    assert (o.id_number, o.phone) == (ID_NO, "13812345678")  # the system actor may reveal
    clerk = person(ctx, "zhao", "property", perms=("property.*",))
    seen = ps.get_owner(clerk, o.id)
    assert (seen.id_number, seen.phone) == ("110105********002X", "138****5678")
    with ctx.read() as s:
        row = s.get(Owner, o.id)
        assert ID_NO.encode() not in row.id_number_enc and row.id_number_bidx
    assert [x.id for x in ps.search_owners(clerk, id_number=ID_NO)] == [o.id]
    assert [x.id for x in ps.search_owners(clerk, phone="13812345678")] == [o.id]
    assert [x.id for x in ps.search_owners(clerk, name="张三")] == [o.id]
    assert ps.search_owners(clerk, phone="13900000000") == []
    with pytest.raises(Conflict):
        ps.create_owner(ctx, ps.OwnerInput("张三丰", id_number=ID_NO))
    with pytest.raises(ValidationError):
        ps.create_owner(ctx, ps.OwnerInput("李四", id_number="110105194912310021"))  # bad check character
    with pytest.raises(ValidationError):
        ps.create_owner(ctx, ps.OwnerInput("李四", phone="12345"))
    with pytest.raises(ValidationError):
        ps.create_owner(ctx, ps.OwnerInput("某公司", kind="company", uscc="91350100M000100Y4X"))


def test_company_owner_with_uscc(ctx):
    from core.validate import make_uscc

    code = make_uscc("91350100M000100Y4")
    o = ps.create_owner(ctx, ps.OwnerInput("安居物业有限公司", kind="company", uscc=code))
    assert o.uscc == code and o.id_number is None
    with pytest.raises(ValidationError):
        ps.create_owner(ctx, ps.OwnerInput("王五", uscc=code))  # a person has no USCC


def test_occupants_shares_and_move_history(ctx):
    _c, (h, h2, _) = small_community(ctx)
    a = ps.create_owner(ctx, ps.OwnerInput("张三", id_number=ID_NO))
    b = ps.create_owner(ctx, ps.OwnerInput("李梅"))
    t = ps.create_owner(ctx, ps.OwnerInput("王租"))
    ps.add_occupant(ctx, h.id, a.id, "owner", share_bp=6000, move_in_date=date(2026, 1, 1))
    ps.add_occupant(ctx, h.id, b.id, "owner", share_bp=4000, move_in_date=date(2026, 1, 1))
    with pytest.raises(ValidationError):
        ps.add_occupant(ctx, h.id, t.id, "owner", share_bp=100)  # over 100 %
    with pytest.raises(ValidationError):
        ps.add_occupant(ctx, h.id, t.id, "tenant", share_bp=100)  # tenants hold no share
    with pytest.raises(Conflict):
        ps.add_occupant(ctx, h.id, a.id, "family")
    ten = ps.add_occupant(ctx, h.id, t.id, "tenant", move_in_date=date(2026, 3, 1))
    ps.add_occupant(ctx, h2.id, a.id, "owner")  # one owner, several houses
    assert {x.code for x in ps.houses_of_owner(ctx, a.id)} == {"1-1-101", "1-1-102"}
    with pytest.raises(ValidationError):
        ps.move_out(ctx, ten.id, date(2026, 2, 1))
    ps.move_out(ctx, ten.id, date(2026, 10, 31))
    with pytest.raises(StateError):
        ps.move_out(ctx, ten.id, date(2026, 11, 1))
    assert [o.owner_name for o in ps.occupants(ctx, h.id)] == ["张三", "李梅"]
    history = ps.occupants(ctx, h.id, include_history=True)
    assert [(o.owner_name, o.move_out_date) for o in history][-1] == ("王租", date(2026, 10, 31))


def test_facilities_and_maintenance(ctx):
    c, _ = small_community(ctx, houses=0)
    f = ps.add_facility(
        ctx, c.id, "电梯", "1号楼1单元电梯", location="1-1", next_maintenance_on=date(2026, 12, 1)
    )
    assert [x.id for x in ps.facilities_due(ctx, c.id, date(2026, 12, 31))] == [f.id]
    ps.record_maintenance(ctx, f.id, date(2026, 12, 1), date(2027, 3, 1))
    assert ps.facilities_due(ctx, c.id, date(2026, 12, 31)) == []
    with pytest.raises(ValidationError):
        ps.record_maintenance(ctx, f.id, date(2027, 3, 1), date(2027, 1, 1))


def test_permissions_and_bad_input_write_nothing(ctx):
    viewer = person(ctx, "audit", "auditor", perms=("*.view",))
    with pytest.raises(PermissionDenied):
        ps.create_community(viewer, "C9", "x")
    with pytest.raises(ValidationError):
        ps.create_community(ctx, "C 9", "x")
    with pytest.raises(ValidationError):
        ps.create_community(ctx, "C9", "")
    assert ps.list_communities(ctx) == []
    c = ps.create_community(ctx, "C9", "九号院")
    with pytest.raises(Conflict):
        ps.create_community(ctx, "C9", "again")
    with ctx.read() as s:
        assert s.execute(select(House)).first() is None
    assert ps.community_by_code(ctx, "C9").id == c.id
