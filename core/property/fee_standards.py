"""Fee items' charging standards over time (收费标准调整): the checks a standard must pass, changing it from a chosen
billing period on, retiring an item, and the standard a bill run for a period uses.

A change never rewrites an issued bill: it takes effect from a period no bill of the item has been issued for, and
the bill runs of that period and later use it (a standard billed by spans — a quarter in advance — changes with
the first span that starts from then on). A change of cycle or billing mode must fall where both the old and
the new cycles begin, so no month is charged twice or left out. Retiring is a change to "inactive": bill runs
from that period on leave the item out, and it can no longer be charged once.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from core.clock import today
from core.context import Context
from core.errors import StateError, ValidationError
from core.i18n import N_
from core.ids import new_id
from core.property import rules
from core.property.models import (
    BILLING_MODES,
    FEE_CYCLES,
    FEE_RULES,
    METER_KINDS,
    ROUNDINGS,
    BillLine,
    FeeItem,
    FeeItemVersion,
)
from core.property.services import PERM_MANAGE, PERM_VIEW, _get, text

BASE_PERIOD = "0000-01"  # the version in force "from the start": the standard the first change replaced
PAYMENT_FEN_MAX = 10**11  # as billing.PAYMENT_FEN_MAX: an amount beyond 10 亿 yuan is a typo
REASON_MAX = 400
_PERIODIC_RULES = ("fixed", "building_area", "inner_area")
_ONCE_RULES = ("one_off", "deposit", "usage")
# The fields of a standard that a change may set (code, rule, meter kind and late-fee terms stay the item's own).
STANDARD_FIELDS = (
    "name", "cycle", "billing_mode", "unit_price", "amount_fen", "tiers", "tier_scope", "rounding", "prorate",
    "due_days", "active",
)  # fmt: skip


@dataclass(frozen=True)
class Standard:
    """A checked charging standard, in the form the tables store it (prices Decimal text, tiers JSON)."""

    name: str
    cycle: str
    billing_mode: str
    unit_price: str
    amount_fen: int
    tiers: list | None
    tier_scope: str
    rounding: str
    prorate: bool
    due_days: int
    active: bool = True


def check_standard(
    rule: str,
    meter_kind: str | None,
    *,
    name: str,
    cycle: str,
    billing_mode: str,
    unit_price: str | Decimal,
    amount_fen: int,
    tiers: list[dict] | None,
    tier_scope: str,
    rounding: str,
    prorate: bool,
    due_days: int,
    active: bool = True,
) -> Standard:
    """The standard of an item charged by `rule`, checked by the rules a new item's standard must pass."""
    name = text(name, "name", 100)
    if rule not in FEE_RULES:
        raise ValidationError(N_("Unknown charging rule {rule}."), field="rule", rule=str(rule))
    if cycle not in FEE_CYCLES or billing_mode not in BILLING_MODES or rounding not in ROUNDINGS:
        raise ValidationError(N_("Unknown cycle, billing mode or rounding."), field="cycle")
    if rule in _ONCE_RULES and cycle != "once":
        raise ValidationError(
            N_("One-off, deposit and usage items are charged once, not in cycles."), field="cycle"
        )
    if rule in _PERIODIC_RULES and cycle == "once":
        raise ValidationError(N_("Fixed and area items need a cycle (monthly, quarterly, …)."), field="cycle")
    if rule == "meter" and (meter_kind not in METER_KINDS or cycle != "monthly"):
        raise ValidationError(
            N_("A meter item needs a meter kind (water, electricity, gas) and a monthly cycle."),
            field="meter_kind",
        )
    if tier_scope not in ("month", "year"):
        raise ValidationError(N_("Tiers count per month or per year."), field="tier_scope")
    price = rules.decimal(unit_price, "unit_price")
    parsed_tiers = rules.parse_tiers(tiers)
    if tiers and rule != "meter":
        raise ValidationError(N_("Only meter items have tiered prices."), field="tiers")
    if (
        isinstance(amount_fen, bool)
        or not isinstance(amount_fen, int)
        or not 0 <= amount_fen <= PAYMENT_FEN_MAX
    ):
        raise ValidationError(N_("The amount must be 0 or more."), field="amount_fen")
    if rule in ("building_area", "inner_area") and price <= 0:
        raise ValidationError(N_("An area item needs a unit price above 0."), field="unit_price")
    if rule in ("fixed", "deposit") and amount_fen <= 0:
        raise ValidationError(N_("A fixed or deposit item needs an amount above 0."), field="amount_fen")
    if isinstance(due_days, bool) or not isinstance(due_days, int) or not 0 <= due_days <= 366:
        raise ValidationError(N_("Due days and grace days are 0 to 366."), field="due_days")
    return Standard(
        name=name,
        cycle=cycle,
        billing_mode=billing_mode,
        unit_price=str(price),
        amount_fen=amount_fen,
        tiers=[
            {"up_to": None if t.up_to is None else str(t.up_to), "price": str(t.price)} for t in parsed_tiers
        ]
        or None,
        tier_scope=tier_scope,
        rounding=rounding,
        prorate=bool(prorate),
        due_days=due_days,
        active=bool(active),
    )


