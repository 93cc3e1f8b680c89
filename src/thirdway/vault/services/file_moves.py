"""Moving and renaming files and folders, and folders in the trash.

Everything stays with its client.  Moving needs ``write`` on what moves (its folder, for a
file) and on where it goes; a folder never goes under itself or one of its own subfolders.
Names follow the rules of uploads (``files.check_name``); a name already taken where the item
goes is a 400 naming ``name``.  A folder in the trash takes everything under it along: its
files keep counting in the quota until the folder is deleted for good.
"""

from __future__ import annotations

from django.core.files.storage import default_storage
from django.db import IntegrityError, transaction
from django.db.models import Sum
from django.utils import timezone

from thirdway.audit.services import record
from thirdway.errors import invalid, require
from thirdway.vault.file_access import folder_access
from thirdway.vault.models import ExpiryItem, FileVersion, Folder, StoredFile
from thirdway.vault.services import folder_limits
from thirdway.vault.services._shared import scope
from thirdway.vault.services.files import (
    MAX_DEPTH,
    _depth,
    _name_taken,
    _require_write,
    check_name,
    release,
)


def _folder_taken() -> Exception:
    return invalid("name", "A folder of that name is already there.", "another name")


def _same_client(field: str, item_client_id: int, target: Folder) -> None:
    if target.client_id != item_client_id:
        raise invalid(field, "Files and folders stay with their client.", "a folder of this client")


def subtree(folder: Folder) -> list[int]:
    """The folder and every folder under it (ids), read level by level."""
    found, level = [folder.pk], [folder.pk]
    while level:
        level = list(Folder.objects.filter(parent__in=level).values_list("pk", flat=True))
        found.extend(level)
    return found


def move_file(actor, stored_file: StoredFile, folder: Folder, name: str, *, source: str):
    """Move ``stored_file`` into ``folder`` (of the same client) under ``name``."""
    check_name("name", name)
    _same_client("folder", stored_file.client_id, folder)
    if stored_file.deleted_at is not None:
        raise invalid("file", "The file is in the trash.", "take it back first")
    _require_write(actor, stored_file.folder)
    _require_write(actor, folder)
    if folder.pk == stored_file.folder_id and name == stored_file.name:
        return stored_file
    clash = StoredFile.objects.filter(folder=folder, name=name, deleted_at=None)
    if clash.exclude(pk=stored_file.pk).exists():
        raise _name_taken("name")
    before = {"folder": stored_file.folder_id, "name": stored_file.name}
    with transaction.atomic():
        held = stored_file.versions.aggregate(total=Sum("size"))["total"] or 0
        folder_limits.shift(held, stored_file.folder_id, folder.pk)
        stored_file.folder, stored_file.name = folder, name
        try:
            with transaction.atomic():
                stored_file.save(update_fields=["folder", "name", "updated_at"])
        except IntegrityError:
            raise _name_taken("name") from None
        if stored_file.expiry_id:
            ExpiryItem.objects.filter(pk=stored_file.expiry_id).update(name=name[:200])
        after = {"folder": folder.pk, "name": name}
        record(
            actor,
            "file.move",
            stored_file,
            source=source,
            scope=scope(stored_file.client),
            changes={key: [before[key], after[key]] for key in before if before[key] != after[key]},
        )
    return stored_file


def _height(folder: Folder) -> int:
    """How many levels lie under ``folder`` (0 without subfolders)."""
    height, level = 0, [folder.pk]
    while True:
        level = list(Folder.objects.filter(parent__in=level).values_list("pk", flat=True))
        if not level:
            return height
        height += 1


