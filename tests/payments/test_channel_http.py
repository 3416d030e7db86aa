"""The channel adapters' keep-alive HTTP client: connections are reused, one the server has dropped is replaced
without failing the call, and "nothing sent" (FAILED) is told apart from "sent, no answer" (UNKNOWN)."""

from __future__ import annotations

import json
import socket
import threading
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from core.payments.channels.base import FAILED, PAYING, UNKNOWN, ChannelOrder
from core.payments.channels.remote import KeepAlivePool, NoAnswer, SimChannel, Unreachable


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    drop_after_answer = False

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        self.rfile.read(length)
        self.server.connections.add(self.client_address)  # type: ignore[attr-defined]
        body = json.dumps(
            {"status": "NOTPAY", "channel_trade_no": "4200x", "code_url": "weixin://x"}
        ).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
        # Close without saying so: the client still believes the connection is alive.
        self.close_connection = self.drop_after_answer

    def log_message(self, *args) -> None:
        pass


@pytest.fixture
def server():
    def start(drop_after_answer: bool = False):
        handler = type("H", (_Handler,), {"drop_after_answer": drop_after_answer})
        srv = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        srv.connections = set()  # type: ignore[attr-defined]
        threading.Thread(target=srv.serve_forever, daemon=True).start()
        started.append(srv)
        return srv

    started: list[ThreadingHTTPServer] = []
    yield start
    for srv in started:
        srv.shutdown()
        srv.server_close()


def _url(srv) -> str:
    return f"http://127.0.0.1:{srv.server_address[1]}"


def test_connections_are_reused(server):
    srv = server()
    pool = KeepAlivePool(_url(srv), 5)
    for _ in range(5):
        status, body = pool.request("POST", "/wechat/orders", b"{}", {"Content-Type": "application/json"})
        assert status == 200 and json.loads(body)["status"] == "NOTPAY"
    assert len(srv.connections) == 1  # type: ignore[attr-defined]
    pool.close()


def test_a_connection_the_server_dropped_is_replaced(server):
    srv = server(drop_after_answer=True)
    pool = KeepAlivePool(_url(srv), 5)
    for _ in range(3):
        status, _ = pool.request("POST", "/wechat/orders", b"{}", {})
        assert status == 200
    assert len(srv.connections) == 3  # type: ignore[attr-defined]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _order() -> ChannelOrder:
    return ChannelOrder("T01P20260101000001", 100, "物业费", datetime(2026, 1, 1, tzinfo=UTC))


def test_nothing_listening_is_unreachable_and_the_order_failed():
    url = f"http://127.0.0.1:{_free_port()}"
    with pytest.raises(Unreachable):
        KeepAlivePool(url, 1).request("POST", "/x", b"", {})
    result = SimChannel("wechat", url, "anju", "key", "http://hub/notify", 1).create(_order())
    assert result.status == FAILED and result.message == "unreachable"


def test_no_answer_in_time_is_unknown():
    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen(8)  # accepts connections (the backlog) but never answers
    try:
        url = f"http://127.0.0.1:{silent.getsockname()[1]}"
        with pytest.raises(NoAnswer):
            KeepAlivePool(url, 0.3).request("POST", "/x", b"{}", {})
        result = SimChannel("wechat", url, "anju", "key", "http://hub/notify", 0.3).create(_order())
        assert result.status == UNKNOWN
    finally:
        silent.close()


def test_the_adapter_reads_the_answer(server):
    srv = server()
    result = SimChannel("wechat", _url(srv), "anju", "key", "http://hub/notify", 5).create(_order())
    assert result.status == PAYING
    assert result.channel_trade_no == "4200x"
    assert result.pay_info == {"code_url": "weixin://x"}
