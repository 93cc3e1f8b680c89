"""API of the vault's files: folders, files and their versions, copies, notes, grants and the
quota.  Uploads are multipart; their bodies stream through the size limit before any of this
runs (``vault.uploads``)."""

import datetime as dt
from typing import Literal

from django.db.models import Exists, OuterRef
from django.http import FileResponse, Http404
from django.shortcuts import get_object_or_404
from django.utils import timezone
from ninja import Field, File, Form, Query, Router, Schema, Status
from ninja.files import UploadedFile
from ninja.pagination import paginate

from thirdway.access import find_visible
from thirdway.audit.models import Source
from thirdway.clients.models import Client
from thirdway.payloads import MAX_QUERY, Id, Page, Payload
from thirdway.vault import file_usage
from thirdway.vault.file_access import access_to, folder_access
from thirdway.vault.models import FileNote, FileVersion, Folder, StoredFile
from thirdway.vault.services import file_moves, folder_limits
from thirdway.vault.services import files as services

router = Router()
AudienceName = Literal["practice", "partner", "client_admin", "client_user"]
AccessName = Literal["none", "read", "write"]


class VaultFileOut(Schema):
    id: int
    client_id: int
    folder_id: int
    name: str
    size: int
    content_type: str
    version: int
    expires_on: dt.date | None
    archived: bool
    in_trash: bool
    updated_at: dt.datetime
    scanned: bool = Field(
        description="False while the current version waits for the virus scanner (stored "
        "unscanned when it was unreachable)"
    )

    @staticmethod
    def resolve_scanned(obj) -> bool:
        unscanned = getattr(obj, "unscanned", None)  # annotated by the lists
        if unscanned is None:
            unscanned = obj.versions.filter(number=obj.version, scan_pending=True).exists()
        return not unscanned

    @staticmethod
    def resolve_archived(obj) -> bool:
        return obj.archived_at is not None

    @staticmethod
    def resolve_in_trash(obj) -> bool:
        return obj.deleted_at is not None


class VaultFileVersionOut(Schema):
    number: int
    size: int
    content_type: str
    sha256: str
    uploaded_by_id: int | None
    created_at: dt.datetime
    scan_pending: bool


class VaultFileFolderOut(Schema):
    id: int
    client_id: int
    parent_id: int | None
    name: str
    access: AccessName
    in_trash: bool
    limit_bytes: int | None = Field(description="The folder's own limit (subfolders included)")
    used_bytes: int | None = Field(description="What it holds, while it has a limit")


class VaultFileMoveIn(Payload, extra="forbid"):
    """Where a file goes and its name there; either left out stays as it is."""

    folder: Id | None = None
    name: str | None = Field(None, max_length=1000)


class VaultFileFolderMoveIn(Payload, extra="forbid"):
    """The folder a folder goes under and its name there; either left out stays as it is."""

    parent: Id | None = None
    name: str | None = Field(None, max_length=1000)


class VaultFileScannerOut(Schema):
    """The virus scanner could not be reached: nothing was stored."""

    detail: str
    reason: str


class VaultFileFolderPurgeOut(Schema):
    id: int
    freed_bytes: int


class VaultFileFolderIn(Payload, extra="forbid"):
    parent: Id
    name: str = Field(max_length=1000)


class VaultFileNoteIn(Payload, extra="forbid"):
    """A note's text ("body" names the request body itself in errors)."""

    text: str = Field(max_length=FileNote.MAX_BODY)


class VaultFileNoteOut(Schema):
    id: int
    folder_id: int | None
    file_id: int | None
    text: str = Field(alias="body")
    author_id: int | None
    created_at: dt.datetime


class VaultFileCopyIn(Payload, extra="forbid"):
    folder: Id
    name: str = Field(max_length=1000)


class VaultFileRestoreIn(Payload, extra="forbid"):
    version: int = Field(ge=1, le=2**31 - 1)


class VaultFileGrantIn(Payload, extra="forbid"):
    audience: AudienceName
    access: AccessName | None


