"""Notifications of payment and refund results to the apps: durable rows in pay_notifications, delivered to
our own lines by in-process handlers (in the same transaction as the result, inside a savepoint) and to
external apps by a signed HTTP POST, retried with backoff until they answer 2xx with body SUCCESS.
"""

from __future__ import annotations

import json
import secrets
import threading
import uuid
from collections.abc import Callable
from datetime import timedelta
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from sqlalchemy import bindparam, insert, select, update

from core.errors import Conflict, NotFound, StateError
from core.i18n import N_
from core.ids import new_id
from core.payments import rules
from core.payments.models import PayApp, PayNotification, PayNotifyAttempt

if TYPE_CHECKING:
    import httpx

    from core.context import Context
    from core.uow import UnitOfWork

Handler = Callable[["UnitOfWork", dict[str, Any]], None]

PENDING, DELIVERED, GAVE_UP = "PENDING", "DELIVERED", "GAVE_UP"
DELIVER_BATCH_MAX = 100
HTTP_TIMEOUT_S = 5.0
CLAIM_LEASE = timedelta(seconds=60)  # a claimed notice is not picked up by another runner meanwhile
RESPONSE_KEEP_CHARS = 300

# app_id → handler for our own business lines, registered at import time by each line's package
# (property registers "mark bills paid"). Process-wide by nature, like the workflow handlers.
_HANDLERS: dict[str, Handler] = {}
_secret_cache: dict[str, str] = {}
_secret_lock = threading.Lock()


def register_handler(app_id: str, handler: Handler) -> None:
    """Deliver notices for `app_id` by calling `handler(uow, notice)` inside the transaction of the result."""
    _HANDLERS[app_id] = handler


def unregister_handler(app_id: str) -> None:
    _HANDLERS.pop(app_id, None)


def forget_secret(app_id: str) -> None:
    with _secret_lock:
        _secret_cache.pop(app_id, None)


def _run_handler_in(uow: UnitOfWork, handler: Handler, payload: dict[str, Any]) -> str | None:
    """Run a handler in a savepoint: its writes commit with the result, or vanish on error (returned)."""
    try:
        with uow.session.begin_nested():
            handler(uow, payload)
    except Exception as exc:  # a business line's bug must not undo a payment; the notice is retried
        return f"{type(exc).__name__}: {exc}"[:RESPONSE_KEEP_CHARS]
    return None


_NOTIFICATION_INSERT = insert(PayNotification.__table__)
_ATTEMPT_INSERT = insert(PayNotifyAttempt.__table__)
_APP_NOTIFY_URL = select(PayApp.__table__.c.notify_url).where(
    PayApp.__table__.c.app_id == bindparam("app_id")
)


def enqueue_in(
    uow: UnitOfWork,
    app_id: str,
    kind: str,
    object_no: str,
    status: str,
    payload: dict[str, Any],
    url: str | None,
    *,
    fresh: bool = False,
    handled_by_caller: bool = False,
) -> uuid.UUID | None:
    """Queue the notice of `object_no` reaching `status` (once: a repeat is ignored). An app with an
    in-process handler is told right here, in the same transaction; an external app by the retry job.
    `fresh`: the object was created in this transaction, so no earlier notice can exist.
    `handled_by_caller`: the business line itself acts on this result in the same transaction (the property
    counter settles the bills of the payment it takes), so the notice is recorded as delivered and no handler
    runs: the result is acted on once, and an error of that action undoes the whole transaction."""
    s = uow.session
    key = f"{kind}:{object_no}:{status}"
    if not fresh and s.execute(select(PayNotification.id).where(PayNotification.event_key == key)).first():
        return None
    handler = _HANDLERS.get(app_id)
    inprocess = handled_by_caller or handler is not None
    if not inprocess and url is None:
        url = s.execute(_APP_NOTIFY_URL, {"app_id": app_id}).scalar_one_or_none()
    notice = {"kind": kind, **payload}
    nid = new_id()
    row = {
        "id": nid,
        "event_key": key,
        "app_id": app_id,
        "kind": kind,
        "object_no": object_no,
        "url": None if inprocess else url,
        "payload": notice,
        "status": PENDING,
        "attempts": 0,
        "next_attempt_at": uow.now,
        "last_error": "",
        "delivered_at": None,
        "created_at": uow.now,
        "version": 1,
    }
    if inprocess:
        error = None if handler is None or handled_by_caller else _run_handler_in(uow, handler, notice)
        row["attempts"] = 1
        if error is None:
            row.update(status=DELIVERED, delivered_at=uow.now)
        else:
            row.update(last_error=error, next_attempt_at=rules.notify_next_at(uow.now, uow.now, 1) or uow.now)
        s.execute(_NOTIFICATION_INSERT, row)
        s.execute(
            _ATTEMPT_INSERT,
            {
                "id": new_id(),
                "notification_id": nid,
                "at": uow.now,
                "ok": error is None,
                "http_status": None,
                "response": HANDLED_BY_CALLER if handled_by_caller else "",
                "error": error or "",
            },
        )
    else:
        s.execute(_NOTIFICATION_INSERT, row)
    return nid


