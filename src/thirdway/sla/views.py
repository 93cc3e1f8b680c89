"""Settings pages of service levels: calendars, policies with their targets and escalation
steps, and the policy of each client.

The network reads them (as the API lets it); writes go through ``thirdway.sla.services``,
which refuse anyone but a practice admin (403) and every bad value with the API's words.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from thirdway.audit.models import Source
from thirdway.clients.models import Client
from thirdway.errors import require_admin
from thirdway.sla import services
from thirdway.sla.forms import (
    CalendarForm,
    ClientLevelForm,
    ClosedDayForm,
    PolicyForm,
    StepForm,
    region_choices,
)
from thirdway.sla.models import (
    BusinessCalendar,
    ClientServiceLevel,
    EscalationAction,
    EscalationStep,
    SlaPolicy,
)
from thirdway.web.forms import add_service_errors, add_service_errors_to, service_texts
from thirdway.web.pages import require_staff as _require_staff


def _calendars(request: HttpRequest):
    return BusinessCalendar.objects.for_user(request.user)


def _policies(request: HttpRequest):
    return SlaPolicy.objects.for_user(request.user).select_related("calendar")


# --- calendars -------------------------------------------------------------------------------


@login_required
def calendar_list(request: HttpRequest) -> HttpResponse:
    _require_staff(request)
    return render(request, "sla/calendar_list.html", {"calendars": _calendars(request)})


def _save_calendar(request: HttpRequest, form: CalendarForm, calendar=None):
    """The saved calendar, or None with the service's refusal shown on the form."""
    try:
        if calendar is None:
            return services.create_calendar(request.user, source=Source.WEB, **form.service_data())
        fresh = BusinessCalendar.objects.get(pk=calendar.pk)
        return services.update_calendar(request.user, fresh, form.service_data(), source=Source.WEB)
    except ValidationError as error:
        week = error.error_dict.pop("weekly_hours", [])
        form.hours_errors = service_texts(ValidationError(week)) if week else []
        if error.error_dict:
            add_service_errors(form, error)
        return None


@login_required
def calendar_create(request: HttpRequest) -> HttpResponse:
    _require_staff(request)
    require_admin(request.user, services.ADMIN_ONLY)
    form = CalendarForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        calendar = _save_calendar(request, form)
        if calendar is not None:
            messages.success(request, f"Calendar {calendar} created.")
            return redirect("sla:calendar_detail", calendar.pk)
    status = 400 if form.is_bound else 200
    return render(request, "sla/calendar_form.html", {"form": form}, status=status)


def _calendar_page(request, calendar, form=None, closed_form=None, status=200) -> HttpResponse:
    can_edit = request.user.is_practice_admin
    if form is None and can_edit:
        form = CalendarForm(
            initial=CalendarForm.initial_of(calendar), country=calendar.holiday_country
        )
    context = {
        "calendar": calendar,
        "form": form,
        "closed_form": closed_form or ClosedDayForm(),
        "can_edit": can_edit,
        "policies": calendar.policies.all(),
    }
    return render(request, "sla/calendar_detail.html", context, status=status)


@login_required
def calendar_detail(request: HttpRequest, calendar_id: int) -> HttpResponse:
    _require_staff(request)
    calendar = get_object_or_404(_calendars(request), pk=calendar_id)
    if request.method != "POST":
        return _calendar_page(request, calendar)
    require_admin(request.user, services.ADMIN_ONLY)
    form = CalendarForm(request.POST)
    if form.is_valid() and _save_calendar(request, form, calendar) is not None:
        messages.success(request, "Calendar saved.")
        return redirect("sla:calendar_detail", calendar.pk)
    return _calendar_page(request, calendar, form=form, status=400)


