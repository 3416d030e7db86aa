"""Personal data: key files, AES-GCM round trip and tamper detection, key rotation, blind indexes, masks."""

from __future__ import annotations

import os
import stat

import pytest
from hypothesis import given
from hypothesis import strategies as st

from core.context import Actor
from core.errors import IntegrityProblem, SiteError
from core.security import pii
from core.security.pii import (
    PiiCipher,
    ensure_keys,
    mask_bank_account,
    mask_id_number,
    mask_name,
    mask_phone,
    reveal_or_mask,
)


@pytest.fixture
def keys_dir(tmp_path):
    d = tmp_path / "keys"
    ensure_keys(d)
    return d


@pytest.fixture
def cipher(keys_dir) -> PiiCipher:
    return PiiCipher.from_dir(keys_dir)


def test_ensure_keys_makes_private_files_and_keeps_existing(keys_dir):
    assert stat.S_IMODE(keys_dir.stat().st_mode) == 0o700
    for name in ("pii.key", "index.key"):
        path = keys_dir / name
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
        assert len(path.read_bytes()) == 32
    before = {n: (keys_dir / n).read_bytes() for n in ("pii.key", "index.key")}
    assert before["pii.key"] != before["index.key"]
    ensure_keys(keys_dir)
    assert {n: (keys_dir / n).read_bytes() for n in before} == before


def test_damaged_or_missing_key_is_refused(keys_dir):
    (keys_dir / "index.key").write_bytes(b"short")
    with pytest.raises(SiteError):
        PiiCipher.from_dir(keys_dir)
    with pytest.raises(SiteError):
        ensure_keys(keys_dir)
    os.remove(keys_dir / "pii.key")
    with pytest.raises(SiteError):
        PiiCipher.from_dir(keys_dir)


_RANDOM_CIPHER = PiiCipher({1: os.urandom(32)}, os.urandom(32))


@given(st.text(max_size=200))
def test_encrypt_decrypt_round_trip(value):
    c = _RANDOM_CIPHER
    blob = c.encrypt(value)
    assert c.decrypt(blob) == value
    assert blob[0] == 1
    # A random nonce: the same value never encrypts to the same bytes.
    assert c.encrypt(value) != blob


def test_tampering_is_detected(cipher):
    blob = cipher.encrypt("11010519491231002X")
    for i in range(len(blob)):
        altered = bytearray(blob)
        altered[i] ^= 0x01
        with pytest.raises(IntegrityProblem):
            cipher.decrypt(bytes(altered))
    with pytest.raises(IntegrityProblem):
        cipher.decrypt(blob[:-1])
    with pytest.raises(IntegrityProblem):
        cipher.decrypt(b"")


def test_other_site_key_cannot_decrypt(cipher, tmp_path):
    other = tmp_path / "other"
    ensure_keys(other)
    with pytest.raises(IntegrityProblem):
        PiiCipher.from_dir(other).decrypt(cipher.encrypt("13812345678"))


def test_key_rotation_new_version_encrypts_old_still_decrypts(keys_dir, cipher):
    old_blob = cipher.encrypt("13812345678")
    (keys_dir / "pii.2.key").write_bytes(os.urandom(32))
    rotated = PiiCipher.from_dir(keys_dir)
    assert rotated.current_version == 2
    new_blob = rotated.encrypt("13812345678")
    assert new_blob[0] == 2
    assert rotated.decrypt(old_blob) == "13812345678"
    assert rotated.decrypt(new_blob) == "13812345678"
    with pytest.raises(IntegrityProblem):  # the old cipher does not know version 2
        cipher.decrypt(new_blob)


def test_blind_index_is_deterministic_normalised_keyed_and_kind_separated(cipher, tmp_path):
    a = cipher.blind_index("id_number", "11010519491231002X")
    assert a == cipher.blind_index("id_number", " 110105 19491231002x ")
    assert len(a) == 32 and int(a, 16) >= 0
    assert a != cipher.blind_index("phone", "11010519491231002X")
    assert a != cipher.blind_index("id_number", "110105194912310038")
    other = tmp_path / "other"
    ensure_keys(other)
    assert PiiCipher.from_dir(other).blind_index("id_number", "11010519491231002X") != a


def test_masks():
    assert mask_id_number("110105194912310021") == "110105********0021"
    assert mask_id_number("11010519491231002x") == "110105********002X"
    assert mask_phone("13812345678") == "138****5678"
    assert mask_bank_account("6222 0212 3456 7891 234") == "**** **** **** 1234"
    assert mask_bank_account("123") == "****"
    assert mask_name("张三丰") == "张**"
    assert mask_name("张三") == "张*"
    assert mask_name("张") == "*"
    assert mask_name("") == ""


@given(st.text(alphabet="0123456789X", min_size=0, max_size=30))
def test_masks_never_reveal_more_than_the_ends(value):
    for masker, head, tail in ((mask_id_number, 6, 4), (mask_phone, 3, 4)):
        masked = masker(value)
        assert len(masked) == len(value)
        shown = sum(1 for ch in masked if ch != "*")
        # Long enough values show head + tail; short ones at most a quarter.
        assert shown <= (head + tail if len(value) > head + tail else len(value) // 4)
        if len(value) > head + tail:
            assert masked[:head] == value[:head] and masked[-tail:] == value[-tail:]


def test_reveal_or_mask_needs_pii_reveal():
    clerk = Actor(user_id=None, username="clerk", permissions=frozenset({"users.view"}))
    auditor = Actor(user_id=None, username="aud", permissions=frozenset({"*.view", "audit.verify"}))
    officer = Actor(user_id=None, username="off", permissions=frozenset({"pii.reveal"}))
    assert reveal_or_mask(clerk, pii.KIND_PHONE, "13812345678") == "138****5678"
    assert reveal_or_mask(auditor, pii.KIND_ID_NUMBER, "110105194912310021") == "110105********0021"
    assert reveal_or_mask(officer, pii.KIND_PHONE, "13812345678") == "13812345678"
    assert reveal_or_mask(Actor.system(), pii.KIND_NAME, "张三丰") == "张三丰"
    assert reveal_or_mask(clerk, pii.KIND_PHONE, None) is None
    with pytest.raises(ValueError):
        reveal_or_mask(clerk, "shoe_size", "42")
