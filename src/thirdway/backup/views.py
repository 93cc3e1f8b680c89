"""The practice admin's backups page: the archives in THIRDWAY_BACKUP_DIR, and a button that
asks the worker for one more."""

from __future__ import annotations

from pathlib import Path

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from thirdway.backup import services, tasks
from thirdway.web.pages import require_practice_admin


@login_required
def backup_list(request: HttpRequest) -> HttpResponse:
    require_practice_admin(request)
    directory = Path(settings.BACKUP_DIR)
    context = {
        "backups": services.kept(directory),
        "directory": directory,
        "every_hours": settings.BACKUP_EVERY_HOURS,
        "keep": settings.BACKUP_KEEP,
        "with_secrets": settings.BACKUP_WITH_SECRETS,
    }
    return render(request, "backup/list.html", context)


@login_required
@require_POST
def back_up_now(request: HttpRequest) -> HttpResponse:
    require_practice_admin(request)
    tasks.take_backup_now.enqueue()
    messages.success(request, "Backup asked for: the worker writes it; reload to see it listed.")
    return redirect("backup:list")
