"""Files attached to approvals (invoices, bank slips, ID scans): content-addressed on disk, checked on every read.

A file lives at `<site>/attachments/<sha[:2]>/<sha>`, written to a temporary file, fsynced and renamed into place,
so a crash never leaves half a file under a real name; identical content is stored once. The file is written
before the database rows, so a rolled-back transaction can leave an unreferenced file behind — harmless (it is
named by its content) and never the other way round (a row pointing at no file).
"""

from __future__ import annotations

import hashlib
import os
import re
import tempfile
import uuid
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from core.context import Context
from core.errors import IntegrityProblem, NotFound, SiteError, ValidationError
from core.i18n import N_
from core.ids import new_id
from core.workflow.models import Attachment, InstanceAttachment
from core.workflow.services import (
    EVENT_INSTANCE_CHANGED,
    OBJECT_TYPE_INSTANCE,
    PERM_VIEW,
    AttachmentView,
    load_pending_for_update,
)

ATTACHMENT_SIZE_MAX_BYTES = 10 * 1024 * 1024
ATTACHMENTS_PER_INSTANCE_MAX = 50
FILENAME_MAX_CHARS = 200

TYPE_PDF = "application/pdf"
TYPE_PNG = "image/png"
TYPE_JPEG = "image/jpeg"
TYPE_TEXT = "text/plain"
ALLOWED_TYPES = (TYPE_PDF, TYPE_PNG, TYPE_JPEG, TYPE_TEXT)

SHA256_RE = re.compile(r"^[0-9a-f]{64}$")
# Text may hold tab, newline, form feed and carriage return, but no other control characters (binary sign).
_TEXT_CONTROL_RE = re.compile(r"[\x00-\x08\x0b\x0e-\x1f\x7f]")


def sniff_content_type(data: bytes) -> str | None:
    """The type the bytes really are (by magic number, or UTF-8 text), None if not an allowed type."""
    if data.startswith(b"%PDF-"):
        return TYPE_PDF
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return TYPE_PNG
    if data.startswith(b"\xff\xd8\xff"):
        return TYPE_JPEG
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        return None
    if _TEXT_CONTROL_RE.search(text):
        return None
    return TYPE_TEXT


def _declared_type(content_type: str | None) -> str | None:
    if content_type is None:
        return None
    if not isinstance(content_type, str):
        raise ValidationError(N_("The file type is not valid."), field="content_type")
    # "text/plain; charset=utf-8" declares text/plain.
    return content_type.split(";", 1)[0].strip().lower() or None


def _filename(filename: object) -> str:
    if not isinstance(filename, str) or not filename.strip():
        raise ValidationError(N_("The file needs a name."), field="filename")
    name = filename.strip()
    if len(name) > FILENAME_MAX_CHARS:
        raise ValidationError(
            N_("A file name has at most {max} characters."), field="filename", max=FILENAME_MAX_CHARS
        )
    if (
        any(c in name for c in "/\\")
        or any(ord(c) < 32 or ord(c) == 127 for c in name)
        or name in (".", "..")
    ):
        raise ValidationError(
            N_("A file name cannot contain slashes or control characters."), field="filename"
        )
    return name


def _check_file(data: object, content_type: str | None) -> str:
    """Validate the upload and return its sniffed content type."""
    if not isinstance(data, bytes | bytearray | memoryview):
        raise ValidationError(N_("The file content is missing."), field="data")
    size = len(data)
    if size == 0:
        raise ValidationError(N_("The file is empty."), field="data")
    if size > ATTACHMENT_SIZE_MAX_BYTES:
        raise ValidationError(
            N_("The file is larger than {max_mib} MiB."),
            field="data",
            max_mib=ATTACHMENT_SIZE_MAX_BYTES // (1024 * 1024),
        )
    sniffed = sniff_content_type(bytes(data))
    if sniffed is None:
        raise ValidationError(N_("Only PDF, PNG, JPEG and plain text files can be attached."), field="data")
    declared = _declared_type(content_type)
    if declared is not None and declared != sniffed:
        raise ValidationError(
            N_("The file says it is {declared} but its content is {actual}."),
            field="content_type",
            declared=declared,
            actual=sniffed,
        )
    return sniffed


def _store_dir(ctx: Context) -> Path:
    if ctx.home is None:
        raise SiteError(N_("No site directory: attachments cannot be stored."))
    return ctx.home.attachments_dir


