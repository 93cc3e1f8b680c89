"""The file browser: a client's folders and files, uploads with the quota bar, a file's
versions, notes and expiry, and the permissions editor of the practice."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Exists, OuterRef, Q
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from thirdway.audit.models import Source
from thirdway.clients.models import Client
from thirdway.vault import file_usage
from thirdway.vault.api_files import file_answer
from thirdway.vault.file_access import access_to, can_grant, folder_access
from thirdway.vault.forms import (
    FileCopyForm,
    FileExpiryForm,
    FileNoteForm,
    FileUploadForm,
    FileVersionForm,
    FolderForm,
    FolderLimitForm,
    GrantForm,
    QuotaForm,
)
from thirdway.vault.models import FileVersion, Folder, FolderGrant, StoredFile
from thirdway.vault.services import files as services
from thirdway.vault.services import folder_limits
from thirdway.vault.uploads import FileTooLarge, ScannerUnavailable
from thirdway.web.forms import add_service_errors

MB = 1024 * 1024
# What each audience has without any grant on the way up (vault.file_access).
DEFAULTS = {
    "practice": "write (associates: read)",
    "partner": "write",
    "client_admin": "none",
    "client_user": "none",
}


def get_folder(request: HttpRequest, folder_id: int) -> tuple[Folder, dict[int, str]]:
    """The folder (a 404 unless readable) and the access to it, its ancestors and its
    subfolders: only those are read, not the client's whole tree."""
    folder = get_object_or_404(Folder.objects.select_related("client"), pk=folder_id)
    children = list(Folder.objects.filter(parent=folder).values_list("pk", flat=True))
    access = folder_access(request.user, [folder.client_id], [folder.pk, *children])
    if access.get(folder.pk, "none") == "none":
        raise Http404
    return folder, access


def get_file(request: HttpRequest, file_id: int) -> StoredFile:
    """The file, a 404 unless its folder is readable (only its folder's ancestors are read)."""
    found = get_object_or_404(StoredFile.objects.select_related("folder", "client"), pk=file_id)
    if access_to(request.user, found.folder_id) == "none":
        raise Http404
    return found


def _trail(folder: Folder, access: dict[int, str]) -> list[Folder]:
    """The folders from the root down to ``folder``, those one may read."""
    chain, current = [], folder
    while current is not None:
        chain.append(current)
        current = current.parent
    return [f for f in reversed(chain) if access.get(f.pk, "none") != "none"]


def _quota(client: Client, folder: Folder | None = None) -> dict:
    quota = file_usage.usage(client, services.quota_of(client))
    quota["folder_limits"] = folder_limits.limits_over(folder) if folder is not None else []
    quota["folder_id"] = folder.pk if folder is not None else None
    return quota


@login_required
def files_home(request: HttpRequest, client_id: int) -> HttpResponse:
    """The client's root folder, or the folders shared with a contact who cannot read it."""
    client = get_object_or_404(Client.objects.for_user(request.user), pk=client_id)
    root = services.root_of(client)
    access = folder_access(request.user, [client.pk])
    if access.get(root.pk, "none") != "none":
        return redirect("vault:folder", root.pk)
    readable = {pk for pk, a in access.items() if a != "none"}
    tops = Folder.objects.filter(pk__in=readable, deleted_at=None).exclude(parent__in=readable)
    if not tops:
        raise Http404
    context = {"client": client, "tab": "files", "folders": tops, "quota": _quota(client)}
    return render(request, "vault/files_shared.html", context)


