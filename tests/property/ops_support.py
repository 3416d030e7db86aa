"""Base data for the property-operations tests, written straight to the tables (independent of the base
services' API): one community, two buildings, four houses, an owner living in each."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date

from core.context import Actor, Context
from core.ids import new_id
from core.property.models import Building, Community, House, HouseOccupant, Owner


@dataclass
class Base:
    community_id: uuid.UUID
    building_ids: list[uuid.UUID]
    house_ids: list[uuid.UUID]
    owner_ids: list[uuid.UUID]


def as_person(ctx: Context, name: str, *perms: str) -> Context:
    return ctx.as_actor(
        Actor(user_id=new_id(), username=name, roles=("staff",), permissions=frozenset(perms))
    )


def make_base(ctx: Context, *, phones: bool = True) -> Base:
    with ctx.uow() as uow:
        s, now = uow.session, uow.now
        c = Community(
            id=new_id(),
            code="C1",
            name="幸福里小区",
            address="幸福路1号",
            area_dm2=0,
            household_count=4,
            property_company="安居物业",
            created_at=now,
        )
        s.add(c)
        s.flush()
        buildings = [
            Building(
                id=new_id(), community_id=c.id, number=str(n), name=f"{n}号楼", floors=18, created_at=now
            )
            for n in (1, 2)
        ]
        s.add_all(buildings)
        s.flush()
        houses, owners = [], []
        for i in range(4):
            b = buildings[i // 2]
            h = House(
                id=new_id(),
                community_id=c.id,
                building_id=b.id,
                unit_id=None,
                number=f"{101 + i}",
                code=f"{b.number}-1-{101 + i}",
                floor=1,
                building_area_dm2=8950,
                inner_area_dm2=7000,
                layout="2室1厅",
                use="住宅",
                status="occupied",
                created_at=now,
            )
            o = Owner(
                id=new_id(),
                kind="individual",
                name=f"业主{i + 1}",
                created_at=now,
                phone_enc=ctx.pii.encrypt(f"1380013800{i}") if phones else None,
            )
            s.add_all([h, o])
            s.flush()
            s.add(
                HouseOccupant(
                    id=new_id(),
                    house_id=h.id,
                    owner_id=o.id,
                    relation="owner",
                    share_bp=10000,
                    move_in_date=date(2020, 1, 1),
                    move_out_date=None,
                    created_at=now,
                )
            )
            houses.append(h.id)
            owners.append(o.id)
        return Base(c.id, [b.id for b in buildings], houses, owners)
