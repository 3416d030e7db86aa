"""The channel simulator's HTTP app (FastAPI): per-channel order, refund and statement API signed with the
merchant key, payer actions (`POST /sim/pay/{order_no}`), behaviour settings (`POST /sim/config`).
Run it as its own process: `anju channel-sim serve --port P` or `python -m hub.sim --port P`.
"""

from __future__ import annotations

import asyncio
import hmac
import json
import os
from datetime import date

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response

from core.payments import rules
from hub.sim.store import CHANNELS, SimConfig, Store

BODY_MAX_BYTES = 65_536
DEFAULT_MERCHANTS = {"anju": "anju-sim-dev-key"}


def parse_merchants(spec: str | None) -> dict[str, str]:
    """ "id:key,id2:key2" → {id: key}; empty → the development merchant."""
    if not spec:
        return dict(DEFAULT_MERCHANTS)
    out: dict[str, str] = {}
    for part in spec.split(","):
        mch, _, key = part.strip().partition(":")
        if mch and key:
            out[mch] = key
    return out or dict(DEFAULT_MERCHANTS)


def _err(status: int, code: str, message: str = "") -> JSONResponse:
    return JSONResponse({"code": code, "message": message or code}, status_code=status)


def create_app(merchants: dict[str, str] | None = None) -> FastAPI:
    store = Store(merchants or parse_merchants(os.environ.get("ANJU_SIM_MERCHANTS")))
    app = FastAPI(title="Anju channel simulator", version="1")
    app.state.store = store

    async def verified(request: Request) -> tuple[str, dict] | JSONResponse:
        body = await request.body()
        if len(body) > BODY_MAX_BYTES:
            return _err(413, "BODY_TOO_LARGE")
        mch = request.headers.get("x-sim-mch", "")
        key = store.merchants.get(mch)
        given = request.headers.get("x-sim-signature", "")
        expected = (
            rules.sim_sign(key, rules.sim_request_message(request.method, request.url.path, body))
            if key
            else ""
        )
        if not key or not hmac.compare_digest(expected, given):
            return _err(401, "SIGN_ERROR", "signature verification failed")
        try:
            data = json.loads(body) if body else {}
        except ValueError:
            return _err(400, "INVALID_REQUEST", "body is not JSON")
        if not isinstance(data, dict):
            return _err(400, "INVALID_REQUEST", "body is not an object")
        return mch, data

    def channel_ok(channel: str) -> bool:
        return channel in CHANNELS

    @app.post("/{channel}/orders")
    async def create_order(channel: str, request: Request):
        if not channel_ok(channel):
            return _err(404, "NOT_FOUND")
        checked = await verified(request)
        if isinstance(checked, JSONResponse):
            return checked
        mch, data = checked
        order, error = store.create_order(channel, mch, data)
        if order is None:
            return _err(400, error)
        if store.take_timeout():
            # The order exists here, but the merchant's client gives up waiting: it must treat it as UNKNOWN.
            await asyncio.sleep(store.config.hang_s)
        return {
            "channel_trade_no": order.channel_trade_no,
            "status": order.status,
            "code_url": store.code_url(order),
        }

    @app.get("/{channel}/orders/{out_trade_no}")
    async def query_order(channel: str, out_trade_no: str, request: Request):
        checked = await verified(request)
        if isinstance(checked, JSONResponse):
            return checked
        order = store.orders.get((channel, out_trade_no))
        if order is None:
            return _err(404, "ORDERNOTEXIST")
        return order.public()

    @app.post("/{channel}/orders/{out_trade_no}/close")
    async def close_order(channel: str, out_trade_no: str, request: Request):
        checked = await verified(request)
        if isinstance(checked, JSONResponse):
            return checked
        order = store.close(channel, out_trade_no)
        if order is None:
            return _err(404, "ORDERNOTEXIST")
        return order.public()

    @app.post("/{channel}/refunds")
    async def refund(channel: str, request: Request):
        if not channel_ok(channel):
            return _err(404, "NOT_FOUND")
        checked = await verified(request)
        if isinstance(checked, JSONResponse):
            return checked
        rf, error = store.refund(channel, checked[1])
        if rf is None:
            return _err(400, error)
        return rf.public()

    @app.get("/{channel}/refunds/{out_refund_no}")
    async def query_refund(channel: str, out_refund_no: str, request: Request):
        checked = await verified(request)
        if isinstance(checked, JSONResponse):
            return checked
        rf = store.refunds.get((channel, out_refund_no))
        if rf is None:
            return _err(404, "REFUNDNOTEXIST")
        return rf.public()

    @app.get("/{channel}/statements/{day}")
    async def statement(channel: str, day: str):
        from hub.sim import statements

        try:
            when = date.fromisoformat(day)
        except ValueError:
            return _err(400, "INVALID_DATE")
        if channel not in ("wechat", "alipay"):
            return _err(404, "NOT_FOUND")
        trades, refunds = store.statement_records(channel, when)
        if channel == "wechat":
            return Response(
                statements.wechat_statement(when, trades, refunds), media_type="text/csv; charset=utf-8"
            )
        return Response(
            statements.alipay_statement(when, trades, refunds), media_type="text/csv; charset=gbk"
        )

    @app.post("/sim/pay/{order_no}")
    async def pay(order_no: str, request: Request):
        body = await request.body()
        result, payer = "success", ""
        if body:
            try:
                data = json.loads(body)
            except ValueError:
                return _err(400, "INVALID_REQUEST")
            if isinstance(data, dict):
                result = str(data.get("result", "success"))
                payer = str(data.get("payer", ""))[:64]
        if result not in ("success", "fail"):
            return _err(400, "INVALID_REQUEST", "result is success or fail")
        order = store.pay(order_no, result == "success", payer)
        if order is None:
            existing = store.find(order_no)
            if existing is None:
                return _err(404, "ORDERNOTEXIST")
            return _err(409, "ORDER_STATE", f"order is {existing.status}")
        store.schedule_callback(order)
        return order.public()

    @app.post("/sim/config")
    async def config(request: Request):
        try:
            data = json.loads(await request.body() or b"{}")
        except ValueError:
            return _err(400, "INVALID_REQUEST")
        if not isinstance(data, dict):
            return _err(400, "INVALID_REQUEST")
        known = set(SimConfig.__dataclass_fields__)
        values = {k: v for k, v in data.items() if k in known}
        if data.get("reset"):
            store.reset()
        cfg = store.set_config(**values)
        return cfg.__dict__

    @app.get("/sim/orders")
    async def orders():
        return [o.public() | {"channel": o.channel} for o in list(store.orders.values())[-1000:]]

    @app.get("/sim/health")
    async def health():
        return {"ok": True, "orders": len(store.orders), "callbacks_sent": store.callbacks_sent}

    return app


def serve(port: int, host: str = "127.0.0.1", merchants: dict[str, str] | None = None) -> None:
    import uvicorn

    uvicorn.run(create_app(merchants), host=host, port=port, log_level="warning", access_log=False)
