"""Channels reached over HTTP — WeChat Pay and Alipay QR, UnionPay — here talking to the channel simulator's
API exactly as an adapter for the real service would talk to it (signed requests, signed callbacks)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import datetime
from typing import Any

import httpx

from core.payments import rules
from core.payments.channels.base import (
    CLOSED,
    FAILED,
    NOT_FOUND,
    PAYING,
    REFUND_PROCESSING,
    SUCCESS,
    UNKNOWN,
    CallbackData,
    Channel,
    ChannelOrder,
    ChannelResult,
    ForgedCallback,
    RefundResult,
)

# The simulator's (and the real channels') order states, in the hub's words.
_ORDER_STATUS = {
    "NOTPAY": PAYING,
    "USERPAYING": PAYING,
    "SUCCESS": SUCCESS,
    "REFUND": SUCCESS,  # paid, then (partly) refunded: as a payment it succeeded
    "CLOSED": CLOSED,
    "PAYERROR": FAILED,
}
_REFUND_STATUS = {"SUCCESS": SUCCESS, "PROCESSING": REFUND_PROCESSING, "FAILED": FAILED, "ABNORMAL": FAILED}
CALLBACK_BODY_MAX = 16_384


def _parse_time(value: Any) -> datetime | None:
    if not isinstance(value, str) or not value:
        return None
    try:
        dt = datetime.fromisoformat(value)
    except ValueError:
        return None
    return dt if dt.tzinfo is not None else None


class SimChannel(Channel):
    """One channel of the simulator (`/{code}/...`), signed with the merchant key."""

    synchronous = False

    def __init__(
        self, code: str, base_url: str, mch_id: str, mch_key: str, notify_url: str, timeout_s: float
    ):
        self.code = code
        self.mch_id = mch_id
        self._key = mch_key
        self._notify_url = notify_url
        self._client = httpx.Client(base_url=base_url.rstrip("/"), timeout=timeout_s)

    def _call(self, method: str, path: str, payload: dict | None = None) -> tuple[int, Any]:
        body = b"" if payload is None else json.dumps(payload, separators=(",", ":")).encode()
        sig = rules.sim_sign(self._key, rules.sim_request_message(method, path, body))
        headers = {"X-Sim-Mch": self.mch_id, "X-Sim-Signature": sig, "Content-Type": "application/json"}
        resp = self._client.request(method, path, content=body, headers=headers)
        try:
            data = resp.json()
        except ValueError:
            data = {"raw": resp.text[:500]}
        return resp.status_code, data

    def create(self, order: ChannelOrder) -> ChannelResult:
        req = {
            "out_trade_no": order.order_no,
            "amount_fen": order.amount_fen,
            "subject": order.subject,
            "notify_url": self._notify_url,
            "expire_at": order.expire_at.isoformat(),
        }
        try:
            status, data = self._call("POST", f"/{self.code}/orders", req)
        except httpx.ConnectError as exc:
            # Nothing reached the channel: the order certainly does not exist there.
            return ChannelResult(
                FAILED, request=req, response={"error": str(exc)[:200]}, message="unreachable"
            )
        except httpx.HTTPError as exc:
            # Sent, but no answer: it may or may not exist there. Only a query can tell.
            return ChannelResult(UNKNOWN, request=req, response={"error": str(exc)[:200]}, message="timeout")
        if status >= 500:
            return ChannelResult(UNKNOWN, request=req, response=data, message=f"HTTP {status}")
        if status >= 400 or not isinstance(data, dict):
            return ChannelResult(FAILED, request=req, response=data, message=f"HTTP {status}")
        info = {"code_url": data.get("code_url")} if data.get("code_url") else {}
        return ChannelResult(
            _ORDER_STATUS.get(str(data.get("status")), UNKNOWN),
            data.get("channel_trade_no"),
            info,
            request=req,
            response=data,
        )

    def query(self, order_no: str) -> ChannelResult:
        path = f"/{self.code}/orders/{order_no}"
        try:
            status, data = self._call("GET", path)
        except httpx.HTTPError as exc:
            return ChannelResult(UNKNOWN, request={"path": path}, response={"error": str(exc)[:200]})
        if status == 404:
            return ChannelResult(NOT_FOUND, request={"path": path}, response=data)
        if status != 200 or not isinstance(data, dict):
            return ChannelResult(UNKNOWN, request={"path": path}, response=data)
        fee = data.get("fee_fen")
        return ChannelResult(
            _ORDER_STATUS.get(str(data.get("status")), UNKNOWN),
            data.get("channel_trade_no"),
            paid_at=_parse_time(data.get("paid_at")),
            fee_fen=fee if isinstance(fee, int) else None,
            request={"path": path},
            response=data,
        )

    def close(self, order_no: str) -> ChannelResult:
        path = f"/{self.code}/orders/{order_no}/close"
        try:
            status, data = self._call("POST", path, {})
        except httpx.HTTPError as exc:
            return ChannelResult(UNKNOWN, request={"path": path}, response={"error": str(exc)[:200]})
        if status == 200 and isinstance(data, dict):
            return ChannelResult(
                _ORDER_STATUS.get(str(data.get("status")), UNKNOWN), request={"path": path}, response=data
            )
        if status == 404:
            return ChannelResult(NOT_FOUND, request={"path": path}, response=data)
        return ChannelResult(UNKNOWN, request={"path": path}, response=data)

    def refund(self, order_no: str, refund_no: str, amount_fen: int, total_fen: int) -> RefundResult:
        req = {"out_trade_no": order_no, "out_refund_no": refund_no, "amount_fen": amount_fen}
        try:
            status, data = self._call("POST", f"/{self.code}/refunds", req)
        except httpx.ConnectError as exc:
            return RefundResult(
                FAILED, request=req, response={"error": str(exc)[:200]}, message="unreachable"
            )
        except httpx.HTTPError as exc:
            return RefundResult(UNKNOWN, request=req, response={"error": str(exc)[:200]}, message="timeout")
        if status >= 500:
            return RefundResult(UNKNOWN, request=req, response=data)
        if status >= 400 or not isinstance(data, dict):
            return RefundResult(FAILED, request=req, response=data, message=f"HTTP {status}")
        return RefundResult(
            _REFUND_STATUS.get(str(data.get("status")), UNKNOWN), data.get("refund_id"), req, data
        )

    def query_refund(self, refund_no: str) -> RefundResult:
        path = f"/{self.code}/refunds/{refund_no}"
        try:
            status, data = self._call("GET", path)
        except httpx.HTTPError as exc:
            return RefundResult(UNKNOWN, request={"path": path}, response={"error": str(exc)[:200]})
        if status == 404:
            return RefundResult(NOT_FOUND, request={"path": path}, response=data)
        if status != 200 or not isinstance(data, dict):
            return RefundResult(UNKNOWN, request={"path": path}, response=data)
        return RefundResult(
            _REFUND_STATUS.get(str(data.get("status")), UNKNOWN), data.get("refund_id"), {"path": path}, data
        )

    def parse_callback(self, headers: Mapping[str, str], body: bytes) -> CallbackData:
        if len(body) > CALLBACK_BODY_MAX:
            raise ForgedCallback("body too large")
        given = headers.get("x-sim-signature") or headers.get("X-Sim-Signature") or ""
        if not rules.sim_request_ok(self._key, body, given):
            raise ForgedCallback("bad signature")
        try:
            data = json.loads(body)
        except ValueError:
            raise ForgedCallback("not JSON") from None
        if not isinstance(data, dict):
            raise ForgedCallback("not an object")
        amount, fee = data.get("amount_fen"), data.get("fee_fen")
        if not isinstance(amount, int) or isinstance(amount, bool):
            raise ForgedCallback("bad amount")
        status = _ORDER_STATUS.get(str(data.get("status")))
        if status not in (SUCCESS, FAILED, CLOSED):
            raise ForgedCallback("bad status")
        return CallbackData(
            mch_id=str(data.get("mch_id", "")),
            out_trade_no=str(data.get("out_trade_no", ""))[:64],
            channel_trade_no=str(data.get("channel_trade_no", ""))[:64],
            amount_fen=amount,
            fee_fen=fee if isinstance(fee, int) and not isinstance(fee, bool) else None,
            status=status,
            paid_at=_parse_time(data.get("paid_at")),
            raw=data,
        )