def cycle_change_fits(old_cycle: str, new_cycle: str, period: rules.Period) -> bool:
    """Whether a standard billed by `old_cycle` may give way to one billed by `new_cycle` from `period`: both
    cycles must begin in that month, so the old spans end before it and the new ones start with it."""
    return all(c == "once" or (period.month - 1) % rules.CYCLE_MONTHS[c] == 0 for c in (old_cycle, new_cycle))


# ---------------------------------------------------------------------------------------------------------
# The standard in force


def _standard_of(row: FeeItem | FeeItemVersion) -> Standard:
    return Standard(**{f: getattr(row, f) for f in STANDARD_FIELDS})


def _with_standard(item: FeeItem, std: Standard) -> FeeItem:
    """A detached copy of `item` carrying `std` (never added to a session: the bill run only reads it)."""
    values = {c.key: getattr(item, c.key) for c in FeeItem.__table__.columns}
    values.update(vars(std))
    return FeeItem(**values)


def _versions_at(s: Session, item_ids: list[uuid.UUID], period: str) -> dict[uuid.UUID, FeeItemVersion]:
    """The version in force at `period` of each item that has versions."""
    if not item_ids:
        return {}
    rows = s.execute(
        select(FeeItemVersion)
        .where(FeeItemVersion.fee_item_id.in_(item_ids), FeeItemVersion.effective_from <= period)
        .order_by(FeeItemVersion.effective_from)
    ).scalars()
    return {v.fee_item_id: v for v in rows}  # the latest effective_from wins


def items_in_force(s: Session, community_id: uuid.UUID, period: str) -> list[FeeItem]:
    """The community's fee items a bill run for `period` charges, each with the standard in force then (by code)."""
    items = (
        s.execute(select(FeeItem).where(FeeItem.community_id == community_id).order_by(FeeItem.code))
        .scalars()
        .all()
    )
    versions = _versions_at(s, [i.id for i in items], period)
    out = []
    for item in items:
        version = versions.get(item.id)
        if version is not None:
            item = _with_standard(item, _standard_of(version))
        if item.active:
            out.append(item)
    return out


def billable_standard(s: Session, item: FeeItem, period: str) -> FeeItem:
    """`item` with its standard in force at `period`; StateError when it is retired then (a one-off charge)."""
    version = _versions_at(s, [item.id], period).get(item.id)
    found = item if version is None else _with_standard(item, _standard_of(version))
    if not found.active:
        raise StateError(N_("Fee item {item} is retired for {period}."), item=item.code, period=period)
    return found


def _last_billed(s: Session, item_id: uuid.UUID) -> str | None:
    return s.execute(select(func.max(BillLine.period)).where(BillLine.fee_item_id == item_id)).scalar()


# ---------------------------------------------------------------------------------------------------------
# Changing a standard


@dataclass(frozen=True)
class VersionView:
    effective_from: str  # BASE_PERIOD: from the start
    standard: Standard
    reason: str
    created_by: str


@dataclass(frozen=True)
class EditStart:
    """What a change of an item starts from: its latest standard and the first period a change may take."""

    id: uuid.UUID
    code: str
    rule: str
    standard: Standard
    first_period: str


def edit_start(ctx: Context, item_id: uuid.UUID) -> EditStart:
    """The item's latest standard, and the earliest period a change may take effect from: after its last billed
    period, and not before the current month (a clerk changing a price means from now on)."""
    current = rules.period_of(today(ctx.clock))
    with ctx.read(PERM_VIEW) as s:
        item = _get(s, FeeItem, item_id, "fee item")
        last = _last_billed(s, item.id)
        after_last = rules.Period.parse(last).add(1) if last else current
        return EditStart(item.id, item.code, item.rule, _standard_of(item), str(max(current, after_last)))


def history(ctx: Context, item_id: uuid.UUID) -> list[VersionView]:
    """The item's standards, newest first; an item never changed has one, from the start."""
    with ctx.read(PERM_VIEW) as s:
        item = _get(s, FeeItem, item_id, "fee item")
        rows = (
            s.execute(
                select(FeeItemVersion)
                .where(FeeItemVersion.fee_item_id == item.id)
                .order_by(FeeItemVersion.effective_from.desc())
            )
            .scalars()
            .all()
        )
        if not rows:
            return [VersionView(BASE_PERIOD, _standard_of(item), "", "")]
        return [VersionView(v.effective_from, _standard_of(v), v.reason, v.created_by) for v in rows]


_KEEP = object()


