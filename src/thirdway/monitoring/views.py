"""Monitoring pages: what is down now, a client's status board, the check editor, a check's
timeline, maintenance windows and the client's alert rule."""

from __future__ import annotations

from collections import defaultdict

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Q
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST

from thirdway.audit.models import Source
from thirdway.clients.models import Client
from thirdway.monitoring import evaluation, intake, services
from thirdway.monitoring.access import (
    can_allow_private,
    can_manage,
    can_write_scripts,
    monitored_clients,
)
from thirdway.monitoring.forms import AlertRuleForm, AssetTagsForm, CheckForm, WindowForm
from thirdway.monitoring.models import (
    Alert,
    Check,
    CheckEvent,
    CheckKind,
    CheckResult,
    IntakeToken,
    MaintenanceWindow,
)
from thirdway.monitoring.tags import set_asset_tags, tags_of
from thirdway.web.forms import add_service_errors, service_texts

PROBLEM_ORDER = {"critical": 0, "unknown": 1, "warning": 2, "pending": 3, "ok": 4}
SHOWN = {"ok": "up", "critical": "down", "warning": "warning", "unknown": "unknown"}


def _clients(request: HttpRequest):
    return monitored_clients(request.user)


def _checks(request: HttpRequest):
    return Check.objects.for_user(request.user).select_related("client", "site", "asset", "parent")


def _maintenance_by_check(checks: list[Check]) -> dict[int, str]:
    """The window covering each check now (one query for all the clients' windows)."""
    now = timezone.now()
    windows = defaultdict(list)
    client_ids = {check.client_id for check in checks}
    for window in MaintenanceWindow.objects.filter(client_id__in=client_ids):
        windows[window.client_id].append(window)
    tagged = any(w.tag for client_windows in windows.values() for w in client_windows)
    asset_tags = tags_of({c.asset_id for c in checks if c.asset_id}) if tagged else {}
    found = {}
    for check in checks:
        for window in windows[check.client_id]:
            applies = (not (window.site_id or window.asset_id or window.tag)) or (
                (window.site_id is not None and window.site_id == check.site_id)
                or (window.asset_id is not None and window.asset_id == check.asset_id)
                or (bool(window.tag) and window.tag in asset_tags.get(check.asset_id, ()))
            )
            if applies and evaluation.as_engine_window(window).covers(now):
                found[check.pk] = window.name
                break
    return found


def _row(check: Check, maintenance: dict[int, str]) -> dict:
    state = "paused" if check.is_paused else SHOWN.get(check.status, check.status)
    return {
        "check": check,
        "state": state,
        "maintenance": maintenance.get(check.pk, ""),
        "suppressed": check.suppressed,
        "flapping": check.flapping,
    }


@login_required
def down_now(request: HttpRequest) -> HttpResponse:
    """What is down now, across every client the person sees (the desk's view)."""
    if not request.user.is_network_staff:
        raise Http404
    problems = Q(status__in=["critical", "warning", "unknown"]) | ~Q(suppressed="")
    checks = list(_checks(request).filter(problems, is_paused=False)[:500])
    checks.sort(key=lambda c: (PROBLEM_ORDER.get(c.status, 9), c.status_since or timezone.now()))
    maintenance = _maintenance_by_check(checks)
    rows = [_row(check, maintenance) for check in checks]
    counts = defaultdict(int)
    for row in rows:
        counts[row["state"]] += 1
    return render(
        request,
        "monitoring/down_now.html",
        {"rows": rows, "counts": dict(counts), "clients": _clients(request)[:200]},
    )


@login_required
def own_board(request: HttpRequest) -> HttpResponse:
    """A client admin's way to their organisation's board."""
    client = _clients(request).first() if request.user.role == "client_admin" else None
    if client is None:
        raise Http404
    return redirect("monitoring:client_board", client.pk)


def _health(rows: list[dict]) -> str:
    """A site's word: its worst check outside maintenance; never "up" while any of its checks
    is in maintenance (one asset in maintenance does not make a site healthy)."""
    watched = [row for row in rows if not row["maintenance"] and row["state"] != "paused"]
    worst = min((PROBLEM_ORDER.get(r["check"].status, 9) for r in watched), default=4)
    health = "down" if worst == 0 else "warning" if worst < 3 else "up"
    if health == "up" and len(watched) < len(rows):
        return "maintenance" if any(row["maintenance"] for row in rows) else "paused"
    return health


