"""Absence continuity at the desk: hand-overs, and taking tickets back."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_POST

from thirdway.audit.models import Source
from thirdway.network.models import Absence
from thirdway.tickets.assignment import continuity
from thirdway.tickets.models import Handover
from thirdway.tickets.views.desk import _require_staff


@login_required
@require_GET
def handovers(request: HttpRequest) -> HttpResponse:
    """Tickets handed to deputies during my absences, and those I hold for others."""
    _require_staff(request)
    me = getattr(request.user, "partner", None)
    mine = Handover.objects.filter(from_partner=me) if me else Handover.objects.none()
    held = Handover.objects.filter(to_partner=me) if me else Handover.objects.none()
    related = ("ticket", "absence", "from_partner", "to_partner")
    return render(
        request,
        "tickets/handovers.html",
        {
            "mine": mine.select_related(*related).order_by("-handed_at")[:200],
            "held": held.filter(returned_at__isnull=True).select_related(*related)[:200],
        },
    )


@login_required
@require_POST
def take_back(request: HttpRequest, absence_id: int) -> HttpResponse:
    _require_staff(request)
    absence = get_object_or_404(Absence.objects.for_user(request.user), pk=absence_id)
    try:
        count = continuity.take_back(request.user, absence, source=Source.WEB)
    except PermissionDenied:
        raise Http404 from None
    messages.success(request, f"{count} ticket(s) taken back.")
    return redirect("tickets:handovers")