def change_fee_item(
    ctx: Context,
    item_id: uuid.UUID,
    effective_from: str,
    reason: str,
    *,
    name: str | None = None,
    cycle: str | None = None,
    billing_mode: str | None = None,
    unit_price: str | Decimal | None = None,
    amount_fen: int | None = None,
    tiers: list[dict] | object | None = _KEEP,
    tier_scope: str | None = None,
    rounding: str | None = None,
    prorate: bool | None = None,
    due_days: int | None = None,
    active: bool | None = None,
) -> VersionView:
    """Change a fee item's standard from the billing period `effective_from` on (调价, 停用, 启用).

    Fields not given keep the item's latest standard; `tiers=None` removes the tiers. The period must come after
    every period the item has been billed for. The change replaces any change already set for that period or a
    later one (it becomes the latest standard, which the item's row then holds).
    """
    p = rules.Period.parse(effective_from)
    if str(p) <= BASE_PERIOD:
        raise ValidationError(N_("A period is written YYYY-MM, e.g. 2026-11."), field="effective_from")
    reason = text(reason, "reason", REASON_MAX)
    with ctx.uow(PERM_MANAGE) as uow:
        s = uow.session
        item = s.execute(
            select(FeeItem).where(FeeItem.id == _get(s, FeeItem, item_id, "fee item").id).with_for_update()
        ).scalar_one()
        latest = _standard_of(item)
        given = {
            "name": name, "cycle": cycle, "billing_mode": billing_mode, "unit_price": unit_price,
            "amount_fen": amount_fen, "tier_scope": tier_scope, "rounding": rounding, "prorate": prorate,
            "due_days": due_days, "active": active,
        }  # fmt: skip
        wanted = {k: (getattr(latest, k) if v is None else v) for k, v in given.items()}
        wanted["tiers"] = latest.tiers if tiers is _KEEP else tiers
        new = check_standard(item.rule, item.meter_kind, **wanted)
        last = _last_billed(s, item.id)
        if last is not None and str(p) <= last:
            raise StateError(
                N_("Fee item {item} is billed up to {last}; a change takes effect from {next} or later."),
                item=item.code,
                last=last,
                next=str(rules.Period.parse(last).add(1)),
            )
        before_version = _versions_at(s, [item.id], str(p.add(-1))).get(item.id)
        before = item if before_version is None else before_version
        if (before.cycle, before.billing_mode) != (new.cycle, new.billing_mode) and not cycle_change_fits(
            before.cycle, new.cycle, p
        ):
            raise ValidationError(
                N_(
                    "A change of cycle or billing mode takes effect where both cycles begin (e.g. {example})."
                ),
                field="effective_from",
                example=_next_common_start(before.cycle, new.cycle, p),
            )
        superseded = (
            s.execute(
                select(FeeItemVersion.effective_from).where(
                    FeeItemVersion.fee_item_id == item.id, FeeItemVersion.effective_from >= str(p)
                )
            )
            .scalars()
            .all()
        )
        in_force = _versions_at(s, [item.id], str(p)).get(item.id)
        if new == _standard_of(in_force or item) and not (superseded and max(superseded) > str(p)):
            raise ValidationError(N_("Nothing was changed."), field="name")
        has_versions = s.execute(
            select(FeeItemVersion.id).where(FeeItemVersion.fee_item_id == item.id).limit(1)
        ).first()
        if not has_versions:
            s.add(_version_row(item.id, BASE_PERIOD, latest, "", item.created_at, ctx.actor.username))
        if superseded:
            s.execute(
                delete(FeeItemVersion).where(
                    FeeItemVersion.fee_item_id == item.id, FeeItemVersion.effective_from >= str(p)
                )
            )
        s.add(_version_row(item.id, str(p), new, reason, uow.now, ctx.actor.username))
        for field in STANDARD_FIELDS:
            setattr(item, field, getattr(new, field))
        s.flush()
        after = {"effective_from": str(p), "reason": reason, "superseded": sorted(superseded), **vars(new)}
        uow.audit("property.fee_item_change", "prop_fee_item", item.id, before=vars(latest), after=after)
        uow.emit("property.fee_item_changed", {"id": str(item.id), "code": item.code, **after})
        return VersionView(str(p), new, reason, ctx.actor.username)


def retire_fee_item(ctx: Context, item_id: uuid.UUID, effective_from: str, reason: str) -> VersionView:
    """停用 — bill runs from `effective_from` on leave the item out; bills already issued stay as they are."""
    return change_fee_item(ctx, item_id, effective_from, reason, active=False)


def _version_row(item_id, period: str, std: Standard, reason: str, at, by: str) -> FeeItemVersion:
    return FeeItemVersion(
        id=new_id(), fee_item_id=item_id, effective_from=period, reason=reason, created_by=by, created_at=at,
        **vars(std),
    )  # fmt: skip


def _next_common_start(old_cycle: str, new_cycle: str, p: rules.Period) -> str:
    for months in range(12):
        candidate = p.add(months)
        if cycle_change_fits(old_cycle, new_cycle, candidate):
            return str(candidate)
    return str(p)  # unreachable: every cycle begins in January