def _board_groups(client: Client, checks: list[Check], maintenance: dict[int, str]):
    by_site: dict = defaultdict(list)
    for check in checks:
        by_site[check.site].append(_row(check, maintenance))
    groups = []
    for site, rows in sorted(by_site.items(), key=lambda item: (item[0] is None, str(item[0]))):
        groups.append({"site": site, "rows": rows, "health": _health(rows)})
    return groups


@login_required
def client_board(request: HttpRequest, client_id: int) -> HttpResponse:
    client = get_object_or_404(_clients(request), pk=client_id)
    checks = list(_checks(request).filter(client=client))
    maintenance = _maintenance_by_check(checks)
    counts = defaultdict(int)
    for check in checks:
        row = _row(check, maintenance)
        counts["maintenance" if row["maintenance"] else row["state"]] += 1
        if row["suppressed"] and not row["maintenance"]:
            counts["held back"] += 1
    context = {
        "client": client,
        "groups": _board_groups(client, checks, maintenance),
        "counts": dict(counts),
        "can_manage": can_manage(request.user, client),
        "open_alerts": Alert.objects.for_user(request.user)
        .filter(client=client, status="open")
        .select_related("check_obj", "ticket")[:50],
    }
    return render(request, "monitoring/board.html", context)


def _form_page(request, form, title: str, client: Client, **extra) -> HttpResponse:
    template = (
        "monitoring/check_form.html" if isinstance(form, CheckForm) else "monitoring/form.html"
    )
    context = {"form": form, "title": title, "client": client, **extra}
    return render(request, template, context)


@login_required
def check_new(request: HttpRequest, client_id: int) -> HttpResponse:
    client = get_object_or_404(_clients(request), pk=client_id)
    if not can_manage(request.user, client):
        raise PermissionDenied
    form = CheckForm(
        request.POST or None,
        client=client,
        may_allow_private=can_allow_private(request.user),
        user=request.user,
    )
    if request.method == "POST" and form.is_valid():
        data = _check_data(form.cleaned_data)
        try:
            check = services.create_check(request.user, client, source=Source.WEB, **data)
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, f"{check} added.")
            return redirect("monitoring:check_detail", check.pk)
    return _form_page(request, form, f"New check · {client}", client)


def _check_data(cleaned: dict, changed: list[str] | None = None) -> dict:
    data = {name: cleaned[name] for name in (changed if changed is not None else cleaned)}
    for field in ("site", "asset", "parent", "agent", "script"):
        if field in data:
            value = data.pop(field)
            data[f"{field}_id"] = value.pk if value else None
    if "body_contains" in data and data["body_contains"] is None:
        data["body_contains"] = ""
    for name in ("alert_category", "metric"):
        if name in data and data[name] is None:
            data[name] = ""
    return {k: v for k, v in data.items() if not (v is None and k in NOT_NULL_FIELDS)}


NOT_NULL_FIELDS = {
    "duration_seconds",
    "expected_status",
    "period_seconds",
    "grace_seconds",
    "interval_seconds",
    "retry_interval_seconds",
    "max_attempts",
    "timeout_seconds",
    "dependency_delay_seconds",
}


def _check(request: HttpRequest, check_id: int) -> Check:
    return get_object_or_404(_checks(request), pk=check_id)


@login_required
def check_detail(request: HttpRequest, check_id: int) -> HttpResponse:
    check = _check(request, check_id)
    ping_url = None
    # Whoever sees the check may need its ping URLs (a client admin setting up their own job).
    if check.kind == CheckKind.HEARTBEAT and check.ping_token:
        ping_url = request.build_absolute_uri(
            reverse("api:ping", kwargs={"token": check.ping_token})
        )
    context = {
        "check": check,
        "client": check.client,
        "row": _row(check, _maintenance_by_check([check])),
        "events": CheckEvent.objects.filter(check_obj=check).select_related("alert")[:100],
        "results": CheckResult.objects.filter(check_obj=check)[:20],
        "alerts": Alert.objects.filter(check_obj=check).select_related("ticket")[:20],
        "can_manage": can_manage(request.user, check.client),
        "can_run_now": check.kind == CheckKind.AGENT_SCRIPT
        and can_write_scripts(request.user)
        and can_manage(request.user, check.client),
        "ping_url": ping_url,
    }
    return render(request, "monitoring/check_detail.html", context)


