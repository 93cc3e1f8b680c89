"""Playbook pages: templates and their editor, runs and their progress (with the printable
timeline report), and recurring maintenance schedules."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from thirdway.audit.models import Source
from thirdway.clients.models import Asset, Client, Site
from thirdway.network.models import Practice
from thirdway.playbooks import metrics, schedules, services
from thirdway.playbooks.access import (
    can_edit,
    can_work,
    may_complete,
    owner_text,
    practice_ids,
    skill_practices,
)
from thirdway.playbooks.forms import (
    CopyBuiltinForm,
    EvidenceForm,
    FeedbackForm,
    NewPlaybookForm,
    ReopenForm,
    ScheduleForm,
    StartRunForm,
    StepForm,
)
from thirdway.playbooks.models import Playbook, Run, Schedule
from thirdway.web.forms import add_service_errors, service_texts

WEB = Source.WEB


def _staff(request: HttpRequest) -> None:
    if not request.user.is_network_staff:
        raise Http404


def _practices(user):
    ids = practice_ids(user)
    return Practice.objects.all() if ids is None else Practice.objects.filter(pk__in=ids)


@login_required
def playbook_list(request: HttpRequest) -> HttpResponse:
    _staff(request)
    practices = _practices(request.user)
    copy_form = CopyBuiltinForm(practices=practices, prefix="copy")
    new_form = NewPlaybookForm(practices=practices, prefix="new")
    if request.method == "POST":
        if request.POST.get("action") == "copy":
            copy_form = CopyBuiltinForm(request.POST, practices=practices, prefix="copy")
            form, act = (
                copy_form,
                lambda d: services.copy_builtin(
                    request.user, d["builtin"], practice_id=d["practice"].pk, source=WEB
                ),
            )
        else:
            new_form = NewPlaybookForm(request.POST, practices=practices, prefix="new")
            form, act = (
                new_form,
                lambda d: services.create_playbook(
                    request.user,
                    practice_id=d["practice"].pk,
                    name=d["name"],
                    description=d["description"],
                    source=WEB,
                ),
            )
        if form.is_valid():
            try:
                playbook = act(form.cleaned_data)
            except ValidationError as error:
                add_service_errors(form, error)
            except PermissionDenied as refused:
                form.add_error(None, str(refused))
            else:
                return redirect("playbooks:playbook_detail", playbook.pk)
    playbooks = Playbook.objects.for_user(request.user).select_related("practice")
    return render(
        request,
        "playbooks/playbook_list.html",
        {
            "playbooks": playbooks[:500],
            "copy_form": copy_form,
            "new_form": new_form,
        },
    )


def _playbook(request: HttpRequest, playbook_id: int) -> Playbook:
    _staff(request)
    return get_object_or_404(Playbook.objects.for_user(request.user), pk=playbook_id)


@login_required
def playbook_detail(request: HttpRequest, playbook_id: int) -> HttpResponse:
    playbook = _playbook(request, playbook_id)
    draft, published = playbook.draft(), playbook.published()
    shown = draft or published
    editable = can_edit(request.user, playbook)
    form = StepForm(prefix="step", playbook=playbook)
    if request.method == "POST" and editable:
        form = StepForm(request.POST, prefix="step", playbook=playbook)
        if form.is_valid():
            try:
                services.add_step(request.user, playbook, form.data_for_service(), source=WEB)
            except ValidationError as error:
                add_service_errors(form, error)
            else:
                return redirect("playbooks:playbook_detail", playbook.pk)
    clients = Client.objects.for_user(request.user).order_by("name")
    return render(
        request,
        "playbooks/playbook_detail.html",
        {
            "playbook": playbook,
            "shown": shown,
            "steps": shown.steps.select_related("owner_practice", "subplaybook") if shown else [],
            "draft": draft,
            "published": published,
            "editable": editable,
            "form": form,
            "start_form": StartRunForm(clients=clients),
            "figures": metrics.load(playbook),
            "runs": Run.objects.for_user(request.user)
            .filter(playbook=playbook)
            .select_related("client", "version", "ticket")[:50],
        },
    )


@login_required
def step_edit(request: HttpRequest, playbook_id: int, position: int) -> HttpResponse:
    playbook = _playbook(request, playbook_id)
    if not can_edit(request.user, playbook):
        raise Http404
    shown = playbook.draft() or playbook.published()
    step = get_object_or_404(shown.steps, position=position) if shown else None
    if step is None:
        raise Http404
    initial = {
        name: getattr(step, name)
        for name in (
            "title",
            "instructions",
            "owner_role",
            "expected_minutes",
            "evidence",
            "blocking",
            "condition_operator",
            "condition_value",
        )
    }
    initial["owner_practice"] = step.owner_practice_id
    initial["condition_step"] = step.condition_position
    initial["condition_match"] = step.condition_match
    for n, more in enumerate(step.more_conditions or [], start=2):
        initial[f"condition_step_{n}"] = more["step"]
        initial[f"condition_operator_{n}"] = more["operator"]
        initial[f"condition_value_{n}"] = more["value"]
    initial["subplaybook"] = step.subplaybook_id
    form = StepForm(request.POST or None, initial=initial, playbook=playbook)
    if request.method == "POST" and form.is_valid():
        try:
            services.update_step(
                request.user, playbook, position, form.data_for_service(), source=WEB
            )
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            return redirect("playbooks:playbook_detail", playbook.pk)
    return render(
        request,
        "playbooks/form.html",
        {
            "title": f"Step {position} · {playbook.name}",
            "form": form,
            "playbook": playbook,
        },
    )


@login_required
@require_POST
def step_act(request: HttpRequest, playbook_id: int, position: int, act: str) -> HttpResponse:
    playbook = _playbook(request, playbook_id)
    try:
        if act == "up" or act == "down":
            offset = -1 if act == "up" else 1
            services.move_step(request.user, playbook, position, offset, source=WEB)
        elif act == "remove":
            services.remove_step(request.user, playbook, position, source=WEB)
        else:
            raise Http404
    except PermissionDenied:
        raise Http404 from None
    except ValidationError as error:
        for text in service_texts(error):
            messages.error(request, text)
    return redirect("playbooks:playbook_detail", playbook.pk)


@login_required
@require_POST
def publish(request: HttpRequest, playbook_id: int) -> HttpResponse:
    playbook = _playbook(request, playbook_id)
    try:
        version = services.publish(request.user, playbook, source=WEB)
    except PermissionDenied:
        raise Http404 from None
    except ValidationError as error:
        for text in service_texts(error):
            messages.error(request, text)
    else:
        messages.success(request, f"Version {version.number} published.")
    return redirect("playbooks:playbook_detail", playbook.pk)


@login_required
@require_POST
def run_start(request: HttpRequest, playbook_id: int) -> HttpResponse:
    playbook = _playbook(request, playbook_id)
    form = StartRunForm(request.POST, clients=Client.objects.for_user(request.user))
    if form.is_valid():
        try:
            run = services.start_run(
                request.user, playbook, form.cleaned_data["client"], source=WEB
            )
        except (ValidationError, PermissionDenied) as error:
            texts = service_texts(error) if isinstance(error, ValidationError) else [str(error)]
            for text in texts:
                messages.error(request, text)
        else:
            return redirect("playbooks:run_detail", run.pk)
    else:
        messages.error(request, "Choose a client you serve.")
    return redirect("playbooks:playbook_detail", playbook.pk)


@login_required
def run_list(request: HttpRequest) -> HttpResponse:
    runs = Run.objects.for_user(request.user).select_related("playbook", "client", "version")
    if not (request.user.is_network_staff or request.user.role == "client_admin"):
        raise Http404
    return render(request, "playbooks/run_list.html", {"runs": runs[:200]})


def _run(request: HttpRequest, run_id: int) -> Run:
    return get_object_or_404(
        Run.objects.for_user(request.user).select_related(
            "playbook", "client", "version", "ticket"
        ),
        pk=run_id,
    )


@login_required
def run_detail(request: HttpRequest, run_id: int) -> HttpResponse:
    run = _run(request, run_id)
    working = can_work(request.user, run.client)
    failed_pk, failed_form = None, None
    if request.method == "POST" and working:
        run_step = get_object_or_404(run.steps.select_related("step"), pk=request.POST.get("step"))
        form = EvidenceForm(request.POST, kind=run_step.step.evidence, prefix=f"s{run_step.pk}")
        if form.is_valid():
            try:
                services.complete_step(
                    request.user, run_step, evidence=form.cleaned_data["evidence"], source=WEB
                )
            except ValidationError as error:
                add_service_errors(form, error)
            else:
                return redirect("playbooks:run_detail", run.pk)
        failed_pk, failed_form = run_step.pk, form
    return _run_page(request, run, failed_pk=failed_pk, failed_form=failed_form)


def _run_page(request, run, *, failed_pk=None, failed_form=None, feedback_form=None):
    working = can_work(request.user, run.client)
    rows = []
    practices = skill_practices(request.user) if working else set()
    for run_step in run.steps.select_related(
        "step", "ticket", "step__owner_practice", "step__subplaybook", "child_run"
    ):
        step, form = run_step.step, None
        owned = working and may_complete(request.user, step, practices)
        if working and owned and not run_step.settled and not step.subplaybook_id:
            form = (
                failed_form
                if run_step.pk == failed_pk
                else EvidenceForm(kind=step.evidence, prefix=f"s{run_step.pk}")
            )
        child = getattr(run_step, "child_run", None)
        rows.append(
            {
                "run_step": run_step,
                "step": step,
                "form": form,
                "owned": owned,
                "owner": owner_text(step),
                "child": child,
            }
        )
    done = sum(1 for row in rows if row["run_step"].completed_at)
    not_applicable = sum(1 for row in rows if row["run_step"].not_applicable_at)
    feedback = list(run.feedback.all())
    may_give = (
        run.completed_at is not None
        and services.can_give_feedback(request.user, run)
        and not any(f.person_id == request.user.pk for f in feedback)
    )
    failed = failed_form is not None or feedback_form is not None
    return render(
        request,
        "playbooks/run_detail.html",
        {
            "run": run,
            "rows": rows,
            "done": done,
            "not_applicable": not_applicable,
            "total": len(rows) - not_applicable,
            "settled": done + not_applicable,
            "parent_step": run.parent_step,
            "working": working,
            "feedback": feedback,
            "feedback_form": (feedback_form or FeedbackForm(prefix="fb")) if may_give else None,
            "reopen_form": ReopenForm() if working else None,
        },
        status=400 if failed else 200,
    )


@login_required
@require_POST
def run_feedback(request: HttpRequest, run_id: int) -> HttpResponse:
    run = _run(request, run_id)
    if not services.can_give_feedback(request.user, run):
        raise PermissionDenied("Only the run's participants or staff give feedback.")
    form = FeedbackForm(request.POST, prefix="fb")
    if form.is_valid():
        try:
            services.leave_feedback(
                request.user,
                run,
                score=form.cleaned_data["score"],
                comment=form.cleaned_data["comment"],
                source=WEB,
            )
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, "Thank you: your feedback is kept with the run.")
            return redirect("playbooks:run_detail", run.pk)
    if not services.can_give_feedback(request.user, run) or run.completed_at is None:
        for text in (str(e) for e in form.non_field_errors()):
            messages.error(request, text)
        return redirect("playbooks:run_detail", run.pk)
    return _run_page(request, run, feedback_form=form)


@login_required
@require_POST
def step_reopen(request: HttpRequest, run_id: int, position: int) -> HttpResponse:
    run = _run(request, run_id)
    if not can_work(request.user, run.client):
        raise PermissionDenied("Only the network serving this client works its steps.")
    run_step = get_object_or_404(run.steps.select_related("step"), position=position)
    form = ReopenForm(request.POST)
    if not form.is_valid():
        for text in (e for errors in form.errors.values() for e in errors):
            messages.error(request, f"Step {position} was not reopened: {text}")
        return redirect("playbooks:run_detail", run.pk)
    try:
        services.reopen_step(request.user, run_step, reason=form.cleaned_data["reason"], source=WEB)
    except ValidationError as error:
        for text in service_texts(error):
            messages.error(request, text)
    else:
        messages.success(request, f"Step {position} reopened.")
    return redirect("playbooks:run_detail", run.pk)


@login_required
def improvement(request: HttpRequest, playbook_id: int) -> HttpResponse:
    """Two versions of a playbook side by side: before and after a change."""
    playbook = _playbook(request, playbook_id)
    versions = metrics.load(playbook)
    numbers = [v.version for v in versions]
    comparison, problem = None, ""

    def chosen(name, default):
        raw = request.GET.get(name)
        if raw is None:
            return default
        try:
            number = int(raw)
        except ValueError:
            number = None
        return number if number in numbers else False

    before = chosen("before", numbers[1] if len(numbers) > 1 else None)
    after = chosen("after", numbers[0] if numbers else None)
    status = 200
    if before is False or after is False:
        problem = f"Choose published versions: {', '.join(map(str, sorted(numbers))) or 'none'}."
        status = 400
    elif before is not None and after is not None:
        by_number = {v.version: v for v in versions}
        comparison = metrics.compare(by_number[before], by_number[after])
    return render(
        request,
        "playbooks/improvement.html",
        {
            "playbook": playbook,
            "numbers": sorted(numbers),
            "before": before or None,
            "after": after or None,
            "comparison": comparison,
            "problem": problem,
        },
        status=status,
    )


@login_required
def run_report(request: HttpRequest, run_id: int) -> HttpResponse:
    run = _run(request, run_id)
    return render(
        request,
        "playbooks/run_report.html",
        {
            "run": run,
            "events": services.timeline(run),
            "steps": run.steps.select_related("step"),
        },
    )


@login_required
def schedule_list(request: HttpRequest) -> HttpResponse:
    _staff(request)
    return _schedule_form(request, None)


@login_required
def schedule_edit(request: HttpRequest, schedule_id: int) -> HttpResponse:
    _staff(request)
    schedule = get_object_or_404(Schedule.objects.for_user(request.user), pk=schedule_id)
    return _schedule_form(request, schedule)


def _schedule_form(request: HttpRequest, schedule: Schedule | None) -> HttpResponse:
    clients = Client.objects.for_user(request.user).order_by("name")
    playbooks = Playbook.objects.for_user(request.user)
    initial = {}
    if schedule is not None:
        initial = {
            name: getattr(schedule, name)
            for name in (
                "name",
                "rule",
                "starts_at",
                "lead_minutes",
                "makes",
                "on_holiday",
                "is_active",
            )
        }
        initial.update(
            client=schedule.client_id,
            playbook=schedule.playbook_id,
            site=schedule.site_id,
            asset=schedule.asset_id,
        )
    form = ScheduleForm(
        request.POST or None,
        initial=initial,
        clients=clients,
        playbooks=playbooks,
        sites=Site.objects.for_user(request.user).select_related("client"),
        assets=Asset.objects.for_user(request.user).select_related("client"),
    )
    # A schedule stays with its client: to move it, make one at the other client.
    form.fields["client"].disabled = schedule is not None
    if request.method == "POST" and form.is_valid():
        client = form.cleaned_data["client"] if schedule is None else schedule.client
        try:
            schedules.save_schedule(
                request.user, client, form.data_for_service(), schedule=schedule, source=WEB
            )
        except ValidationError as error:
            add_service_errors(form, error)
        except PermissionDenied as refused:
            form.add_error(None, str(refused))
        else:
            return redirect("playbooks:schedule_list")
    rows = Schedule.objects.for_user(request.user).select_related("client", "playbook")
    return render(
        request,
        "playbooks/schedules.html",
        {
            "schedules": rows[:500],
            "form": form,
            "schedule": schedule,
        },
        status=400 if form.errors else 200,
    )
