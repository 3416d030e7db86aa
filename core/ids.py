"""Globally unique, time-ordered ids (UUIDv7, RFC 9562): sortable by creation time, safe to create at any site."""

from __future__ import annotations

import os
import struct
import threading
import time
import uuid
from itertools import chain, repeat

_lock = threading.Lock()
_MS_MASK = (1 << 48) - 1
_VARIANT = bytes((b & 0x3F) | 0x80 for b in range(256))
_UUID = uuid.UUID
_SAFE_UNKNOWN = uuid.SafeUUID.unknown
_new_object = object.__new__
_set_slot = object.__setattr__
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


def _halves(count: int) -> tuple[list[int], tuple[int, ...]]:
    """The high and low 64 bits of `count` new UUIDv7s, each half built by C-level range/struct work.

    The 48-bit ms and 12-bit counter of new_id() form one 60-bit counter that simply increments: when the
    12-bit part overflows it carries into the millisecond, exactly as new_id() moves to the next ms. Within one
    millisecond the high halves (ms | version 7 | counter) are therefore consecutive integers: a range.
    """
    with _lock:
        ms = max(time.time_ns() // 1_000_000, _last["ms"])
        seq = _last["seq"] + 1 if ms == _last["ms"] else 0
        first = ms << 12 | seq
        last = first + count - 1
        _last["ms"], _last["seq"] = last >> 12, last & 0xFFF
    highs: list[int] = []
    c = first
    while c <= last:
        run_end = min(last, c | 0xFFF)
        base = ((c >> 12) & _MS_MASK) << 16 | 0x7000
        highs.extend(range(base | (c & 0xFFF), (base | (run_end & 0xFFF)) + 1))
        c = run_end + 1
    noise = bytearray(os.urandom(8 * count))
    noise[0::8] = noise[0::8].translate(_VARIANT)  # each low half: variant 0b10, then 62 random bits
    return highs, struct.unpack(f">{count}Q", noise)


def new_id_ints(count: int) -> list[int]:
    """`count` UUIDv7s as 128-bit ints in creation order (the bulk form: no per-id Python arithmetic)."""
    if count <= 0:
        return []
    highs, lows = _halves(count)
    return list(map(int.__or__, map(int.__lshift__, highs, repeat(64)), lows))


def new_id_hexes(count: int) -> list[str]:
    """`count` UUIDv7s in creation order as their 32-digit hex only (UUID.hex): ids a bulk insert on SQLite binds
    and nothing else reads, without building 128-bit ints or UUID objects first."""
    if count <= 0:
        return []
    highs, lows = _halves(count)
    text = struct.pack(f">{2 * count}Q", *chain.from_iterable(zip(highs, lows, strict=True))).hex()
    return [text[i : i + 32] for i in range(0, 32 * count, 32)]


def new_ids_with_hex(count: int) -> tuple[list[uuid.UUID], list[str]]:
    """`count` UUIDv7s in creation order and their 32-digit hex (UUID.hex), for bulk inserts on SQLite."""
    if count <= 0:
        return [], []
    highs, lows = _halves(count)
    ints = map(int.__or__, map(int.__lshift__, highs, repeat(64)), lows)
    text = struct.pack(f">{2 * count}Q", *chain.from_iterable(zip(highs, lows, strict=True))).hex()
    return list(map(uuid_of_int, ints)), [text[i : i + 32] for i in range(0, 32 * count, 32)]


def uuid_of_int(value: int) -> uuid.UUID:
    """uuid.UUID(int=value) for a known-valid 128-bit value, without the constructor's argument parsing.

    It sets the same two slots UUID.__init__ sets (via object.__setattr__, as UUID.__init__ itself does);
    tests check the result equals, hashes and prints like uuid.UUID(int=value).
    """
    u = _new_object(_UUID)
    _set_slot(u, "int", value)
    _set_slot(u, "is_safe", _SAFE_UNKNOWN)
    return u


def new_ids(count: int) -> list[uuid.UUID]:
    """`count` UUIDv7s in creation order, cheaper per id than calling new_id() in a loop (bulk posting)."""
    return list(map(uuid_of_int, new_id_ints(count)))
