"""Online backup, integrity check and restore of a site's SQLite database, through apsw and SQLite's backup API.

A backup is taken while the site keeps working (WAL readers never block writers), written under a temporary
name and renamed into place only once it is complete, synced and checked, with a SHA-256 sidecar file
(`<backup>.sha256`) so a later restore can tell a flipped bit that SQLite's own checks cannot see.
A restore refuses anything that fails those checks and keeps a copy of the database it replaces.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import secrets
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import apsw

from core.clock import Clock, SystemClock
from core.errors import IntegrityProblem, ValidationError
from core.i18n import N_, translate

Progress = Callable[[int, int], None]

BUSY_TIMEOUT_MS = 10_000
# A check lists at most this many problems; a badly damaged file would otherwise produce thousands.
PROBLEMS_MAX = 50
CHECKSUM_SUFFIX = ".sha256"
_HASH_CHUNK_BYTES = 1 << 20


@dataclass(frozen=True)
class BackupInfo:
    """What `create_backup` wrote: the file, its size and pages, and its SHA-256 (also in the sidecar file)."""

    path: Path
    size_bytes: int
    page_count: int
    page_size: int
    sha256: str
    checksum_path: Path


@dataclass(frozen=True)
class CheckResult:
    """The verdict on one database file. `problems` are translated sentences a clerk can read."""

    path: Path
    ok: bool
    problems: list[str] = field(default_factory=list)
    is_anju: bool = False
    site_id: str | None = None
    site_code: str | None = None
    site_name: str | None = None
    page_count: int = 0
    checksum_verified: bool = False
    # The Alembic revision(s) the file's schema is at (empty before the first migration existed).
    schema_revisions: tuple[str, ...] = ()


@dataclass(frozen=True)
class RestoreInfo:
    """What `restore_backup` did: from which backup, into which database, and where the old one was kept."""

    backup: Path
    db_path: Path
    safety_copy: Path | None
    page_count: int
    checksum_verified: bool


def checksum_path(path: Path) -> Path:
    """The sidecar file holding a backup's SHA-256 (`sha256sum` format)."""
    return path.with_name(path.name + CHECKSUM_SUFFIX)


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        while chunk := fh.read(_HASH_CHUNK_BYTES):
            digest.update(chunk)
    return digest.hexdigest()


# --------------------------------------------------------------------------------------------------- backup


def create_backup(
    db_path: Path,
    dest: Path,
    *,
    progress: Progress | None = None,
    pages_per_step: int = 256,
    overwrite: bool = False,
) -> BackupInfo:
    """Copy the live database `db_path` to `dest` while other connections may go on writing.

    The copy is one consistent snapshot: the source connection holds a read transaction for the whole
    copy, which in WAL mode blocks no writer and keeps SQLite from restarting the backup when they commit.
    `progress(remaining_pages, total_pages)` is called after every step. The copy is written to a temporary
    file beside `dest`, switched out of WAL mode so it is one self-contained file, checked with
    `PRAGMA integrity_check`, fsynced, and only then renamed to `dest`, so a crash never leaves a partial
    backup under the final name. An existing `dest` is refused unless `overwrite=True`.
    """
    db_path = Path(db_path)
    dest = Path(dest)
    if pages_per_step < 1:
        raise ValueError("pages_per_step must be positive")
    if not db_path.is_file():
        raise ValidationError(N_("The database {path} does not exist."), field="db_path", path=str(db_path))
    if dest.exists() and not overwrite:
        raise ValidationError(
            N_("The backup file {path} already exists; choose another name."), field="dest", path=str(dest)
        )
    if dest.resolve() == db_path.resolve():
        raise ValidationError(N_("A backup cannot overwrite the database itself."), field="dest")
    dest.parent.mkdir(parents=True, exist_ok=True)

    tmp = dest.with_name(f".{dest.name}.{os.getpid()}.{secrets.token_hex(4)}.tmp")
    try:
        with _open(db_path, readonly=True) as src, _open(tmp) as out:
            page_count = _copy(src, out, progress, pages_per_step, snapshot=True)
            # The copy inherits WAL mode from the source header; a backup must be one file on its own.
            out.execute("PRAGMA journal_mode = DELETE").fetchall()
            problems = _integrity_problems(out)
            if problems:
                raise IntegrityProblem(
                    N_("The backup copy failed its integrity check: {problems}"), problems="; ".join(problems)
                )
            page_size = out.execute("PRAGMA page_size").fetchall()[0][0]
        _fsync_file(tmp)
        digest = file_sha256(tmp)
        size = tmp.stat().st_size
        _install(tmp, dest, overwrite=overwrite)
        sidecar = checksum_path(dest)
        _write_atomically(sidecar, f"{digest}  {dest.name}\n".encode(), overwrite=True)
        _fsync_dir(dest.parent)
    finally:
        for leftover in (tmp, tmp.with_name(tmp.name + "-journal")):
            with contextlib.suppress(FileNotFoundError):
                leftover.unlink()
    return BackupInfo(
        path=dest,
        size_bytes=size,
        page_count=page_count,
        page_size=page_size,
        sha256=digest,
        checksum_path=sidecar,
    )