@login_required
@require_POST
def closed_day_add(request: HttpRequest, calendar_id: int) -> HttpResponse:
    _require_staff(request)
    calendar = get_object_or_404(_calendars(request), pk=calendar_id)
    require_admin(request.user, services.ADMIN_ONLY)
    form = ClosedDayForm(request.POST)
    if form.is_valid():
        day = form.cleaned_data["closed_date"].isoformat()
        if day in calendar.closed_dates:
            form.add_error("closed_date", f"{day} is already a closed day.")
        else:
            dates = [*calendar.closed_dates, day]
            try:
                services.update_calendar(
                    request.user, calendar, {"closed_dates": dates}, source=Source.WEB
                )
            except ValidationError as error:
                add_service_errors_to(form, "closed_date", error)
            else:
                messages.success(request, f"{day} added to the closed days.")
                return redirect("sla:calendar_detail", calendar.pk)
    calendar = BusinessCalendar.objects.get(pk=calendar.pk)
    return _calendar_page(request, calendar, closed_form=form, status=400)


@login_required
@require_POST
def closed_day_remove(request: HttpRequest, calendar_id: int, day: str) -> HttpResponse:
    _require_staff(request)
    calendar = get_object_or_404(_calendars(request), pk=calendar_id)
    require_admin(request.user, services.ADMIN_ONLY)
    if day not in calendar.closed_dates:
        raise Http404
    dates = [d for d in calendar.closed_dates if d != day]
    services.update_calendar(request.user, calendar, {"closed_dates": dates}, source=Source.WEB)
    messages.success(request, f"{day} is no longer a closed day.")
    return redirect("sla:calendar_detail", calendar.pk)


@login_required
def holiday_regions(request: HttpRequest) -> HttpResponse:
    """The region choices of the country picked (the calendar form asks as it changes)."""
    _require_staff(request)
    country = request.GET.get("holiday_country", "")
    return render(request, "sla/_region_options.html", {"choices": region_choices(country)})


# --- policies ----------------------------------------------------------------------------------


@login_required
def policy_list(request: HttpRequest) -> HttpResponse:
    _require_staff(request)
    policies = _policies(request).prefetch_related("targets", "steps")
    return render(request, "sla/policy_list.html", {"policies": policies})


@login_required
def policy_create(request: HttpRequest) -> HttpResponse:
    _require_staff(request)
    require_admin(request.user, services.ADMIN_ONLY)
    form = PolicyForm(request.POST or None, user=request.user)
    if request.method == "POST" and form.is_valid():
        try:
            policy = services.create_policy(
                request.user, targets=form.targets(), source=Source.WEB, **form.policy_data()
            )
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, f"Policy {policy} created.")
            return redirect("sla:policy_detail", policy.pk)
    status = 400 if form.is_bound else 200
    return render(request, "sla/policy_form.html", {"form": form}, status=status)


def _steps_by_clock(policy: SlaPolicy) -> dict[str, list[tuple[int, list[str]]]]:
    steps: dict[str, list[tuple[int, list[str]]]] = {}
    for step in policy.steps.all():
        steps.setdefault(step.clock, []).append((step.percent, list(step.actions)))
    return steps


def _policy_page(request, policy, form=None, step_form=None, status=200) -> HttpResponse:
    can_edit = request.user.is_practice_admin
    if form is None and can_edit:
        form = PolicyForm(initial=PolicyForm.initial_of(policy), user=request.user)
    action_names = dict(EscalationAction.choices)
    steps = [(step, [action_names.get(a, a) for a in step.actions]) for step in policy.steps.all()]
    context = {
        "policy": policy,
        "form": form,
        "step_form": step_form or StepForm(),
        "steps": steps,
        "targets": policy.targets.all(),
        "clients": ClientServiceLevel.objects.filter(policy=policy).select_related(
            "client", "calendar"
        ),
        "can_edit": can_edit,
    }
    return render(request, "sla/policy_detail.html", context, status=status)


@login_required
def policy_detail(request: HttpRequest, policy_id: int) -> HttpResponse:
    _require_staff(request)
    policy = get_object_or_404(_policies(request), pk=policy_id)
    if request.method != "POST":
        return _policy_page(request, policy)
    require_admin(request.user, services.ADMIN_ONLY)
    form = PolicyForm(request.POST, user=request.user)
    if form.is_valid():
        try:
            with transaction.atomic():  # the policy and its targets change together or not at all
                fresh = SlaPolicy.objects.get(pk=policy.pk)
                services.update_policy(request.user, fresh, form.policy_data(), source=Source.WEB)
                services.set_targets(request.user, fresh, form.targets(), source=Source.WEB)
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, "Policy saved.")
            return redirect("sla:policy_detail", policy.pk)
    return _policy_page(request, policy, form=form, status=400)


