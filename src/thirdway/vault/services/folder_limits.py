"""Limits on folders: an optional number of bytes a folder may hold, its subfolders included
(every version counts, and the trash until purged, as in the client's quota).

A limited folder keeps what is under it in ``used_bytes``.  Every path that makes bytes
reserves them in the client's quota and in each limited folder above (the folder itself
included) with conditional UPDATEs in one transaction, in id order, so parallel uploads never
overrun a folder's limit either; a refusal (413) names the folder and its limit and takes back
the whole reservation.  Moving a file or folder moves its bytes between limited folders the
same way; purging frees them.
"""

from __future__ import annotations

from django.db import transaction
from django.db.models import F, Q, Sum

from thirdway.audit.services import diff, record, snapshot
from thirdway.errors import invalid
from thirdway.vault import uploads
from thirdway.vault.models import FileVersion, Folder
from thirdway.vault.services._shared import scope

MAX_LIMIT = 2**62
LIMIT_ALLOWED = "a size such as 500 MB, 2 GB or 1048576 (bytes), or empty for no limit"


def chain(folder_id: int | None) -> list[int]:
    """The limited folders among ``folder_id`` and those above it (ids, ascending)."""
    if folder_id is None:
        return []
    client_id = Folder.objects.filter(pk=folder_id).values_list("client_id", flat=True).first()
    rows = Folder.objects.filter(client_id=client_id).values_list("pk", "parent_id", "limit_bytes")
    parents = {pk: (parent, limit) for pk, parent, limit in rows}
    found, current = [], folder_id
    while current is not None and current in parents:
        parent, limit = parents[current]
        if limit is not None:
            found.append(current)
        current = parent
    return sorted(found)


def _refusal(folder_id: int, size: int) -> uploads.FileTooLarge:
    folder = Folder.objects.get(pk=folder_id)
    free = max((folder.limit_bytes or 0) - folder.used_bytes, 0)
    return uploads.FileTooLarge(
        "file",
        f"Over the limit of the folder {folder.name!r} ({folder.limit_bytes} bytes): "
        f"{size} bytes needed, {free} free.",
        f"at most {free} more bytes in this folder (its limit is {folder.limit_bytes} bytes)",
        folder.limit_bytes or 0,
    )


def take(ids: list[int], size: int) -> None:
    """Reserve ``size`` bytes in each limited folder of ``ids`` (one conditional UPDATE each,
    in id order), or raise the 413 naming the first that has no room.  Call it inside the
    transaction that reserves the client's quota: a refusal undoes both."""
    for folder_id in sorted(ids):
        taken = (
            Folder.objects.filter(pk=folder_id)
            .filter(Q(limit_bytes__isnull=True) | Q(used_bytes__lte=F("limit_bytes") - size))
            .update(used_bytes=F("used_bytes") + size)
        )
        if not taken:
            raise _refusal(folder_id, size)


def give_back(ids: list[int], size: int) -> None:
    if size and ids:
        Folder.objects.filter(pk__in=ids, limit_bytes__isnull=False).update(
            used_bytes=F("used_bytes") - size
        )


def shift(size: int, from_folder: int | None, to_folder: int) -> None:
    """Bytes moving from under ``from_folder`` to under ``to_folder``: reserved in the limited
    folders they enter, freed in those they leave (in the caller's transaction)."""
    if not size:
        return
    before, after = set(chain(from_folder)), set(chain(to_folder))
    take(sorted(after - before), size)
    give_back(sorted(before - after), size)


def subtree_bytes(folder: Folder) -> int:
    """Every version's bytes under ``folder`` (subfolders and the trash included)."""
    found, level = [folder.pk], [folder.pk]
    while level:
        level = list(Folder.objects.filter(parent__in=level).values_list("pk", flat=True))
        found.extend(level)
    total = FileVersion.objects.filter(file__folder__in=found).aggregate(total=Sum("size"))
    return total["total"] or 0


def parse_limit(text: str | int | None) -> int | None:
    """A limit as typed (bytes, or with KB/MB/GB/TB), None for none; a 400 naming the field."""
    if text is None or (isinstance(text, str) and not text.strip()):
        return None
    if isinstance(text, int):
        value = text
    else:
        raw = text.strip().upper().replace(" ", "")
        scale = 1
        for suffix, factor in (("TB", 1024**4), ("GB", 1024**3), ("MB", 1024**2), ("KB", 1024)):
            if raw.endswith(suffix):
                raw, scale = raw[: -len(suffix)], factor
                break
        if raw.endswith("B"):
            raw = raw[:-1]
        if not raw.isdigit() or len(raw) > 19:
            raise invalid("limit_bytes", "That is not a size.", LIMIT_ALLOWED)
        value = int(raw) * scale
    if not 1 <= value <= MAX_LIMIT:
        raise invalid("limit_bytes", "The limit is out of range.", f"1 byte to {MAX_LIMIT} bytes")
    return value


def shown(limit: int | None) -> str:
    """A limit as the form shows it: in the largest whole unit."""
    if limit is None:
        return ""
    for suffix, factor in (("TB", 1024**4), ("GB", 1024**3), ("MB", 1024**2), ("KB", 1024)):
        if limit % factor == 0:
            return f"{limit // factor} {suffix}"
    return str(limit)


@transaction.atomic
def set_folder_limit(actor, folder: Folder, limit_bytes: int | None, *, source: str) -> Folder:
    """Set or remove a folder's limit (write access to the folder needed).  What the folder
    holds is counted afresh, under the folder's lock; a limit below it refuses new bytes
    until some are purged."""
    from thirdway.vault.services.files import _require_write

    _require_write(actor, folder)
    if limit_bytes is not None and not 1 <= limit_bytes <= MAX_LIMIT:
        raise invalid("limit_bytes", "The limit is out of range.", f"1 byte to {MAX_LIMIT} bytes")
    folder = Folder.objects.select_for_update().get(pk=folder.pk)
    before = snapshot(folder, ["limit_bytes"])
    folder.limit_bytes = limit_bytes
    folder.used_bytes = subtree_bytes(folder) if limit_bytes is not None else 0
    folder.save(update_fields=["limit_bytes", "used_bytes"])
    changes = diff(before, snapshot(folder, ["limit_bytes"]))
    if changes:
        record(
            actor,
            "folder.limit",
            folder,
            source=source,
            scope=scope(folder.client),
            changes=changes,
        )
    return folder


def limits_over(folder: Folder) -> list[dict]:
    """The limited folders at and above ``folder``, for the live display: name, used, limit."""
    ids = chain(folder.pk)
    rows = Folder.objects.filter(pk__in=ids).values("pk", "name", "used_bytes", "limit_bytes")
    shown = []
    for row in sorted(rows, key=lambda row: ids.index(row["pk"])):
        limit, used = row["limit_bytes"], row["used_bytes"]
        shown.append(
            {
                "id": row["pk"],
                "name": row["name"],
                "used": used,
                "limit": limit,
                "free": max(limit - used, 0),
                "percent": min(100, round(100 * used / limit)) if limit else 100,
            }
        )
    return shown
