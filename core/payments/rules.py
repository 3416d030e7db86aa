"""Pure payment rules: the order and refund state machines, fees and proportional fee refunds, routing rule
matching, notification backoff, request hashing and API signatures. No database, no clock.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

from core.jsonutil import canonical_json
from core.money import apply_rate

# --------------------------------------------------------------------------------------------- state machines

CREATED, PAYING, UNKNOWN, SUCCESS, FAILED, CLOSED = (
    "CREATED",
    "PAYING",
    "UNKNOWN",
    "SUCCESS",
    "FAILED",
    "CLOSED",
)
PARTIALLY_REFUNDED, REFUNDED = "PARTIALLY_REFUNDED", "REFUNDED"

# from-state → states it may move to. A PARTIALLY_REFUNDED → PARTIALLY_REFUNDED step is a further partial refund.
ORDER_TRANSITIONS: dict[str, frozenset[str]] = {
    CREATED: frozenset({PAYING, UNKNOWN, SUCCESS, FAILED, CLOSED}),
    PAYING: frozenset({SUCCESS, FAILED, CLOSED, UNKNOWN}),
    UNKNOWN: frozenset({PAYING, SUCCESS, FAILED, CLOSED}),
    SUCCESS: frozenset({PARTIALLY_REFUNDED, REFUNDED}),
    PARTIALLY_REFUNDED: frozenset({PARTIALLY_REFUNDED, REFUNDED}),
    FAILED: frozenset(),
    CLOSED: frozenset(),
    REFUNDED: frozenset(),
}
ORDER_TERMINAL = frozenset(s for s, nxt in ORDER_TRANSITIONS.items() if not nxt)
# States in which the payer's money may still arrive: callbacks and the query job act on these.
ORDER_OPEN = frozenset({CREATED, PAYING, UNKNOWN})
# States in which the money has arrived (refunds are possible).
ORDER_PAID = frozenset({SUCCESS, PARTIALLY_REFUNDED})

PROCESSING = "PROCESSING"
REFUND_TRANSITIONS: dict[str, frozenset[str]] = {
    PROCESSING: frozenset({SUCCESS, FAILED, UNKNOWN}),
    UNKNOWN: frozenset({SUCCESS, FAILED}),
    SUCCESS: frozenset(),
    FAILED: frozenset(),
}


def can_move(table: dict[str, frozenset[str]], current: str, new: str) -> bool:
    return new in table.get(current, frozenset())


def status_after_refund(amount_fen: int, refunded_success_fen: int) -> str:
    """The order state once `refunded_success_fen` of `amount_fen` has been refunded successfully."""
    if not 0 < refunded_success_fen <= amount_fen:
        raise ValueError("refunded amount out of range")
    return REFUNDED if refunded_success_fen == amount_fen else PARTIALLY_REFUNDED


# --------------------------------------------------------------------------------------------- fees

RATE_MAX = Decimal("0.1")  # no real channel charges 10 %; a bigger figure is a typo


def parse_rate(text: str | Decimal) -> Decimal:
    """A fee rate as an exact Decimal in [0, RATE_MAX]; ValueError otherwise."""
    try:
        rate = Decimal(str(text).strip())
    except InvalidOperation:
        raise ValueError("not a rate") from None
    if not rate.is_finite() or rate < 0 or rate > RATE_MAX:
        raise ValueError("rate out of range")
    return rate


def fee_fen(amount_fen: int, rate: Decimal) -> int:
    """The channel fee on a payment: amount × rate, rounded once ROUND_HALF_UP."""
    return apply_rate(amount_fen, rate)


def refund_fee_fen(
    order_amount_fen: int,
    order_fee_fen: int,
    refund_amount_fen: int,
    refunded_before_fen: int,
    fee_refunded_before_fen: int,
) -> int:
    """The part of the order's fee a refund gives back: proportional, rounded ROUND_HALF_UP; the refund that
    completes the order returns exactly what is left, so the fee refunds add up to the fee."""
    if not 0 < refund_amount_fen <= order_amount_fen - refunded_before_fen:
        raise ValueError("refund amount out of range")
    if refunded_before_fen + refund_amount_fen == order_amount_fen:
        return order_fee_fen - fee_refunded_before_fen
    # Exact half-up rounding in integers: floor, then compare twice the remainder with the divisor.
    rounded, rem = divmod(order_fee_fen * refund_amount_fen, order_amount_fen)
    if 2 * rem >= order_amount_fen:
        rounded += 1
    return min(rounded, order_fee_fen - fee_refunded_before_fen)


def change_fen(amount_fen: int, tendered_fen: int) -> int:
    """Change to give back for cash tendered; ValueError if not enough was tendered."""
    if tendered_fen < amount_fen:
        raise ValueError("tendered less than due")
    return tendered_fen - amount_fen


def round_half_up(value: Decimal) -> int:
    return int(value.quantize(Decimal(1), rounding=ROUND_HALF_UP))


# --------------------------------------------------------------------------------------------- routing


@dataclass(frozen=True)
class RouteRule:
    """Channels (in fallback order) for app (None = any), method (None = any) and an amount range."""

    channels: tuple[str, ...]
    app_id: str | None = None
    method: str | None = None
    min_amount_fen: int = 0
    max_amount_fen: int | None = None
    priority: int = 100


def rule_matches(rule: RouteRule, app_id: str, method: str, amount_fen: int) -> bool:
    if rule.app_id is not None and rule.app_id != app_id:
        return False
    if rule.method is not None and rule.method != method:
        return False
    if amount_fen < rule.min_amount_fen:
        return False
    return rule.max_amount_fen is None or amount_fen <= rule.max_amount_fen


def _specificity(rule: RouteRule) -> tuple[int, int]:
    # Lower priority number first; among equals, a rule naming the app and method beats a wildcard.
    return (rule.priority, -((rule.app_id is not None) * 2 + (rule.method is not None)))


def route_channels(
    rules: Iterable[RouteRule], app_id: str, method: str, amount_fen: int, enabled: Iterable[str]
) -> tuple[str, ...]:
    """The enabled channels, in fallback order, of the first matching rule that has any; () if none does."""
    on = set(enabled)
    for rule in sorted(rules, key=_specificity):
        if rule_matches(rule, app_id, method, amount_fen):
            chosen = tuple(ch for ch in rule.channels if ch in on)
            if chosen:
                return chosen
    return ()


def choose_channel(
    rules: Iterable[RouteRule], app_id: str, method: str, amount_fen: int, enabled: Iterable[str]
) -> str | None:
    """The first enabled channel of the first matching rule that has one; None if no rule yields one."""
    chosen = route_channels(rules, app_id, method, amount_fen, enabled)
    return chosen[0] if chosen else None


# --------------------------------------------------------------------------------------------- notifications

NOTIFY_BACKOFF_S: tuple[int, ...] = (0, 15, 30, 180, 600, 1800, 3600)
NOTIFY_GIVE_UP_AFTER = timedelta(hours=24)


def notify_delay_s(attempts_made: int) -> int:
    """Seconds to wait before the next attempt, after `attempts_made` attempts (0 → send now)."""
    if attempts_made < 0:
        raise ValueError("attempts_made must not be negative")
    if attempts_made < len(NOTIFY_BACKOFF_S):
        return NOTIFY_BACKOFF_S[attempts_made]
    return NOTIFY_BACKOFF_S[-1]


def notify_next_at(created_at: datetime, now: datetime, attempts_made: int) -> datetime | None:
    """When to try again, or None to give up (the next attempt would fall past 24 h after creation)."""
    at = now + timedelta(seconds=notify_delay_s(attempts_made))
    if at - created_at > NOTIFY_GIVE_UP_AFTER:
        return None
    return at


def notify_acknowledged(http_status: int | None, body: str) -> bool:
    """An external app acknowledges with a 2xx answer whose body is exactly SUCCESS."""
    return http_status is not None and 200 <= http_status < 300 and body.strip() == "SUCCESS"


# --------------------------------------------------------------------------------------------- idempotency


def request_hash(fields: dict[str, Any]) -> str:
    """SHA-256 of the canonical JSON of a request's content: equal content, equal hash."""
    return hashlib.sha256(canonical_json(fields).encode()).hexdigest()


