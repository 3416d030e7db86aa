"""The counter finds a house by the licence plate of a vehicle registered to its owner, however it is typed."""

from __future__ import annotations

from core.property import counter as svc
from core.property.parking import services as parking


def test_search_by_licence_plate(site):
    ctx, data = site
    house, other = data["houses"][0], data["houses"][1]
    owner = data["owner"]
    parking.register_vehicle(ctx, data["community"].id, owner.id, "京A·12345", house_id=house.id)
    for typed in ("京A12345", "京a 12345", "京Ａ１２３４５"):
        hits = svc.search(ctx, typed)
        assert [(h.house_id, h.matched, h.owner) for h in hits] == [(house.id, "plate", "张三")], typed
    assert svc.search(ctx, "京B99999") == []  # a plate nobody registered
    assert other.id not in {h.house_id for h in svc.search(ctx, "京A12345")}
    # A vehicle removed from the register is no longer found.
    vehicle = parking.list_vehicles(ctx, community_id=data["community"].id)[0]
    parking.remove_vehicle(ctx, vehicle.id)
    assert svc.search(ctx, "京A12345") == []