def folder_page(request, folder, access, status=200, **forms) -> HttpResponse:
    from thirdway.vault.views.file_moves import folder_move_form

    client = folder.client
    today = timezone.localdate()
    readable = [pk for pk, a in access.items() if a != "none"]
    if folder.deleted_at is None:
        files = (
            StoredFile.objects.filter(folder=folder)
            .listed(today)
            .annotate(
                unscanned=Exists(
                    FileVersion.objects.filter(
                        file=OuterRef("pk"), number=OuterRef("version"), scan_pending=True
                    )
                )
            )
        )
        children = folder.children.filter(pk__in=readable, deleted_at=None)
    else:
        # A folder in the trash still shows what went there with it.
        files = StoredFile.objects.filter(folder=folder, deleted_at=None)
        children = folder.children.filter(pk__in=readable, deleted_at=folder.deleted_at)
    quota = _quota(client, folder)
    writable = access.get(folder.pk) == "write" and folder.deleted_at is None
    movable = writable and folder.parent_id is not None
    context = {
        "client": client,
        "tab": "files",
        "folder": folder,
        "trail": _trail(folder, access),
        "children": [(child, quota["by_folder"].get(child.pk, 0)) for child in children],
        "files": files,
        "writable": writable,
        "movable": movable,
        "held": quota["by_folder"].get(folder.pk, 0),
        "held_types": file_usage.folder_types(client, folder.pk, quota["children"]),
        "staff": can_grant(request.user, client),
        "quota": quota,
        "move_form": forms.get("move_form") or (movable and folder_move_form(request.user, folder)),
        "trashed_folders": folder.children.filter(pk__in=readable).exclude(deleted_at=None),
        "upload_form": forms.get("upload_form") or FileUploadForm(),
        "folder_form": forms.get("folder_form") or FolderForm(),
        "limit_form": forms.get("limit_form")
        or FolderLimitForm(initial={"limit": folder_limits.shown(folder.limit_bytes)}),
        "note_form": forms.get("note_form") or FileNoteForm(),
        "notes": folder.notes.select_related("author"),
        "trash": StoredFile.objects.filter(folder=folder).exclude(deleted_at=None),
        "archived": StoredFile.objects.filter(folder=folder, deleted_at=None).filter(
            Q(archived_at__isnull=False) | Q(expires_on__lt=today)
        ),
    }
    return render(request, "vault/files_folder.html", context, status=status)


@login_required
def folder(request: HttpRequest, folder_id: int) -> HttpResponse:
    found, access = get_folder(request, folder_id)
    return folder_page(request, found, access)


@login_required
def quota_bar(request: HttpRequest, client_id: int) -> HttpResponse:
    """The quota bar alone, for the browser to refresh it."""
    client = get_object_or_404(Client.objects.for_user(request.user), pk=client_id)
    if not Folder.objects.for_user(request.user).filter(client=client).exists():
        raise Http404
    folder = None
    if request.GET.get("folder", "").isdigit():
        folder = (
            Folder.objects.for_user(request.user)
            .filter(client=client, pk=int(request.GET["folder"][:12]))
            .first()
        )
    return render(request, "vault/_quota.html", {"client": client, "quota": _quota(client, folder)})


# What a page shows beside the form, with its status (413, 403, 503).
REFUSED = (FileTooLarge, PermissionDenied, ScannerUnavailable)


def _status(error: Exception) -> int:
    if isinstance(error, FileTooLarge):
        return 413
    return 503 if isinstance(error, ScannerUnavailable) else 403


def _refused(error: Exception) -> str:
    if isinstance(error, ScannerUnavailable):
        return ScannerUnavailable.MESSAGE
    if isinstance(error, FileTooLarge):
        return error.problem
    if isinstance(error, PermissionDenied):
        return str(error)
    return ""


def _uploaded(name: str, made: StoredFile) -> str:
    if made.versions.filter(scan_pending=True).exists():
        return (
            f"{name} uploaded, not scanned: the virus scanner is unreachable; it will be "
            "scanned when the scanner is back."
        )
    return f"{name} uploaded."


@login_required
@require_POST
def upload(request: HttpRequest, folder_id: int) -> HttpResponse:
    found, access = get_folder(request, folder_id)
    form = FileUploadForm(request.POST, request.FILES)
    if form.is_valid():
        sent = form.cleaned_data["file"]
        name = form.cleaned_data["name"] or sent.name
        try:
            made = services.upload_file(request.user, found, name, sent, source=Source.WEB)
        except ValidationError as error:
            add_service_errors(form, error)
        except REFUSED as error:
            form.add_error("file", _refused(error))
            return folder_page(request, found, access, _status(error), upload_form=form)
        else:
            messages.success(request, _uploaded(name, made))
            return redirect("vault:folder", found.pk)
    return folder_page(request, found, access, 400, upload_form=form)


