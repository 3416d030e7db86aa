"""Globally unique, time-ordered ids (UUIDv7, RFC 9562): sortable by creation time, safe to create at any site."""

from __future__ import annotations

import os
import threading
import time
import uuid

_lock = threading.Lock()
_last = {"ms": 0, "seq": 0}


def new_id() -> uuid.UUID:
    """A UUIDv7: 48-bit unix ms, then a 12-bit counter (monotonic within a ms), then 62 random bits."""
    with _lock:
        ms = time.time_ns() // 1_000_000
        if ms <= _last["ms"]:
            # Same or earlier millisecond (clock step back): keep order by bumping the counter.
            ms = _last["ms"]
            seq = _last["seq"] + 1
            if seq > 0xFFF:
                ms += 1
                seq = 0
        else:
            seq = int.from_bytes(os.urandom(2), "big") & 0x3FF
        _last["ms"], _last["seq"] = ms, seq
    rand = int.from_bytes(os.urandom(8), "big") & ((1 << 62) - 1)
    value = (ms & ((1 << 48) - 1)) << 80 | 0x7 << 76 | seq << 64 | 0b10 << 62 | rand
    return uuid.UUID(int=value)


def id_time_ms(value: uuid.UUID) -> int:
    """The unix millisecond a UUIDv7 was made."""
    return value.int >> 80


def new_ids(count: int) -> list[uuid.UUID]:
    """`count` UUIDv7s in creation order, cheaper per id than calling new_id() in a loop (bulk posting)."""
    if count <= 0:
        return []
    with _lock:
        ms = max(time.time_ns() // 1_000_000, _last["ms"])
        seq = _last["seq"] + 1 if ms == _last["ms"] else 0
        stamps = []
        for _ in range(count):
            if seq > 0xFFF:
                ms += 1
                seq = 0
            stamps.append((ms & ((1 << 48) - 1)) << 80 | 0x7 << 76 | seq << 64 | 0b10 << 62)
            seq += 1
        _last["ms"], _last["seq"] = ms, seq - 1
    noise = os.urandom(8 * count)
    mask = (1 << 62) - 1
    from_bytes = int.from_bytes
    make = uuid.UUID
    return [
        make(int=stamp | (from_bytes(noise[8 * i : 8 * i + 8], "big") & mask))
        for i, stamp in enumerate(stamps)
    ]