@login_required
def check_edit(request: HttpRequest, check_id: int) -> HttpResponse:
    check = _check(request, check_id)
    if not can_manage(request.user, check.client):
        raise PermissionDenied
    form = CheckForm(
        request.POST or None,
        instance=check,
        client=check.client,
        may_allow_private=can_allow_private(request.user),
        user=request.user,
    )
    if request.method == "POST" and form.is_valid():
        data = _check_data(form.cleaned_data, [n for n in form.changed_data if n != "kind"])
        try:
            services.update_check(
                request.user, Check.objects.get(pk=check.pk), data, source=Source.WEB
            )
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, "Saved.")
            return redirect("monitoring:check_detail", check.pk)
    return _form_page(request, form, f"Edit {check}", check.client, check=check)


@login_required
@require_POST
def check_pause(request: HttpRequest, check_id: int) -> HttpResponse:
    check = _check(request, check_id)
    paused = not check.is_paused
    services.update_check(request.user, check, {"is_paused": paused}, source=Source.WEB)
    messages.success(request, "Paused." if paused else "Resumed.")
    return redirect("monitoring:check_detail", check.pk)


@login_required
@require_POST
def check_new_ping_url(request: HttpRequest, check_id: int) -> HttpResponse:
    check = _check(request, check_id)
    try:
        services.new_ping_url(request.user, check, source=Source.WEB)
    except ValidationError as error:
        messages.error(request, " ".join(service_texts(error)))
    else:
        messages.success(request, "New ping URLs: the old ones no longer work.")
    return redirect("monitoring:check_detail", check.pk)


@login_required
@require_POST
def check_run_now(request: HttpRequest, check_id: int) -> HttpResponse:
    from thirdway.monitoring.scripts import request_run

    check = _check(request, check_id)
    try:
        request_run(request.user, check, source=Source.WEB)
    except ValidationError as error:
        messages.error(request, " ".join(service_texts(error)))
    else:
        messages.success(request, "Run asked for: the agent runs the script at its next check-in.")
    return redirect("monitoring:check_detail", check.pk)


@login_required
def check_delete(request: HttpRequest, check_id: int) -> HttpResponse:
    check = _check(request, check_id)
    if not can_manage(request.user, check.client):
        raise PermissionDenied
    if request.method == "POST":
        client_id = check.client_id
        services.delete_check(request.user, check, source=Source.WEB)
        messages.success(request, f"{check} deleted.")
        return redirect("monitoring:client_board", client_id)
    return render(
        request, "monitoring/confirm_delete.html", {"thing": check, "client": check.client}
    )


# --- maintenance windows -----------------------------------------------------------------------


def _window_data(cleaned: dict, changed: list[str] | None = None) -> dict:
    data = {name: cleaned[name] for name in (changed if changed is not None else cleaned)}
    for field in ("site", "asset"):
        if field in data:
            value = data.pop(field)
            data[f"{field}_id"] = value.pk if value else None
    if "weekdays" in data:
        data["weekdays"] = list(data["weekdays"] or [])
    return data


@login_required
def windows(request: HttpRequest, client_id: int) -> HttpResponse:
    client = get_object_or_404(_clients(request), pk=client_id)
    manage = can_manage(request.user, client)
    form = WindowForm(request.POST or None, client=client) if manage else None
    if request.method == "POST":
        if form is None:
            raise PermissionDenied
        if form.is_valid():
            try:
                services.create_window(
                    request.user, client, source=Source.WEB, **_window_data(form.cleaned_data)
                )
            except ValidationError as error:
                add_service_errors(form, error)
            else:
                messages.success(request, "Maintenance window added.")
                return redirect("monitoring:windows", client.pk)
    now = timezone.now()
    rows = [
        {"window": w, "active": evaluation.as_engine_window(w).covers(now)}
        for w in MaintenanceWindow.objects.for_user(request.user)
        .filter(client=client)
        .select_related("site", "asset")
    ]
    context = {"client": client, "rows": rows, "form": form, "can_manage": manage}
    return render(request, "monitoring/windows.html", context)


def _window(request: HttpRequest, window_id: int) -> MaintenanceWindow:
    rows = MaintenanceWindow.objects.for_user(request.user).select_related("client")
    return get_object_or_404(rows, pk=window_id)


