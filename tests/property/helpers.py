"""Shared builders for property tests: a small community with buildings, houses and fee items."""

from __future__ import annotations

from datetime import date

from core.context import Actor, Context
from core.ids import new_id
from core.property import billing
from core.property import services as ps


def person(
    ctx: Context, name: str, *roles: str, perms: tuple[str, ...] = ("property.*", "workflow.*")
) -> Context:
    return ctx.as_actor(Actor(user_id=new_id(), username=name, roles=roles, permissions=frozenset(perms)))


def small_community(
    ctx: Context, *, houses: int = 3, start: date = date(2026, 1, 1)
) -> tuple[ps.CommunityView, list[ps.HouseView]]:
    """Community "C1", building 1 unit 1 with `houses` occupied houses of 89.50 m² (inner 70.00 m²) charged from `start`."""
    c = ps.create_community(ctx, "C1", "幸福里小区", address="北京市朝阳区幸福路1号")
    ps.create_building(ctx, c.id, "1", floors=18)
    out = []
    for i in range(houses):
        out.append(
            ps.add_house(
                ctx,
                c.id,
                ps.HouseInput(
                    "1",
                    "1",
                    f"{101 + i}",
                    8950,
                    7000,
                    floor=1,
                    layout="2室1厅",
                    status="occupied",
                    charge_start_on=start,
                ),
            )
        )
    return c, out


def property_fee(ctx: Context, community_id, price: str = "2.50", **kw) -> billing.FeeItemView:
    return billing.create_fee_item(
        ctx, community_id, "WYF", "物业费", "building_area", unit_price=price, **kw
    )