def move_folder(actor, folder: Folder, parent: Folder, name: str, *, source: str) -> Folder:
    """Move ``folder`` under ``parent`` (same client) as ``name``; never under itself.  Its
    grants move with it; what it inherited it now inherits from its new parents."""
    check_name("name", name)
    if folder.parent_id is None:
        raise invalid("folder", "The client's root folder cannot move.", "a folder under it")
    _same_client("parent", folder.client_id, parent)
    if parent.pk in subtree(folder):
        raise invalid(
            "parent",
            "A folder cannot go under itself or one of its own subfolders.",
            "a folder outside the one that moves",
        )
    _require_write(actor, folder)
    _require_write(actor, parent)
    if parent.pk == folder.parent_id and name == folder.name:
        return folder
    if _depth(parent) + 1 + _height(folder) > MAX_DEPTH:
        raise invalid("parent", "Folders would be nested too deep.", f"at most {MAX_DEPTH} levels")
    clash = Folder.objects.filter(parent=parent, name=name, deleted_at=None)
    if clash.exclude(pk=folder.pk).exists():
        raise _folder_taken()
    before = {"parent": folder.parent_id, "name": folder.name}
    with transaction.atomic():
        # One move of the client's folders at a time (the root's row is the lock), so two
        # moves at once cannot make a loop; the check is made again under the lock.
        Folder.objects.select_for_update().filter(client_id=folder.client_id, parent=None).get()
        if parent.pk in subtree(folder):
            raise invalid(
                "parent",
                "A folder cannot go under itself or one of its own subfolders.",
                "a folder outside the one that moves",
            )
        folder_limits.shift(folder_limits.subtree_bytes(folder), folder.parent_id, parent.pk)
        folder.parent, folder.name = parent, name
        try:
            with transaction.atomic():
                folder.save(update_fields=["parent", "name"])
        except IntegrityError:
            raise _folder_taken() from None
        after = {"parent": parent.pk, "name": name}
        record(
            actor,
            "folder.move",
            folder,
            source=source,
            scope=scope(folder.client),
            changes={key: [before[key], after[key]] for key in before if before[key] != after[key]},
        )
    return folder


def _require_write_all(actor, folder: Folder, ids: list[int]) -> None:
    """Write on the folder and on every folder under it (a narrower grant below blocks)."""
    if actor is None:
        return
    access = folder_access(actor, [folder.client_id])
    require(
        all(access.get(pk) == "write" for pk in ids),
        "You may not change every folder under this one.",
    )


@transaction.atomic
def trash_folder(actor, folder: Folder, *, source: str) -> Folder:
    """The folder and everything under it into the trash (its files still count)."""
    if folder.parent_id is None:
        raise invalid("folder", "The client's root folder cannot go to the trash.", "a subfolder")
    _require_write(actor, folder)
    ids = subtree(folder)
    _require_write_all(actor, folder, ids)
    now = timezone.now()
    # A subfolder already in the trash keeps its own time, so it stays there when this one
    # is taken back.
    Folder.objects.filter(pk__in=ids, deleted_at=None).update(deleted_at=now)
    folder.deleted_at = now
    record(actor, "folder.trash", folder, source=source, scope=scope(folder.client))
    return folder


def _trashed_root(folder: Folder) -> None:
    if folder.deleted_at is None:
        raise invalid("folder", "The folder is not in the trash.", "a folder in the trash")
    parent = folder.parent
    if parent is not None and parent.deleted_at is not None:
        raise invalid(
            "folder", "The folder above it is in the trash too.", "the folder that was trashed"
        )


def take_back_folder(actor, folder: Folder, *, source: str) -> Folder:
    """Out of the trash with everything that went with it (refused while its name is taken)."""
    _trashed_root(folder)
    _require_write(actor, folder.parent)
    ids = subtree(folder)
    _require_write_all(actor, folder, ids)
    if Folder.objects.filter(parent=folder.parent, name=folder.name, deleted_at=None).exists():
        raise _folder_taken()
    with transaction.atomic():
        Folder.objects.filter(pk__in=ids, deleted_at=folder.deleted_at).update(deleted_at=None)
        folder.deleted_at = None
        record(actor, "folder.untrash", folder, source=source, scope=scope(folder.client))
    return folder


def purge_folder(actor, folder: Folder, *, source: str) -> int:
    """Delete a folder in the trash for good with all it holds: its bytes go, their space
    is freed."""
    _trashed_root(folder)
    _require_write(actor, folder.parent)
    ids = subtree(folder)
    _require_write_all(actor, folder, ids)
    versions = list(
        FileVersion.objects.filter(file__folder__in=ids).values_list("storage_key", "size")
    )
    freed = sum(size for _, size in versions)
    with transaction.atomic():
        record(
            actor,
            "folder.purge",
            folder,
            source=source,
            scope=scope(folder.client),
            changes={"freed_bytes": [None, freed]},
        )
        ExpiryItem.objects.filter(stored_file__folder__in=ids).delete()
        StoredFile.objects.filter(folder__in=ids).delete()
        Folder.objects.filter(pk=folder.pk).delete()
        release(folder.client, freed, folder.parent_id)
    for key, _ in versions:
        default_storage.delete(key)
    return freed
