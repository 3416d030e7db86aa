"""End to end: the channel simulator as its own process, the hub API served by uvicorn, the test database."""

from __future__ import annotations

import json
import threading
from dataclasses import replace
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, HTTPServer

import httpx

from core.clock import FakeClock
from core.ledger.services import get_balance
from core.payments import jobs, notify, rules, services
from tests.payments.conftest import SIM_KEY, free_port, wait_for


def _status(hub, out_trade_no: str) -> str:
    return hub.signed("GET", f"/v1/pay-orders/{out_trade_no}").json()["status"]


def _create(hub, out_trade_no: str, amount_fen: int = 10000, **extra) -> httpx.Response:
    payload = {
        "out_trade_no": out_trade_no,
        "amount_fen": amount_fen,
        "subject": "物业费",
        "channel": "wechat",
        **extra,
    }
    return hub.signed("POST", "/v1/pay-orders", payload)


def _jobs_ctx(hub, ahead: timedelta):
    return replace(hub.ctx, clock=FakeClock(hub.ctx.clock.now() + ahead), _uow=None)


def test_qr_payment_with_delayed_callback(hub_server, sim_server):
    sim_server.config(callback_delay_s=0.5)
    r = _create(hub_server, "QR-1", channel="alipay")
    assert r.status_code == 201, r.text
    order = r.json()
    assert order["status"] == "PAYING" and order["pay_info"]["code_url"].startswith("https://qr.alipay.com/")
    assert order["channel_trade_no"]
    again = _create(hub_server, "QR-1", channel="alipay")
    assert again.status_code == 200 and again.json()["order_no"] == order["order_no"]
    assert _create(hub_server, "QR-1", 10001, channel="alipay").status_code == 409
    assert sim_server.post(f"/sim/pay/{order['order_no']}").status_code == 200
    assert _status(hub_server, "QR-1") == "PAYING"  # the callback is still on its way
    wait_for(lambda: _status(hub_server, "QR-1") == "SUCCESS")
    assert get_balance(hub_server.ctx, "PAYHUB", "2202.ext").balance_fen == 10000
    assert get_balance(hub_server.ctx, "PAYHUB", "6602.fee").balance_fen == 60


def test_duplicate_and_forged_callbacks(hub_server, sim_server):
    sim_server.config(duplicate_callbacks=True)
    order = _create(hub_server, "DUP-1").json()
    sim_server.post(f"/sim/pay/{order['order_no']}")
    wait_for(lambda: len(services.list_callbacks(hub_server.ctx, order_no=order["order_no"])) == 2)
    outcomes = sorted(
        c["outcome"] for c in services.list_callbacks(hub_server.ctx, order_no=order["order_no"])
    )
    assert outcomes == ["ACCEPTED", "DUPLICATE"]
    assert get_balance(hub_server.ctx, "PAYHUB", "2202.ext").balance_fen == 10000  # booked once

    other = _create(hub_server, "FORGE-1", 500).json()
    body = json.dumps(
        {
            "channel": "wechat",
            "mch_id": "anju",
            "out_trade_no": other["order_no"],
            "channel_trade_no": "x",
            "amount_fen": 500,
            "fee_fen": 3,
            "status": "SUCCESS",
            "paid_at": "2026-11-25T10:00:00+00:00",
        }
    ).encode()
    url = hub_server.url + "/v1/channels/wechat/notify"
    forged = httpx.post(url, content=body, headers={"X-Sim-Signature": "0" * 64})
    assert forged.status_code == 400
    wrong_amount = body.replace(b'"amount_fen": 500', b'"amount_fen": 5')
    signed = httpx.post(
        url, content=wrong_amount, headers={"X-Sim-Signature": rules.sim_sign(SIM_KEY, wrong_amount)}
    )
    assert signed.status_code == 400
    assert httpx.post(hub_server.url + "/v1/channels/nope/notify", content=b"junk").status_code == 400
    assert _status(hub_server, "FORGE-1") == "PAYING"
    kinds = [c["outcome"] for c in services.list_callbacks(hub_server.ctx, order_no=other["order_no"])]
    assert kinds == ["MISMATCH"]
    assert any(c["outcome"] == "FORGED" for c in services.list_callbacks(hub_server.ctx))


def test_channel_timeout_leaves_unknown_resolved_by_query_job(hub_server, sim_server):
    sim_server.config(timeout_next_orders=1, hang_s=4, fail_rate=1.0)  # every callback is lost
    r = _create(hub_server, "TMO-1")
    assert r.status_code == 201 and r.json()["status"] == "UNKNOWN"
    order_no = r.json()["order_no"]
    ahead = _jobs_ctx(hub_server, timedelta(seconds=30))
    report = jobs.run_once(ahead, channels=hub_server.channels)
    assert report.orders_queried == 1 and _status(hub_server, "TMO-1") == "PAYING"  # the channel knows it
    sim_server.post(f"/sim/pay/{order_no}")
    report = jobs.run_once(_jobs_ctx(hub_server, timedelta(seconds=60)), channels=hub_server.channels)
    assert report.orders_resolved == 1 and _status(hub_server, "TMO-1") == "SUCCESS"
    history = [(e.from_status, e.to_status) for e in services.order_history(hub_server.ctx, order_no)]
    assert history == [
        (None, "CREATED"),
        ("CREATED", "UNKNOWN"),
        ("UNKNOWN", "PAYING"),
        ("PAYING", "SUCCESS"),
    ]


