"""Client files: folders, uploads and versions, copies, the trash, notes, grants, expiry, and
the quota every byte is reserved against.

Every path that creates bytes (an upload, a new version, a copy, a restored version) goes
through :func:`_new_bytes`: it counts the bytes it actually has, reserves them with one
conditional UPDATE (:func:`reserve`), stores them under a key the server makes, and on any
failure afterwards gives the space back and removes the bytes, so a refusal leaves no row and
nothing on disk.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import uuid
from collections.abc import Iterator
from dataclasses import dataclass

from django.conf import settings
from django.core.files.storage import default_storage
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from thirdway.audit.services import diff, record, snapshot
from thirdway.errors import invalid, require
from thirdway.vault import uploads
from thirdway.vault.file_access import can_grant, can_write
from thirdway.vault.models import (
    Access,
    Audience,
    ExpiryItem,
    ExpiryKind,
    FileNote,
    FileQuota,
    FileVersion,
    Folder,
    FolderGrant,
    StoredFile,
)
from thirdway.vault.services import folder_limits, scanning
from thirdway.vault.services._shared import require_keeper, scope

MAX_NAME = 255
NAME_ALLOWED = (
    "a name of 1 to 255 characters without '/', '\\', NUL or control characters, "
    "and not '.' or '..'"
)
MAX_FOLDERS = 2000
MAX_DEPTH = 20
HEAD = 8192


def check_name(field: str, name: str) -> str:
    """A file or folder name, or a 400 naming ``field``: no path tricks."""
    if not isinstance(name, str) or not name or len(name) > MAX_NAME:
        raise invalid(field, f"A name has 1 to {MAX_NAME} characters.", NAME_ALLOWED)
    if name in (".", "..") or "/" in name or "\\" in name:
        raise invalid(field, "A name cannot be a path.", NAME_ALLOWED)
    if any(ord(char) < 32 or ord(char) == 127 for char in name):
        raise invalid(field, "A name cannot hold NUL or control characters.", NAME_ALLOWED)
    if name != name.strip():
        raise invalid(field, "A name cannot start or end with a space.", NAME_ALLOWED)
    return name


def _require_write(actor, folder: Folder) -> None:
    if folder.deleted_at is not None:
        raise invalid("folder", "This folder is in the trash.", "a folder that is not in the trash")
    require(
        actor is None or can_write(actor, folder),
        "You may read this folder but not change it.",
    )


# --- the quota -------------------------------------------------------------------------------


def quota_of(client) -> FileQuota:
    quota, _ = FileQuota.objects.get_or_create(
        client=client, defaults={"limit_bytes": settings.VAULT_QUOTA_BYTES}
    )
    return quota


def reserve(client, size: int, folder_id: int | None = None) -> None:
    """Take ``size`` bytes of the client's quota in one conditional UPDATE, and of each
    limited folder at and above ``folder_id`` (``folder_limits.take``), in one transaction;
    or refuse (413) taking nothing."""
    quota = quota_of(client)
    with transaction.atomic():
        taken = FileQuota.objects.filter(
            client=client, used_bytes__lte=F("limit_bytes") - size
        ).update(used_bytes=F("used_bytes") + size)
        if taken:
            folder_limits.take(folder_limits.chain(folder_id), size)
    if not taken:
        quota.refresh_from_db()
        free = max(quota.limit_bytes - quota.used_bytes, 0)
        raise uploads.FileTooLarge(
            "file",
            f"Over the client's quota of {quota.limit_bytes} bytes: {size} bytes needed, "
            f"{free} free.",
            f"at most {free} more bytes (the quota is {quota.limit_bytes} bytes)",
            quota.limit_bytes,
        )


def release(client, size: int, folder_id: int | None = None) -> None:
    if size:
        FileQuota.objects.filter(client=client).update(used_bytes=F("used_bytes") - size)
        folder_limits.give_back(folder_limits.chain(folder_id), size)


@transaction.atomic
def set_quota(actor, client, limit_bytes: int, *, source: str) -> FileQuota:
    require_keeper(actor, client)
    if not 0 <= limit_bytes <= 2**62:
        raise invalid("limit_bytes", "The quota is out of range.", "0 to 2^62 bytes")
    quota = quota_of(client)
    before = snapshot(quota, ["limit_bytes"])
    FileQuota.objects.filter(client=client).update(limit_bytes=limit_bytes)
    quota.refresh_from_db()
    changes = diff(before, snapshot(quota, ["limit_bytes"]))
    record(actor, "files.quota", quota, source=source, scope=scope(client), changes=changes)
    return quota


# --- bytes -----------------------------------------------------------------------------------


@dataclass
class Stored:
    key: str
    size: int
    sha256: str
    content_type: str
    scan_pending: bool = False


def _measure(chunks, name: str) -> tuple[int, str, str]:
    """Size, SHA-256 and sniffed type of bytes as they are (never a declared length)."""
    digest, size, head = hashlib.sha256(), 0, b""
    for chunk in chunks:
        if len(head) < HEAD:
            head += chunk[: HEAD - len(head)]
        digest.update(chunk)
        size += len(chunk)
    return size, digest.hexdigest(), uploads.sniff(head, name)


@contextlib.contextmanager
def _new_bytes(client, source_file, name: str, folder_id: int) -> Iterator[Stored]:
    """Reserve, store and yield the bytes of ``source_file``; undo both if the block fails."""
    source_file.seek(0)
    size, sha, content_type = _measure(source_file.chunks(), name)
    limit = settings.VAULT_FILE_MAX_BYTES
    if size > limit:
        raise uploads.size_limit_error(limit)
    scan_pending = False
    if settings.VAULT_CLAMD_SOCKET:
        source_file.seek(0)
        try:
            uploads.scan(source_file.chunks())
        except uploads.VirusFound as found:
            raise invalid(
                "file", f"The antivirus found {found}.", "a file free of malware"
            ) from None
        except uploads.ScannerUnavailable:
            if not scanning.stores_unscanned():
                raise
            scan_pending = True  # kept marked, scanned when the scanner is back
    reserve(client, size, folder_id)
    key = ""
    try:
        source_file.seek(0)
        key = default_storage.save(f"vault/{client.pk}/{uuid.uuid4().hex}", source_file)
        yield Stored(key, size, sha, content_type, scan_pending)
    except BaseException:
        release(client, size, folder_id)
        if key:
            default_storage.delete(key)
        raise


def _add_version(actor, stored_file: StoredFile, stored: Stored) -> FileVersion:
    stored_file.version += 1
    stored_file.size = stored.size
    stored_file.content_type = stored.content_type
    stored_file.save()
    return FileVersion.objects.create(
        file=stored_file,
        number=stored_file.version,
        storage_key=stored.key,
        size=stored.size,
        content_type=stored.content_type,
        sha256=stored.sha256,
        uploaded_by=actor,
        scan_pending=stored.scan_pending,
    )


def _name_taken(field: str) -> Exception:
    return invalid(
        field,
        "A file of that name is already in this folder.",
        "another name, or send a new version of that file",
    )


def upload_file(actor, folder: Folder, name: str, source_file, *, source: str) -> StoredFile:
    """A new file in ``folder`` from an uploaded (or any Django) file."""
    check_name("name", name)
    _require_write(actor, folder)
    if StoredFile.objects.filter(folder=folder, name=name, deleted_at=None).exists():
        raise _name_taken("name")
    with _new_bytes(folder.client, source_file, name, folder.pk) as stored, transaction.atomic():
        made = StoredFile(client=folder.client, folder=folder, name=name)
        try:
            with transaction.atomic():
                made.save()
        except IntegrityError:
            raise _name_taken("name") from None
        _add_version(actor, made, stored)
        record(
            actor,
            "file.upload",
            made,
            source=source,
            scope=scope(folder.client),
            changes={"name": [None, name], "size": [None, stored.size]},
        )
    return made


def add_version(actor, stored_file: StoredFile, source_file, *, source: str) -> FileVersion:
    _require_write(actor, stored_file.folder)
    with (
        _new_bytes(
            stored_file.client, source_file, stored_file.name, stored_file.folder_id
        ) as stored,
        transaction.atomic(),
    ):
        locked = StoredFile.objects.select_for_update().get(pk=stored_file.pk)
        version = _add_version(actor, locked, stored)
        record(
            actor,
            "file.version",
            locked,
            source=source,
            scope=scope(locked.client),
            changes={"version": [locked.version - 1, locked.version]},
        )
    return version


def restore_version(actor, stored_file: StoredFile, number: int, *, source: str) -> FileVersion:
    """Make an old version current again: its bytes become a new version (and count)."""
    _require_write(actor, stored_file.folder)
    old = stored_file.versions.filter(number=number).first()
    if old is None:
        raise invalid("version", f"No version {number} of this file.", "a version it has")
    with (
        default_storage.open(old.storage_key, "rb") as source_bytes,
        _new_bytes(
            stored_file.client, source_bytes, stored_file.name, stored_file.folder_id
        ) as stored,
        transaction.atomic(),
    ):
        locked = StoredFile.objects.select_for_update().get(pk=stored_file.pk)
        version = _add_version(actor, locked, stored)
        record(
            actor,
            "file.restore",
            locked,
            source=source,
            scope=scope(locked.client),
            changes={"version": [number, locked.version]},
        )
    return version


def copy_file(actor, stored_file: StoredFile, folder: Folder, name: str, *, source: str):
    """A copy of the current version into ``folder`` (same client): new bytes, reserved."""
    check_name("name", name)
    if folder.client_id != stored_file.client_id:
        raise invalid("folder", "Copies stay with the same client.", "a folder of this client")
    current = stored_file.versions.order_by("-number").first()
    if current is None:
        raise invalid("file", "The file has no bytes yet.", "a file with a version")
    with default_storage.open(current.storage_key, "rb") as source_bytes:
        made = upload_file(actor, folder, name, source_bytes, source=source)
    return made


@transaction.atomic
def trash_file(actor, stored_file: StoredFile, *, source: str) -> StoredFile:
    """Into the trash: out of the lists, still counted in the quota until purged."""
    _require_write(actor, stored_file.folder)
    stored_file.deleted_at = timezone.now()
    stored_file.save(update_fields=["deleted_at", "updated_at"])
    record(actor, "file.trash", stored_file, source=source, scope=scope(stored_file.client))
    return stored_file


def take_back(actor, stored_file: StoredFile, *, source: str) -> StoredFile:
    """Out of the trash into its folder again (its bytes never left the quota)."""
    _require_write(actor, stored_file.folder)
    if stored_file.deleted_at is None:
        raise invalid("file", "The file is not in the trash.", "a file in the trash")
    if StoredFile.objects.filter(
        folder=stored_file.folder, name=stored_file.name, deleted_at=None
    ).exists():
        raise _name_taken("file")
    with transaction.atomic():
        stored_file.deleted_at = None
        try:
            with transaction.atomic():
                stored_file.save(update_fields=["deleted_at", "updated_at"])
        except IntegrityError:
            raise _name_taken("file") from None
        record(actor, "file.untrash", stored_file, source=source, scope=scope(stored_file.client))
    return stored_file


def purge_file(actor, stored_file: StoredFile, *, source: str) -> int:
    """Delete a file in the trash for good: its bytes go and their space is freed."""
    _require_write(actor, stored_file.folder)
    if stored_file.deleted_at is None:
        raise invalid("file", "Only a file in the trash can be purged.", "a file in the trash")
    keys = list(stored_file.versions.values_list("storage_key", "size"))
    with transaction.atomic():
        record(actor, "file.purge", stored_file, source=source, scope=scope(stored_file.client))
        # Its expiry item goes with it: a purged file has nothing left to expire or remind of.
        ExpiryItem.objects.filter(stored_file=stored_file).delete()
        stored_file.delete()
        freed = sum(size for _, size in keys)
        release(stored_file.client, freed, stored_file.folder_id)
    for key, _ in keys:
        default_storage.delete(key)
    return freed


# --- folders, notes, grants, expiry ---------------------------------------------------------


def root_of(client) -> Folder:
    root = Folder.objects.filter(client=client, parent=None).first()
    if root is None:
        try:
            with transaction.atomic():
                root = Folder.objects.create(client=client, parent=None, name="")
        except IntegrityError:
            root = Folder.objects.get(client=client, parent=None)
    return root


def _depth(folder: Folder) -> int:
    depth, current = 0, folder
    while current.parent_id is not None:
        depth += 1
        current = current.parent
    return depth


@transaction.atomic
def create_folder(actor, parent: Folder, name: str, *, source: str) -> Folder:
    check_name("name", name)
    _require_write(actor, parent)
    if Folder.objects.filter(client=parent.client).count() >= MAX_FOLDERS:
        raise invalid("name", "The client has too many folders.", f"at most {MAX_FOLDERS}")
    if _depth(parent) >= MAX_DEPTH:
        raise invalid("parent", "Folders are nested too deep.", f"at most {MAX_DEPTH} levels")
    if Folder.objects.filter(parent=parent, name=name, deleted_at=None).exists():
        raise invalid("name", "A folder of that name is already here.", "another name")
    folder = Folder.objects.create(client=parent.client, parent=parent, name=name)
    record(
        actor,
        "folder.create",
        folder,
        source=source,
        scope=scope(parent.client),
        changes={"name": [None, name]},
    )
    return folder


@transaction.atomic
def add_note(actor, target, body: str, *, source: str) -> FileNote:
    """A note on a folder or a file; writing one needs write access to the folder."""
    body = body.strip()
    if not body or len(body) > FileNote.MAX_BODY:
        raise invalid("text", "A note has some text.", f"1 to {FileNote.MAX_BODY} characters")
    folder = target if isinstance(target, Folder) else target.folder
    _require_write(actor, folder)
    on = {"folder": target} if isinstance(target, Folder) else {"file": target}
    note = FileNote.objects.create(client=folder.client, body=body, author=actor, **on)
    record(actor, "file.note", note, source=source, scope=scope(folder.client))
    return note


@transaction.atomic
def set_grant(actor, folder: Folder, audience: str, access: str | None, *, source: str):
    """Grant ``access`` on a folder (and what inherits from it) to an audience; ``None``
    removes the grant, so the folder inherits again."""
    require(actor is None or can_grant(actor, folder.client), "Only the practice may grant.")
    if audience not in Audience.values:
        raise invalid("audience", "Unknown audience.", ", ".join(Audience.values))
    if access is not None and access not in Access.values:
        raise invalid("access", "Unknown access.", ", ".join(Access.values) + ", or null")
    before = FolderGrant.objects.filter(folder=folder, audience=audience).first()
    if access is None:
        FolderGrant.objects.filter(folder=folder, audience=audience).delete()
    else:
        FolderGrant.objects.update_or_create(
            folder=folder, audience=audience, defaults={"access": access}
        )
    record(
        actor,
        "folder.grant",
        folder,
        source=source,
        scope=scope(folder.client),
        changes={audience: [before.access if before else None, access]},
    )


@transaction.atomic
def set_expiry(actor, stored_file: StoredFile, expires_on: dt.date | None, *, source: str):
    """After ``expires_on`` the file is hidden from the lists and archived; the expirations
    register reminds the practice before (its item of kind *file*)."""
    require_keeper(actor, stored_file.client)
    before = snapshot(stored_file, ["expires_on"])
    stored_file.expires_on = expires_on
    if expires_on is None:
        if stored_file.expiry_id:
            ExpiryItem.objects.filter(pk=stored_file.expiry_id).delete()
        stored_file.expiry = None
    elif stored_file.expiry_id:
        ExpiryItem.objects.filter(pk=stored_file.expiry_id).update(
            expires_on=expires_on, name=stored_file.name[:200]
        )
    else:
        stored_file.expiry = ExpiryItem.objects.create(
            client=stored_file.client,
            kind=ExpiryKind.FILE,
            name=stored_file.name[:200],
            expires_on=expires_on,
        )
    if expires_on is None or expires_on >= timezone.localdate():
        stored_file.archived_at = None
    stored_file.save()
    changes = diff(before, snapshot(stored_file, ["expires_on"]))
    record(
        actor,
        "file.expiry",
        stored_file,
        source=source,
        scope=scope(stored_file.client),
        changes=changes,
    )
    return stored_file


def archive_expired(today: dt.date | None = None) -> int:
    """The clock's job: files past their date are archived (out of every ordinary list)."""
    today = today or timezone.localdate()
    return StoredFile.objects.filter(archived_at=None, expires_on__lt=today).update(
        archived_at=timezone.now()
    )
