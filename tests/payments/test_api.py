"""The hub API's signing rules and error answers: 401 for anything unsigned, stale, replayed or wrongly
signed (changing nothing), JSON 4xx errors for bad input, never a 5xx for any body."""

from __future__ import annotations

import json
import time

import httpx
import pytest
from sqlalchemy import func, select

from core.payments.models import PayOrder
from hub.signing import sign_request


def _orders(hub) -> int:
    with hub.ctx.read() as s:
        return s.execute(select(func.count()).select_from(PayOrder)).scalar_one()


def _post(hub, body: bytes, headers: dict) -> httpx.Response:
    return httpx.post(hub.url + "/v1/pay-orders", content=body, headers=headers, timeout=10)


GOOD = json.dumps({"out_trade_no": "A-1", "amount_fen": 100, "subject": "s", "channel": "wechat"}).encode()


def test_unsigned_stale_replayed_and_wrong_are_401(hub_server):
    hub = hub_server
    now = int(time.time())
    assert _post(hub, GOOD, {}).status_code == 401
    stale = sign_request(hub.app_id, hub.secret, "POST", "/v1/pay-orders", GOOD, now - 301)
    assert _post(hub, GOOD, stale).status_code == 401
    wrong = sign_request(hub.app_id, "not-the-secret", "POST", "/v1/pay-orders", GOOD, now)
    assert _post(hub, GOOD, wrong).status_code == 401
    other_path = sign_request(hub.app_id, hub.secret, "POST", "/v1/refunds", GOOD, now)
    assert _post(hub, GOOD, other_path).status_code == 401
    unknown_app = sign_request("nobody", hub.secret, "POST", "/v1/pay-orders", GOOD, now)
    assert _post(hub, GOOD, unknown_app).status_code == 401
    tampered = sign_request(hub.app_id, hub.secret, "POST", "/v1/pay-orders", GOOD, now)
    assert _post(hub, GOOD.replace(b"100", b"999"), tampered).status_code == 401
    assert _orders(hub) == 0
    ok = sign_request(hub.app_id, hub.secret, "POST", "/v1/pay-orders", GOOD, now)
    first = _post(hub, GOOD, ok)
    assert first.status_code == 201
    replay = _post(hub, GOOD, ok)
    assert replay.status_code == 401 and replay.json()["code"] == "unauthorized"
    assert _orders(hub) == 1


JUNK = [
    b"",
    b"null",
    b"[]",
    b"42",
    b"{",
    b"\xff\xfe\x00garbage",
    b'{"out_trade_no": 5, "amount_fen": 1, "subject": "s"}',
    b'{"out_trade_no": "J", "amount_fen": "100", "subject": "s"}',
    b'{"out_trade_no": "J", "amount_fen": 1e400, "subject": "s"}',
    b'{"out_trade_no": "J", "amount_fen": 100000000000000000000000000, "subject": "s"}',
    b'{"out_trade_no": "J", "amount_fen": NaN, "subject": "s"}',
    b'{"out_trade_no": "J", "amount_fen": 1, "subject": ["x"]}',
    b'{"out_trade_no": "J", "amount_fen": 1, "subject": "s", "channel": ["wechat"]}',
    b'{"out_trade_no": "J", "amount_fen": 1, "subject": "s", "channel": "cash"}',
    b'{"out_trade_no": "J", "amount_fen": 1, "subject": "s", "metadata": "x"}',
    b'{"out_trade_no": "J", "amount_fen": 1, "subject": "s", "expire_minutes": -1}',
    b'{"out_trade_no": "J", "amount_fen": 1, "subject": "s", "notify_url": "ftp://x"}',
    b'{"out_trade_no": "J", "amount_fen": 1, "subject": "s", "evil": 1}',
    b'{"out_trade_no": "J\\u0000", "amount_fen": 1, "subject": "s"}',
    b"[" * 100_000 + b"]" * 100_000,
    json.dumps({"out_trade_no": "J", "amount_fen": 1, "subject": "x" * 70_000}).encode(),
]


@pytest.mark.parametrize("body", JUNK, ids=range(len(JUNK)))
def test_junk_bodies_get_json_4xx(hub_server, body):
    headers = sign_request(
        hub_server.app_id, hub_server.secret, "POST", "/v1/pay-orders", body, int(time.time())
    )
    r = _post(hub_server, body, headers)
    assert 400 <= r.status_code < 500, (r.status_code, r.text)
    assert set(r.json()) == {"code", "message"}
    assert _orders(hub_server) == 0


def test_errors_and_lookups(hub_server):
    hub = hub_server
    r = hub.signed("GET", "/v1/pay-orders/NOPE")
    assert r.status_code == 404 and r.json()["code"] == "order_not_found"
    assert hub.signed("GET", "/v1/refunds/NOPE").status_code == 404
    assert hub.signed("GET", "/v1/nothing-here").status_code == 404
    assert (
        hub.signed(
            "POST",
            "/v1/refunds",
            {"out_trade_no": "NOPE", "out_refund_no": "R", "amount_fen": 1, "reason": "x"},
        ).status_code
        == 404
    )
    junk_refund = hub.signed("POST", "/v1/refunds", body=b'{"amount_fen": true}')
    assert junk_refund.status_code == 400
    assert httpx.get(hub.url + "/openapi.json").status_code == 200
    assert httpx.get(hub.url + "/docs").status_code == 200
    created = hub.signed("POST", "/v1/pay-orders", {"out_trade_no": "C-1", "amount_fen": 100, "subject": "s"})
    assert created.status_code == 201 and created.json()["channel"] == "wechat"  # the default route
    closed = hub.signed("POST", "/v1/pay-orders/C-1/close")
    assert closed.status_code == 200 and closed.json()["status"] == "CLOSED"
    refused = hub.signed(
        "POST", "/v1/refunds", {"out_trade_no": "C-1", "out_refund_no": "R", "amount_fen": 1, "reason": "x"}
    )
    assert refused.status_code == 409
