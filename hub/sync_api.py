"""The sync endpoints of the hub (POST /sync/v1/...): a FastAPI router moving signed bytes to hub.sync_apply.

Mount on the hub app with `install_sync(app, ctx)`; `create_sync_app` and `python -m hub.sync_api` run the sync
endpoints alone (tests, and a hub that serves nothing else).
"""

from __future__ import annotations

import argparse
from pathlib import Path

from fastapi import APIRouter, FastAPI, Request, Response
from fastapi.concurrency import run_in_threadpool

from core.context import Context
from core.sync import protocol as p
from hub.sync_apply import HubReply, HubSync

router = APIRouter(prefix=p.PREFIX, tags=["sync"])


def _reply(reply: HubReply) -> Response:
    headers = {p.HEADER_SIGNATURE: reply.signature} if reply.signature else {}
    return Response(
        content=reply.body, status_code=reply.status, media_type="application/json", headers=headers
    )


async def _handle(request: Request, path: str) -> Response:
    hub: HubSync = request.app.state.hub_sync
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > p.BODY_BYTES_MAX:
        body = b"x" * (p.BODY_BYTES_MAX + 1)  # refused by size before being read
    else:
        body = await request.body()
    reply = await run_in_threadpool(
        hub.handle, path, request.headers.get(p.HEADER_SITE), request.headers.get(p.HEADER_SIGNATURE), body
    )
    return _reply(reply)


@router.post("/state")
async def state(request: Request) -> Response:
    return await _handle(request, p.PATH_STATE)


@router.post("/push")
async def push(request: Request) -> Response:
    return await _handle(request, p.PATH_PUSH)


@router.post("/events")
async def events(request: Request) -> Response:
    return await _handle(request, p.PATH_EVENTS)


@router.post("/reference")
async def reference(request: Request) -> Response:
    return await _handle(request, p.PATH_REFERENCE)


@router.post("/summary")
async def summary(request: Request) -> Response:
    return await _handle(request, p.PATH_SUMMARY)


def install_sync(app: FastAPI, ctx: Context) -> None:
    """Serve sync on `app` for the hub whose database and keys `ctx` holds."""
    app.state.hub_sync = HubSync(ctx)
    app.include_router(router)


def create_sync_app(ctx: Context) -> FastAPI:
    app = FastAPI(title="Anju hub sync", openapi_url=None)
    install_sync(app, ctx)
    return app


def hub_context(db_url: str, home: Path) -> Context:
    """A hub context: its database, its keys directory (made if missing), acting as the hub itself."""
    from core.clock import SystemClock
    from core.context import Actor
    from core.db.engine import Database
    from core.security.pii import ensure_keys
    from core.site import SiteHome

    site_home = SiteHome(home)
    ensure_keys(site_home.keys_dir)
    return Context(db=Database(db_url), actor=Actor.system("hub"), clock=SystemClock(), home=site_home)


def main(argv: list[str] | None = None) -> None:  # pragma: no cover - run as a process by the tests
    import uvicorn

    parser = argparse.ArgumentParser(description="Serve the hub's sync endpoints.")
    parser.add_argument("--db", required=True)
    parser.add_argument("--home", required=True, type=Path)
    parser.add_argument("--port", type=int, default=8790)
    parser.add_argument("--host", default="127.0.0.1")
    args = parser.parse_args(argv)
    app = create_sync_app(hub_context(args.db, args.home))
    uvicorn.run(app, host=args.host, port=args.port, log_level="warning", access_log=False)


if __name__ == "__main__":  # pragma: no cover
    main()
