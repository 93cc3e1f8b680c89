"""The home page, which gathers a little from every room (so it lives above them all)."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone

from thirdway.clients.models import Client
from thirdway.network.models import Absence, Partner


@login_required
def home(request: HttpRequest) -> HttpResponse:
    user = request.user
    now = timezone.now()
    context = {
        "clients_count": Client.objects.for_user(user).count(),
        "partners_count": Partner.objects.for_user(user).filter(is_active=True).count(),
        "away_now": Absence.objects.for_user(user).current(now).select_related("partner")[:20],
    }
    return render(request, "web/home.html", context)


@login_required
def settings_index(request: HttpRequest) -> HttpResponse:
    """Where the practice's settings pages are listed (the network reads them, admins change)."""
    if not request.user.is_network_staff:
        raise Http404
    return render(request, "web/settings_index.html")
