"""Online backup, check and restore of a site database (core.db.backup), including damaged backups."""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path

import pytest

from core.clock import FakeClock
from core.db.backup import check_database, checksum_path, create_backup, restore_backup
from core.db.engine import Database
from core.errors import IntegrityProblem, ValidationError

ROWS = 600


def make_site_db(path: Path, *, site_id: str = "0" * 31 + "1", code: str = "T01", rows: int = ROWS) -> Path:
    """A small Anju-shaped database in WAL mode: a site row, a parent table and rows with foreign keys."""
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA journal_mode = WAL")
    conn.execute("CREATE TABLE site (site_id CHAR(32) PRIMARY KEY, code TEXT, name TEXT, created_at TEXT)")
    conn.execute("INSERT INTO site VALUES (?, ?, '测试站点', '2026-11-25T02:00:00')", (site_id, code))
    conn.execute("CREATE TABLE book (id INTEGER PRIMARY KEY, name TEXT NOT NULL)")
    conn.execute(
        "CREATE TABLE entry (id INTEGER PRIMARY KEY, book_id INTEGER NOT NULL REFERENCES book(id),"
        " amount_fen INTEGER NOT NULL, memo TEXT NOT NULL)"
    )
    conn.execute("INSERT INTO book VALUES (1, '物业账簿')")
    conn.execute("BEGIN")
    conn.executemany(
        "INSERT INTO entry (book_id, amount_fen, memo) VALUES (1, ?, ?)",
        [(i * 100, f"memo {i:05d} " + "x" * 200) for i in range(rows)],
    )
    conn.execute("COMMIT")
    conn.close()
    return path


def entry_rows(path: Path) -> list[tuple]:
    conn = sqlite3.connect(path)
    try:
        return conn.execute("SELECT id, amount_fen, memo FROM entry ORDER BY id").fetchall()
    finally:
        conn.close()


@pytest.fixture
def live(tmp_path) -> Path:
    home = tmp_path / "home"
    home.mkdir()
    return make_site_db(home / "anju.db")


# ------------------------------------------------------------------------------------------------ backup


def test_backup_is_one_snapshot_while_another_connection_writes(live, tmp_path):
    writer = sqlite3.connect(live, isolation_level=None, timeout=5)
    written = []
    calls: list[tuple[int, int]] = []

    def progress(remaining: int, total: int) -> None:
        calls.append((remaining, total))
        assert len(calls) < 1000, "the backup keeps restarting: it is not copying one snapshot"
        # Another connection commits between steps: it must not be blocked, and must not end up in the copy.
        writer.execute("INSERT INTO entry (book_id, amount_fen, memo) VALUES (1, 1, 'during backup')")
        written.append(1)

    info = create_backup(live, tmp_path / "out" / "b1.db", progress=progress, pages_per_step=5)
    writer.close()

    assert len(calls) > 5, "a multi-page database is copied in several steps"
    assert calls[-1][0] == 0
    assert all(total == info.page_count for _, total in calls)
    assert [r for r, _ in calls] == sorted((r for r, _ in calls), reverse=True)
    assert len(written) == len(calls)
    assert len(entry_rows(info.path)) == ROWS  # the snapshot from the start, none of the concurrent rows
    assert len(entry_rows(live)) == ROWS + len(written)  # and the writes did land in the live database

    assert info.size_bytes == info.path.stat().st_size == info.page_count * info.page_size
    assert checksum_path(info.path).read_text().split()[0] == info.sha256
    verdict = check_database(info.path)
    assert verdict.ok, verdict.problems
    assert verdict.checksum_verified and verdict.is_anju and verdict.site_code == "T01"
    # One self-contained file: no WAL mode, no temporary files left behind.
    assert sorted(p.name for p in info.path.parent.iterdir()) == ["b1.db", "b1.db.sha256"]
    conn = sqlite3.connect(info.path)
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "delete"
    conn.close()


def test_backup_of_a_site_database_made_by_the_services(sqlite_ctx, tmp_path):
    db_path = sqlite_ctx.db.path
    info = create_backup(db_path, tmp_path / "site.db")
    verdict = check_database(info.path)
    assert verdict.ok, verdict.problems
    assert verdict.site_code == sqlite_ctx.site.code