def _path(root: Path, sha256: str) -> Path:
    return root / sha256[:2] / sha256


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _write_blob(root: Path, sha256: str, data: bytes) -> None:
    """Put `data` at its content address unless an intact copy is already there (a damaged one is replaced)."""
    target = _path(root, sha256)
    if target.exists() and hashlib.sha256(target.read_bytes()).hexdigest() == sha256:
        return
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".tmp-")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    _fsync_dir(target.parent)


def attach(
    ctx: Context, instance_id: uuid.UUID, filename: str, data: bytes, content_type: str | None = None
) -> AttachmentView:
    """Attach a file to a pending approval (by its submitter or an approver). The same file twice is one file."""
    name = _filename(filename)
    sniffed = _check_file(data, content_type)
    data = bytes(data)
    sha256 = hashlib.sha256(data).hexdigest()
    root = _store_dir(ctx)
    with ctx.uow(PERM_VIEW) as uow:
        inst = load_pending_for_update(uow, instance_id)
        session = uow.session
        existing = session.execute(
            select(InstanceAttachment).where(
                InstanceAttachment.instance_id == inst.id, InstanceAttachment.sha256 == sha256
            )
        ).scalar_one_or_none()
        if existing is not None:
            # Same content already attached here: the first upload stands; nothing new to record.
            blob = session.get(Attachment, sha256)
            return AttachmentView(
                sha256,
                existing.filename,
                blob.size_bytes,
                blob.content_type,
                existing.added_by_name,
                existing.added_at,
            )
        count = session.execute(
            select(func.count())
            .select_from(InstanceAttachment)
            .where(InstanceAttachment.instance_id == inst.id)
        ).scalar_one()
        if count >= ATTACHMENTS_PER_INSTANCE_MAX:
            raise ValidationError(
                N_("An approval can have at most {max} attachments."), max=ATTACHMENTS_PER_INSTANCE_MAX
            )
        _write_blob(root, sha256, data)
        insert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
        session.execute(
            insert(Attachment)
            .values(sha256=sha256, size_bytes=len(data), content_type=sniffed, created_at=uow.now)
            .on_conflict_do_nothing(index_elements=[Attachment.sha256])
        )
        actor = ctx.actor
        link = InstanceAttachment(
            id=new_id(),
            instance_id=inst.id,
            sha256=sha256,
            filename=name,
            added_by_id=actor.user_id,
            added_by_name=actor.username,
            added_at=uow.now,
        )
        session.add(link)
        session.flush()
        after = {"sha256": sha256, "filename": name, "size_bytes": len(data), "content_type": sniffed}
        uow.audit("workflow.attach", OBJECT_TYPE_INSTANCE, inst.id, after=after)
        uow.emit(
            EVENT_INSTANCE_CHANGED,
            {
                "instance_id": inst.id,
                "status": inst.status,
                "current_step": inst.current_step,
                "version": inst.version,
                "attachment": {**after, "added_by_name": actor.username, "added_at": uow.now},
            },
        )
        return AttachmentView(sha256, name, len(data), sniffed, actor.username, uow.now)


def open_attachment(ctx: Context, sha256: str) -> bytes:
    """The content of a stored attachment, verified against its hash and size (a tampered file is refused)."""
    if not isinstance(sha256, str) or not SHA256_RE.match(sha256):
        raise ValidationError(N_("That is not a file fingerprint."), field="sha256")
    with ctx.read(PERM_VIEW) as session:
        blob = session.get(Attachment, sha256)
        if blob is None:
            raise NotFound(N_("Attachment {sha256} was not found."), sha256=sha256)
        expected_size = blob.size_bytes
    path = _path(_store_dir(ctx), sha256)
    try:
        # Check the size first so a file swapped for a huge one is never read into memory.
        size_ok = path.stat().st_size == expected_size
        data = path.read_bytes() if size_ok else b""
    except FileNotFoundError as exc:
        raise IntegrityProblem(
            N_("Attachment {sha256} is missing from the file store."), sha256=sha256
        ) from exc
    if not size_ok or hashlib.sha256(data).hexdigest() != sha256:
        raise IntegrityProblem(
            N_("Attachment {sha256} has been altered on disk and cannot be trusted."), sha256=sha256
        )
    return data