HANDLED_BY_CALLER = "handled by the caller in the same transaction"


# --------------------------------------------------------------------------------------------- retry delivery


def _finish_attempt_in(
    uow: UnitOfWork, n: PayNotification, ok: bool, http_status: int | None, response: str, error: str
) -> None:
    s = uow.session
    s.add(
        PayNotifyAttempt(
            id=new_id(),
            notification_id=n.id,
            at=uow.now,
            ok=ok,
            http_status=http_status,
            response=response[:RESPONSE_KEEP_CHARS],
            error=error[:RESPONSE_KEEP_CHARS],
        )
    )
    if ok:
        values: dict[str, Any] = {"status": DELIVERED, "delivered_at": uow.now, "last_error": ""}
    else:
        next_at = rules.notify_next_at(n.created_at, uow.now, n.attempts)
        values = {"last_error": (error or f"HTTP {http_status}: {response}")[:RESPONSE_KEEP_CHARS]}
        values.update({"status": GAVE_UP} if next_at is None else {"next_attempt_at": next_at})
    res = s.execute(
        update(PayNotification)
        .where(PayNotification.id == n.id, PayNotification.version == n.version)
        .values(version=n.version + 1, **values)
    )
    if res.rowcount != 1:
        raise Conflict(N_("The notification changed meanwhile; try again."))
    if not ok and next_at is None:
        uow.audit("payments.notify_gave_up", "pay_notification", n.event_key, after={"attempts": n.attempts})


def _due(uow: UnitOfWork, limit: int, inprocess: bool) -> list[PayNotification]:
    stmt = (
        select(PayNotification)
        .where(PayNotification.status == PENDING, PayNotification.next_attempt_at <= uow.now)
        .order_by(PayNotification.next_attempt_at)
        .limit(limit)
        .execution_options(populate_existing=True)
    )
    stmt = stmt.where(PayNotification.url.is_(None) if inprocess else PayNotification.url.is_not(None))
    return list(uow.session.execute(stmt).scalars())


def _give_up_if_stale(uow: UnitOfWork, n: PayNotification) -> bool:
    if uow.now - n.created_at > rules.NOTIFY_GIVE_UP_AFTER:
        uow.session.execute(
            update(PayNotification)
            .where(PayNotification.id == n.id, PayNotification.version == n.version)
            .values(status=GAVE_UP, version=n.version + 1)
        )
        uow.audit("payments.notify_gave_up", "pay_notification", n.event_key, after={"attempts": n.attempts})
        return True
    return False


def deliver_inprocess(ctx: Context, limit: int = DELIVER_BATCH_MAX) -> int:
    """Retry due notices of apps with in-process handlers; each in its own transaction. Returns delivered."""
    delivered = 0
    with ctx.read() as s:
        ids = [
            n
            for n in s.execute(
                select(PayNotification.id)
                .where(
                    PayNotification.status == PENDING,
                    PayNotification.url.is_(None),
                    PayNotification.next_attempt_at <= ctx.clock.now(),
                )
                .limit(limit)
            ).scalars()
        ]
    for nid in ids:
        with ctx.uow() as uow:
            n = uow.session.execute(
                select(PayNotification)
                .where(PayNotification.id == nid, PayNotification.status == PENDING)
                .execution_options(populate_existing=True)
            ).scalar_one_or_none()
            if n is None or _give_up_if_stale(uow, n):
                continue
            handler = _HANDLERS.get(n.app_id)
            if handler is None:
                continue  # this process does not carry that line; the process that does will deliver it
            claimed = uow.session.execute(
                update(PayNotification)
                .where(PayNotification.id == n.id, PayNotification.version == n.version)
                .values(attempts=n.attempts + 1, version=n.version + 1)
            )
            if claimed.rowcount != 1:
                continue
            # The ORM-enabled UPDATE has already brought `n` up to date (attempts, version).
            error = _run_handler_in(uow, handler, dict(n.payload))
            _finish_attempt_in(uow, n, error is None, None, "", error or "")
            delivered += error is None
    return delivered