# --------------------------------------------------------------------------------------------- signatures

SIGNATURE_WINDOW_S = 300


def body_sha256(body: bytes) -> str:
    return hashlib.sha256(body).hexdigest()


def string_to_sign(method: str, path: str, timestamp: str, nonce: str, body: bytes) -> bytes:
    return f"{method.upper()}\n{path}\n{timestamp}\n{nonce}\n{body_sha256(body)}".encode()


def sign(secret: str, method: str, path: str, timestamp: str, nonce: str, body: bytes) -> str:
    """X-Anju-Signature: lowercase hex HMAC-SHA256 with the app secret."""
    return hmac.new(
        secret.encode(), string_to_sign(method, path, timestamp, nonce, body), hashlib.sha256
    ).hexdigest()


def signature_ok(
    secret: str, method: str, path: str, timestamp: str, nonce: str, body: bytes, given: str
) -> bool:
    return hmac.compare_digest(sign(secret, method, path, timestamp, nonce, body), given or "")


def timestamp_fresh(timestamp: str, now_s: int, window_s: int = SIGNATURE_WINDOW_S) -> bool:
    if not timestamp.isdigit() or len(timestamp) > 12:
        return False
    return abs(int(timestamp) - now_s) <= window_s


def sim_sign(key: str, message: bytes) -> str:
    """The channel simulator's signatures: lowercase hex HMAC-SHA256 with the merchant key."""
    return hmac.new(key.encode(), message, hashlib.sha256).hexdigest()


def sim_request_message(method: str, path: str, body: bytes) -> bytes:
    return method.upper().encode() + b"\n" + path.encode() + b"\n" + body


def sum_by(rows: Sequence[tuple[str, int]]) -> dict[str, int]:
    """Amounts summed per key, keys sorted (channel totals of a shift or a day)."""
    out: dict[str, int] = {}
    for key, amount in rows:
        out[key] = out.get(key, 0) + amount
    return dict(sorted(out.items()))


def sim_request_ok(key: str, body: bytes, given: str) -> bool:
    """A simulator callback's signature: HMAC-SHA256(merchant key, body)."""
    return hmac.compare_digest(sim_sign(key, body), given or "")
