"""Turning report values into display text (PDF) the same way everywhere: yuan with separators, counts,
percentages, dates. Money is int fen until this point."""

from __future__ import annotations

import re
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from core.clock import BUSINESS_TZ
from core.money import fen_to_decimal, format_fen

_PCT = Decimal("0.01")
# Characters XML 1.0 (and so Excel) forbids; openpyxl refuses them, a report just drops them.
XML_ILLEGAL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")


def money_text(fen: int | None) -> str:
    return "" if fen is None else format_fen(fen, symbol=False)


def percent_text(value: Decimal | None) -> str:
    if value is None:
        return ""
    return f"{(Decimal(value) * 100).quantize(_PCT, rounding=ROUND_HALF_UP)}%"


def instant_text(value: datetime) -> str:
    """An instant as Beijing time to the minute, the way clerks read it."""
    return value.astimezone(BUSINESS_TZ).strftime("%Y-%m-%d %H:%M")


def cell_text(kind: str, value: Any) -> str:
    if value is None:
        return ""
    if kind == "money":
        return money_text(value)
    if kind == "int":
        return f"{value:,}"
    if kind == "percent":
        return percent_text(value)
    if kind == "date":
        if isinstance(value, datetime):
            return instant_text(value)
        return value.isoformat() if isinstance(value, date) else str(value)
    if kind == "number":
        return f"{value:,}" if isinstance(value, int) else str(value)
    return XML_ILLEGAL.sub("", str(value))


def cell_value(kind: str, value: Any) -> Any:
    """The value written to an Excel cell: yuan as an exact Decimal, instants as naive Beijing time."""
    if value is None:
        return None
    if kind == "money":
        return fen_to_decimal(value)
    if kind == "date" and isinstance(value, datetime):
        return value.astimezone(BUSINESS_TZ).replace(tzinfo=None)
    if kind == "text":
        return XML_ILLEGAL.sub("", str(value))
    return value


def ratio(part: int, whole: int) -> Decimal | None:
    """part / whole as a Decimal fraction to 4 places (a rate such as 收缴率), or None when whole is 0."""
    if not whole:
        return None
    return (Decimal(part) / Decimal(whole)).quantize(Decimal("0.0001"), rounding=ROUND_HALF_UP)


def natural_key(text: str) -> tuple:
    """Sort key that orders numbers by value (building 2 before building 10)."""
    return tuple(
        (0, int(part), "") if part.isdigit() else (1, 0, part) for part in re.split(r"(\d+)", text) if part
    )