def test_backup_refuses_to_overwrite_unless_asked(live, tmp_path):
    dest = tmp_path / "b.db"
    dest.write_bytes(b"precious")
    with pytest.raises(ValidationError):
        create_backup(live, dest)
    assert dest.read_bytes() == b"precious"
    info = create_backup(live, dest, overwrite=True)
    assert check_database(info.path).ok


def test_backup_refuses_a_missing_database_and_itself(tmp_path, live):
    with pytest.raises(ValidationError):
        create_backup(tmp_path / "nope.db", tmp_path / "b.db")
    with pytest.raises(ValidationError):
        create_backup(live, live, overwrite=True)
    assert not (tmp_path / "b.db").exists()


# ------------------------------------------------------------------------------------------------ check


def test_check_finds_a_database_that_is_not_anju(tmp_path):
    path = tmp_path / "other.db"
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE t (x)")
    conn.commit()
    conn.close()
    verdict = check_database(path)
    assert not verdict.ok and not verdict.is_anju
    assert any("not an Anju database" in p for p in verdict.problems)


def test_check_finds_broken_foreign_keys(live):
    conn = sqlite3.connect(live, isolation_level=None)
    conn.execute("INSERT INTO entry (book_id, amount_fen, memo) VALUES (99, 1, 'orphan')")
    conn.close()
    verdict = check_database(live)
    assert not verdict.ok
    assert any("table entry" in p and "book" in p for p in verdict.problems)


def test_check_of_a_missing_file(tmp_path):
    verdict = check_database(tmp_path / "missing.db")
    assert not verdict.ok and "does not exist" in verdict.problems[0]


# ------------------------------------------------------------------------------------------------ restore


def test_restore_round_trip_keeps_a_safety_copy(live, tmp_path):
    info = create_backup(live, tmp_path / "b.db")
    before = entry_rows(live)

    conn = sqlite3.connect(live, isolation_level=None)
    conn.execute("DELETE FROM entry WHERE id % 2 = 0")
    conn.execute("UPDATE entry SET amount_fen = -1")
    conn.close()
    damaged = entry_rows(live)
    assert damaged != before

    keep = tmp_path / "keep"
    calls: list[tuple[int, int]] = []
    result = restore_backup(
        info.path,
        live,
        keep_copy_dir=keep,
        progress=lambda r, t: calls.append((r, t)),
        clock=FakeClock(),
        pages_per_step=4,
    )

    assert entry_rows(live) == before
    assert result.checksum_verified
    assert calls and calls[-1][0] == 0
    assert result.safety_copy == keep / "pre-restore-20261125T020000Z.db"
    assert entry_rows(result.safety_copy) == damaged  # what was replaced can still be had back
    assert check_database(result.safety_copy).ok
    assert check_database(live).ok


def test_restore_is_seen_by_an_open_engine(live, tmp_path):
    from sqlalchemy import text

    info = create_backup(live, tmp_path / "b.db")
    db = Database(f"sqlite:///{live}")
    try:
        with db.writer() as s, s.begin():
            s.execute(text("DELETE FROM entry"))
        with db.reader() as s:
            assert s.execute(text("SELECT count(*) FROM entry")).scalar_one() == 0
        restore_backup(info.path, live, keep_copy_dir=tmp_path / "keep", clock=FakeClock())
        with db.reader() as s:
            assert s.execute(text("SELECT count(*) FROM entry")).scalar_one() == ROWS
        with db.writer() as s, s.begin():  # and it can go on writing
            s.execute(text("INSERT INTO entry (book_id, amount_fen, memo) VALUES (1, 5, 'after')"))
    finally:
        db.dispose()
    assert len(entry_rows(live)) == ROWS + 1
    assert check_database(live).ok


def test_two_restores_in_the_same_second_keep_both_safety_copies(live, tmp_path):
    info = create_backup(live, tmp_path / "b.db")
    clock = FakeClock()
    first = restore_backup(info.path, live, keep_copy_dir=tmp_path / "keep", clock=clock)
    second = restore_backup(info.path, live, keep_copy_dir=tmp_path / "keep", clock=clock)
    assert first.safety_copy != second.safety_copy
    assert first.safety_copy.exists() and second.safety_copy.exists()


