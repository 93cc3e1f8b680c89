"""What a client's files take of its quota: used and limit, per folder (with what is under
it) and per type.  Every version counts, and so does the trash until it is purged."""

from __future__ import annotations

from django.db.models import Sum

from thirdway.vault.models import FileVersion, Folder


def usage(client, quota) -> dict:
    by_folder_own = dict(
        FileVersion.objects.filter(file__client=client)
        .values_list("file__folder_id")
        .annotate(total=Sum("size"))
        .order_by()
    )
    by_type = list(
        FileVersion.objects.filter(file__client=client)
        .values("content_type")
        .annotate(total=Sum("size"))
        .order_by("-total")[:10]
    )
    parents = dict(Folder.objects.filter(client=client).values_list("pk", "parent_id"))
    by_folder = dict.fromkeys(parents, 0)
    for folder_id, total in by_folder_own.items():
        current = folder_id
        while current is not None:
            by_folder[current] = by_folder.get(current, 0) + total
            current = parents.get(current)
    limit = quota.limit_bytes
    children: dict[int, list[int]] = {}
    for pk, parent in parents.items():
        if parent is not None:
            children.setdefault(parent, []).append(pk)
    return {
        "children": children,
        "used": quota.used_bytes,
        "limit": limit,
        "free": max(limit - quota.used_bytes, 0),
        "percent": min(100, round(100 * quota.used_bytes / limit)) if limit else 100,
        "by_folder": by_folder,
        "by_type": [(row["content_type"], row["total"]) for row in by_type],
    }


def folder_types(client, folder_id: int, children: dict[int, list[int]]) -> list[tuple[str, int]]:
    """The bytes per type under one folder (its subfolders included), largest first."""
    under, level = [folder_id], [folder_id]
    while level:
        level = [child for pk in level for child in children.get(pk, [])]
        under.extend(level)
    rows = (
        FileVersion.objects.filter(file__client=client, file__folder__in=under)
        .values("content_type")
        .annotate(total=Sum("size"))
        .order_by("-total")[:10]
    )
    return [(row["content_type"], row["total"]) for row in rows]