@login_required
@require_POST
def folder_create(request: HttpRequest, folder_id: int) -> HttpResponse:
    found, access = get_folder(request, folder_id)
    form = FolderForm(request.POST)
    if form.is_valid():
        try:
            made = services.create_folder(
                request.user, found, form.cleaned_data["name"], source=Source.WEB
            )
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            return redirect("vault:folder", made.pk)
    return folder_page(request, found, access, 400, folder_form=form)


@login_required
@require_POST
def folder_note(request: HttpRequest, folder_id: int) -> HttpResponse:
    found, access = get_folder(request, folder_id)
    form = FileNoteForm(request.POST)
    if form.is_valid():
        try:
            services.add_note(request.user, found, form.cleaned_data["text"], source=Source.WEB)
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            return redirect("vault:folder", found.pk)
    return folder_page(request, found, access, 400, note_form=form)


@login_required
def permissions(request: HttpRequest, folder_id: int) -> HttpResponse:
    """The practice's editor of a folder's grants, with what each audience ends up with."""
    found, _ = get_folder(request, folder_id)
    if not can_grant(request.user, found.client):
        raise PermissionDenied("Only the practice may change who reads and writes a folder.")
    form = GrantForm(request.POST or None)
    limit_mb = services.quota_of(found.client).limit_bytes // MB
    quota_form = QuotaForm(request.POST or None, prefix="quota", initial={"limit_mb": limit_mb})
    if request.method == "POST" and "quota-limit_mb" in request.POST:
        if quota_form.is_valid():
            limit = quota_form.cleaned_data["limit_mb"] * MB
            services.set_quota(request.user, found.client, limit, source=Source.WEB)
            messages.success(request, "Quota saved.")
            return redirect("vault:folder_permissions", found.pk)
    elif request.method == "POST" and form.is_valid():
        access = form.cleaned_data["access"]
        services.set_grant(
            request.user,
            found,
            form.cleaned_data["audience"],
            None if access == "inherit" else access,
            source=Source.WEB,
        )
        messages.success(request, "Permission saved.")
        return redirect("vault:folder_permissions", found.pk)
    context = {
        "client": found.client,
        "tab": "files",
        "folder": found,
        "form": form,
        "quota_form": quota_form,
        "grants": FolderGrant.objects.filter(folder=found),
        "inherited": _inherited(found),
        "quota": _quota(found.client),
    }
    status = 400 if request.method == "POST" else 200
    return render(request, "vault/files_permissions.html", context, status=status)


def _inherited(folder: Folder) -> list[tuple[str, str, str]]:
    """Each audience's nearest grant on the way up: (audience, access, where)."""
    from thirdway.vault.models import Audience

    chain, current = [], folder
    while current is not None:
        chain.append(current)
        current = current.parent
    grants = {
        (g.folder_id, g.audience): g.access
        for g in FolderGrant.objects.filter(folder__in=[f.pk for f in chain])
    }
    shown = []
    for audience, label in Audience.choices:
        for step in chain:
            if (step.pk, audience) in grants:
                where = "this folder" if step == folder else f"“{step or '/'}”"
                shown.append((label, grants[(step.pk, audience)], where))
                break
        else:
            shown.append((label, DEFAULTS[audience], "no grant: the default"))
    return shown


# --- one file --------------------------------------------------------------------------------


def file_page(request, stored_file: StoredFile, status=200, **forms) -> HttpResponse:
    from thirdway.vault.views.file_moves import file_move_form, writable_folders

    access = folder_access(request.user, [stored_file.client_id], [stored_file.folder_id])
    folders = writable_folders(request.user, stored_file.client_id)
    context = {
        "client": stored_file.client,
        "tab": "files",
        "file": stored_file,
        "trail": _trail(stored_file.folder, access),
        "versions": stored_file.versions.select_related("uploaded_by"),
        "notes": stored_file.notes.select_related("author"),
        "writable": access.get(stored_file.folder_id) == "write"
        and stored_file.folder.deleted_at is None,
        "staff": can_grant(request.user, stored_file.client),
        "move_form": forms.get("move_form") or file_move_form(request.user, stored_file),
        "quota": _quota(stored_file.client),
        "version_form": forms.get("version_form") or FileVersionForm(),
        "note_form": forms.get("note_form") or FileNoteForm(),
        "expiry_form": forms.get("expiry_form")
        or FileExpiryForm(initial={"expires_on": stored_file.expires_on}),
        "copy_form": forms.get("copy_form")
        or FileCopyForm(folders=folders, initial={"name": f"Copy of {stored_file.name}"[:255]}),
    }
    return render(request, "vault/files_file.html", context, status=status)