# --------------------------------------------------------------------------------------------------- check


def check_database(path: Path) -> CheckResult:
    """Check a database or backup file: SHA-256 sidecar (if any), integrity, foreign keys, Anju tables.

    Never raises for a bad file: garbage, an empty or truncated file, or a file that is not an Anju
    database gives `ok=False` with the reasons in `problems`. The file is opened read-only.
    """
    path = Path(path)
    problems: list[str] = []

    def problem(msgid: str, **params: object) -> None:
        if len(problems) < PROBLEMS_MAX:
            problems.append(translate(msgid, params))

    if not path.is_file():
        problem(N_("The file {path} does not exist."), path=str(path))
        return CheckResult(path=path, ok=False, problems=problems)
    if path.stat().st_size == 0:
        problem(N_("The file {path} is empty."), path=str(path))
        return CheckResult(path=path, ok=False, problems=problems)

    checksum_verified = False
    sidecar = checksum_path(path)
    if sidecar.is_file():
        expected = _read_checksum(sidecar)
        if expected is None:
            problem(N_("The checksum file {path} cannot be read."), path=str(sidecar))
        elif expected != file_sha256(path):
            problem(
                N_(
                    "The file does not match its SHA-256 checksum: it was changed or damaged after the backup."
                )
            )
        else:
            checksum_verified = True

    is_anju = False
    site: tuple[str | None, str | None, str | None] = (None, None, None)
    page_count = 0
    revisions: tuple[str, ...] = ()
    try:
        with _open(path, readonly=True) as conn:
            page_count = conn.execute("PRAGMA page_count").fetchall()[0][0]
            for text in _integrity_problems(conn):
                problem(N_("Integrity check: {detail}"), detail=text)
            for table, rowid, parent, _fkid in conn.execute("PRAGMA foreign_key_check").fetchall():
                problem(
                    N_("Row {rowid} of table {table} refers to a missing row in {parent}."),
                    rowid=rowid,
                    table=table,
                    parent=parent,
                )
            tables = {
                row[0]
                for row in conn.execute("SELECT name FROM sqlite_schema WHERE type = 'table'").fetchall()
            }
            if "site" not in tables:
                problem(N_("This is not an Anju database (it has no site table)."))
            else:
                is_anju = True
                rows = conn.execute("SELECT site_id, code, name FROM site LIMIT 2").fetchall()
                if len(rows) != 1:
                    problem(
                        N_("The database should hold exactly one site identity, it holds {count}."),
                        count=len(rows),
                    )
                else:
                    site = tuple(None if v is None else str(v) for v in rows[0])  # type: ignore[assignment]
            if "alembic_version" in tables:
                revisions = tuple(
                    sorted(
                        str(r[0]) for r in conn.execute("SELECT version_num FROM alembic_version").fetchall()
                    )
                )
    except apsw.NotADBError:
        problem(N_("The file {path} is not a SQLite database."), path=str(path))
    except apsw.CorruptError as exc:
        problem(N_("The database file is damaged: {detail}"), detail=str(exc))
    except apsw.Error as exc:
        problem(N_("The database file cannot be read: {detail}"), detail=str(exc))

    return CheckResult(
        path=path,
        ok=not problems,
        problems=problems,
        is_anju=is_anju,
        site_id=site[0],
        site_code=site[1],
        site_name=site[2],
        page_count=page_count,
        checksum_verified=checksum_verified,
        schema_revisions=revisions,
    )


