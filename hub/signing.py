"""Request signing for the hub API: check X-Anju-App/Timestamp/Nonce/Signature against the app's secret and
refuse a nonce seen within the window.

Nonces are checked in memory (the hub is one server process). The nonce of an order creation is written to
pay_nonces in the order's own transaction; the others (and any whose request failed before its transaction
committed) are written in the background about once a second. On start the hub loads the nonces of the last
window back. A crash can forget at most the last second's read/refund nonces — and a replay of one of those
can still not pay twice, since order creation and refunds are idempotent on the app's own numbers.
"""

from __future__ import annotations

import secrets
import threading
from collections import OrderedDict
from collections.abc import Callable
from datetime import datetime, timedelta

from sqlalchemy import delete, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from core.context import Context
from core.payments import rules
from core.payments.models import PayNonce

NONCE_LEN_MAX = 64
APP_ID_MAX = 40
NONCES_IN_MEMORY_MAX = 1_000_000  # far above 300 s × any plausible request rate


class Unauthorized(Exception):
    """The request is unsigned, stale, replayed or wrongly signed."""


def sign_request(
    app_id: str, secret: str, method: str, path: str, body: bytes, now_s: int, nonce: str | None = None
) -> dict[str, str]:
    """The headers a client sends (used by tests, the bench and the notification sender)."""
    nonce = nonce or secrets.token_hex(16)
    ts = str(now_s)
    return {
        "X-Anju-App": app_id,
        "X-Anju-Timestamp": ts,
        "X-Anju-Nonce": nonce,
        "X-Anju-Signature": rules.sign(secret, method, path, ts, nonce, body),
    }


class NonceStore:
    """Nonces seen within the window: (app_id, nonce) → first seen; oldest first, so expiry is cheap."""

    def __init__(self) -> None:
        self._seen: OrderedDict[tuple[str, str], datetime] = OrderedDict()
        self._unsaved: list[tuple[str, str, datetime]] = []
        self._lock = threading.Lock()

    def add(self, app_id: str, nonce: str, now: datetime, *, save: bool = True) -> bool:
        """Record a nonce; False if it was already seen within the window. `save=False`: the caller writes it
        in its own transaction (or hands it back with `save_later` if that transaction does not commit)."""
        key = (app_id, nonce)
        cutoff = now - timedelta(seconds=2 * rules.SIGNATURE_WINDOW_S)
        with self._lock:
            while self._seen:
                oldest_at = next(iter(self._seen.values()))
                if oldest_at >= cutoff and len(self._seen) < NONCES_IN_MEMORY_MAX:
                    break
                self._seen.popitem(last=False)
            if key in self._seen:
                return False
            self._seen[key] = now
            if save:
                self._unsaved.append((app_id, nonce, now))
            return True

    def save_later(self, app_id: str, nonce: str, at: datetime) -> None:
        """Have the background flush write a nonce after all (writing it twice is harmless)."""
        with self._lock:
            self._unsaved.append((app_id, nonce, at))

    def load(self, ctx: Context) -> int:
        """Load the nonces of the last window from the database (at start-up)."""
        cutoff = ctx.clock.now() - timedelta(seconds=2 * rules.SIGNATURE_WINDOW_S)
        with ctx.read() as s:
            rows = s.execute(
                select(PayNonce.app_id, PayNonce.nonce, PayNonce.seen_at)
                .where(PayNonce.seen_at >= cutoff)
                .order_by(PayNonce.seen_at)
            ).all()
        with self._lock:
            for app_id, nonce, at in rows:
                self._seen.setdefault((app_id, nonce), at)
        return len(rows)

    def flush(self, ctx: Context) -> int:
        """Write the nonces not yet saved, and forget saved ones older than twice the window."""
        with self._lock:
            batch, self._unsaved = self._unsaved, []
        now = ctx.clock.now()
        try:
            with ctx.uow() as uow:
                if batch:
                    ins = pg_insert if uow.session.get_bind().dialect.name == "postgresql" else sqlite_insert
                    uow.session.execute(
                        ins(PayNonce).on_conflict_do_nothing(),
                        [{"app_id": a, "nonce": n, "seen_at": at} for a, n, at in batch],
                    )
                cutoff = now - timedelta(seconds=2 * rules.SIGNATURE_WINDOW_S)
                uow.session.execute(delete(PayNonce).where(PayNonce.seen_at < cutoff))
        except BaseException:
            with self._lock:  # not written: the next flush tries them again
                self._unsaved[:0] = batch
            raise
        return len(batch)


class Verifier:
    """Checks signatures with cached app secrets and the nonce store."""

    def __init__(self, secret_of: Callable[[str], str | None], nonces: NonceStore | None = None) -> None:
        self._secret_of = secret_of
        self._secrets: dict[str, str] = {}
        self._lock = threading.Lock()
        self.nonces = nonces or NonceStore()

    def _secret(self, app_id: str) -> str | None:
        with self._lock:
            if app_id in self._secrets:
                return self._secrets[app_id]
        value = self._secret_of(app_id)
        if value is not None:
            with self._lock:
                self._secrets[app_id] = value
        return value

    def verify(
        self, now: datetime, method: str, path: str, headers, body: bytes, *, save: bool = True
    ) -> str:
        """The app id of a correctly signed, fresh, first-seen request; Unauthorized otherwise. `save`: as
        for NonceStore.add."""
        app_id = headers.get("x-anju-app") or ""
        ts = headers.get("x-anju-timestamp") or ""
        nonce = headers.get("x-anju-nonce") or ""
        sig = headers.get("x-anju-signature") or ""
        if not app_id or not ts or not nonce or not sig:
            raise Unauthorized("missing signature headers")
        if len(app_id) > APP_ID_MAX or not 8 <= len(nonce) <= NONCE_LEN_MAX or not nonce.isascii():
            raise Unauthorized("malformed signature headers")
        if not rules.timestamp_fresh(ts, int(now.timestamp())):
            raise Unauthorized("stale timestamp")
        secret = self._secret(app_id)
        if secret is None or not rules.signature_ok(secret, method, path, ts, nonce, body, sig):
            raise Unauthorized("bad signature")
        if not self.nonces.add(app_id, nonce, now, save=save):
            raise Unauthorized("replayed nonce")
        return app_id


def prune_nonces(ctx: Context, now: datetime) -> int:
    """Forget stored nonces older than twice the window (a request that old is refused as stale anyway)."""
    cutoff = now - timedelta(seconds=2 * rules.SIGNATURE_WINDOW_S)
    with ctx.uow() as uow:
        return uow.session.execute(delete(PayNonce).where(PayNonce.seen_at < cutoff)).rowcount or 0
