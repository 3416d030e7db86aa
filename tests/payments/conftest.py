"""Fixtures for the payment hub tests: a site with the PAYHUB book, an app, a cashier with an open shift."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from core.clock import SystemClock
from core.context import Actor, Context
from core.payments import services, shifts


def cashier_actor(name: str = "cashier1") -> Actor:
    from core.security.permissions import BUILTIN_ROLES

    patterns = frozenset(BUILTIN_ROLES["cashier"].patterns)
    return Actor(user_id=None, username=name, display_name=name, roles=("cashier",), permissions=patterns)


@pytest.fixture
def pay_ctx(ctx):
    services.ensure_payhub_books(ctx)
    services.add_app(ctx, "物业", app_id="property")
    return ctx


@pytest.fixture
def counter_ctx(pay_ctx):
    """The same site, acting as a cashier with an open shift (float ¥200)."""
    c = pay_ctx.as_actor(cashier_actor())
    shifts.open_shift(c, 20000)
    return c


# ------------------------------------------------------------------------------------ end-to-end servers

REPO = Path(__file__).resolve().parents[2]
SIM_MCH = "anju"
SIM_KEY = "test-merchant-key-0001"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(predicate, timeout_s: float = 10.0, interval_s: float = 0.05):
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval_s)
    raise AssertionError("condition not met in time")


@dataclass
class Sim:
    url: str
    proc: subprocess.Popen

    def post(self, path: str, payload: dict | None = None) -> httpx.Response:
        return httpx.post(self.url + path, content=json.dumps(payload or {}).encode(), timeout=10)

    def config(self, **values) -> None:
        self.post("/sim/config", {"reset": True, **values}).raise_for_status()


@pytest.fixture(scope="session")
def sim_server():
    """The channel simulator as its own process on a free loopback port."""
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "hub.sim", "--port", str(port), "--merchant", f"{SIM_MCH}:{SIM_KEY}"], cwd=REPO
    )
    url = f"http://127.0.0.1:{port}"

    def up() -> bool:
        try:
            return httpx.get(url + "/sim/health", timeout=1).status_code == 200
        except httpx.HTTPError:
            return False

    try:
        wait_for(up, timeout_s=60)  # a loaded 2-core machine takes seconds to import it
        yield Sim(url, proc)
    finally:
        proc.terminate()
        proc.wait(timeout=10)


@dataclass
class Hub:
    url: str
    ctx: Context  # system actor, real clock
    channels: object
    secret: str
    app_id: str

    def signed(
        self, method: str, path: str, payload=None, *, body: bytes | None = None, **kw
    ) -> httpx.Response:
        from hub.signing import sign_request

        if body is None:
            body = b"" if payload is None else json.dumps(payload).encode()
        headers = sign_request(self.app_id, self.secret, method, path, body, int(time.time()), **kw)
        return httpx.request(method, self.url + path, content=body, headers=headers, timeout=15)


@pytest.fixture
def e2e_ctx(db, tmp_path):
    """A site on the real clock (the simulator and the hub's signatures use real time)."""
    from tests.conftest import make_site_context

    ctx = make_site_context(db, SystemClock(), tmp_path / "home")  # type: ignore[arg-type]
    services.ensure_payhub_books(ctx)
    return ctx


@pytest.fixture
def hub_server(e2e_ctx, sim_server):
    """The hub API served by uvicorn in a thread over the test database, talking to the simulator."""
    import uvicorn

    from core.payments.channels import ChannelConfig, Channels
    from hub.api import create_app

    sim_server.config()
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    channels = Channels(
        ChannelConfig(sim_url=sim_server.url, mch_id=SIM_MCH, mch_key=SIM_KEY, hub_url=url, timeout_s=2.0)
    )
    app_id, secret = services.add_app(e2e_ctx, "外部商户", app_id="ext")
    app = create_app(e2e_ctx.db, e2e_ctx.home, channels=channels, run_jobs=False)
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    wait_for(lambda: server.started, timeout_s=10)
    try:
        yield Hub(url, e2e_ctx, channels, secret, app_id)
    finally:
        server.should_exit = True
        thread.join(timeout=10)
