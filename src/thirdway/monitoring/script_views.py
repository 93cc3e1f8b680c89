"""Pages of the script library: the scripts a person sees (and a form for a new one), and a
script with its edit form, its versions (each with its SHA-256) and its run history."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render

from thirdway.audit.models import Source
from thirdway.monitoring import scripts
from thirdway.monitoring.access import can_write_scripts
from thirdway.monitoring.models import Interpreter, Script
from thirdway.network.models import Practice
from thirdway.web.forms import service_texts


def _number(raw: str) -> int:
    try:
        return int(raw)
    except (TypeError, ValueError):
        return -1


def _posted(request: HttpRequest) -> dict:
    return {
        "name": request.POST.get("name", ""),
        "description": request.POST.get("description", ""),
        "interpreter": request.POST.get("interpreter", ""),
        "timeout_seconds": _number(request.POST.get("timeout_seconds", "")),
        # Browsers send CRLF line ends; scripts run with LF.
        "body": request.POST.get("body", "").replace("\r\n", "\n"),
    }


@login_required
def script_list(request: HttpRequest) -> HttpResponse:
    """The scripts of the practices the person sees; a new one for those who write scripts."""
    visible = Script.objects.for_user(request.user).select_related("practice", "current")
    if not request.user.is_network_staff:
        raise PermissionDenied
    may_write = can_write_scripts(request.user)
    values, error = {"interpreter": "sh", "timeout_seconds": 30}, ""
    if request.method == "POST":
        if not may_write:
            raise PermissionDenied
        values = _posted(request)
        practice = Practice.objects.filter(pk=_number(request.POST.get("practice", ""))).first()
        try:
            if practice is None:
                raise ValidationError({"practice": "Choose the practice of the script."})
            script = scripts.create_script(request.user, practice, source=Source.WEB, **values)
        except ValidationError as refused:
            error = " ".join(service_texts(refused))
        else:
            messages.success(request, f"{script.name} saved as version 1.")
            return redirect("monitoring:script_detail", script.pk)
    context = {
        "scripts": visible,
        "may_write": may_write,
        "practices": Practice.objects.all(),
        "interpreters": Interpreter.choices,
        "values": values,
        "error": error,
        "max_kib": scripts.MAX_BODY_BYTES // 1024,
    }
    return render(request, "monitoring/scripts.html", context, status=400 if error else 200)


@login_required
def script_detail(request: HttpRequest, script_id: int) -> HttpResponse:
    """A script: edit it (a new version), its versions with their hashes, and its runs."""
    script = get_object_or_404(
        Script.objects.for_user(request.user).select_related("practice", "current"), pk=script_id
    )
    may_write = can_write_scripts(request.user)
    current = script.current
    values = {
        "name": script.name,
        "description": script.description,
        "interpreter": script.interpreter,
        "timeout_seconds": script.timeout_seconds,
        "body": current.body if current else "",
    }
    error = ""
    if request.method == "POST":
        if not may_write:
            raise PermissionDenied
        values = _posted(request)
        try:
            script = scripts.edit_script(request.user, script, values, source=Source.WEB)
        except ValidationError as refused:
            error = " ".join(service_texts(refused))
        else:
            number = script.current.number if script.current else 0
            messages.success(request, f"{script.name} saved; the current version is {number}.")
            return redirect("monitoring:script_detail", script.pk)
    runs = script.runs.select_related("version", "agent", "check_obj", "asked_by")[:100]
    context = {
        "script": script,
        "versions": script.versions.select_related("created_by"),
        "runs": runs,
        "may_write": may_write,
        "interpreters": Interpreter.choices,
        "values": values,
        "error": error,
        "max_kib": scripts.MAX_BODY_BYTES // 1024,
    }
    return render(request, "monitoring/script_detail.html", context, status=400 if error else 200)
