"""Benchmark: the back office answers keys while a bill run for 100,000 houses works (target: input handled
within 100 ms). The run is started from the bill-run screen (F10, Ctrl+R) as a clerk would; while it works,
keys are typed into the screen's period box and the time until each shows is measured. First with the run in
a worker thread (as before), then in its child process (now).

Run: .venv/bin/python bench/console_billrun_keys.py [houses]
"""

from __future__ import annotations

import asyncio
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
HOUSES = sys.argv[1] if len(sys.argv) > 1 else "100000"
sys.argv = [sys.argv[0], HOUSES]

from bench import property_billrun as pb  # noqa: E402

PASSWORD = "bench-pass-2026"


async def measure(ctx, period: str, threaded: bool) -> None:
    from textual.widgets import Input

    from console.app import AnjuApp
    from console.widgets import jobs
    from core.context import Actor, Context

    real_spec = jobs.context_spec
    if threaded:
        jobs.context_spec = lambda _ctx: None

    def factory() -> Context:
        return Context(db=ctx.db, actor=Actor.system(), clock=ctx.clock, home=ctx.home)

    app = AnjuApp(factory, idle_lock_s=None)
    try:
        async with app.run_test(size=(120, 40)) as pilot:
            await pilot.pause()
            app.screen.query_one("#username", Input).value = "boss"
            app.screen.query_one("#password", Input).value = PASSWORD
            app.screen.query_one("#password", Input).focus()
            await pilot.press("enter")
            await app.workers.wait_for_complete()
            await pilot.pause(0.5)
            await pilot.press("f10")
            await pilot.pause(0.5)
            screen = app.screen
            box = screen.query_one("#period", Input)
            box.value = period
            t_start = time.perf_counter()
            await pilot.press("ctrl+r")
            await pilot.pause(0.3)
            box.focus()
            box.action_end()
            latencies = []
            while screen.running and len(latencies) < 60:
                before = box.value
                t0 = time.perf_counter()
                # The box holds at most 7 characters: take one off, put one back.
                await pilot.press("backspace" if len(before) >= 7 else "0")
                while box.value == before and screen.running:
                    await asyncio.sleep(0.0005)
                if box.value != before:
                    latencies.append((time.perf_counter() - t0) * 1000)
                await asyncio.sleep(0.05)
            while screen.running:
                await asyncio.sleep(0.05)
            took = time.perf_counter() - t_start
            label = "in a thread (before) " if threaded else "in a process (after) "
            if latencies:
                print(
                    f"key latency during the bill run {label}: median {statistics.median(latencies):6.1f} ms, "
                    f"max {max(latencies):6.1f} ms over {len(latencies)} keys; run {took:.1f} s, "
                    f"{screen.last.bills_created if screen.last else 0:,} bills  (target < 100 ms)"
                )
            else:
                print(f"key latency during the bill run {label}: no key measured (run took {took:.1f} s)")
    finally:
        jobs.context_spec = real_spec


def main() -> None:
    from core.security import services as security

    with tempfile.TemporaryDirectory() as tmp:
        ctx = pb.build_site(Path(tmp))
        security.ensure_builtin_roles(ctx)
        security.add_user(ctx, "boss", PASSWORD, roles=["admin"])
        pb.build_houses(ctx)
        print(f"built {int(HOUSES):,} houses")
        asyncio.run(measure(ctx, "2026-10", threaded=True))
        asyncio.run(measure(ctx, "2026-11", threaded=False))


if __name__ == "__main__":
    main()
