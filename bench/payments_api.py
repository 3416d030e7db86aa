"""Benchmark: signed order creations per second against one hub server process, with 20 concurrent clients,
and their p99 latency (target: at least 300 per second).

Starts the channel simulator and `anju hub serve` as their own processes on free loopback ports over a fresh
SQLite site (or `--db URL`, e.g. a PostgreSQL database already migrated), then has 20 client threads each
send signed `POST /v1/pay-orders` (WeChat QR: the hub also calls the simulator for every order).

Besides the rate and latency it prints the CPU time each process spent per order (hub, simulator, the
clients), which is steadier than wall time on a shared machine, and the ceilings those figures imply: the hub
is one process, so its CPU per order bounds it (one core), and the three together share the machine's cores.
`--root DIR` starts the servers from another checkout (to compare before/after back to back).
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from hub.signing import sign_request  # noqa: E402

SIM_KEY = "bench-merchant-key"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_up(url: str, timeout_s: float = 60) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            httpx.get(url, timeout=1)
            return
        except httpx.HTTPError:
            time.sleep(0.2)
    raise SystemExit(f"{url} did not come up")


def cpu_s(pid: int) -> float:
    """User + system CPU seconds of a process so far (Linux)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--orders", type=int, default=3000)
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--db", default=None, help="database URL for the hub (default: a new SQLite site)")
    parser.add_argument("--root", default=None, help="start the servers from this checkout")
    args = parser.parse_args()
    root = Path(args.root).resolve() if args.root else ROOT

    from core.bootstrap import init_site
    from core.clock import SystemClock
    from core.context import Actor, Context
    from core.db.engine import Database
    from core.payments import services
    from core.site import SiteHome

    tmp = Path(tempfile.mkdtemp(prefix="anju-bench-api-"))
    home = SiteHome(tmp / "site")
    init_site(home, code="BENCH", name="bench", admin_user="admin", admin_password="Bench-pass-2026!")
    db = Database(args.db or home.db_url)
    ctx = Context(db=db, actor=Actor.system("bench"), clock=SystemClock(), home=home)
    services.ensure_payhub_books(ctx)
    app_id, secret = services.add_app(ctx, "bench", app_id="bench")
    db.dispose()

    sim_port, hub_port = free_port(), free_port()
    env = dict(
        os.environ,
        ANJU_CHANNEL_SIM_URL=f"http://127.0.0.1:{sim_port}",
        ANJU_CHANNEL_MCH_ID="anju",
        ANJU_CHANNEL_MCH_KEY=SIM_KEY,
        ANJU_HUB_URL=f"http://127.0.0.1:{hub_port}",
    )
    procs = [
        subprocess.Popen(
            [sys.executable, "-m", "hub.sim", "--port", str(sim_port), "--merchant", f"anju:{SIM_KEY}"],
            cwd=root,
            env=env,
        ),
        subprocess.Popen(
            [
                sys.executable,
                "-c",
                "from console.cli import main; main()",
                "--home",
                str(home.root),
                "hub",
                "serve",
                "--port",
                str(hub_port),
                "--no-jobs",
            ]
            + (["--db", args.db] if args.db else []),
            cwd=root,
            env=env,
        ),
    ]
    try:
        wait_up(f"http://127.0.0.1:{sim_port}/sim/health")
        wait_up(f"http://127.0.0.1:{hub_port}/openapi.json")
        per_client = args.orders // args.clients
        latencies: list[float] = []
        errors: list[int] = []
        lock = threading.Lock()

        def client(n: int) -> None:
            # One keep-alive connection per client, on the standard library's HTTP client: the clients share
            # the machine's cores with the hub and the simulator, so they should cost as little as possible.
            conn = http.client.HTTPConnection("127.0.0.1", hub_port, timeout=30)
            try:
                for i in range(per_client):
                    body = json.dumps(
                        {
                            "out_trade_no": f"B{n:02d}-{i:06d}",
                            "amount_fen": 100 + i,
                            "subject": "bench",
                            "channel": "wechat",
                        }
                    ).encode()
                    headers = sign_request(app_id, secret, "POST", "/v1/pay-orders", body, int(time.time()))
                    headers["Content-Type"] = "application/json"
                    t0 = time.perf_counter()
                    conn.request("POST", "/v1/pay-orders", body=body, headers=headers)
                    resp = conn.getresponse()
                    resp.read()
                    dt = (time.perf_counter() - t0) * 1000
                    with lock:
                        latencies.append(dt)
                        if resp.status != 201:
                            errors.append(resp.status)
            finally:
                conn.close()

        # warm-up
        client(99)
        latencies.clear()
        threads = [threading.Thread(target=client, args=(n,)) for n in range(args.clients)]
        cpu0 = [cpu_s(p.pid) for p in procs] + [time.process_time()]
        started = time.perf_counter()
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        elapsed = time.perf_counter() - started
        cpu1 = [cpu_s(p.pid) for p in procs] + [time.process_time()]
        latencies.sort()
        done = len(latencies)
        p99 = latencies[max(0, int(done * 0.99) - 1)]
        rate = done / elapsed
        print(f"signed order creations: {done} in {elapsed:.2f} s with {args.clients} clients: {rate:.0f}/s")
        print(
            f"latency median {statistics.median(latencies):.1f} ms, p99 {p99:.1f} ms; errors {len(errors)} {sorted(set(errors))}"
        )
        sim_ms, hub_ms, client_ms = ((b - a) * 1000 / done for a, b in zip(cpu0, cpu1, strict=True))
        total_ms = sim_ms + hub_ms + client_ms
        cores = os.cpu_count() or 1
        print(
            f"CPU per order: hub {hub_ms:.2f} ms, simulator {sim_ms:.2f} ms, clients {client_ms:.2f} ms; "
            f"ceilings: hub process {1000 / hub_ms:.0f}/s, all on {cores} cores {cores * 1000 / total_ms:.0f}/s"
        )
        print(f"target >= 300/s: {'met' if rate >= 300 else 'NOT met'}")
    finally:
        for p in procs:
            p.terminate()
        for p in procs:
            p.wait(timeout=10)


if __name__ == "__main__":
    main()