class VaultFileFolderLimitIn(Payload, extra="forbid"):
    """A folder's limit in bytes, its subfolders included; null for none."""

    limit_bytes: int | None = Field(..., ge=1, le=2**62)


class VaultFileExpiryIn(Payload, extra="forbid"):
    expires_on: dt.date | None


class VaultFileTypeUse(Schema):
    content_type: str
    bytes: int


class VaultFileFolderUse(Schema):
    """The bytes under a folder, its subfolders included."""

    folder_id: int
    bytes: int


class VaultFileQuotaOut(Schema):
    """Every version and every file in the trash count until purged.  ``by_folder`` lists the
    folders one may read."""

    client_id: int
    used_bytes: int
    limit_bytes: int
    free_bytes: int
    by_type: list[VaultFileTypeUse]
    by_folder: list[VaultFileFolderUse]


def _files(request):
    pending = FileVersion.objects.filter(
        file=OuterRef("pk"), number=OuterRef("version"), scan_pending=True
    )
    return (
        StoredFile.objects.for_user(request.auth)
        .select_related("folder", "client")
        .annotate(unscanned=Exists(pending))
    )


def _file(request, file_id: int) -> StoredFile:
    """The file, a 404 unless its folder is readable (only its folder's ancestors are read)."""
    found = get_object_or_404(StoredFile.objects.select_related("folder", "client"), pk=file_id)
    if access_to(request.auth, found.folder_id) == "none":
        raise Http404
    return found


def _folder(request, folder_id: int, field: str = "folder") -> Folder:
    """A folder named in a payload: a 400 naming ``field`` unless readable."""
    readable = [folder_id] if access_to(request.auth, folder_id) != "none" else []
    return find_visible(Folder.objects.filter(pk__in=readable), field, folder_id)


@router.get("/vault/files", response=list[VaultFileOut])
@paginate(Page)
def list_files(
    request,
    client: Id | None = None,
    folder: Id | None = None,
    q: str | None = Query(None, max_length=MAX_QUERY),
):
    """The files one may read: not in the trash, not archived, not past their date."""
    rows = _files(request).listed(timezone.localdate())
    if client:
        rows = rows.filter(client_id=client)
    if folder:
        rows = rows.filter(folder_id=folder)
    if q:
        rows = rows.filter(name__icontains=q)
    return rows


@router.post("/vault/files", response={201: VaultFileOut, 503: VaultFileScannerOut})
def upload_file(
    request,
    file: File[UploadedFile],
    folder: Form[Id],
    name: str = Form("", max_length=1000),
):
    """A new file (multipart ``file``) in a folder; ``name`` defaults to the file's own."""
    target = _folder(request, folder)
    made = services.upload_file(
        request.auth, target, name or file.name or "", file, source=Source.API
    )
    return Status(201, made)


@router.get("/vault/files/{int:file_id}", response=VaultFileOut)
def get_file(request, file_id: int):
    return _file(request, file_id)


@router.get("/vault/files/{int:file_id}/download")
def download_file(request, file_id: int, version: int | None = Query(None, ge=1, le=2**31 - 1)):
    """The bytes of the current (or a given) version, always as a download."""
    return file_answer(_file(request, file_id), version)


def file_answer(stored_file: StoredFile, number: int | None):
    from django.core.files.storage import default_storage

    versions = stored_file.versions.all()
    chosen = versions.filter(number=number).first() if number else versions.first()
    if chosen is None:
        raise Http404
    response = FileResponse(
        default_storage.open(chosen.storage_key, "rb"),
        as_attachment=True,
        filename=stored_file.name,
        content_type=chosen.content_type,
    )
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    response["Cache-Control"] = "private, no-store"
    return response


@router.get("/vault/files/{int:file_id}/versions", response=list[VaultFileVersionOut])
def list_versions(request, file_id: int):
    return _file(request, file_id).versions.all()


@router.post(
    "/vault/files/{int:file_id}/versions",
    response={201: VaultFileVersionOut, 503: VaultFileScannerOut},
)
def new_version(request, file_id: int, file: File[UploadedFile]):
    stored_file = _file(request, file_id)
    return Status(201, services.add_version(request.auth, stored_file, file, source=Source.API))


