"""Tickets the SLA clock sweep could not evaluate, for a practice admin to look into."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from thirdway.tickets.sla_clocks.models import ClockFailure
from thirdway.web.pages import require_practice_admin
from thirdway.web.paging import CappedPaginator

PAGE_SIZE = 50


@login_required
@require_GET
def clock_failures(request: HttpRequest) -> HttpResponse:
    """Newest first: when, the job, the ticket (linked) and the error. Admins only."""
    require_practice_admin(request)
    failures = ClockFailure.objects.select_related("ticket").order_by("-occurred_at", "-pk")
    page = CappedPaginator(failures, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "tickets/clock_failures.html", {"page": page})
