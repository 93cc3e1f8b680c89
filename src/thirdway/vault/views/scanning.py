"""The vault's settings page (practice admins): what an upload does while the virus scanner is
unreachable, and the files stored unscanned that wait for it."""

from __future__ import annotations

from django.conf import settings as django_settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render

from thirdway.audit.models import Source
from thirdway.vault.forms import VaultSettingsForm
from thirdway.vault.services import scanning
from thirdway.web.forms import add_service_errors

SHOWN = 200


@login_required
def settings_page(request: HttpRequest) -> HttpResponse:
    if not request.user.is_practice_admin:
        raise PermissionDenied if request.user.is_network_staff else Http404
    current = scanning.settings_of()
    form = VaultSettingsForm(
        request.POST or None, initial={"unscanned_files": current.unscanned_files}
    )
    if request.method == "POST" and form.is_valid():
        try:
            scanning.update_settings(
                request.user,
                unscanned_files=form.cleaned_data["unscanned_files"],
                source=Source.WEB,
            )
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, "Saved.")
            return redirect("vault:settings")
    pending = scanning.pending_versions().order_by("created_at", "pk")
    context = {
        "form": form,
        "pending": pending[:SHOWN],
        "pending_count": pending.count(),
        "scanner": django_settings.VAULT_CLAMD_SOCKET,
    }
    status = 400 if request.method == "POST" else 200
    return render(request, "vault/settings.html", context, status=status)