@router.post(
    "/vault/files/{int:file_id}/restore",
    response={201: VaultFileVersionOut, 503: VaultFileScannerOut},
)
def restore_version(request, file_id: int, payload: VaultFileRestoreIn):
    """An old version's bytes become the newest version (they count in the quota)."""
    stored_file = _file(request, file_id)
    made = services.restore_version(request.auth, stored_file, payload.version, source=Source.API)
    return Status(201, made)


@router.post(
    "/vault/files/{int:file_id}/copy", response={201: VaultFileOut, 503: VaultFileScannerOut}
)
def copy_file(request, file_id: int, payload: VaultFileCopyIn):
    stored_file = _file(request, file_id)
    target = _folder(request, payload.folder)
    made = services.copy_file(request.auth, stored_file, target, payload.name, source=Source.API)
    return Status(201, made)


@router.post("/vault/files/{int:file_id}/move", response=VaultFileOut)
def move_file(request, file_id: int, payload: VaultFileMoveIn):
    """Move or rename a file within its client."""
    stored_file = _file(request, file_id)
    target = _folder(request, payload.folder) if payload.folder else stored_file.folder
    name = stored_file.name if payload.name is None else payload.name
    return file_moves.move_file(request.auth, stored_file, target, name, source=Source.API)


@router.post("/vault/files/{int:file_id}/untrash", response=VaultFileOut)
def take_back(request, file_id: int):
    """A file in the trash back into its folder (a 400 if a file of its name is there now)."""
    stored_file = _file(request, file_id)
    return services.take_back(request.auth, stored_file, source=Source.API)


@router.put("/vault/files/{int:file_id}/expiry", response=VaultFileOut)
def set_expiry(request, file_id: int, payload: VaultFileExpiryIn):
    stored_file = _file(request, file_id)
    return services.set_expiry(request.auth, stored_file, payload.expires_on, source=Source.API)


@router.get("/vault/files/{int:file_id}/notes", response=list[VaultFileNoteOut])
def file_notes(request, file_id: int):
    return _file(request, file_id).notes.all()


@router.post("/vault/files/{int:file_id}/notes", response={201: VaultFileNoteOut})
def add_file_note(request, file_id: int, payload: VaultFileNoteIn):
    stored_file = _file(request, file_id)
    return Status(
        201, services.add_note(request.auth, stored_file, payload.text, source=Source.API)
    )


@router.get("/vault/files/folders", response=list[VaultFileFolderOut])
def list_folders(request, client: Id):
    access = folder_access(request.auth, [client])
    rows = Folder.objects.filter(pk__in=[pk for pk, a in access.items() if a != "none"])
    return [
        {
            "id": f.pk,
            "client_id": f.client_id,
            "parent_id": f.parent_id,
            "name": f.name,
            "access": access[f.pk],
            "in_trash": f.deleted_at is not None,
            "limit_bytes": f.limit_bytes,
            "used_bytes": f.used_bytes if f.limit_bytes is not None else None,
        }
        for f in rows
    ]


@router.post("/vault/files/folders", response={201: VaultFileFolderOut})
def create_folder(request, payload: VaultFileFolderIn):
    parent = _folder(request, payload.parent, "parent")
    made = services.create_folder(request.auth, parent, payload.name, source=Source.API)
    return Status(201, {**_folder_out(request, made)})


def _folder_out(request, folder: Folder) -> dict:
    access = folder_access(request.auth, [folder.client_id]).get(folder.pk, "none")
    return {
        "id": folder.pk,
        "client_id": folder.client_id,
        "parent_id": folder.parent_id,
        "name": folder.name,
        "access": access,
        "in_trash": folder.deleted_at is not None,
        "limit_bytes": folder.limit_bytes,
        "used_bytes": folder.used_bytes if folder.limit_bytes is not None else None,
    }


def _readable_folder(request, folder_id: int) -> Folder:
    if access_to(request.auth, folder_id) == "none":
        raise Http404
    return get_object_or_404(Folder.objects.select_related("client"), pk=folder_id)


