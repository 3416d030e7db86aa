"""Channels reached over HTTP — WeChat Pay and Alipay QR, UnionPay — here talking to the channel simulator's
API exactly as an adapter for the real service would talk to it (signed requests, signed callbacks)."""

from __future__ import annotations

import http.client
import json
import select
import socket
import threading
from collections.abc import Mapping
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

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


class Unreachable(Exception):
    """The channel could not be reached: nothing was sent."""


class NoAnswer(Exception):
    """The request may have been sent, but no (complete) answer came back."""


def _readable(sock: socket.socket) -> bool:
    poller = select.poll()  # not select.select: it fails on descriptors above 1023
    poller.register(sock, select.POLLIN | select.POLLERR | select.POLLHUP)
    return bool(poller.poll(0))


class KeepAlivePool:
    """Keep-alive HTTP/1.1 connections to one channel host, shared by the threads of the process.

    The standard library's client on pooled connections: an order's channel call costs a fraction of what a
    general-purpose client spends per request. An idle connection the server has closed is noticed before it is
    reused; a reused connection that breaks before any answer is retried once on a fresh one (every call of
    the channel API is idempotent on our own numbers: an order, a refund, a query, a close)."""

    IDLE_MAX = 64

    def __init__(self, base_url: str, timeout_s: float) -> None:
        parts = urlsplit(base_url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"not an http(s) URL: {base_url!r}")
        self._https = parts.scheme == "https"
        self._host = parts.hostname
        self._port = parts.port or (443 if self._https else 80)
        self._prefix = parts.path.rstrip("/")
        self._timeout_s = timeout_s
        self._idle: list[http.client.HTTPConnection] = []
        self._lock = threading.Lock()

    def _new(self) -> http.client.HTTPConnection:
        cls = http.client.HTTPSConnection if self._https else http.client.HTTPConnection
        conn = cls(self._host, self._port, timeout=self._timeout_s)
        try:
            conn.connect()
        except (OSError, http.client.HTTPException) as exc:
            conn.close()
            raise Unreachable(str(exc) or type(exc).__name__) from exc
        conn.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        return conn

    def _take(self) -> tuple[http.client.HTTPConnection, bool]:
        while True:
            with self._lock:
                conn = self._idle.pop() if self._idle else None
            if conn is None:
                return self._new(), False
            sock = conn.sock
            # An idle keep-alive connection has nothing to read; readable means the server closed it.
            if sock is not None and not _readable(sock):
                return conn, True
            conn.close()

    def _give(self, conn: http.client.HTTPConnection) -> None:
        with self._lock:
            if len(self._idle) < self.IDLE_MAX:
                self._idle.append(conn)
                return
        conn.close()

    def request(self, method: str, path: str, body: bytes, headers: dict[str, str]) -> tuple[int, bytes]:
        """(status, body). Unreachable if nothing could be sent, NoAnswer if no complete answer came."""
        for attempt in (1, 2):
            try:
                conn, reused = self._take()
            except Unreachable as exc:
                if attempt == 1:
                    raise
                # The first attempt may have reached the channel: its answer is unknown, not a refusal.
                raise NoAnswer(str(exc)) from exc
            try:
                conn.request(method, self._prefix + path, body=body, headers=headers)
                resp = conn.getresponse()
                data = resp.read()
            except (ConnectionResetError, BrokenPipeError, http.client.RemoteDisconnected) as exc:
                conn.close()
                if reused and attempt == 1:
                    continue  # the server dropped an idle connection just as we used it
                raise NoAnswer(str(exc) or type(exc).__name__) from exc
            except (OSError, http.client.HTTPException) as exc:
                conn.close()
                raise NoAnswer(str(exc) or type(exc).__name__) from exc
            if resp.will_close:
                conn.close()
            else:
                self._give(conn)
            return resp.status, data
        raise AssertionError("unreachable")  # pragma: no cover

    def close(self) -> None:
        with self._lock:
            idle, self._idle = self._idle, []
        for conn in idle:
            conn.close()


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
        self._pool = KeepAlivePool(base_url, timeout_s)

    def _call(self, method: str, path: str, payload: dict | None = None) -> tuple[int, Any]:
        body = b"" if payload is None else json.dumps(payload, separators=(",", ":")).encode()
        sig = rules.sim_sign(self._key, rules.sim_request_message(method, path, body))
        headers = {"X-Sim-Mch": self.mch_id, "X-Sim-Signature": sig, "Content-Type": "application/json"}
        status, raw = self._pool.request(method, path, body, headers)
        try:
            data = json.loads(raw)
        except ValueError:
            data = {"raw": raw[:500].decode("utf-8", "replace")}
        return status, data

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
        except Unreachable as exc:
            # Nothing reached the channel: the order certainly does not exist there.
            return ChannelResult(
                FAILED, request=req, response={"error": str(exc)[:200]}, message="unreachable"
            )
        except NoAnswer as exc:
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
        except (Unreachable, NoAnswer) as exc:
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
        except (Unreachable, NoAnswer) as exc:
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
        except Unreachable as exc:
            return RefundResult(
                FAILED, request=req, response={"error": str(exc)[:200]}, message="unreachable"
            )
        except NoAnswer as exc:
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
        except (Unreachable, NoAnswer) as exc:
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
