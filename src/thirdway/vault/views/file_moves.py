"""The file browser's moves: renaming and moving files and folders, and folders in the trash
(taken back or deleted for good).  The rules live in ``services.file_moves``."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.views.decorators.http import require_POST

from thirdway.audit.models import Source
from thirdway.vault.file_access import folder_access
from thirdway.vault.forms import FileMoveForm, FolderLimitForm, FolderMoveForm
from thirdway.vault.models import Folder
from thirdway.vault.services import file_moves, folder_limits
from thirdway.vault.uploads import FileTooLarge
from thirdway.vault.views import files as pages
from thirdway.web.forms import add_service_errors, add_service_errors_to


def writable_folders(user, client_id: int, exclude: list[int] = ()) -> list[tuple[int, str]]:
    """The live folders of a client one may write, by path (for the move forms)."""
    access = folder_access(user, [client_id])
    rows = Folder.objects.filter(client_id=client_id).values_list("pk", "parent_id", "name")
    tree = {pk: (parent, name) for pk, parent, name in rows}

    def path(pk: int) -> str:
        names = []
        while tree[pk][0] is not None:
            names.append(tree[pk][1])
            pk = tree[pk][0]
        return "/" + "/".join(reversed(names))

    live = set(
        Folder.objects.filter(client_id=client_id, deleted_at=None).values_list("pk", flat=True)
    )
    ids = [pk for pk, a in access.items() if a == "write" and pk in live and pk not in exclude]
    return sorted(((pk, path(pk)) for pk in ids), key=lambda row: row[1])


def file_move_form(user, stored_file, data=None) -> FileMoveForm:
    folders = writable_folders(user, stored_file.client_id)
    initial = {"folder": stored_file.folder_id, "name": stored_file.name}
    return FileMoveForm(data, folders=folders, initial=initial)


def folder_move_form(user, folder, data=None) -> FolderMoveForm:
    folders = writable_folders(user, folder.client_id, file_moves.subtree(folder))
    initial = {"parent": folder.parent_id, "name": folder.name}
    return FolderMoveForm(data, folders=folders, initial=initial)


@login_required
@require_POST
def file_move(request: HttpRequest, file_id: int) -> HttpResponse:
    found = pages.get_file(request, file_id)
    form = file_move_form(request.user, found, request.POST)

    def move(data):
        target = Folder.objects.get(pk=data["folder"])
        file_moves.move_file(request.user, found, target, data["name"], source=Source.WEB)
        messages.success(request, f"Saved: {found.name} is in {pages.path_of(target)}.")

    return pages.act(request, found, "move_form", form, move)


@login_required
@require_POST
def folder_move(request: HttpRequest, folder_id: int) -> HttpResponse:
    found, access = pages.get_folder(request, folder_id)
    form = folder_move_form(request.user, found, request.POST)
    if form.is_valid():
        try:
            parent = Folder.objects.get(pk=form.cleaned_data["parent"])
            file_moves.move_folder(
                request.user, found, parent, form.cleaned_data["name"], source=Source.WEB
            )
        except ValidationError as error:
            add_service_errors(form, error)
        except PermissionDenied as error:
            form.add_error(None, str(error))
            return pages.folder_page(request, found, access, 403, move_form=form)
        except FileTooLarge as error:  # it does not fit under a folder's limit
            form.add_error("parent", error.problem)
            return pages.folder_page(request, found, access, 413, move_form=form)
        else:
            messages.success(request, f"Saved: the folder is {pages.path_of(found)}.")
            return redirect("vault:folder", found.pk)
    return pages.folder_page(request, found, access, 400, move_form=form)


def _folder_act(request, folder_id: int, act, done: str, back_to_parent: bool) -> HttpResponse:
    found, _ = pages.get_folder(request, folder_id)
    parent_id = found.parent_id
    try:
        result = act(request.user, found, source=Source.WEB)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
        return redirect("vault:folder", parent_id or found.pk)
    messages.success(request, done.format(name=found.name, result=result))
    return redirect("vault:folder", parent_id if back_to_parent else found.pk)


@login_required
@require_POST
def folder_trash(request: HttpRequest, folder_id: int) -> HttpResponse:
    done = "“{name}” and all in it are in the trash; its files count in the quota until purged."
    return _folder_act(request, folder_id, file_moves.trash_folder, done, True)


@login_required
@require_POST
def folder_take_back(request: HttpRequest, folder_id: int) -> HttpResponse:
    done = "“{name}” is back with all that went with it."
    return _folder_act(request, folder_id, file_moves.take_back_folder, done, False)


@login_required
@require_POST
def folder_purge(request: HttpRequest, folder_id: int) -> HttpResponse:
    done = "“{name}” deleted for good; {result} bytes freed."
    return _folder_act(request, folder_id, file_moves.purge_folder, done, True)


@login_required
@require_POST
def folder_limit(request: HttpRequest, folder_id: int) -> HttpResponse:
    """Set or remove a folder's limit (those who may write the folder)."""
    found, access = pages.get_folder(request, folder_id)
    form = FolderLimitForm(request.POST)
    if form.is_valid():
        try:
            limit = folder_limits.parse_limit(form.cleaned_data["limit"])
            folder_limits.set_folder_limit(request.user, found, limit, source=Source.WEB)
        except ValidationError as error:
            add_service_errors_to(form, "limit", error)
        else:
            said = f"limited to {folder_limits.shown(limit)}" if limit else "without a limit"
            messages.success(request, f"This folder is now {said}.")
            return redirect("vault:folder", found.pk)
    return pages.folder_page(request, found, access, 400, limit_form=form)
