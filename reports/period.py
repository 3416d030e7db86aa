"""Report periods from the command line or a form: a month, a quarter, a year, a day or a date range."""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import date, timedelta

from core.errors import ValidationError
from core.i18n import N_

PERIOD_DAYS_MAX = 366 * 10  # a report spans at most ten years

_MONTH = re.compile(r"^(\d{4})-(\d{1,2})$")
_QUARTER = re.compile(r"^(\d{4})-?[Qq]([1-4])$")
_YEAR = re.compile(r"^(\d{4})$")
_RANGE = re.compile(r"^(\d{4}-\d{2}-\d{2})\s*(?:\.\.|~|/)\s*(\d{4}-\d{2}-\d{2})$")


@dataclass(frozen=True)
class Period:
    """Business dates from `start` to `end`, both included."""

    start: date
    end: date
    label: str

    @property
    def day_before(self) -> date:
        """The day whose closing balances are this period's opening balances."""
        return self.start - timedelta(days=1)

    def months(self) -> list[tuple[date, date, str]]:
        """The calendar months the period touches, clipped to it: (start, end, "YYYY-MM")."""
        out = []
        y, m = self.start.year, self.start.month
        while date(y, m, 1) <= self.end:
            first = max(date(y, m, 1), self.start)
            last = min(date(y, m, calendar.monthrange(y, m)[1]), self.end)
            out.append((first, last, f"{y:04d}-{m:02d}"))
            y, m = (y + 1, 1) if m == 12 else (y, m + 1)
        return out


def _bad(text: str) -> ValidationError:
    return ValidationError(
        N_("“{text}” is not a period: use 2026-05, 2026-Q2, 2026, 2026-05-03 or 2026-05-01..2026-05-31."),
        field="period",
        text=text,
    )


def _make(start: date, end: date, label: str) -> Period:
    if end < start:
        raise ValidationError(N_("The period ends before it starts."), field="period")
    if (end - start).days > PERIOD_DAYS_MAX:
        raise ValidationError(N_("A report period spans at most ten years."), field="period")
    return Period(start, end, label)


def parse_period(text: str) -> Period:
    """`2026-05`, `2026-Q2`, `2026`, `2026-05-03`, or `2026-05-01..2026-05-31` as a Period."""
    if not isinstance(text, str):
        raise TypeError("period must be a str")
    s = text.strip()
    try:
        if m := _MONTH.match(s):
            y, mo = int(m[1]), int(m[2])
            last = calendar.monthrange(y, mo)[1]
            return _make(date(y, mo, 1), date(y, mo, last), f"{y:04d}-{mo:02d}")
        if m := _QUARTER.match(s):
            y, q = int(m[1]), int(m[2])
            first_month = 3 * q - 2
            last = calendar.monthrange(y, first_month + 2)[1]
            return _make(date(y, first_month, 1), date(y, first_month + 2, last), f"{y:04d}-Q{q}")
        if m := _YEAR.match(s):
            y = int(m[1])
            return _make(date(y, 1, 1), date(y, 12, 31), f"{y:04d}")
        if m := _RANGE.match(s):
            start, end = date.fromisoformat(m[1]), date.fromisoformat(m[2])
            return _make(start, end, f"{start.isoformat()} – {end.isoformat()}")
        day = date.fromisoformat(s)
        return _make(day, day, day.isoformat())
    except ValueError:
        raise _bad(text) from None


def month_of(day: date) -> Period:
    return parse_period(f"{day.year:04d}-{day.month:02d}")
