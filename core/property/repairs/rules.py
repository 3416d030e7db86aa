"""Pure repair rules: SLA deadlines, which deadline an open work order has missed, and averages for statistics."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal

# States in which the worker has not responded yet (response SLA runs), and in which the work is not done
# (completion SLA runs).
AWAITING_RESPONSE = frozenset({"pending", "grabbable", "dispatched"})
AWAITING_COMPLETION = frozenset({"pending", "grabbable", "dispatched", "accepted", "in_progress", "paused"})


def deadlines(
    created_at: datetime, response_minutes: int, completion_minutes: int
) -> tuple[datetime, datetime]:
    """(respond_by, complete_by) of an order created at `created_at` under a type's SLA."""
    if response_minutes <= 0 or completion_minutes < response_minutes:
        raise ValueError("SLA needs 0 < response_minutes <= completion_minutes")
    return created_at + timedelta(minutes=response_minutes), created_at + timedelta(
        minutes=completion_minutes
    )


def overdue_kind(status: str, now: datetime, respond_by: datetime, complete_by: datetime) -> str | None:
    """'completion' if the completion deadline has passed undone, else 'response' if nobody responded in time."""
    if status in AWAITING_COMPLETION and now > complete_by:
        return "completion"
    if status in AWAITING_RESPONSE and now > respond_by:
        return "response"
    return None


def minutes_between(start: datetime, end: datetime) -> int:
    """Whole minutes from start to end, rounded half up (durations shown to a clerk)."""
    seconds = Decimal(int((end - start).total_seconds()))
    return int((seconds / 60).quantize(Decimal(1), rounding=ROUND_HALF_UP))


def average(values: Iterable[int]) -> Decimal | None:
    """Mean to one decimal place (ROUND_HALF_UP), None for no values."""
    items = list(values)
    if not items:
        return None
    return (Decimal(sum(items)) / len(items)).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)