def _signed_headers(secret: str, app_id: str, url: str, body: bytes, now_s: int) -> dict[str, str]:
    parts = urlsplit(url)
    path = parts.path or "/"
    ts = str(now_s)
    nonce = secrets.token_hex(16)
    return {
        "Content-Type": "application/json",
        "X-Anju-App": app_id,
        "X-Anju-Timestamp": ts,
        "X-Anju-Nonce": nonce,
        "X-Anju-Signature": rules.sign(secret, "POST", path, ts, nonce, body),
    }


def _secret(ctx: Context, app_id: str) -> str | None:
    from core.payments.services import app_secret

    with _secret_lock:
        cached = _secret_cache.get(app_id)
    if cached is not None:
        return cached
    value = app_secret(ctx, app_id)
    if value is not None:
        with _secret_lock:
            _secret_cache[app_id] = value
    return value


def deliver_http_due(ctx: Context, limit: int = DELIVER_BATCH_MAX, client: httpx.Client | None = None) -> int:
    """Send due notices to external apps: claim (lease), POST signed, record the attempt. Returns delivered."""
    import httpx

    with ctx.uow() as uow:
        claimed: list[tuple[uuid.UUID, str, str, dict]] = []
        for n in _due(uow, limit, inprocess=False):
            if _give_up_if_stale(uow, n):
                continue
            res = uow.session.execute(
                update(PayNotification)
                .where(PayNotification.id == n.id, PayNotification.version == n.version)
                .values(attempts=n.attempts + 1, version=n.version + 1, next_attempt_at=uow.now + CLAIM_LEASE)
            )
            if res.rowcount == 1:
                claimed.append((n.id, n.app_id, n.url or "", dict(n.payload)))
    if not claimed:
        return 0
    own = client is None
    client = client or httpx.Client(timeout=HTTP_TIMEOUT_S)
    delivered = 0
    try:
        for nid, app_id, url, payload in claimed:
            body = json.dumps(payload, ensure_ascii=False, separators=(",", ":"), default=str).encode()
            status: int | None = None
            text = ""
            error = ""
            secret = _secret(ctx, app_id)
            if secret is None:
                error = "app unknown or disabled"
            else:
                try:
                    resp = client.post(
                        url,
                        content=body,
                        headers=_signed_headers(secret, app_id, url, body, int(ctx.clock.now().timestamp())),
                    )
                    status, text = resp.status_code, resp.text[:RESPONSE_KEEP_CHARS]
                except httpx.HTTPError as exc:
                    error = f"{type(exc).__name__}: {exc}"
            ok = rules.notify_acknowledged(status, text)
            with ctx.uow() as uow:
                n = uow.session.execute(
                    select(PayNotification)
                    .where(PayNotification.id == nid)
                    .execution_options(populate_existing=True)
                ).scalar_one()
                if n.status != PENDING:
                    continue
                _finish_attempt_in(uow, n, ok, status, text, error)
            delivered += ok
    finally:
        if own:
            client.close()
    return delivered


def resend(ctx: Context, event_key: str) -> None:
    """An operator sends a notice again (also one delivered or given up): due now, attempts kept."""
    with ctx.uow("payments.manage") as uow:
        n = uow.session.execute(
            select(PayNotification).where(PayNotification.event_key == event_key)
        ).scalar_one_or_none()
        if n is None:
            raise NotFound(N_("There is no notification {key}."), key=event_key)
        res = uow.session.execute(
            update(PayNotification)
            .where(PayNotification.id == n.id, PayNotification.version == n.version)
            .values(status=PENDING, next_attempt_at=uow.now, created_at=uow.now, version=n.version + 1)
        )
        if res.rowcount != 1:
            raise StateError(N_("The notification changed meanwhile; try again."))
        uow.audit("payments.notify_resend", "pay_notification", event_key, before={"status": n.status})


def list_notifications(
    ctx: Context, *, object_no: str | None = None, status: str | None = None, limit: int = 100
) -> list[dict[str, Any]]:
    limit = max(1, min(int(limit), 1000))
    with ctx.read("payments.view") as s:
        stmt = select(PayNotification).order_by(PayNotification.created_at).limit(limit)
        if object_no:
            stmt = stmt.where(PayNotification.object_no == object_no)
        if status:
            stmt = stmt.where(PayNotification.status == status)
        return [
            {
                "event_key": n.event_key,
                "app_id": n.app_id,
                "url": n.url,
                "status": n.status,
                "attempts": n.attempts,
                "next_attempt_at": n.next_attempt_at,
                "last_error": n.last_error,
                "delivered_at": n.delivered_at,
            }
            for n in s.execute(stmt).scalars()
        ]