def _replace_steps(request, policy, form: StepForm, replacing: EscalationStep | None) -> bool:
    """Set the policy's steps with the form's step added (or in place of ``replacing``)."""
    steps = {
        clock: [
            s
            for s in items
            if replacing is None or clock != replacing.clock or s[0] != replacing.percent
        ]
        for clock, items in _steps_by_clock(policy).items()
    }
    clock, percent = form.cleaned_data["clock"], form.cleaned_data["percent"]
    if any(p == percent for p, _ in steps.get(clock, [])):
        form.add_error("percent", f"This clock already has a step at {percent} %.")
        return False
    steps.setdefault(clock, []).append((percent, form.cleaned_data["actions"]))
    steps[clock].sort(key=lambda step: step[0])
    try:
        services.set_steps(request.user, policy, steps, source=Source.WEB)
    except ValidationError as error:
        form.add_service_error(error)
        return False
    return True


@login_required
@require_POST
def step_add(request: HttpRequest, policy_id: int) -> HttpResponse:
    _require_staff(request)
    policy = get_object_or_404(_policies(request), pk=policy_id)
    require_admin(request.user, services.ADMIN_ONLY)
    form = StepForm(request.POST)
    if form.is_valid() and _replace_steps(request, policy, form, None):
        messages.success(request, "Escalation step added.")
        return redirect("sla:policy_detail", policy.pk)
    return _policy_page(request, policy, step_form=form, status=400)


@login_required
def step_edit(request: HttpRequest, policy_id: int, step_id: int) -> HttpResponse:
    _require_staff(request)
    policy = get_object_or_404(_policies(request), pk=policy_id)
    step = get_object_or_404(policy.steps.all(), pk=step_id)
    require_admin(request.user, services.ADMIN_ONLY)
    initial = {"clock": step.clock, "percent": step.percent, "actions": step.actions}
    form = StepForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid() and _replace_steps(request, policy, form, step):
        messages.success(request, "Escalation step saved.")
        return redirect("sla:policy_detail", policy.pk)
    context = {"policy": policy, "step": step, "form": form}
    return render(request, "sla/step_form.html", context, status=400 if form.is_bound else 200)


@login_required
@require_POST
def step_remove(request: HttpRequest, policy_id: int, step_id: int) -> HttpResponse:
    _require_staff(request)
    policy = get_object_or_404(_policies(request), pk=policy_id)
    step = get_object_or_404(policy.steps.all(), pk=step_id)
    require_admin(request.user, services.ADMIN_ONLY)
    steps = _steps_by_clock(policy)
    steps[step.clock] = [s for s in steps[step.clock] if s[0] != step.percent]
    services.set_steps(request.user, policy, steps, source=Source.WEB)
    messages.success(request, "Escalation step removed.")
    return redirect("sla:policy_detail", policy.pk)


# --- the policy of each client -------------------------------------------------------------


@login_required
def client_levels(request: HttpRequest) -> HttpResponse:
    """Every client with the policy and calendar its new tickets get; admins change them."""
    _require_staff(request)
    clients = Client.objects.for_user(request.user).order_by("name")
    form = ClientLevelForm(request.POST or None, user=request.user, clients=clients)
    if request.method == "POST":
        require_admin(request.user, services.ADMIN_ONLY)
        if form.is_valid():
            data = form.cleaned_data
            services.set_client_service_level(
                request.user,
                data["client"],
                policy=data["policy"],
                calendar=data["calendar"],
                source=Source.WEB,
            )
            messages.success(request, f"Service level of {data['client']} saved.")
            return redirect("sla:client_levels")
    levels = {
        level.client_id: level
        for level in ClientServiceLevel.objects.select_related("policy", "calendar")
    }
    default = SlaPolicy.objects.filter(is_default=True).first()
    rows = [(client, levels.get(client.pk)) for client in clients]
    context = {
        "rows": rows,
        "form": form,
        "default": default,
        "can_edit": request.user.is_practice_admin,
    }
    return render(request, "sla/client_levels.html", context, status=400 if form.errors else 200)
