"""The site ⇄ hub wire protocol: signed JSON bodies, limits, and the error codes both sides speak.

A request body is canonical JSON carrying the site id, a random nonce and the site's clock (`sent_at`); its
signature is HMAC-SHA256 with the site key over a domain tag, the request path and the exact body bytes, sent
in the `X-Anju-Signature` header. The hub signs its answers the same way (another tag) and echoes the nonce,
so the site can trust the high-water mark and the reference data it receives.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from core.errors import AnjuError
from core.i18n import N_
from core.jsonutil import canonical_json

PROTOCOL = "v1"
PREFIX = "/sync/v1"
PATH_STATE = f"{PREFIX}/state"
PATH_PUSH = f"{PREFIX}/push"
PATH_EVENTS = f"{PREFIX}/events"
PATH_REFERENCE = f"{PREFIX}/reference"
PATH_SUMMARY = f"{PREFIX}/summary"

HEADER_SITE = "X-Anju-Site"
HEADER_SIGNATURE = "X-Anju-Signature"

KEY_BYTES = 32
NONCE_BYTES = 16
# A site clock may be this far from the hub's and still be accepted (a clock set to local time as if it
# were UTC is 8 hours off); older batches are refused as stale, and nonces are kept twice this long.
CLOCK_WINDOW_S = 48 * 3600
BATCH_EVENTS_MAX = 5000
BATCH_BYTES_TARGET = 4 * 1024 * 1024
BODY_BYTES_MAX = 16 * 1024 * 1024
PAGE_EVENTS_MAX = 5000
PAGE_REFERENCE_MAX = 1000
SUMMARY_ROWS_MAX = 200_000

_REQUEST_TAG = b"anju-sync-v1-request\n"
_RESPONSE_TAG = b"anju-sync-v1-response\n"

# Refusal codes and the HTTP status the hub answers them with.
UNSIGNED = "unsigned"
BAD_SIGNATURE = "bad_signature"
UNKNOWN_SITE = "unknown_site"
SITE_DISABLED = "site_disabled"
MALFORMED = "malformed"
TOO_LARGE = "too_large"
STALE = "stale"
REPLAYED = "replayed"
OUT_OF_ORDER = "out_of_order"
GAP = "gap"
REGRESSION = "regression"
CONFLICT = "conflict"  # a record the hub holds with other content: the batch is held for an operator
HTTP_STATUS = {
    UNSIGNED: 401,
    BAD_SIGNATURE: 401,
    UNKNOWN_SITE: 401,
    SITE_DISABLED: 403,
    MALFORMED: 400,
    TOO_LARGE: 413,
    STALE: 409,
    REPLAYED: 409,
    OUT_OF_ORDER: 400,
    GAP: 409,
    REGRESSION: 409,
    CONFLICT: 409,
}


class SyncError(AnjuError):
    """A sync request refused (by the hub or the site) or a hub that cannot be reached; `code` says which."""

    code = "sync"
    default_message = N_("The sync with the hub failed.")


class SyncRefused(SyncError):
    """The hub refused a request; `code` is one of the refusal codes above."""


def new_key() -> bytes:
    return secrets.token_bytes(KEY_BYTES)


def new_nonce() -> str:
    return secrets.token_hex(NONCE_BYTES)


def parse_key(text: str) -> bytes:
    """A site key as written by `anju hub sites enroll`: 64 hex digits."""
    value = text.strip()
    try:
        key = bytes.fromhex(value)
    except ValueError:
        key = b""
    if len(key) != KEY_BYTES:
        raise SyncError(N_("A site key is 64 hexadecimal digits."), code="bad_key")
    return key


def _mac(key: bytes, tag: bytes, path: str, body: bytes) -> str:
    return hmac.new(key, tag + path.encode("ascii") + b"\n" + body, hashlib.sha256).hexdigest()


def sign_request(key: bytes, path: str, body: bytes) -> str:
    return f"{PROTOCOL}={_mac(key, _REQUEST_TAG, path, body)}"


def sign_response(key: bytes, path: str, body: bytes) -> str:
    return f"{PROTOCOL}={_mac(key, _RESPONSE_TAG, path, body)}"


def _check(expected: str, given: str | None) -> bool:
    return given is not None and hmac.compare_digest(expected.encode(), given.strip().encode())


def request_signature_ok(key: bytes, path: str, body: bytes, given: str | None) -> bool:
    return _check(sign_request(key, path, body), given)


def response_signature_ok(key: bytes, path: str, body: bytes, given: str | None) -> bool:
    return _check(sign_response(key, path, body), given)


def encode(value: Any) -> bytes:
    return canonical_json(value).encode("utf-8")


def decode_object(body: bytes) -> dict[str, Any]:
    try:
        value = json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        raise SyncRefused(N_("The sync message is not valid JSON."), code=MALFORMED) from None
    if not isinstance(value, dict):
        raise SyncRefused(N_("The sync message is not a JSON object."), code=MALFORMED)
    return value


def parse_instant(text: Any) -> datetime:
    try:
        value = datetime.fromisoformat(text)
    except (TypeError, ValueError):
        raise SyncRefused(N_("The sync message carries no valid time."), code=MALFORMED) from None
    if value.tzinfo is None:
        raise SyncRefused(N_("The sync message's time has no time zone."), code=MALFORMED)
    return value


@dataclass(frozen=True)
class WireEvent:
    """One outbox event as it travels: the payload is the canonical JSON text stored at the site, unchanged."""

    site_seq: int
    event_id: str
    type: str
    schema_version: int
    created_at: str
    payload: str

    def to_list(self) -> list[Any]:
        return [self.site_seq, self.event_id, self.type, self.schema_version, self.created_at, self.payload]

    @classmethod
    def from_list(cls, item: Any) -> WireEvent:
        if not isinstance(item, list) or len(item) != 6:
            raise SyncRefused(N_("An event in the batch is malformed."), code=MALFORMED)
        seq, event_id, type_, version, created_at, payload = item
        if (
            not _is_int(seq)
            or seq < 1
            or not isinstance(event_id, str)
            or not isinstance(type_, str)
            or not 0 < len(type_) <= 80
            or not _is_int(version)
            or not isinstance(created_at, str)
            or not isinstance(payload, str)
        ):
            raise SyncRefused(N_("An event in the batch is malformed."), code=MALFORMED)
        return cls(seq, event_id, type_, version, created_at, payload)


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def is_int(value: Any) -> bool:
    """A JSON integer (bool is an int in Python, never in a message)."""
    return _is_int(value)
