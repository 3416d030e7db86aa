"""Pure parking rules: mainland licence plates (GA 36-2018, incl. 8-character new-energy plates) and the
temporary-parking fee of a stay (free minutes, first period, each further period, daily cap, several days).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from core.errors import ValidationError
from core.i18n import N_
from core.validate import to_halfwidth

PROVINCES = "京津沪渝冀豫云辽黑湘皖鲁新苏浙赣鄂桂甘晋蒙陕吉闽贵粤青藏川宁琼"
# Plates never use I or O (they read as 1 and 0).
_C = "A-HJ-NP-Z0-9"
# 7 characters: province, issuing-office letter, five serial characters (the last may be 挂 学 警 港 澳).
_ORDINARY = re.compile(rf"^[{PROVINCES}][A-HJ-NP-Z][{_C}]{{4}}[{_C}挂学警港澳]$")
# 8 characters, new energy: small cars D/A/B/C/E (pure electric) or F/G/H/J/K (hybrid) then five, the last
# four digits; large vehicles five digits then D or F.
_NEW_ENERGY_SMALL = re.compile(rf"^[{PROVINCES}][A-HJ-NP-Z][ABCDEFGHJK][{_C}][0-9]{{4}}$")
_NEW_ENERGY_LARGE = re.compile(rf"^[{PROVINCES}][A-HJ-NP-Z][0-9]{{5}}[DF]$")
PLATE_INPUT_MAX = 20
MINUTES_PER_DAY = 24 * 60


@dataclass(frozen=True)
class Plate:
    number: str
    kind: str  # fuel | new_energy


def parse_plate(text: object) -> Plate:
    """Normalise a typed plate ("京a·12345", "粤B D12345") and say whether it is a new-energy plate."""
    if not isinstance(text, str) or not text.strip():
        raise ValidationError(N_("Enter the licence plate."), field="plate")
    if len(text) > PLATE_INPUT_MAX:
        raise ValidationError(N_("The input is too long."), field="plate")
    number = "".join(ch for ch in to_halfwidth(text).upper() if ch not in " ·.-•")
    if _ORDINARY.match(number):
        return Plate(number, "fuel")
    if _NEW_ENERGY_SMALL.match(number) or _NEW_ENERGY_LARGE.match(number):
        return Plate(number, "new_energy")
    raise ValidationError(N_("“{plate}” is not a mainland licence plate."), field="plate", plate=text.strip())


@dataclass(frozen=True)
class FeeRule:
    """A temporary-parking tariff. A stay within `free_minutes` is free; a longer one is charged from its start:
    `first_fen` for the first `first_minutes`, then `step_fen` for each further `step_minutes` or part of it,
    at most `daily_cap_fen` per 24 hours (None: no cap). A stay over several days is charged day by day."""

    free_minutes: int
    first_minutes: int
    first_fen: int
    step_minutes: int
    step_fen: int
    daily_cap_fen: int | None = None

    def __post_init__(self) -> None:
        for name in ("free_minutes", "first_minutes", "first_fen", "step_minutes", "step_fen"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                raise ValidationError(N_("{field} must be a whole number, not negative."), field=name)
        if self.first_minutes <= 0 or self.step_minutes <= 0:
            raise ValidationError(N_("Charging periods must be at least one minute."), field="step_minutes")
        if self.free_minutes >= MINUTES_PER_DAY:
            raise ValidationError(N_("Free parking must be shorter than a day."), field="free_minutes")
        cap = self.daily_cap_fen
        if cap is not None and (isinstance(cap, bool) or not isinstance(cap, int) or cap < 0):
            raise ValidationError(N_("{field} must be a whole number, not negative."), field="daily_cap_fen")


def _day_fee(rule: FeeRule, minutes: int) -> int:
    """The fee of `minutes` (0 ≤ minutes ≤ a day) within one 24-hour day."""
    if minutes <= 0:
        return 0
    fee = rule.first_fen
    if minutes > rule.first_minutes:
        steps = -(-(minutes - rule.first_minutes) // rule.step_minutes)  # ceiling: a started period counts
        fee += steps * rule.step_fen
    return fee if rule.daily_cap_fen is None else min(fee, rule.daily_cap_fen)


def fee_for_minutes(rule: FeeRule, minutes: int) -> int:
    """The fee in fen of a stay of `minutes`; each full 24 hours costs a full day, the rest starts afresh."""
    if isinstance(minutes, bool) or not isinstance(minutes, int) or minutes < 0:
        raise ValueError("minutes must be a non-negative int")
    if minutes <= rule.free_minutes:
        return 0
    days, rest = divmod(minutes, MINUTES_PER_DAY)
    return days * _day_fee(rule, MINUTES_PER_DAY) + _day_fee(rule, rest)


def stay_minutes(entered_at: datetime, exited_at: datetime) -> int:
    """Minutes parked; a started minute counts (a barrier's clock reads seconds)."""
    seconds = int((exited_at - entered_at).total_seconds())
    if seconds < 0:
        raise ValueError("exit before entry")
    return -(-seconds // 60)


def fee_for_stay(rule: FeeRule, entered_at: datetime, exited_at: datetime) -> int:
    return fee_for_minutes(rule, stay_minutes(entered_at, exited_at))
