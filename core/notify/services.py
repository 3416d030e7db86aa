"""The notification outbox: services queue messages inside their own transaction (so a message exists exactly
when the change that caused it committed), and `deliver_pending` hands them to the channel's sender.

Senders are pluggable per channel. The built-in `RecordingSender` sends nothing over any network: it records
what it would have sent (tests and sites without an SMS contract read `sender.sent`). Delivery is at least once:
a crash between a send and its bookkeeping sends that message again on the next round.
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Protocol

from sqlalchemy import insert, select, update

from core.errors import ValidationError
from core.i18n import N_
from core.ids import new_id, new_ids
from core.notify.models import CHANNELS, Message

if TYPE_CHECKING:
    from core.context import Context
    from core.uow import UnitOfWork

PERM_VIEW = "notify.view"
PERM_SEND = "notify.send"
ATTEMPTS_MAX = 5
BATCH_MAX = 1000
SUBJECT_MAX_CHARS = 200
BODY_MAX_CHARS = 4000
SMS_BODY_MAX_CHARS = 500  # several SMS segments at most; a longer text belongs in the app
EVENT_QUEUED = "notify.message_queued"


@dataclass(frozen=True)
class Outgoing:
    """What a sender gets: the channel, recipient, decrypted address (a phone for SMS), subject and body."""

    id: uuid.UUID
    channel: str
    recipient: str
    address: str | None
    subject: str
    body: str


class SendFailed(Exception):
    """A sender could not deliver; the message is retried later (or fails after ATTEMPTS_MAX)."""


class Sender(Protocol):
    def send(self, message: Outgoing) -> str:
        """Deliver; return the provider's reference, or raise SendFailed."""
        ...


@dataclass
class RecordingSender:
    """Sends nothing: records each message it would send and answers with a made-up provider reference."""

    channel: str
    sent: list[Outgoing] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def send(self, message: Outgoing) -> str:
        with self._lock:
            self.sent.append(message)
            return f"{self.channel}-{len(self.sent)}"


_SENDERS: dict[str, Sender] = {channel: RecordingSender(channel) for channel in CHANNELS}


def set_sender(channel: str, sender: Sender) -> Sender:
    """Plug a sender in for a channel (an SMS gateway); returns the one it replaces."""
    if channel not in CHANNELS:
        raise ValueError(f"unknown channel {channel}")
    old, _SENDERS[channel] = _SENDERS[channel], sender
    return old


def sender(channel: str) -> Sender:
    return _SENDERS[channel]


@dataclass(frozen=True)
class NewMessage:
    """One message to queue with `enqueue_many`; the same fields as `enqueue`'s keywords."""

    channel: str
    recipient: str
    subject: str
    body: str
    source_type: str
    source_id: object
    address: str | None = None


def _check(m: NewMessage) -> None:
    if m.channel not in CHANNELS:
        raise ValidationError(
            N_("Unknown notification channel {channel}."), field="channel", channel=str(m.channel)
        )
    if not m.subject or len(m.subject) > SUBJECT_MAX_CHARS:
        raise ValidationError(
            N_("A message subject has 1 to {max} characters."), field="subject", max=SUBJECT_MAX_CHARS
        )
    limit = SMS_BODY_MAX_CHARS if m.channel == "sms" else BODY_MAX_CHARS
    if not m.body or len(m.body) > limit:
        raise ValidationError(N_("A message has 1 to {max} characters."), field="body", max=limit)
    if m.channel == "sms" and not m.address:
        raise ValidationError(N_("An SMS needs a phone number."), field="address")


def enqueue(
    uow: UnitOfWork,
    *,
    channel: str,
    recipient: str,
    subject: str,
    body: str,
    source_type: str,
    source_id: object,
    address: str | None = None,
) -> uuid.UUID:
    """Queue one message in the caller's transaction. SMS needs `address` (the phone), stored encrypted."""
    m = NewMessage(channel, recipient, subject, body, source_type, source_id, address)
    _check(m)
    row = Message(
        id=new_id(),
        channel=channel,
        recipient=str(recipient)[:200],
        address_enc=uow.ctx.pii.encrypt(address) if address else None,
        subject=subject,
        body=body,
        source_type=source_type,
        source_id=str(source_id),
        status="pending",
        attempts=0,
        created_at=uow.now,
        next_attempt_at=uow.now,
    )
    uow.session.add(row)
    return row.id


ENQUEUE_CHUNK = 5000


