"""Surge at the desk: the skills in surge now and the routine tickets held until it is over
(``tickets/assignment/surge``). The desk and practice admins see every skill; a partner their
own skills and the held tickets they see."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_GET

from thirdway.tickets.assignment import surge
from thirdway.web.pages import require_staff


@login_required
@require_GET
def surge_panel(request: HttpRequest) -> HttpResponse:
    require_staff(request)
    skills, holds = surge.panel(request.user, timezone.now())
    context = {
        "surging": [row for row in skills if row["in_surge"]],
        "skills": skills,
        "holds": holds,
    }
    return render(request, "tickets/surge.html", context)
