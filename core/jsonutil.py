"""Canonical JSON for hashing and for payloads: sorted keys, no spaces, UTF-8, ids/dates/decimals as strings."""

from __future__ import annotations

import json
import json.encoder
import uuid
from collections.abc import Callable
from datetime import date, datetime
from decimal import Decimal
from enum import Enum
from typing import Any


def _default(value: Any) -> Any:
    if isinstance(value, uuid.UUID | Decimal):
        return str(value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, set | frozenset | tuple):
        return sorted(value) if isinstance(value, set | frozenset) else list(value)
    if isinstance(value, bytes):
        return value.hex()
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")


def canonical_json(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=_default)


# canonical_json encodes str values with json's C `encode_basestring` (ensure_ascii=False): bulk paths that
# assemble canonical JSON as text (the ledger's outbox payloads) quote strings with this same function.
encode_json_str: Callable[[str], str] = json.encoder.encode_basestring
