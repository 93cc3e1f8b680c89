"""Settings pages of on-call rotas: the list, each rota with its members in order, the week
as the rota logic answers it, and overrides and swaps.

The network reads them; a practice admin, or the lead of the rota's practice, changes them
through ``thirdway.network.services`` (anyone else gets a 403 on a write).
"""

from __future__ import annotations

import datetime as dt

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from thirdway.audit.models import Source
from thirdway.network import services
from thirdway.network.models import Partner, Rota
from thirdway.network.oncall import describe_gaps, monday_of, plan_of
from thirdway.network.rota_forms import MemberForm, OverrideForm, RotaForm, SwapForm, WeekForm
from thirdway.web.forms import add_service_errors, add_service_errors_to
from thirdway.web.pages import require_staff as _require_staff

ROTA_DATA = ["name", "practice", "kind", "time_zone", "handover_time", "starts_on", "covers_24x7"]


def _rota(request: HttpRequest, rota_id: int) -> Rota:
    _require_staff(request)
    return get_object_or_404(Rota.objects.select_related("practice"), pk=rota_id)


def _require_runner(request: HttpRequest, rota: Rota) -> None:
    if not services.can_run_rota(request.user, rota.practice):
        raise PermissionDenied("Only a practice admin or the practice lead may change rotas.")


@login_required
def rota_list(request: HttpRequest) -> HttpResponse:
    _require_staff(request)
    now = timezone.now()
    names = dict(Partner.objects.values_list("pk", "name"))
    rows = []
    for rota in Rota.objects.select_related("practice").prefetch_related("memberships"):
        plan = plan_of(rota, now, now + dt.timedelta(seconds=1))
        rows.append((rota, names.get(plan.on_call_at(now)), len(rota.memberships.all())))
    can_create = request.user.is_practice_admin or services.leads_any_practice(request.user)
    return render(request, "network/rota_list.html", {"rows": rows, "can_create": can_create})


@login_required
def rota_create(request: HttpRequest) -> HttpResponse:
    _require_staff(request)
    if not (request.user.is_practice_admin or services.leads_any_practice(request.user)):
        raise PermissionDenied("Only a practice admin or a practice lead may make rotas.")
    form = RotaForm(request.POST or None, user=request.user)
    if request.method == "POST" and form.is_valid():
        data = {name: form.cleaned_data[name] for name in ROTA_DATA}
        try:
            rota = services.create_rota(request.user, members=[], source=Source.WEB, **data)
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, f"Rota {rota} created; now add its members.")
            return redirect("rotas:rota_detail", rota.pk)
    status = 400 if form.is_bound else 200
    return render(request, "network/rota_form.html", {"form": form}, status=status)


def _week_start(request: HttpRequest) -> dt.datetime:
    """Monday 00:00, in the viewer's zone, of the week asked (``?week=``) or this week."""
    form = WeekForm(request.GET)
    day = form.cleaned_data["week"] if form.is_valid() and form.cleaned_data["week"] else None
    day = day or timezone.localdate()
    monday = day - dt.timedelta(days=day.weekday())
    return timezone.make_aware(dt.datetime.combine(monday, dt.time()))


def week_of(rota: Rota, start: dt.datetime) -> list[dict]:
    """Seven days from ``start``, each with who is on call from when to when (local times)."""
    end = start + dt.timedelta(days=7)
    names = dict(Partner.objects.values_list("pk", "name"))
    segments = plan_of(rota, start, end).segments(start, end)
    days = []
    for offset in range(7):
        day_start = timezone.make_aware(
            dt.datetime.combine(
                timezone.localtime(start).date() + dt.timedelta(days=offset), dt.time()
            )
        )
        day_end = timezone.make_aware(
            dt.datetime.combine(day_start.date() + dt.timedelta(days=1), dt.time())
        )
        stretches = [
            {
                "from": timezone.localtime(max(s, day_start)).strftime("%H:%M"),
                "to": "24:00" if e >= day_end else timezone.localtime(e).strftime("%H:%M"),
                "who": names.get(who) if who else None,
            }
            for s, e, who in segments
            if s < day_end and e > day_start
        ]
        days.append({"date": day_start.date(), "stretches": stretches})
    return days


