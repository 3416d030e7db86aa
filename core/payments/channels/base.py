"""The one interface every payment channel adapter implements (create, query, close, refund, callbacks), and
the plain records passing through it. Statuses are the hub's words; adapters translate the channel's."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

# Answers an adapter may give about a payment.
SUCCESS, PAYING, FAILED, CLOSED, UNKNOWN, NOT_FOUND = (
    "SUCCESS",
    "PAYING",
    "FAILED",
    "CLOSED",
    "UNKNOWN",
    "NOT_FOUND",
)
REFUND_PROCESSING = "PROCESSING"


@dataclass(frozen=True)
class ChannelOrder:
    """What a channel is told about an order."""

    order_no: str
    amount_fen: int
    subject: str
    expire_at: datetime
    payer: str = ""
    tendered_fen: int | None = None  # cash
    reference: str | None = None  # POS terminal reference no., bank transfer reference, fund account


@dataclass(frozen=True)
class ChannelResult:
    """A channel's answer about a payment, with the raw request and response kept for the order's history."""

    status: str
    channel_trade_no: str | None = None
    pay_info: dict[str, Any] = field(default_factory=dict)
    paid_at: datetime | None = None
    fee_fen: int | None = None
    request: Any = None
    response: Any = None
    message: str = ""


@dataclass(frozen=True)
class RefundResult:
    status: str  # SUCCESS | PROCESSING | FAILED | UNKNOWN | NOT_FOUND
    channel_refund_no: str | None = None
    request: Any = None
    response: Any = None
    message: str = ""


@dataclass(frozen=True)
class CallbackData:
    """A verified callback's content; the hub still checks it against the order."""

    mch_id: str
    out_trade_no: str
    channel_trade_no: str
    amount_fen: int
    fee_fen: int | None
    status: str  # SUCCESS | FAILED | CLOSED
    paid_at: datetime | None
    raw: dict[str, Any]


class ForgedCallback(Exception):
    """The callback's signature or form is wrong: it must change nothing."""


class Channel(ABC):
    """A payment channel. `synchronous` channels settle at the counter within the request (cash, POS)."""

    code: str = ""
    synchronous: bool = False

    @abstractmethod
    def create(self, order: ChannelOrder) -> ChannelResult: ...

    def query(self, order_no: str) -> ChannelResult:
        return ChannelResult(NOT_FOUND, message="this channel cannot be queried")

    def close(self, order_no: str) -> ChannelResult:
        return ChannelResult(CLOSED)

    @abstractmethod
    def refund(self, order_no: str, refund_no: str, amount_fen: int, total_fen: int) -> RefundResult: ...

    def query_refund(self, refund_no: str) -> RefundResult:
        return RefundResult(NOT_FOUND)

    def parse_callback(self, headers: Mapping[str, str], body: bytes) -> CallbackData:
        raise ForgedCallback("this channel sends no callbacks")