def path_of(folder: Folder) -> str:
    names, current = [], folder
    while current is not None and current.parent_id is not None:
        names.append(current.name)
        current = current.parent
    return "/" + "/".join(reversed(names))


@login_required
def file_detail(request: HttpRequest, file_id: int) -> HttpResponse:
    return file_page(request, get_file(request, file_id))


@login_required
def file_download(request: HttpRequest, file_id: int) -> HttpResponse:
    number = request.GET.get("version", "")
    return file_answer(get_file(request, file_id), int(number) if number.isdigit() else None)


def act(request, stored_file, form_name, form, do) -> HttpResponse:
    """Run ``do`` with a valid form's data; a refusal shows the file's page again."""
    if form.is_valid():
        try:
            do(form.cleaned_data)
        except ValidationError as error:
            add_service_errors(form, error)
        except REFUSED as error:
            form.add_error(None, _refused(error))
            return file_page(request, stored_file, _status(error), **{form_name: form})
        else:
            return redirect("vault:file_detail", stored_file.pk)
    return file_page(request, stored_file, 400, **{form_name: form})


@login_required
@require_POST
def file_version(request: HttpRequest, file_id: int) -> HttpResponse:
    found = get_file(request, file_id)
    form = FileVersionForm(request.POST, request.FILES)
    return act(
        request,
        found,
        "version_form",
        form,
        lambda data: services.add_version(request.user, found, data["file"], source=Source.WEB),
    )


@login_required
@require_POST
def file_restore(request: HttpRequest, file_id: int, number: int) -> HttpResponse:
    found = get_file(request, file_id)
    try:
        services.restore_version(request.user, found, number, source=Source.WEB)
    except (FileTooLarge, ScannerUnavailable, ValidationError) as error:
        messages.error(request, _refused(error) or " ".join(error.messages))
    return redirect("vault:file_detail", found.pk)


@login_required
@require_POST
def file_copy(request: HttpRequest, file_id: int) -> HttpResponse:
    from thirdway.vault.views.file_moves import writable_folders

    found = get_file(request, file_id)
    folders = writable_folders(request.user, found.client_id)
    form = FileCopyForm(request.POST, folders=folders)

    def copy(data):
        target = Folder.objects.get(pk=data["folder"])
        services.copy_file(request.user, found, target, data["name"], source=Source.WEB)

    return act(request, found, "copy_form", form, copy)


@login_required
@require_POST
def file_note(request: HttpRequest, file_id: int) -> HttpResponse:
    found = get_file(request, file_id)
    form = FileNoteForm(request.POST)
    return act(
        request,
        found,
        "note_form",
        form,
        lambda data: services.add_note(request.user, found, data["text"], source=Source.WEB),
    )


@login_required
@require_POST
def file_expiry(request: HttpRequest, file_id: int) -> HttpResponse:
    found = get_file(request, file_id)
    form = FileExpiryForm(request.POST)
    return act(
        request,
        found,
        "expiry_form",
        form,
        lambda data: services.set_expiry(
            request.user, found, data["expires_on"], source=Source.WEB
        ),
    )


@login_required
@require_POST
def file_trash(request: HttpRequest, file_id: int) -> HttpResponse:
    found = get_file(request, file_id)
    services.trash_file(request.user, found, source=Source.WEB)
    messages.success(request, f"{found.name} is in the trash; it counts in the quota until purged.")
    return redirect("vault:folder", found.folder_id)


@login_required
@require_POST
def file_take_back(request: HttpRequest, file_id: int) -> HttpResponse:
    found = get_file(request, file_id)
    try:
        services.take_back(request.user, found, source=Source.WEB)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, f"{found.name} is back in its folder.")
    return redirect("vault:folder", found.folder_id)


@login_required
@require_POST
def file_purge(request: HttpRequest, file_id: int) -> HttpResponse:
    found = get_file(request, file_id)
    freed = services.purge_file(request.user, found, source=Source.WEB)
    messages.success(request, f"{found.name} deleted for good; {freed} bytes freed.")
    return redirect("vault:folder", found.folder_id)
