"""Fixtures for sync: the hub as its own uvicorn process on loopback (SQLite or PostgreSQL), enrolled sites on
SQLite, a transport that cuts connections, and the checks every fault test ends with."""

from __future__ import annotations

import itertools
import random
import shutil
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path

import httpx
import pytest
from sqlalchemy import select, text

from core.clock import FakeClock
from core.context import Context
from core.db.engine import Database
from core.ledger import services as ledger
from core.ledger.verify import verify as ledger_verify
from core.sync.client import enroll, site_totals
from core.sync.models import OutboxEvent
from hub.sync_api import hub_context
from hub.sync_apply import enroll_site, held_event_ids, hub_totals
from tests.conftest import make_site_context

ROOT = Path(__file__).resolve().parents[2]
_names = itertools.count(1)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class Hub:
    url: str
    db_url: str
    home: Path
    ctx: Context
    proc: subprocess.Popen | None = None

    def start(self, *, same_port: bool = False) -> None:
        """Start the hub process (again on the same port when asked, so enrolled sites find it)."""
        port = int(self.url.rsplit(":", 1)[1]) if same_port and self.url else _free_port()
        self.url = f"http://127.0.0.1:{port}"
        self.proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "hub.sync_api",
                "--db",
                self.db_url,
                "--home",
                str(self.home),
                "--port",
                str(port),
            ],
            cwd=ROOT,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        deadline = time.time() + 30
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"hub died: {self.proc.stderr.read().decode()[-2000:]}")
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                    return
            except OSError:
                time.sleep(0.05)
        raise RuntimeError("hub did not start")

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(timeout=10)


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def hub(request, tmp_path_factory):
    tmp = tmp_path_factory.mktemp("hub")
    if request.param == "sqlite":
        template = request.getfixturevalue("sqlite_template")
        shutil.copy(template, tmp / "hub.db")
        db_url = f"sqlite:///{tmp / 'hub.db'}"
    else:
        cluster = request.getfixturevalue("pg_cluster")
        name = f"hub_{next(_names)}_{id(request) % 100000}"
        with cluster.admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}" TEMPLATE anju_template'))
        db_url = cluster.url(name)
    home = tmp / "home"
    ctx = hub_context(db_url, home)
    h = Hub("", db_url, home, ctx)
    h.start()
    yield h
    h.stop()
    ctx.db.dispose()


@dataclass
class SiteUnderTest:
    name: str
    ctx: Context
    clock: FakeClock
    home: Path


def new_site(hub: Hub, tmp_path: Path, template: Path, name: str | None = None) -> SiteUnderTest:
    """A site on SQLite in its own directory (database at home/anju.db, so the CLI can run on it), enrolled."""
    name = name or f"site-{next(_names)}"
    home = tmp_path / name
    home.mkdir(parents=True)
    shutil.copy(template, home / "anju.db")
    clock = FakeClock(datetime.now(UTC).replace(microsecond=0))
    ctx = make_site_context(Database(f"sqlite:///{home / 'anju.db'}"), clock, home)
    enrolment = enroll_site(hub.ctx, name)
    enroll(ctx, hub.url, str(enrolment.site_id), enrolment.key)
    return SiteUnderTest(name, ctx, clock, home)


@pytest.fixture
def site(hub, tmp_path, sqlite_template) -> SiteUnderTest:
    s = new_site(hub, tmp_path, sqlite_template)
    yield s
    s.ctx.db.dispose()


BOOK = "PROP:C001"


def open_books(ctx: Context) -> None:
    ledger.ensure_book(ctx, BOOK, "物业费账簿", "property")
    ledger.ensure_account(ctx, BOOK, "1002", "银行存款", "asset")
    ledger.ensure_account(ctx, BOOK, "6001", "物业费收入", "income")


def post_entries(ctx: Context, count: int, rng: random.Random | None = None, day: date | None = None) -> None:
    rng = rng or random.Random(count)
    specs = [
        ledger.EntrySpec(
            book=BOOK,
            business_date=day or date(2026, 11, 1 + rng.randrange(20)),
            description=f"物业费 {i}",
            postings=[("1002", amount), ("6001", -amount)],
        )
        for i, amount in enumerate(rng.randrange(1, 1_000_000) for _ in range(count))
    ]
    if count == 1:
        ledger.post(ctx, specs[0])
    else:
        ledger.post_batch(ctx, specs)


class FlakyTransport(httpx.BaseTransport):
    """Cuts the connection at random points: before the request reaches the hub, or after the hub answered."""

    def __init__(
        self, rng: random.Random, p_before: float = 0.0, p_after: float = 0.0, after_n: int | None = None
    ):
        self.inner = httpx.HTTPTransport()
        self.rng = rng
        self.p_before = p_before
        self.p_after = p_after
        self.after_n = after_n  # cut (after the answer) exactly the n-th request, counting from 1
        self.count = 0

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        self.count += 1
        if self.rng.random() < self.p_before:
            raise httpx.ConnectError("cut before sending")
        response = self.inner.handle_request(request)
        response.read()
        if self.rng.random() < self.p_after or self.count == self.after_n:
            raise httpx.ReadError("cut before the answer arrived")
        return response

    def close(self) -> None:
        self.inner.close()


def assert_consistent(hub: Hub, s: SiteUnderTest) -> None:
    """Hub and site hold the same events (nothing missing, nothing doubled), the same ledger totals, and both
    ledgers verify."""
    with s.ctx.read() as session:
        local = [
            (r[0], r[1])
            for r in session.execute(
                select(OutboxEvent.site_seq, OutboxEvent.event_id).order_by(OutboxEvent.site_seq)
            )
        ]
    held = held_event_ids(hub.ctx, s.name)
    assert held == local
    _through, totals = site_totals(s.ctx)
    with hub.ctx.read() as session:
        from hub.sync_apply import _find_site

        site_id = _find_site(session, s.name).site_id
        ours = hub_totals(session, site_id)
        assert ledger_verify(session).ok
    assert {(r[0], r[1]): (r[2], r[3], r[4]) for r in totals} == ours
    with s.ctx.read() as session:
        result = ledger_verify(session)
        assert result.ok, result.problems
