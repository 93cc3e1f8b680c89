"""The client reports' pages: the list, one report (the lead partner's preview and its release,
the client admin's reading), its PDF, and the schedules."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from thirdway.audit.models import Source
from thirdway.clients.models import Client
from thirdway.insights import report_pdf, services
from thirdway.insights.forms import MakeReportForm, ReportPolicyForm
from thirdway.insights.models import Cadence, ClientReport, ReportPolicy, ReportSchedule
from thirdway.web.forms import add_service_errors, add_service_errors_to, service_texts


def visible_report(user, report_id: int) -> ClientReport:
    return get_object_or_404(
        ClientReport.objects.for_user(user).select_related("client__lead_partner"), pk=report_id
    )


def managed_clients(user):
    """The clients whose reports ``user`` may schedule, make and release."""
    clients = Client.objects.for_user(user).select_related("lead_partner").order_by("name")
    return [c for c in clients if services.may_manage_reports(user, c)]


def evidence_href(user, evidence: dict, client_id: int) -> str:
    """Where one piece of evidence opens for this viewer ('' where they have no page for it);
    a device opens its client's page, where the network sees its devices."""
    kind, pk = evidence["kind"], evidence["id"]
    if kind == "ticket":
        if user.is_client_contact:
            return reverse("portal:ticket", args=[pk])
        return reverse("tickets:detail", args=[evidence["label"].split(" ", 1)[0]])
    if kind == "check":
        return reverse("monitoring:check_detail", args=[pk])
    if kind == "expiry" and user.is_network_staff:
        return reverse("vault:expiry_edit", args=[pk])
    if kind == "asset" and user.is_network_staff:
        return reverse("clients:client_detail", args=[client_id])
    return ""


def _linked(user, items: list[dict], client_id: int) -> list[dict]:
    return [{**e, "href": evidence_href(user, e, client_id)} for e in items]


@login_required
def report_list(request: HttpRequest) -> HttpResponse:
    user = request.user
    if not (user.is_network_staff or user.role == "client_admin"):
        raise Http404
    reports = ClientReport.objects.for_user(user).select_related("client")[:200]
    manageable = managed_clients(user) if user.is_network_staff else []
    form = MakeReportForm(request.POST or None, clients=manageable)
    if request.method == "POST" and manageable and form.is_valid():
        client = next(c for c in manageable if c.pk == form.cleaned_data["client"])
        try:
            report = services.make_report(
                user,
                client,
                form.cleaned_data["cadence"],
                form.cleaned_data["month"],
                source=Source.WEB,
            )
        except ValidationError as error:
            add_service_errors_to(form, "month", error)
        else:
            return redirect("insights:report", report.pk)
    context = {"reports": reports, "form": form if manageable else None}
    return render(request, "insights/reports.html", context, status=400 if form.errors else 200)


@login_required
def report_detail(request: HttpRequest, report_id: int) -> HttpResponse:
    report = visible_report(request.user, report_id)
    figures = report.figures
    user = request.user
    cid = report.client_id
    context = {
        "report": report,
        "f": figures,
        "can_release": not report.is_released and services.may_manage_reports(user, report.client),
        "recommendations": [
            {**r, "evidence": _linked(user, r["evidence"], cid)} for r in figures["recommendations"]
        ],
        "sla": [{**c, "missed": _linked(user, c["missed"], cid)} for c in figures["sla"]],
        "recurring": [
            {**r, "tickets": _linked(user, r["tickets"], cid)} for r in figures["recurring"]
        ],
        "risks": [{**r, "evidence": _linked(user, r["evidence"], cid)} for r in figures["risks"]],
        "low": _linked(user, figures["satisfaction"]["low"], cid),
        "scores": sorted(figures["satisfaction"]["scores"].items(), reverse=True),
    }
    return render(request, "insights/report.html", context)


@login_required
@require_POST
def report_release(request: HttpRequest, report_id: int) -> HttpResponse:
    report = visible_report(request.user, report_id)
    report = services.release_report(request.user, report, source=Source.WEB)
    messages.success(
        request,
        f"Released; {report.mailed_to} client admin{'s' if report.mailed_to != 1 else ''} "
        "will get the link by e-mail.",
    )
    return redirect("insights:report", report.pk)


@login_required
def report_pdf_download(request: HttpRequest, report_id: int) -> HttpResponse:
    report = visible_report(request.user, report_id)
    response = HttpResponse(
        report_pdf.render(report, report.figures), content_type="application/pdf"
    )
    name = f"report-{report.client_id}-{report.period_start:%Y-%m}.pdf"
    response["Content-Disposition"] = f'inline; filename="{name}"'
    return response


@login_required
def report_schedules(request: HttpRequest) -> HttpResponse:
    """Per client: off, monthly or quarterly; and (practice admins) the auto-release days."""
    user = request.user
    if not user.is_network_staff:
        raise Http404
    clients = managed_clients(user)
    policy = ReportPolicy.current()
    policy_form = ReportPolicyForm(
        request.POST if "auto_release_days" in request.POST else None,
        initial={"auto_release_days": policy.auto_release_days},
    )
    problems: list[str] = []
    if request.method == "POST" and "auto_release_days" in request.POST:
        if policy_form.is_valid():
            try:
                services.set_report_policy(
                    user, policy_form.cleaned_data["auto_release_days"], source=Source.WEB
                )
            except ValidationError as error:
                add_service_errors(policy_form, error)
            else:
                messages.success(request, "Saved the auto-release rule.")
                return redirect("insights:report_schedules")
    elif request.method == "POST":
        chosen = {c.pk: c for c in clients}
        client = chosen.get(_int(request.POST.get("client")))
        if client is None:
            raise Http404
        try:
            services.set_report_schedule(
                user, client, request.POST.get("cadence", ""), source=Source.WEB
            )
        except ValidationError as error:
            problems = service_texts(error)
        else:
            messages.success(request, f"Saved the schedule of {client.name}.")
            return redirect("insights:report_schedules")
    cadences = dict(
        ReportSchedule.objects.filter(client__in=clients).values_list("client_id", "cadence")
    )
    context = {
        "rows": [(c, cadences.get(c.pk, Cadence.OFF)) for c in clients],
        "cadences": Cadence.choices,
        "policy_form": policy_form if user.is_practice_admin else None,
        "policy": policy,
        "problems": problems,
    }
    status = 400 if problems or policy_form.errors else 200
    return render(request, "insights/report_schedules.html", context, status=status)


def _int(value) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None
