"""Parking: plates, temporary-parking fees (worked examples and properties), spaces, rentals for the bill runs,
entry/exit with fees, live occupancy."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from core.clock import BUSINESS_TZ
from core.errors import Conflict, NotFound, PermissionDenied, StateError, ValidationError
from core.property.parking import rules
from core.property.parking import services as ps
from tests.property.ops_support import as_person, make_base

# 15 free minutes; 5.00 yuan for the first hour, 2.00 per further 30 minutes; at most 30.00 a day.
RULE = rules.FeeRule(
    free_minutes=15, first_minutes=60, first_fen=500, step_minutes=30, step_fen=200, daily_cap_fen=3000
)


@pytest.mark.parametrize(
    ("minutes", "fen"),
    [
        (0, 0),
        (15, 0),  # within free minutes
        (16, 500),  # charged from the start
        (60, 500),
        (61, 700),  # a started half hour counts
        (90, 700),
        (91, 900),
        (60 + 30 * 12, 2900),
        (60 + 30 * 13, 3000),  # capped
        (1440, 3000),
        (1441, 3500),  # second day starts afresh: 30.00 + 5.00
        (1440 * 2 + 100, 3000 * 2 + 500 + 400),
    ],
)
def test_fee_worked_examples(minutes, fen):
    assert rules.fee_for_minutes(RULE, minutes) == fen


def test_fee_of_a_stay_counts_started_minutes():
    t0 = datetime(2026, 11, 25, 8, 0, tzinfo=BUSINESS_TZ)
    assert rules.fee_for_stay(RULE, t0, t0 + timedelta(minutes=15, seconds=1)) == 500


rule_st = st.builds(
    rules.FeeRule,
    free_minutes=st.integers(0, 120),
    first_minutes=st.integers(1, 240),
    first_fen=st.integers(0, 2000),
    step_minutes=st.integers(1, 120),
    step_fen=st.integers(0, 1000),
    daily_cap_fen=st.one_of(st.none(), st.integers(0, 10000)),
)


@given(rule_st, st.integers(0, 1440 * 5), st.integers(0, 1440 * 2))
def test_fee_is_monotone_in_duration(rule, minutes, more):
    assert rules.fee_for_minutes(rule, minutes) <= rules.fee_for_minutes(rule, minutes + more)


@given(rule_st.filter(lambda r: r.daily_cap_fen is not None), st.integers(1, 1440 * 7))
def test_fee_never_above_days_times_cap(rule, minutes):
    days = -(-minutes // 1440)
    assert 0 <= rules.fee_for_minutes(rule, minutes) <= days * rule.daily_cap_fen


@pytest.mark.parametrize(
    ("text", "number", "kind"),
    [
        ("京A12345", "京A12345", "fuel"),
        ("粤b·8888学", "粤B8888学", "fuel"),
        ("沪AD12345", "沪AD12345", "new_energy"),
        ("苏E F1234 ", "苏EF1234", "fuel"),  # 7 characters: an ordinary plate
        ("浙AD1B234", None, None),
        ("京AD12345", "京AD12345", "new_energy"),
        ("粤B12345D", "粤B12345D", "new_energy"),
        ("京AI2345", None, None),  # I is never used
        ("ＡＢ12345", None, None),
        ("京A1234", None, None),
    ],
)
def test_plates(text, number, kind):
    if number is None:
        with pytest.raises(ValidationError):
            rules.parse_plate(text)
    else:
        assert rules.parse_plate(text) == rules.Plate(number, kind)


def test_bad_rules_are_refused():
    with pytest.raises(ValidationError):
        rules.FeeRule(0, 0, 100, 30, 100)
    with pytest.raises(ValidationError):
        rules.FeeRule(-1, 60, 100, 30, 100)
    with pytest.raises(ValidationError):
        rules.FeeRule(0, 60, 100, 30, 100, daily_cap_fen=-5)


@pytest.fixture
def lot(ctx):
    base = make_base(ctx)
    area = ps.create_area(ctx, base.community_id, "B1", "地下一层", "underground")
    fixed = ps.add_spaces(ctx, area.id, ["B1-001", "B1-002", "B1-003"], kind="fixed")
    temp = ps.add_spaces(ctx, area.id, ["T-01", "T-02"], kind="temporary")
    return base, area, fixed, temp


def test_spaces_assignment_and_state_machine(ctx, lot):
    base, area, fixed, temp = lot
    with pytest.raises(Conflict):
        ps.add_spaces(ctx, area.id, ["B1-004", "B1-001"], kind="fixed")
    assert (
        len(ps.occupancy(ctx, base.community_id)) == 1 and ps.occupancy(ctx, base.community_id)[0].spaces == 5
    )
    sold = ps.assign_space(ctx, fixed[0].id, base.house_ids[0], base.owner_ids[0])
    assert (sold.status, sold.house_id) == ("sold", base.house_ids[0])
    with pytest.raises(StateError):
        ps.assign_space(ctx, fixed[0].id, base.house_ids[1])
    with pytest.raises(StateError):
        ps.assign_space(ctx, temp[0].id, base.house_ids[1])  # temporary spaces are not sold
    with pytest.raises(StateError):
        ps.set_occupied(ctx, fixed[0].id, False)
    assert ps.release_space(ctx, fixed[0].id, "业主转让").status == "free"
    assert ps.set_occupied(ctx, temp[0].id, True).status == "occupied"
    assert ps.set_occupied(ctx, temp[0].id, False).status == "free"


def test_rentals_are_billable_by_period(ctx, lot):
    base, _area, fixed, _ = lot
    r1 = ps.rent_space(
        ctx,
        fixed[1].id,
        house_id=base.house_ids[1],
        start_date=date(2026, 11, 10),
        end_date=date(2027, 11, 9),
        monthly_fee_fen=30000,
        owner_id=base.owner_ids[1],
    )
    with pytest.raises(StateError):
        ps.rent_space(
            ctx,
            fixed[1].id,
            house_id=base.house_ids[2],
            start_date=date(2026, 12, 1),
            end_date=date(2027, 1, 1),
            monthly_fee_fen=30000,
        )
    r2 = ps.rent_space(
        ctx,
        fixed[2].id,
        house_id=base.house_ids[2],
        start_date=date(2026, 10, 1),
        end_date=date(2027, 3, 31),
        monthly_fee_fen=25000,
    )
    with ctx.read() as s:
        nov = ps.billable_rentals(s, base.community_id, "2026-11")
    assert {(c.contract_id, c.house_id, c.start, c.end, c.monthly_fee_fen) for c in nov} == {
        (r1.id, base.house_ids[1], date(2026, 11, 10), date(2026, 11, 30), 30000),
        (r2.id, base.house_ids[2], date(2026, 11, 1), date(2026, 11, 30), 25000),
    }
    ended = ps.terminate_rental(ctx, r2.id, date(2026, 12, 15), "退租")
    assert ended.status == "terminated"
    with ctx.read() as s:
        dec = {c.contract_id: (c.start, c.end) for c in ps.billable_rentals(s, base.community_id, "2026-12")}
        jan = {c.contract_id for c in ps.billable_rentals(s, base.community_id, "2027-01")}
        with pytest.raises(ValidationError):
            ps.billable_rentals(s, base.community_id, "2026-13")
    assert dec[r2.id] == (date(2026, 12, 1), date(2026, 12, 15))
    assert jan == {r1.id}
    assert ps.occupancy(ctx, base.community_id)[0].rented == 1
    with pytest.raises(StateError):
        ps.terminate_rental(ctx, r2.id, date(2026, 12, 20), "again")


def test_entry_exit_fees_and_occupancy(ctx, lot, clock):
    base, area, fixed, _ = lot
    ps.set_fee_rule(ctx, base.community_id, RULE)
    ps.register_vehicle(ctx, base.community_id, base.owner_ids[0], "京A12345", house_id=base.house_ids[0])
    with pytest.raises(Conflict):
        ps.register_vehicle(ctx, base.community_id, base.owner_ids[1], "京a 12345")
    ps.assign_space(ctx, fixed[0].id, base.house_ids[0])
    ps.vehicle_enter(ctx, area.id, "京A12345")
    ps.vehicle_enter(ctx, area.id, "粤B12345D")
    with pytest.raises(Conflict):
        ps.vehicle_enter(ctx, area.id, "粤B12345D")
    occ = ps.occupancy(ctx, base.community_id)[0]
    assert (occ.vehicles_inside, occ.temporary_free) == (2, 1)  # only the visitor takes a temporary space
    clock.advance(minutes=95)
    owner_exit = ps.vehicle_exit(ctx, area.id, "京A12345")
    visitor = ps.vehicle_exit(ctx, area.id, "粤B12345D")
    assert (owner_exit.fee_fen, owner_exit.fee_note) == (0, "space_holder")
    assert (visitor.minutes, visitor.fee_fen) == (95, 900)
    with pytest.raises(NotFound):
        ps.vehicle_exit(ctx, area.id, "粤B12345D")
    stats = ps.usage_statistics(ctx, base.community_id, start=date(2026, 11, 25), end=date(2026, 11, 25))
    assert (stats.entries, stats.exits, stats.temporary_fee_fen, stats.avg_stay_minutes) == (2, 2, 900, 95)


def test_permissions_and_bad_input(ctx, lot):
    base, area, fixed, _ = lot
    viewer = as_person(ctx, "v", "property.parking.view")
    with pytest.raises(PermissionDenied):
        ps.rent_space(
            viewer,
            fixed[0].id,
            house_id=base.house_ids[0],
            start_date=date(2026, 12, 1),
            end_date=date(2027, 1, 1),
            monthly_fee_fen=100,
        )
    with pytest.raises(ValidationError):
        ps.rent_space(
            ctx,
            fixed[0].id,
            house_id=base.house_ids[0],
            start_date=date(2027, 1, 1),
            end_date=date(2026, 12, 1),
            monthly_fee_fen=100,
        )
    with pytest.raises(ValidationError):
        ps.vehicle_exit(ctx, area.id, "not a plate")
    assert ps.list_rentals(ctx, community_id=base.community_id) == []
    assert ps.occupancy(viewer, base.community_id)[0].free == 5