def enqueue_many(uow: UnitOfWork, messages: Sequence[NewMessage]) -> list[uuid.UUID]:
    """Queue many messages in the caller's transaction with one multi-row INSERT per chunk (no ORM objects).

    Every message is checked first: one bad message refuses them all and nothing is queued. Returns the ids
    in the order given.
    """
    for m in messages:
        _check(m)
    ids = new_ids(len(messages))
    now, pii = uow.now, uow.ctx.pii
    rows = [
        {
            "id": mid,
            "channel": m.channel,
            "recipient": str(m.recipient)[:200],
            "address_enc": pii.encrypt(m.address) if m.address else None,
            "subject": m.subject,
            "body": m.body,
            "source_type": m.source_type,
            "source_id": str(m.source_id),
            "status": "pending",
            "attempts": 0,
            "created_at": now,
            "next_attempt_at": now,
            "sent_at": None,
            "provider_ref": None,
            "last_error": None,
        }
        for mid, m in zip(ids, messages, strict=True)
    ]
    uow.session.flush()  # anything the caller added before goes first, as with `enqueue`
    for i in range(0, len(rows), ENQUEUE_CHUNK):
        uow.session.execute(insert(Message.__table__), rows[i : i + ENQUEUE_CHUNK])
    return ids


@dataclass(frozen=True)
class DeliveryResult:
    sent: int
    retrying: int
    failed: int


def _backoff(attempts: int) -> timedelta:
    return timedelta(minutes=2 ** min(attempts, 8))


def deliver_pending(ctx: Context, *, limit: int = 200) -> DeliveryResult:
    """One delivery round: every pending message that is due, through its channel's sender."""
    if isinstance(limit, bool) or not isinstance(limit, int) or not 1 <= limit <= BATCH_MAX:
        raise ValidationError(N_("A page holds 1 to {max} rows."), field="limit", max=BATCH_MAX)
    ctx.require(PERM_SEND)
    now = ctx.clock.now()
    with ctx.read(PERM_SEND) as s:
        due = (
            s.execute(
                select(Message)
                .where(Message.status == "pending", Message.next_attempt_at <= now)
                .order_by(Message.next_attempt_at, Message.id)
                .limit(limit)
            )
            .scalars()
            .all()
        )
        batch = [
            (
                m.id,
                m.attempts,
                Outgoing(
                    m.id,
                    m.channel,
                    m.recipient,
                    ctx.pii.decrypt(m.address_enc) if m.address_enc else None,
                    m.subject,
                    m.body,
                ),
            )
            for m in due
        ]
    sent = retrying = failed = 0
    for message_id, attempts, out in batch:
        try:
            ref, error = _SENDERS[out.channel].send(out), None
        except SendFailed as exc:
            ref, error = None, str(exc)[:400] or "send failed"
        with ctx.uow(PERM_SEND) as uow:
            values: dict = {"attempts": attempts + 1}
            if error is None:
                values.update(status="sent", sent_at=uow.now, provider_ref=str(ref)[:80], last_error=None)
                sent += 1
            elif attempts + 1 >= ATTEMPTS_MAX:
                values.update(status="failed", last_error=error)
                failed += 1
            else:
                values.update(last_error=error, next_attempt_at=uow.now + _backoff(attempts + 1))
                retrying += 1
            # Only a message still pending is touched: two delivery rounds never both book the same one.
            uow.session.execute(
                update(Message)
                .where(Message.id == message_id, Message.status == "pending", Message.attempts == attempts)
                .values(**values)
            )
    return DeliveryResult(sent, retrying, failed)


@dataclass(frozen=True)
class MessageView:
    id: uuid.UUID
    channel: str
    recipient: str
    subject: str
    status: str
    attempts: int
    created_at: datetime
    sent_at: datetime | None
    provider_ref: str | None
    last_error: str | None


def list_messages(
    ctx: Context,
    *,
    source_type: str | None = None,
    source_id: object = None,
    status: str | None = None,
    limit: int = 200,
) -> list[MessageView]:
    with ctx.read(PERM_VIEW) as s:
        q = select(Message).order_by(Message.created_at, Message.id).limit(min(max(int(limit), 1), BATCH_MAX))
        if source_type is not None:
            q = q.where(Message.source_type == source_type)
        if source_id is not None:
            q = q.where(Message.source_id == str(source_id))
        if status is not None:
            q = q.where(Message.status == status)
        return [
            MessageView(
                m.id,
                m.channel,
                m.recipient,
                m.subject,
                m.status,
                m.attempts,
                m.created_at,
                m.sent_at,
                m.provider_ref,
                m.last_error,
            )
            for m in s.execute(q).scalars()
        ]
