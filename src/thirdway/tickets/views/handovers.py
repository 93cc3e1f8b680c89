"""Absence continuity at the desk: hand-overs, and taking tickets back."""

from __future__ import annotations

from dataclasses import dataclass, field

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_POST

from thirdway.audit.models import Source
from thirdway.network.models import Absence
from thirdway.tickets.assignment import continuity
from thirdway.tickets.lifecycle import OPEN
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
    related = ("ticket", "absence__deputy", "absence__partner", "from_partner", "to_partner")
    mine = mine.select_related(*related).order_by("-absence__starts_at", "absence_id", "pk")
    held = held.filter(returned_at__isnull=True).select_related(*related)
    return render(
        request,
        "tickets/handovers.html",
        {
            "absences": by_absence(mine[:500]),
            "held": by_absence(held.order_by("absence__starts_at", "absence_id", "pk")[:500]),
        },
    )


@dataclass
class AbsenceHandovers:
    """One absence and what it handed over: the page shows one take-back per absence."""

    absence: Absence
    handovers: list[Handover] = field(default_factory=list)

    @property
    def returnable(self) -> int:
        """Hand-overs whose ticket is open and still with its deputy (what take-back returns)."""
        return sum(
            1
            for h in self.handovers
            if h.returned_at is None
            and h.ticket.status in OPEN
            and h.ticket.assignee_id == h.to_partner_id
        )

    @property
    def deputies(self) -> list[str]:
        names = {h.to_partner.name if h.to_partner else "the queue" for h in self.handovers}
        return sorted(names)


def by_absence(handovers) -> list[AbsenceHandovers]:
    groups: dict[int, AbsenceHandovers] = {}
    for handover in handovers:
        group = groups.setdefault(handover.absence_id, AbsenceHandovers(handover.absence))
        group.handovers.append(handover)
    return list(groups.values())


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