def _rota_page(request, rota: Rota, status: int = 200, **forms) -> HttpResponse:
    can_edit = services.can_run_rota(request.user, rota.practice)
    start = _week_start(request)
    gaps = plan_of(rota, start, start).gaps(monday_of(start)) if rota.covers_24x7 else []
    context = {
        "rota": rota,
        "can_edit": can_edit,
        "form": forms.get("form") or RotaForm(instance=rota, user=request.user),
        "member_form": forms.get("member_form") or MemberForm(),
        "override_form": forms.get("override_form") or OverrideForm(),
        "swap_form": forms.get("swap_form") or SwapForm(),
        "members": rota.memberships.select_related("partner"),
        "overrides": rota.overrides.filter(ends_at__gt=timezone.now()).select_related("partner"),
        "week": week_of(rota, start),
        "week_start": start.date(),
        "previous_week": start.date() - dt.timedelta(days=7),
        "next_week": start.date() + dt.timedelta(days=7),
        "gaps": describe_gaps(gaps),
    }
    return render(request, "network/rota_detail.html", context, status=status)


@login_required
def rota_detail(request: HttpRequest, rota_id: int) -> HttpResponse:
    rota = _rota(request, rota_id)
    if request.method != "POST":
        return _rota_page(request, rota)
    _require_runner(request, rota)
    form = RotaForm(request.POST, instance=Rota.objects.get(pk=rota.pk), user=request.user)
    if form.is_valid():
        data = {name: form.cleaned_data[name] for name in form.changed_data}
        try:
            services.update_rota(
                request.user, Rota.objects.get(pk=rota.pk), data, source=Source.WEB
            )
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, "Rota saved.")
            return redirect("rotas:rota_detail", rota.pk)
    return _rota_page(request, rota, status=400, form=form)


def _reordered(members: list[Partner], op: str, partner: Partner) -> list[Partner]:
    index = next((i for i, m in enumerate(members) if m.pk == partner.pk), None)
    if index is None:
        raise Http404
    if op == "remove":
        return members[:index] + members[index + 1 :]
    other = index - 1 if op == "up" else index + 1
    if 0 <= other < len(members):
        members[index], members[other] = members[other], members[index]
    return members


@login_required
@require_POST
def rota_members(request: HttpRequest, rota_id: int) -> HttpResponse:
    """Add a member at the end, move one up or down, or remove one (the order is the turn)."""
    rota = _rota(request, rota_id)
    _require_runner(request, rota)
    members = [m.partner for m in rota.memberships.select_related("partner")]
    op = request.POST.get("op", "add")
    form = MemberForm(request.POST)
    if op in ("up", "down", "remove"):
        if not form.is_valid():
            raise Http404
        members = _reordered(members, op, form.cleaned_data["partner"])
    elif form.is_valid():
        members.append(form.cleaned_data["partner"])
    if form.is_valid():
        try:
            services.set_rota_members(request.user, rota, members, source=Source.WEB)
        except ValidationError as error:
            add_service_errors_to(form, "partner", error)
        else:
            messages.success(request, "Members saved.")
            return redirect("rotas:rota_detail", rota.pk)
    return _rota_page(request, rota, status=400, member_form=form)


@login_required
@require_POST
def override_add(request: HttpRequest, rota_id: int) -> HttpResponse:
    rota = _rota(request, rota_id)
    form = OverrideForm(request.POST)
    if form.is_valid():
        try:
            services.add_override(request.user, rota, source=Source.WEB, **form.cleaned_data)
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, "Override added.")
            return redirect("rotas:rota_detail", rota.pk)
    return _rota_page(request, rota, status=400, override_form=form)


@login_required
@require_POST
def override_remove(request: HttpRequest, rota_id: int, override_id: int) -> HttpResponse:
    rota = _rota(request, rota_id)
    override = get_object_or_404(rota.overrides.all(), pk=override_id)
    services.remove_override(request.user, override, source=Source.WEB)
    messages.success(request, "Override removed.")
    return redirect("rotas:rota_detail", rota.pk)


@login_required
@require_POST
def swap_add(request: HttpRequest, rota_id: int) -> HttpResponse:
    rota = _rota(request, rota_id)
    form = SwapForm(request.POST)
    if form.is_valid():
        data = form.cleaned_data
        first = (data["first"], data["first_starts_at"], data["first_ends_at"])
        second = (data["second"], data["second_starts_at"], data["second_ends_at"])
        try:
            services.swap_duty(request.user, rota, first, second, source=Source.WEB)
        except ValidationError as error:
            which = "first" if first[2] <= first[1] else "second"
            add_service_errors_to(form, f"{which}_ends_at", error)
        else:
            messages.success(request, "Duties swapped.")
            return redirect("rotas:rota_detail", rota.pk)
    return _rota_page(request, rota, status=400, swap_form=form)
