"""The hub's HTTP API (FastAPI) for apps: signed requests to create, read and close payment orders and to
refund them, plus the channels' callback route. A thin adapter over core.payments.services; every error is a
JSON {"code", "message"} with a 4xx status, and no input makes it answer 500.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, PlainTextResponse
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import Route

from core.clock import Clock, SystemClock
from core.context import Actor, Context
from core.db.engine import Database
from core.db.groupcommit import GroupCommit
from core.errors import AnjuError, Conflict, NotFound, PermissionDenied, StateError, ValidationError
from core.payments import jobs, services
from core.payments.channels import Channels, default_channels
from core.site import SiteHome
from hub.signing import Unauthorized, Verifier

log = logging.getLogger("anju.hub")

BODY_MAX_BYTES = 65_536
APP_PERMISSIONS = frozenset({"payments.pay", "payments.refund", "payments.view"})
ORDER_FIELDS = {
    "out_trade_no",
    "amount_fen",
    "subject",
    "channel",
    "method",
    "payer",
    "expire_minutes",
    "notify_url",
    "metadata",
}
REFUND_FIELDS = {"out_trade_no", "out_refund_no", "amount_fen", "reason"}
NONCE_FLUSH_EVERY_S = 1.0


class ApiError(Exception):
    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


def _status_of(err: AnjuError) -> int:
    if isinstance(err, ValidationError):
        return 400
    if isinstance(err, NotFound):
        return 404
    if isinstance(err, Conflict | StateError):
        return 409
    if isinstance(err, PermissionDenied):
        return 403
    return 400


def _json_object(body: bytes, allowed: set[str]) -> dict[str, Any]:
    try:
        data = json.loads(body)
    except (ValueError, RecursionError):
        raise ApiError(400, "invalid_json", "The body is not valid JSON.") from None
    if not isinstance(data, dict):
        raise ApiError(400, "invalid_json", "The body must be a JSON object.")
    unknown = sorted(set(data) - allowed)
    if unknown:
        raise ApiError(400, "invalid", f"Unknown fields: {', '.join(unknown)[:200]}.")
    return data


def create_app(
    db: Database,
    home: SiteHome | None,
    *,
    clock: Clock | None = None,
    channels: Channels | None = None,
    run_jobs: bool = False,
    jobs_interval_s: float = 1.0,
) -> FastAPI:
    clock = clock or SystemClock()
    channels = channels or default_channels()
    system = Context(db=db, actor=Actor.system("hub"), clock=clock, home=home)
    site, pii = system.site, system.pii  # loaded once, shared by every request's context

    def context(actor: Actor) -> Context:
        return Context(db=db, actor=actor, clock=clock, home=home, _site=site, _pii=pii)

    verifier = Verifier(lambda app_id: services.app_secret(context(Actor.system("hub")), app_id))
    verifier.nonces.load(system)
    # Orders' transactions are applied by one writer thread, several requests per durable commit.
    writer = GroupCommit(db, name="anju-hub-writer")
    stop = threading.Event()

    def background_loop() -> None:
        last_jobs = 0.0
        while not stop.wait(NONCE_FLUSH_EVERY_S):
            try:
                verifier.nonces.flush(context(Actor.system("hub")))
            except Exception:  # keep the loop alive; the next round retries
                log.exception("nonce flush failed")
            if run_jobs and time.monotonic() - last_jobs >= jobs_interval_s:
                last_jobs = time.monotonic()
                try:
                    jobs.run_once(context(Actor.system("hub-jobs")), channels=channels)
                except Exception:
                    log.exception("payment jobs failed")

    @asynccontextmanager
    async def lifespan(_app: FastAPI):
        thread = threading.Thread(target=background_loop, name="anju-hub-background", daemon=True)
        thread.start()
        yield
        stop.set()
        thread.join(timeout=10)
        writer.close()
        verifier.nonces.flush(context(Actor.system("hub")))

    app = FastAPI(
        title="Anju payment hub",
        version="1",
        description="Signed API for apps: headers X-Anju-App, X-Anju-Timestamp, X-Anju-Nonce, X-Anju-Signature "
        "= hex HMAC-SHA256(secret, METHOD\\nPATH\\nTIMESTAMP\\nNONCE\\nhex(SHA-256(body))).",
        lifespan=lifespan,
    )

    @app.exception_handler(ApiError)
    async def _api_error(_request: Request, exc: ApiError):
        return JSONResponse({"code": exc.code, "message": exc.message}, status_code=exc.status)

    @app.exception_handler(AnjuError)
    async def _domain_error(request: Request, exc: AnjuError):
        lang = "zh_CN" if "zh" in request.headers.get("accept-language", "") else "en"
        return JSONResponse(exc.to_dict(lang), status_code=_status_of(exc))

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(_request: Request, exc: StarletteHTTPException):
        code = {404: "not_found", 405: "method_not_allowed"}.get(exc.status_code, "error")
        status = exc.status_code if 400 <= exc.status_code < 500 else 400
        return JSONResponse({"code": code, "message": str(exc.detail)}, status_code=status)

    @app.exception_handler(RequestValidationError)
    async def _validation_error(_request: Request, exc: RequestValidationError):
        return JSONResponse({"code": "invalid", "message": "The request is not valid."}, status_code=400)

    @app.exception_handler(Exception)
    async def _unexpected(_request: Request, exc: Exception):
        # A fault on our side (database unavailable, a bug): logged, answered as "try again", never a 500.
        log.exception("unexpected error", exc_info=exc)
        return JSONResponse(
            {"code": "unavailable", "message": "The service is unavailable; try again later."},
            status_code=503,
        )

    async def authenticated(request: Request, *, own_nonce: bool = False) -> tuple[Context, bytes]:
        """`own_nonce`: the service records the request's nonce in its own transaction (ctx.request_nonce);
        the caller hands it to the background flush if the service fails."""
        body = await request.body()
        if len(body) > BODY_MAX_BYTES:
            raise ApiError(413, "too_large", "The body is too large.")
        now = clock.now()
        try:
            app_id = verifier.verify(
                now, request.method, request.url.path, request.headers, body, save=not own_nonce
            )
        except Unauthorized as exc:
            raise ApiError(401, "unauthorized", f"The request signature was refused: {exc}.") from None
        actor = Actor(
            user_id=None,
            username=f"app:{app_id}",
            display_name=app_id,
            roles=("app",),
            permissions=APP_PERMISSIONS,
        )
        ctx = context(actor)
        ctx.app_id = app_id  # type: ignore[attr-defined]
        ctx.request_nonce = (request.headers.get("x-anju-nonce") or "", now)  # type: ignore[attr-defined]
        return ctx, body

    def _app_id(ctx: Context) -> str:
        return ctx.app_id  # type: ignore[attr-defined]

    async def call(fn: Callable[[], Any]) -> Any:
        # Services run on the worker threads. SQLite writers of this process queue on the database's write
        # lock (held only by a transaction, never across a channel call), so orders' channel calls overlap.
        # An order's two transactions go to the group-commit writer instead: one durable commit (one fsync)
        # serves every order waiting at that moment.
        return await run_in_threadpool(fn)

    @app.post("/v1/pay-orders", status_code=201, summary="Create a payment order")
    async def create_pay_order(request: Request):
        ctx, body = await authenticated(request, own_nonce=True)
        nonce, seen_at = ctx.request_nonce  # type: ignore[attr-defined]
        try:
            data = _json_object(body, ORDER_FIELDS)
            view, created = await call(
                lambda: services.create_order(
                    ctx,
                    _app_id(ctx),
                    data.get("out_trade_no"),
                    data.get("amount_fen"),
                    data.get("subject"),
                    channel=data.get("channel"),
                    method=data.get("method"),
                    payer=data.get("payer"),
                    expire_minutes=data.get("expire_minutes"),
                    notify_url=data.get("notify_url"),
                    metadata=data.get("metadata"),
                    channels=channels,
                    request_nonce=(nonce, seen_at),
                    writer=writer,
                )
            )
        except BaseException:
            # Refused before the order's transaction committed (or after: a second write is harmless).
            verifier.nonces.save_later(_app_id(ctx), nonce, seen_at)
            raise
        return JSONResponse(view.api_dict(), status_code=201 if created else 200)

    # The busiest route is served by a plain Starlette route ahead of the FastAPI one, which stays for the
    # OpenAPI schema: the handler reads the raw body itself, so FastAPI's per-request dependency solving
    # would only cost time. The same exception handlers answer its errors.
    app.router.routes.insert(
        0, Route("/v1/pay-orders", create_pay_order, methods=["POST"], include_in_schema=False)
    )

    @app.get("/v1/pay-orders/{out_trade_no}", summary="Read a payment order")
    async def get_pay_order(out_trade_no: str, request: Request):
        ctx, _ = await authenticated(request)
        view = await call(lambda: services.get_order(ctx, app_id=_app_id(ctx), out_trade_no=out_trade_no))
        return view.api_dict()

    @app.post("/v1/pay-orders/{out_trade_no}/close", summary="Close an unpaid payment order")
    async def close_pay_order(out_trade_no: str, request: Request):
        ctx, _ = await authenticated(request)
        view = await call(lambda: services.close_order(ctx, _app_id(ctx), out_trade_no, channels=channels))
        return view.api_dict()

    @app.post("/v1/refunds", status_code=201, summary="Refund (part of) a paid order")
    async def create_refund(request: Request):
        ctx, body = await authenticated(request)
        data = _json_object(body, REFUND_FIELDS)
        view, created = await call(
            lambda: services.refund(
                ctx,
                _app_id(ctx),
                data.get("out_trade_no"),
                data.get("out_refund_no"),
                data.get("amount_fen"),
                data.get("reason"),
                channels=channels,
            )
        )
        return JSONResponse(view.api_dict(), status_code=201 if created else 200)

    @app.get("/v1/refunds/{out_refund_no}", summary="Read a refund")
    async def get_refund(out_refund_no: str, request: Request):
        ctx, _ = await authenticated(request)
        view = await call(lambda: services.get_refund(ctx, app_id=_app_id(ctx), out_refund_no=out_refund_no))
        return view.api_dict()

    @app.post("/v1/channels/{channel}/notify", summary="Channel callback (signed by the channel)")
    async def channel_notify(channel: str, request: Request):
        body = await request.body()
        if len(body) > BODY_MAX_BYTES:
            raise ApiError(413, "too_large", "The body is too large.")
        headers = dict(request.headers)
        outcome = await call(
            lambda: services.handle_callback(
                context(Actor.system(f"channel:{channel[:20]}")), channel, headers, body, channels=channels
            )
        )
        if outcome in (services.CALLBACK_FORGED, services.CALLBACK_MISMATCH):
            return JSONResponse(
                {"code": outcome.lower(), "message": "The callback was refused."}, status_code=400
            )
        return PlainTextResponse("SUCCESS")

    from hub.sync_api import install_sync

    install_sync(app, system)  # sites push their outbox and pull reference data on the same server
    app.state.writer = writer
    return app


def serve(
    db: Database, home: SiteHome | None, port: int, host: str = "127.0.0.1", *, run_jobs: bool = True
) -> None:
    import uvicorn

    uvicorn.run(
        create_app(db, home, run_jobs=run_jobs), host=host, port=port, log_level="warning", access_log=False
    )