def test_restore_into_a_new_place(live, tmp_path):
    info = create_backup(live, tmp_path / "b.db")
    target = tmp_path / "new" / "anju.db"
    result = restore_backup(info.path, target, keep_copy_dir=tmp_path / "keep")
    assert result.safety_copy is None
    assert entry_rows(target) == entry_rows(live)
    assert not (tmp_path / "keep").exists()


def test_restore_refuses_another_sites_backup(live, tmp_path):
    other = make_site_db(tmp_path / "other.db", site_id="f" * 32, code="X09", rows=3)
    info = create_backup(other, tmp_path / "b.db")
    before = entry_rows(live)
    with pytest.raises(IntegrityProblem) as err:
        restore_backup(info.path, live, keep_copy_dir=tmp_path / "keep")
    assert "X09" in str(err.value)
    assert entry_rows(live) == before
    restore_backup(info.path, live, keep_copy_dir=tmp_path / "keep", allow_other_site=True)
    assert len(entry_rows(live)) == 3


def _flip_middle(path: Path) -> None:
    data = bytearray(path.read_bytes())
    mid = len(data) // 2
    for i in range(mid, mid + 16):
        data[i] ^= 0xFF
    path.write_bytes(bytes(data))


def _flip_page_header(path: Path) -> None:
    # The b-tree header at the start of a page in the middle: SQLite's own checks must catch this one.
    data = bytearray(path.read_bytes())
    page_size = int.from_bytes(data[16:18], "big")
    start = (len(data) // page_size // 2) * page_size
    for i in range(start, start + 12):
        data[i] ^= 0x5A
    path.write_bytes(bytes(data))


def _truncate(path: Path) -> None:
    with path.open("r+b") as fh:
        fh.truncate(path.stat().st_size // 2 + 100)


def _garbage(path: Path) -> None:
    path.write_bytes(os.urandom(64 * 1024))


def _empty(path: Path) -> None:
    path.write_bytes(b"")


def _not_anju(path: Path) -> None:
    path.unlink()
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE notes (x)")
    conn.commit()
    conn.close()


DAMAGE = {
    "flip-middle": _flip_middle,
    "flip-page-header": _flip_page_header,
    "truncated": _truncate,
    "garbage": _garbage,
    "empty": _empty,
    "not-anju": _not_anju,
}


# Bytes flipped inside row data are only detectable by the checksum, so that case runs with it alone.
CASES = [(name, True) for name in sorted(DAMAGE)] + [
    (name, False) for name in sorted(DAMAGE) if name != "flip-middle"
]


@pytest.mark.parametrize(("damage", "with_checksum"), CASES)
def test_a_damaged_backup_is_refused_and_the_live_database_is_unchanged(
    live, tmp_path, damage, with_checksum
):
    info = create_backup(live, tmp_path / "b.db")
    DAMAGE[damage](info.path)
    if not with_checksum:
        checksum_path(info.path).unlink()
    live_bytes = live.read_bytes()
    keep = tmp_path / "keep"

    verdict = check_database(info.path)
    assert not verdict.ok and verdict.problems

    with pytest.raises(IntegrityProblem) as err:
        restore_backup(info.path, live, keep_copy_dir=keep)
    assert err.value.code == "backup_rejected"
    assert "cannot be restored" in str(err.value)
    assert live.read_bytes() == live_bytes
    assert len(entry_rows(live)) == ROWS
    assert not keep.exists(), "nothing is done before the backup has passed its checks"


def test_check_reports_the_schema_revision(live):
    conn = sqlite3.connect(live, isolation_level=None)
    conn.execute("CREATE TABLE alembic_version (version_num VARCHAR(32) PRIMARY KEY)")
    conn.execute("INSERT INTO alembic_version VALUES ('abc123')")
    conn.close()
    verdict = check_database(live)
    assert verdict.ok, verdict.problems
    assert verdict.schema_revisions == ("abc123",)