def test_expired_order_is_closed_at_the_channel_too(hub_server, sim_server):
    order = _create(hub_server, "EXP-1", expire_minutes=1).json()
    assert jobs.close_expired(_jobs_ctx(hub_server, timedelta(seconds=30)), channels=hub_server.channels) == 0
    assert jobs.close_expired(_jobs_ctx(hub_server, timedelta(minutes=2)), channels=hub_server.channels) == 1
    assert _status(hub_server, "EXP-1") == "CLOSED"
    assert sim_server.post(f"/sim/pay/{order['order_no']}").status_code == 409
    assert hub_server.signed("POST", "/v1/pay-orders/EXP-1/close").status_code == 409


def _paid(hub, sim, out_trade_no: str, amount_fen: int = 10000) -> dict:
    order = _create(hub, out_trade_no, amount_fen).json()
    sim.post(f"/sim/pay/{order['order_no']}")
    wait_for(lambda: _status(hub, out_trade_no) == "SUCCESS")
    return order


def test_partial_full_and_racing_refunds(hub_server, sim_server):
    _paid(hub_server, sim_server, "REF-1")
    r1 = hub_server.signed(
        "POST",
        "/v1/refunds",
        {"out_trade_no": "REF-1", "out_refund_no": "RF-1", "amount_fen": 2500, "reason": "退一部分"},
    )
    assert r1.status_code == 201 and r1.json()["status"] == "SUCCESS"
    repeat = hub_server.signed(
        "POST",
        "/v1/refunds",
        {"out_trade_no": "REF-1", "out_refund_no": "RF-1", "amount_fen": 2500, "reason": "退一部分"},
    )
    assert repeat.status_code == 200 and repeat.json()["refund_no"] == r1.json()["refund_no"]
    assert _status(hub_server, "REF-1") == "PARTIALLY_REFUNDED"

    results: list[int] = []

    def racer(i: int) -> None:
        resp = hub_server.signed(
            "POST",
            "/v1/refunds",
            {"out_trade_no": "REF-1", "out_refund_no": f"RACE-{i}", "amount_fen": 3000, "reason": "race"},
        )
        results.append(resp.status_code)

    threads = [threading.Thread(target=racer, args=(i,)) for i in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(results) == [201, 201, 400, 400, 400, 400]  # 2500 + 2 × 3000 = 8500 of 10000
    last = hub_server.signed(
        "POST",
        "/v1/refunds",
        {"out_trade_no": "REF-1", "out_refund_no": "RF-END", "amount_fen": 1500, "reason": "退清"},
    )
    assert last.status_code == 201
    assert _status(hub_server, "REF-1") == "REFUNDED"
    assert hub_server.signed("GET", "/v1/refunds/RF-END").json()["status"] == "SUCCESS"
    assert get_balance(hub_server.ctx, "PAYHUB", "2202.ext").balance_fen == 0
    assert get_balance(hub_server.ctx, "PAYHUB", "6602.fee").balance_fen == 0


class _ReceiverServer(HTTPServer):
    """A business system's notify endpoint: checks the signature, records each notice, answers SUCCESS."""

    def __init__(self, port: int, secret: str) -> None:
        super().__init__(("127.0.0.1", port), _Receiver)
        self.secret = secret
        self.received: list[dict] = []


class _Receiver(BaseHTTPRequestHandler):
    server: _ReceiverServer

    def do_POST(self):
        body = self.rfile.read(int(self.headers["Content-Length"]))
        ok = rules.signature_ok(
            self.server.secret,
            "POST",
            self.path,
            self.headers["X-Anju-Timestamp"],
            self.headers["X-Anju-Nonce"],
            body,
            self.headers["X-Anju-Signature"],
        )
        if ok:
            self.server.received.append(json.loads(body))
        self.send_response(200 if ok else 401)
        self.end_headers()
        self.wfile.write(b"SUCCESS" if ok else b"bad signature")

    def log_message(self, *args):
        pass


def test_notification_receiver_down_then_up_gets_it_once(e2e_ctx, hub_server, sim_server):
    port = free_port()
    app_id, secret = services.add_app(e2e_ctx, "外部系统", f"http://127.0.0.1:{port}/notify", app_id="ext2")
    ctx = e2e_ctx
    import time

    from hub.signing import sign_request

    payload = {"out_trade_no": "N-1", "amount_fen": 800, "subject": "s", "channel": "wechat"}
    body = json.dumps(payload).encode()
    r = httpx.post(
        hub_server.url + "/v1/pay-orders",
        content=body,
        headers=sign_request(app_id, secret, "POST", "/v1/pay-orders", body, int(time.time())),
    )
    order_no = r.json()["order_no"]
    sim_server.post(f"/sim/pay/{order_no}")
    wait_for(lambda: services.get_order(ctx, order_no=order_no).status == "SUCCESS")

    assert notify.deliver_http_due(ctx) == 0  # receiver down: connection refused
    [n] = notify.list_notifications(ctx, object_no=order_no)
    assert n["status"] == "PENDING" and n["attempts"] == 1 and "Connect" in n["last_error"]

    server = _ReceiverServer(port, secret)
    t = threading.Thread(target=server.serve_forever, daemon=True)
    t.start()
    try:
        assert notify.deliver_http_due(ctx) == 0  # not due yet: next attempt after 15 s
        later = replace(ctx, clock=FakeClock(ctx.clock.now() + timedelta(seconds=16)), _uow=None)
        assert notify.deliver_http_due(later) == 1
        much_later = replace(ctx, clock=FakeClock(ctx.clock.now() + timedelta(hours=2)), _uow=None)
        assert notify.deliver_http_due(much_later) == 0
        assert [m["order_no"] for m in server.received] == [order_no]
        assert server.received[0]["status"] == "SUCCESS"
    finally:
        server.shutdown()