# --------------------------------------------------------------------------------------------------- restore


def restore_backup(
    backup: Path,
    db_path: Path,
    *,
    progress: Progress | None = None,
    keep_copy_dir: Path | None = None,
    clock: Clock | None = None,
    allow_other_site: bool = False,
    pages_per_step: int = 256,
) -> RestoreInfo:
    """Replace the database at `db_path` with the content of `backup`.

    Refuses (IntegrityProblem) a backup that fails `check_database`, and one from another site unless
    `allow_other_site`. Before anything is overwritten the current database is copied to
    `keep_copy_dir/pre-restore-<UTC timestamp>.db` (default: `backups/` beside the database). The content
    goes in through SQLite's backup API in one write transaction, so connections that have the database
    open see either the old or the new content and its WAL stays consistent; a crash rolls it back.
    """
    backup = Path(backup)
    db_path = Path(db_path)
    clock = clock or SystemClock()
    if backup.exists() and db_path.exists() and backup.resolve() == db_path.resolve():
        raise ValidationError(N_("A database cannot be restored from itself."), field="backup")

    verdict = check_database(backup)
    if not verdict.ok:
        raise IntegrityProblem(
            N_("The backup {path} cannot be restored: {problems}"),
            code="backup_rejected",
            path=str(backup),
            problems="; ".join(verdict.problems),
        )

    safety_copy: Path | None = None
    if db_path.exists():
        current = _site_id_of(db_path)
        if current is not None and current != verdict.site_id and not allow_other_site:
            raise IntegrityProblem(
                N_("The backup belongs to another site ({site}); it was not restored."),
                code="backup_other_site",
                site=verdict.site_code,
            )
        keep_dir = keep_copy_dir if keep_copy_dir is not None else db_path.parent / "backups"
        stamp = clock.now().strftime("%Y%m%dT%H%M%SZ")
        safety_copy = _unused_name(Path(keep_dir), f"pre-restore-{stamp}", ".db")
        create_backup(db_path, safety_copy)

    try:
        if db_path.exists():
            with _open(backup, readonly=True) as src, _open(db_path) as live:
                page_count = _copy(src, live, progress, pages_per_step, snapshot=False)
        else:
            # Nobody has a database that does not exist open; build it aside and rename it into place.
            db_path.parent.mkdir(parents=True, exist_ok=True)
            tmp = db_path.with_name(f".{db_path.name}.{os.getpid()}.{secrets.token_hex(4)}.tmp")
            try:
                with _open(backup, readonly=True) as src, _open(tmp) as out:
                    page_count = _copy(src, out, progress, pages_per_step, snapshot=False)
                _fsync_file(tmp)
                _install(tmp, db_path, overwrite=False)
            finally:
                for leftover in (tmp, tmp.with_name(tmp.name + "-journal")):
                    with contextlib.suppress(FileNotFoundError):
                        leftover.unlink()
        with _open(db_path) as live:
            live.execute("PRAGMA journal_mode = WAL").fetchall()
            problems = _integrity_problems(live)
    except apsw.Error as exc:
        raise IntegrityProblem(
            N_("The restore failed ({detail}); the previous database is kept at {copy}."),
            code="restore_failed",
            detail=str(exc),
            copy=str(safety_copy) if safety_copy else "-",
        ) from exc
    if problems:
        raise IntegrityProblem(
            N_(
                "The restored database failed its integrity check ({problems}); the previous database is kept at {copy}."
            ),
            code="restore_failed",
            problems="; ".join(problems),
            copy=str(safety_copy) if safety_copy else "-",
        )
    return RestoreInfo(
        backup=backup,
        db_path=db_path,
        safety_copy=safety_copy,
        page_count=page_count,
        checksum_verified=verdict.checksum_verified,
    )


