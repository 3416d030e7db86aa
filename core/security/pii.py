"""Personal data (身份证号, phone, bank account, name): encryption at rest, blind indexes, and masking.

Keys live in the site's keys/ directory (0700), each file 32 random bytes (0600):
    pii.key      AES-256-GCM key, version 1;  pii.<n>.key adds version n (the highest encrypts; all decrypt)
    index.key    HMAC-SHA256 key of the blind indexes (never rotated: that would orphan every index)
A ciphertext is  version byte ‖ 12-byte random nonce ‖ AES-GCM ciphertext and tag; the version byte is also
authenticated (associated data), so it cannot be swapped.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import os
import re
import unicodedata
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from core.errors import IntegrityProblem, SiteError
from core.i18n import N_

if TYPE_CHECKING:
    from core.context import Actor

KEY_BYTES = 32
NONCE_BYTES = 12
BLIND_INDEX_CHARS = 32
PII_KEY_FILE = "pii.key"
INDEX_KEY_FILE = "index.key"
_VERSIONED_KEY_RE = re.compile(r"^pii\.(\d{1,3})\.key$")
# A guard against encrypting documents by mistake: personal data fields are short.
PLAINTEXT_MAX_CHARS = 1000

KIND_ID_NUMBER = "id_number"
KIND_PHONE = "phone"
KIND_BANK_ACCOUNT = "bank_account"
KIND_NAME = "name"

REVEAL_PERMISSION = "pii.reveal"


def _write_new_key(path: Path) -> None:
    # O_EXCL: two processes initialising at once never overwrite each other's key.
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        os.write(fd, os.urandom(KEY_BYTES))
        os.fsync(fd)
    finally:
        os.close(fd)


def ensure_keys(keys_dir: Path) -> None:
    """Create keys_dir (0700) and pii.key and index.key (0600) if missing. Existing keys are never replaced."""
    keys_dir = Path(keys_dir)
    keys_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    os.chmod(keys_dir, 0o700)
    for name in (PII_KEY_FILE, INDEX_KEY_FILE):
        path = keys_dir / name
        if not path.exists():
            # Another process may have made it a moment ago: keep theirs.
            with contextlib.suppress(FileExistsError):
                _write_new_key(path)
        os.chmod(path, 0o600)
        _read_key(path)


def _read_key(path: Path) -> bytes:
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise SiteError(
            N_("The personal data key {name} is missing; restore it from the key backup."), name=str(path)
        ) from None
    if len(data) != KEY_BYTES:
        raise SiteError(N_("The personal data key {name} is damaged (wrong length)."), name=str(path))
    return data


class PiiCipher:
    """Encrypts and decrypts personal data and computes blind indexes with one site's keys."""

    def __init__(self, keys: dict[int, bytes], index_key: bytes) -> None:
        if not keys or any(not 1 <= v <= 255 for v in keys):
            raise ValueError("need at least one key, versions 1..255")
        self._aead = {version: AESGCM(key) for version, key in keys.items()}
        self.current_version = max(keys)
        self._index_key = index_key

    @classmethod
    def from_dir(cls, keys_dir: Path) -> PiiCipher:
        keys_dir = Path(keys_dir)
        keys = {1: _read_key(keys_dir / PII_KEY_FILE)}
        if keys_dir.is_dir():
            for path in keys_dir.iterdir():
                m = _VERSIONED_KEY_RE.match(path.name)
                if m and 2 <= int(m.group(1)) <= 255:
                    keys[int(m.group(1))] = _read_key(path)
        return cls(keys, _read_key(keys_dir / INDEX_KEY_FILE))

    def encrypt(self, value: str) -> bytes:
        if len(value) > PLAINTEXT_MAX_CHARS:
            raise ValueError("personal data value too long to encrypt")
        version = bytes([self.current_version])
        nonce = os.urandom(NONCE_BYTES)
        return (
            version + nonce + self._aead[self.current_version].encrypt(nonce, value.encode("utf-8"), version)
        )

    def decrypt(self, blob: bytes) -> str:
        """The plain text of `blob`; IntegrityProblem if it was altered or its key version is unknown."""
        blob = bytes(blob)
        if len(blob) < 1 + NONCE_BYTES + 16 or blob[0] not in self._aead:
            raise IntegrityProblem(N_("Encrypted personal data cannot be read (unknown key or damaged)."))
        try:
            plain = self._aead[blob[0]].decrypt(blob[1 : 1 + NONCE_BYTES], blob[1 + NONCE_BYTES :], blob[:1])
        except InvalidTag:
            raise IntegrityProblem(N_("Encrypted personal data failed its integrity check.")) from None
        return plain.decode("utf-8")

    def blind_index(self, kind: str, value: str) -> str:
        """A keyed, deterministic digest of (kind, normalised value) for exact-match lookup; hex, 32 chars."""
        message = f"{kind}\x1f{normalise(value)}".encode()
        return hmac.new(self._index_key, message, hashlib.sha256).hexdigest()[:BLIND_INDEX_CHARS]


def normalise(value: str) -> str:
    """The form a blind index is computed over: NFKC, no spaces or hyphens, upper case (ID numbers' x → X)."""
    value = unicodedata.normalize("NFKC", value)
    return re.sub(r"[\s\-]", "", value).upper()


def _keep_ends(value: str, head: int, tail: int) -> str:
    if len(value) <= head + tail:
        # Too short to show both ends without revealing most of it: show only the last quarter.
        keep = len(value) // 4
        return "*" * (len(value) - keep) + value[len(value) - keep :]
    return value[:head] + "*" * (len(value) - head - tail) + value[len(value) - tail :]


def mask_id_number(value: str) -> str:
    """110105194912310021 → 110105********0021 (region code and last four kept; the birth date hidden)."""
    return _keep_ends(normalise(value), 6, 4)


def mask_phone(value: str) -> str:
    """13812345678 → 138****5678."""
    return _keep_ends(normalise(value), 3, 4)


def mask_bank_account(value: str) -> str:
    """6222021234567891234 → **** **** **** 1234."""
    digits = normalise(value)
    if len(digits) <= 4:
        return "****"
    return "**** **** **** " + digits[-4:]


def mask_name(value: str) -> str:
    """张三丰 → 张**: the first character (the family name, for Chinese names) is kept."""
    value = value.strip()
    if len(value) <= 1:
        return "*" * len(value)
    return value[0] + "*" * (len(value) - 1)


MASKERS: dict[str, Callable[[str], str]] = {
    KIND_ID_NUMBER: mask_id_number,
    KIND_PHONE: mask_phone,
    KIND_BANK_ACCOUNT: mask_bank_account,
    KIND_NAME: mask_name,
}


def mask(kind: str, value: str) -> str:
    return MASKERS[kind](value)


def reveal_or_mask(actor: Actor, kind: str, value: str | None) -> str | None:
    """`value` in clear if the actor holds pii.reveal, else masked for its kind (None stays None)."""
    if kind not in MASKERS:
        raise ValueError(f"unknown personal data kind: {kind}")
    if value is None:
        return None
    return value if actor.can(REVEAL_PERMISSION) else MASKERS[kind](value)