@login_required
def window_edit(request: HttpRequest, window_id: int) -> HttpResponse:
    window = _window(request, window_id)
    if not can_manage(request.user, window.client):
        raise PermissionDenied
    form = WindowForm(request.POST or None, instance=window, client=window.client)
    if request.method == "POST" and form.is_valid():
        data = _window_data(form.cleaned_data, form.changed_data)
        try:
            services.update_window(request.user, window, data, source=Source.WEB)
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, "Saved.")
            return redirect("monitoring:windows", window.client_id)
    return _form_page(request, form, f"Edit {window}", window.client)


@login_required
def window_delete(request: HttpRequest, window_id: int) -> HttpResponse:
    window = _window(request, window_id)
    if not can_manage(request.user, window.client):
        raise PermissionDenied
    if request.method == "POST":
        services.delete_window(request.user, window, source=Source.WEB)
        messages.success(request, "Maintenance window deleted.")
        return redirect("monitoring:windows", window.client_id)
    return render(
        request, "monitoring/confirm_delete.html", {"thing": window, "client": window.client}
    )


@login_required
def alert_rule(request: HttpRequest, client_id: int) -> HttpResponse:
    client = get_object_or_404(_clients(request), pk=client_id)
    if not can_manage(request.user, client):
        raise PermissionDenied
    form = AlertRuleForm(request.POST or None, instance=services.rule_of(client))
    if request.method == "POST" and form.is_valid():
        data = {name: form.cleaned_data[name] for name in form.changed_data}
        if data.get("group_wait_seconds", 0) is None:  # left blank: kept as it is
            del data["group_wait_seconds"]
        if "practice" in data:
            practice = data.pop("practice")
            data["practice_id"] = practice.pk if practice else None
        try:
            services.set_alert_rule(request.user, client, data, source=Source.WEB)
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, "Saved.")
            return redirect("monitoring:client_board", client.pk)
    return _form_page(request, form, f"Alert tickets · {client}", client)


# --- asset tags --------------------------------------------------------------------------------


@login_required
def asset_tags(request: HttpRequest, client_id: int) -> HttpResponse:
    """The client's assets and their monitoring tags; managers set an asset's tags."""
    client = get_object_or_404(_clients(request), pk=client_id)
    manage = can_manage(request.user, client)
    form = AssetTagsForm(request.POST or None, client=client) if manage else None
    if request.method == "POST":
        if form is None:
            raise PermissionDenied
        if form.is_valid():
            asset = form.cleaned_data["asset"]
            try:
                tags = set_asset_tags(request.user, asset, form.tag_list(), source=Source.WEB)
            except ValidationError as error:
                add_service_errors(form, error)
            else:
                shown = ", ".join(tags) or "none"
                messages.success(request, f"Tags of {asset.name}: {shown}.")
                return redirect("monitoring:asset_tags", client.pk)
    assets = list(client.assets.select_related("site"))
    found = tags_of(asset.pk for asset in assets)
    context = {
        "client": client,
        "rows": [{"asset": asset, "tags": found.get(asset.pk, [])} for asset in assets],
        "form": form,
        "can_manage": manage,
    }
    return render(request, "monitoring/asset_tags.html", context)


# --- Alertmanager intake tokens ----------------------------------------------------------------


@login_required
def intake_tokens(request: HttpRequest, client_id: int) -> HttpResponse:
    """A client's Alertmanager tokens: add one (its secret shown once), revoke one."""
    client = get_object_or_404(_clients(request), pk=client_id)
    if not can_manage(request.user, client):
        raise PermissionDenied
    secret = None
    error = ""
    if request.method == "POST":
        try:
            _, secret = intake.issue_token(
                request.user, client, request.POST.get("name", ""), source=Source.WEB
            )
        except ValidationError as refused:
            error = " ".join(service_texts(refused))
    context = {
        "client": client,
        "tokens": IntakeToken.objects.filter(client=client),
        "secret": secret,
        "error": error,
        "endpoint": request.build_absolute_uri("/api/v1/monitoring/alertmanager"),
    }
    return render(request, "monitoring/intake.html", context)


@login_required
@require_POST
def intake_revoke(request: HttpRequest, token_id: int) -> HttpResponse:
    token = get_object_or_404(
        IntakeToken.objects.for_user(request.user).select_related("client"), pk=token_id
    )
    intake.revoke_token(request.user, token, source=Source.WEB)
    messages.success(request, f"{token.name} revoked.")
    return redirect("monitoring:intake_tokens", token.client_id)