@router.put("/vault/files/folders/{int:folder_id}/limit", response=VaultFileFolderOut)
def set_folder_limit(request, folder_id: int, payload: VaultFileFolderLimitIn):
    """Set (or with null remove) a folder's limit; write access to the folder is needed."""
    folder = _readable_folder(request, folder_id)
    changed = folder_limits.set_folder_limit(
        request.auth, folder, payload.limit_bytes, source=Source.API
    )
    return _folder_out(request, changed)


@router.post("/vault/files/folders/{int:folder_id}/move", response=VaultFileFolderOut)
def move_folder(request, folder_id: int, payload: VaultFileFolderMoveIn):
    """Move or rename a folder within its client (never under itself)."""
    folder = _readable_folder(request, folder_id)
    parent = _folder(request, payload.parent, "parent") if payload.parent else folder.parent
    if parent is None:
        parent = folder
    name = folder.name if payload.name is None else payload.name
    file_moves.move_folder(request.auth, folder, parent, name, source=Source.API)
    return _folder_out(request, folder)


@router.post("/vault/files/folders/{int:folder_id}/trash", response=VaultFileFolderOut)
def trash_folder(request, folder_id: int):
    """The folder and all under it into the trash; its files count until purged."""
    folder = _readable_folder(request, folder_id)
    file_moves.trash_folder(request.auth, folder, source=Source.API)
    return _folder_out(request, folder)


@router.post("/vault/files/folders/{int:folder_id}/untrash", response=VaultFileFolderOut)
def take_back_folder(request, folder_id: int):
    folder = _readable_folder(request, folder_id)
    file_moves.take_back_folder(request.auth, folder, source=Source.API)
    return _folder_out(request, folder)


@router.delete("/vault/files/folders/{int:folder_id}", response=VaultFileFolderPurgeOut)
def purge_folder(request, folder_id: int):
    """Delete a folder in the trash for good, with everything in it; its bytes are freed."""
    folder = _readable_folder(request, folder_id)
    freed = file_moves.purge_folder(request.auth, folder, source=Source.API)
    return {"id": folder_id, "freed_bytes": freed}


@router.get("/vault/files/folders/{int:folder_id}/notes", response=list[VaultFileNoteOut])
def folder_notes(request, folder_id: int):
    return _readable_folder(request, folder_id).notes.all()


@router.post("/vault/files/folders/{int:folder_id}/notes", response={201: VaultFileNoteOut})
def add_folder_note(request, folder_id: int, payload: VaultFileNoteIn):
    folder = _readable_folder(request, folder_id)
    return Status(201, services.add_note(request.auth, folder, payload.text, source=Source.API))


@router.put("/vault/files/folders/{int:folder_id}/permissions", response=VaultFileFolderOut)
def set_permission(request, folder_id: int, payload: VaultFileGrantIn):
    """Grant (or with ``access: null`` withdraw) an audience's access to a folder."""
    folder = _readable_folder(request, folder_id)
    services.set_grant(request.auth, folder, payload.audience, payload.access, source=Source.API)
    return _folder_out(request, folder)


@router.get("/vault/files/quota/{int:client_id}", response=VaultFileQuotaOut)
def quota(request, client_id: int):
    """The client's quota, for whoever may read one of its folders."""
    found = get_object_or_404(Client.objects.for_user(request.auth), pk=client_id)
    services.root_of(found)
    access = folder_access(request.auth, [found.pk])
    if all(a == "none" for a in access.values()):
        raise Http404
    seen = file_usage.usage(found, services.quota_of(found))
    return {
        "client_id": found.pk,
        "used_bytes": seen["used"],
        "limit_bytes": seen["limit"],
        "free_bytes": seen["free"],
        "by_type": [{"content_type": t, "bytes": n} for t, n in seen["by_type"]],
        "by_folder": [
            {"folder_id": pk, "bytes": n}
            for pk, n in sorted(seen["by_folder"].items())
            if access.get(pk, "none") != "none"
        ],
    }
