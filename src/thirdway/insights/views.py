"""The insights pages: rating a resolved ticket, the metrics over time (with CSV), a
partner's scorecard, and the practice's thresholds."""

from __future__ import annotations

import csv

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render

from thirdway.audit.models import Source
from thirdway.insights import reports, services, thresholds
from thirdway.insights.forms import RatingForm, ThresholdsForm
from thirdway.insights.models import THRESHOLD_BOUNDS, CsatResponse
from thirdway.tickets.models import Ticket
from thirdway.web.forms import add_service_errors, service_texts

CHOICES = ((5, "Good"), (3, "Okay"), (1, "Bad"))
DAY_CHOICES = (7, 30, 90, 365)


def rate(request: HttpRequest, token: str) -> HttpResponse:
    """The page a rating link opens: no sign-in needed (the signed link is the proof)."""
    try:
        ticket, _ = services.ticket_of_token(token)
    except ValidationError as error:
        return render(
            request, "insights/rate_done.html", {"problem": service_texts(error)[0]}, status=400
        )
    done = CsatResponse.objects.filter(ticket=ticket).first()
    if done is not None:
        return render(request, "insights/rate_done.html", {"response": done, "ticket": ticket})
    form = RatingForm(request.POST or None, initial={"score": request.GET.get("score")})
    if request.method == "POST" and form.is_valid():
        actor = request.user if request.user.is_authenticated else None
        try:
            response = services.rate_ticket(
                actor,
                token,
                score=form.cleaned_data["score"],
                comment=form.cleaned_data["comment"],
                source=Source.WEB,
            )
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            return render(
                request,
                "insights/rate_done.html",
                {"response": response, "ticket": ticket, "thanks": True},
            )
    context = {"ticket": ticket, "form": form, "choices": CHOICES}
    return render(request, "insights/rate.html", context, status=400 if form.errors else 200)


@login_required
def rate_ticket(request: HttpRequest, ticket_id: int) -> HttpResponse:
    """The portal's way to the rating of one of the contact's resolved tickets."""
    if not request.user.is_client_contact:
        raise Http404
    ticket = get_object_or_404(
        Ticket.objects.for_user(request.user).filter(status__in=services.RATED), pk=ticket_id
    )
    return rate(request, services.rating_token(ticket))


def _days(request: HttpRequest) -> int:
    try:
        days = int(request.GET.get("days", 30))
    except ValueError:
        days = 30
    return days if days in DAY_CHOICES else 30


@login_required
def metrics(request: HttpRequest) -> HttpResponse:
    """The figures of one subject over time: totals, a trend chart, the days, CSAT results."""
    user = request.user
    picked = (request.GET.get("client") or "")[:20]
    key = f"client:{picked}" if picked else (request.GET.get("subject") or "")[:40]
    if not key:
        first, _ = reports.choices(user)
        if not first:
            raise Http404
        key = first[0].key
    subject = reports.find_subject(user, key)
    choices, client_picker = reports.choices(user, subject)
    days = _days(request)
    categories = reports.categories_of(user, subject, days)
    category = _category(request, categories)
    rows = reports.days_of(user, subject, days, category)
    context = {
        "subject": subject,
        "categories": categories,
        "category": category,
        "choices": choices,
        "client_picker": client_picker,
        "days": days,
        "day_choices": DAY_CHOICES,
        "rows": rows,
        "recent": list(reversed(rows))[:31],
        "totals": reports.totals(rows),
        "chart": reports.trend_chart(rows),
        "csat": {
            scope: reports.csat_results(user, scope)
            for scope in (
                ("practice", "partner", "client") if user.is_network_staff else ("client",)
            )
        },
        "nps": {
            scope: reports.nps_results(user, scope)
            for scope in (("practice", "client") if user.is_network_staff else ("client",))
        },
        "can_scorecard": user.role in ("partner", "associate"),
    }
    return render(request, "insights/metrics.html", context)


def _category(request: HttpRequest, known: list[str]) -> str:
    """The category asked for if the subject has figures in it; "" (all) otherwise."""
    asked = (request.GET.get("category") or "")[:100]
    return asked if asked in known else ""


CSV_COLUMNS = (
    "day",
    "category",
    "opened",
    "resolved",
    "first_response_p50",
    "first_response_p90",
    "first_response_business",
    "sla_met",
    "sla_measured",
    "backlog",
    "backlog_age_p50",
    "backlog_age_max",
    "reopened",
    "csat_count",
    "csat_sum",
    "first_contact",
    "desk_resolved",
    "onsite_resolved",
    "travel_minutes",
    "from_alerts",
    "billable_minutes",
    "scheduled_minutes",
)


@login_required
def metrics_csv(request: HttpRequest) -> HttpResponse:
    """The same days as the page, one row each."""
    subject = reports.find_subject(request.user, request.GET.get("subject", ""))
    days = _days(request)
    category = _category(request, reports.categories_of(request.user, subject, days))
    rows = reports.days_of(request.user, subject, days, category)
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = (
        f'attachment; filename="metrics-{subject.scope}-{subject.id}.csv"'
    )
    writer = csv.writer(response)
    writer.writerow(CSV_COLUMNS)
    for row in rows:
        writer.writerow(["" if getattr(row, c) is None else getattr(row, c) for c in CSV_COLUMNS])
    return response


@login_required
def scorecard(request: HttpRequest, partner_id: int | None = None) -> HttpResponse:
    partner = reports.scorecard_partner(request.user, partner_id)
    return render(request, "insights/scorecard.html", {"card": reports.scorecard(partner)})


@login_required
def thresholds_page(request: HttpRequest) -> HttpResponse:
    """The practice's thresholds: the practice admin's page (a 404 for anyone else)."""
    if not request.user.is_practice_admin:
        raise Http404
    found = thresholds.current()
    initial = {name: getattr(found, name) for name in THRESHOLD_BOUNDS}
    form = ThresholdsForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            thresholds.set_thresholds(request.user, form.cleaned_data, source=Source.WEB)
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, "Thresholds saved; reports made from now on use them.")
            return redirect("insights:thresholds")
    status = 400 if form.errors else 200
    return render(request, "insights/thresholds.html", {"form": form}, status=status)
