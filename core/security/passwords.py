"""Password hashing (argon2id, memory-hard) and the password policy.

Cost: production uses argon2-cffi's RFC 9106 low-memory profile (t=3, 64 MiB, p=4). Tests need hashing to be
cheap: set the environment variable ANJU_ARGON2_TEST=1 before this module is imported, or call
`set_cost(TEST_COST.time_cost, TEST_COST.memory_cost_kib)`. Hashes made at another cost still verify; a login
rehashes them at the current cost (`needs_rehash`).
"""

from __future__ import annotations

import os
from dataclasses import dataclass

from argon2 import PasswordHasher, Type
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from core.errors import ValidationError
from core.i18n import N_

PASSWORD_MIN_CHARS = 8
# Bounded so a megabyte "password" cannot tie up the hasher.
PASSWORD_MAX_CHARS = 128


@dataclass(frozen=True)
class Cost:
    time_cost: int
    memory_cost_kib: int
    parallelism: int = 1


PRODUCTION_COST = Cost(time_cost=3, memory_cost_kib=64 * 1024, parallelism=4)
TEST_COST = Cost(time_cost=1, memory_cost_kib=8, parallelism=1)

_state: dict[str, object] = {}


def _hasher_for(cost: Cost) -> PasswordHasher:
    return PasswordHasher(
        time_cost=cost.time_cost,
        memory_cost=cost.memory_cost_kib,
        parallelism=cost.parallelism,
        hash_len=32,
        salt_len=16,
        type=Type.ID,
    )


def set_cost(time_cost: int, memory_cost_kib: int, parallelism: int = 1) -> None:
    """Hash new passwords at this cost from now on (tests make it cheap; production keeps the default)."""
    cost = Cost(time_cost, memory_cost_kib, parallelism)
    _state["cost"] = cost
    _state["hasher"] = _hasher_for(cost)
    _state["dummy"] = None


def current_cost() -> Cost:
    return _state["cost"]  # type: ignore[return-value]


def _hasher() -> PasswordHasher:
    return _state["hasher"]  # type: ignore[return-value]


def hash_password(password: str) -> str:
    return _hasher().hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    """True if `password` matches `password_hash`; False for a mismatch or an unreadable hash."""
    try:
        return _hasher().verify(password_hash, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash: str) -> bool:
    """True if the hash was made with other parameters than the current ones."""
    try:
        return _hasher().check_needs_rehash(password_hash)
    except (InvalidHashError, ValueError):
        return True


def dummy_hash() -> str:
    """A hash at the current cost, to verify against when a user does not exist (equal timing)."""
    if not _state.get("dummy"):
        _state["dummy"] = hash_password(os.urandom(16).hex())
    return _state["dummy"]  # type: ignore[return-value]


def check_password_policy(password: str, username: str) -> None:
    """Raise ValidationError unless the password is 8–128 characters with a letter and a digit, not the user name."""
    if not isinstance(password, str) or len(password) < PASSWORD_MIN_CHARS:
        raise ValidationError(
            N_("A password needs at least {min} characters."), field="password", min=PASSWORD_MIN_CHARS
        )
    if len(password) > PASSWORD_MAX_CHARS:
        raise ValidationError(
            N_("A password can have at most {max} characters."), field="password", max=PASSWORD_MAX_CHARS
        )
    if not any(c.isalpha() for c in password) or not any(c.isdigit() for c in password):
        raise ValidationError(N_("A password needs at least one letter and one digit."), field="password")
    if password.strip().casefold() == username.strip().casefold():
        raise ValidationError(N_("The password must not be the user name."), field="password")


_initial = TEST_COST if os.environ.get("ANJU_ARGON2_TEST") == "1" else PRODUCTION_COST
set_cost(_initial.time_cost, _initial.memory_cost_kib, _initial.parallelism)