# --------------------------------------------------------------------------------------------------- helpers


@contextlib.contextmanager
def _open(path: Path, *, readonly: bool = False) -> Iterator[apsw.Connection]:
    flags = apsw.SQLITE_OPEN_READONLY if readonly else apsw.SQLITE_OPEN_READWRITE | apsw.SQLITE_OPEN_CREATE
    conn = apsw.Connection(str(path), flags=flags)
    try:
        conn.set_busy_timeout(BUSY_TIMEOUT_MS)
        yield conn
    finally:
        conn.close()


def _copy(
    src: apsw.Connection,
    dest: apsw.Connection,
    progress: Progress | None,
    pages_per_step: int,
    *,
    snapshot: bool,
) -> int:
    """Copy `src` into `dest` step by step; returns the page count. `snapshot` pins one read transaction."""
    if snapshot:
        # Reading one row starts the read transaction now; it stays open until COMMIT below.
        src.execute("BEGIN")
        src.execute("SELECT count(*) FROM sqlite_schema").fetchall()
    try:
        with dest.backup("main", src, "main") as job:
            while not job.done:
                job.step(pages_per_step)
                if progress is not None:
                    progress(job.remaining, job.page_count)
            return job.page_count
    finally:
        if snapshot:
            src.execute("COMMIT")


def _integrity_problems(conn: apsw.Connection) -> list[str]:
    rows = conn.execute(f"PRAGMA integrity_check({PROBLEMS_MAX})").fetchall()
    texts = [str(row[0]) for row in rows]
    return [] if texts == ["ok"] else texts


def _site_id_of(db_path: Path) -> str | None:
    """The site id of an existing database, or None if it has none (or cannot be read)."""
    try:
        with _open(db_path, readonly=True) as conn:
            rows = conn.execute("SELECT site_id FROM site LIMIT 1").fetchall()
    except apsw.Error:
        return None
    return str(rows[0][0]) if rows and rows[0][0] is not None else None


def _read_checksum(sidecar: Path) -> str | None:
    try:
        first = sidecar.read_text(encoding="ascii").split()
    except (OSError, UnicodeDecodeError):
        return None
    if not first or len(first[0]) != 64:
        return None
    return first[0].lower()


def _unused_name(directory: Path, stem: str, suffix: str) -> Path:
    candidate = directory / f"{stem}{suffix}"
    n = 1
    while candidate.exists():
        n += 1
        candidate = directory / f"{stem}-{n}{suffix}"
    return candidate


def _install(tmp: Path, dest: Path, *, overwrite: bool) -> None:
    """Move a finished file into place atomically; without `overwrite`, fail if `dest` appeared meanwhile."""
    if overwrite:
        os.replace(tmp, dest)
        return
    try:
        os.link(tmp, dest)  # fails atomically if dest exists, unlike rename
    except FileExistsError:
        raise ValidationError(
            N_("The backup file {path} already exists; choose another name."), field="dest", path=str(dest)
        ) from None
    tmp.unlink()


def _write_atomically(path: Path, data: bytes, *, overwrite: bool) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}.tmp")
    try:
        with tmp.open("wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        _install(tmp, path, overwrite=overwrite)
    finally:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()


def _fsync_file(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _fsync_dir(directory: Path) -> None:
    # Makes the rename itself durable; not possible on every platform (Windows), where it is skipped.
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
