"""Who may read and write a client's folders and files: the one rule (docs/vault.md).

1. Scope first: the network sees the folders of the clients it sees
   (``Client.objects.for_user``); a contact only their own organisation's; anyone else
   nothing.  Out of scope is a 404.
2. Each person speaks as one audience: practice admins, the desk and associates as
   *practice*, partners as *partner*, client admins and client users as theirs.
3. A folder's access for an audience is the grant of the **nearest** folder, itself first then
   each parent up to the root, that has a grant for that audience (``none``, ``read`` or
   ``write``).  Grants are read at every request, so a subfolder follows a change of its
   parent's grant at once.
4. Without any grant on the way up: the network keeps the room's own rule (practice admins,
   the desk and partners write; associates read); contacts have no access (deny by default).
5. A grant narrows the network's rule but never widens it: an associate stays read-only.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.db import models

from thirdway.accounts.models import Role

ORDER = {"none": 0, "read": 1, "write": 2}
AUDIENCE = {
    Role.PRACTICE_ADMIN: "practice",
    Role.DESK: "practice",
    Role.ASSOCIATE: "practice",
    Role.PARTNER: "partner",
    Role.CLIENT_ADMIN: "client_admin",
    Role.CLIENT_USER: "client_user",
}


def _ceiling(user) -> str:
    """The most a person may have on any folder of a client in their scope."""
    if user.is_network_staff:
        return "read" if user.role == Role.ASSOCIATE else "write"
    return "write" if user.is_client_contact else "none"


def _default(user) -> str:
    return _ceiling(user) if user.is_network_staff else "none"


def _scope_client_ids(user) -> models.QuerySet | list[int]:
    from thirdway.clients.models import Client

    if not (user.is_authenticated and user.is_active):
        return []
    if user.is_network_staff:
        return Client.objects.for_user(user).values("pk")
    contact = getattr(user, "contact", None)
    if user.is_client_contact and contact is not None and contact.is_active:
        return [contact.client_id]
    return []


def resolve(
    parents: dict[int, int | None], grants: dict[int, str], default: str, ceiling: str
) -> dict[int, str]:
    """Each folder's access from its nearest grant (``grants``: folder id → access for one
    audience), else ``default``; never above ``ceiling``.  Pure, for the table-driven tests."""
    found: dict[int, str] = {}

    def nearest(folder_id: int) -> str:
        chain = []
        current: int | None = folder_id
        access = default
        while current is not None:
            if current in found:
                access = found[current]
                break
            chain.append(current)
            if current in grants:
                access = grants[current]
                break
            current = parents.get(current)
        for seen in chain:
            found[seen] = access
        return access

    capped = {}
    for folder_id in parents:
        access = nearest(folder_id)
        capped[folder_id] = access if ORDER[access] <= ORDER[ceiling] else ceiling
    return capped


def _ancestry(folders: models.QuerySet, folder_ids: Iterable[int]) -> dict[int, int | None]:
    """The folders asked about and each of their ancestors (id → parent id), read level by
    level up to the roots: one query per level, never the client's whole tree."""
    parents: dict[int, int | None] = {}
    # An id no row can have (beyond 64 bits, say) names no folder.
    wanted = {pk for pk in folder_ids if 0 < pk < 2**63}
    while wanted:
        level = dict(folders.filter(pk__in=wanted).values_list("pk", "parent_id"))
        parents.update(level)
        wanted = {p for p in level.values() if p is not None and p not in parents}
    return parents


def folder_access(
    user, client_ids: Iterable[int] | None = None, folder_ids: Iterable[int] | None = None
) -> dict[int, str]:
    """Every folder in the person's scope (optionally of some clients) → none/read/write; with
    ``folder_ids``, only those folders and their ancestors are read (the rest is absent)."""
    from thirdway.vault.models import Folder, FolderGrant

    audience = AUDIENCE.get(getattr(user, "role", None))
    if audience is None:
        return {}
    folders = Folder.objects.filter(client__in=_scope_client_ids(user))
    if client_ids is not None:
        folders = folders.filter(client__in=list(client_ids))
    if folder_ids is not None:
        parents = _ancestry(folders, folder_ids)
    else:
        parents = dict(folders.values_list("pk", "parent_id"))
    grants = dict(
        FolderGrant.objects.filter(folder__in=list(parents), audience=audience).values_list(
            "folder_id", "access"
        )
    )
    return resolve(parents, grants, _default(user), _ceiling(user))


def readable(user, client_ids: Iterable[int] | None = None) -> list[int]:
    return [pk for pk, access in folder_access(user, client_ids).items() if access != "none"]


class FolderQuerySet(models.QuerySet):
    def for_user(self, user):
        """The folders the person may read (the rule above)."""
        return self.filter(pk__in=readable(user))


class StoredFileQuerySet(models.QuerySet):
    def for_user(self, user):
        """The files of the folders the person may read, trash and archive included (the
        lists narrow further with ``listed()``)."""
        return self.filter(folder__in=readable(user))

    def listed(self, today):
        """What ordinary lists show: neither in the trash (nor in a folder in the trash),
        archived nor past its date."""
        return self.filter(deleted_at=None, archived_at=None, folder__deleted_at=None).exclude(
            expires_on__lt=today
        )


def access_to(user, folder_id: int) -> str:
    """One folder's access (its ancestors read, nothing else): none/read/write."""
    return folder_access(user, folder_ids=[folder_id]).get(folder_id, "none")


def can_write(user, folder) -> bool:
    return access_to(user, folder.pk) == "write"


def can_grant(user, client) -> bool:
    """Change a folder's grants: the network members who may keep the client's vault."""
    from thirdway.vault.access import can_keep

    return can_keep(user, client)
