"""The home page, which gathers a little from every room (so it lives above them all)."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone

from thirdway.clients.models import Client
from thirdway.insights import dashboard
from thirdway.network.models import Partner


@login_required
def home(request: HttpRequest) -> HttpResponse:
    """The network's dashboard for its role (the desk's or a partner's); client contacts go to
    the portal; anyone else sees only what they may open."""
    user = request.user
    if user.is_client_contact:
        return redirect("portal:home")  # client contacts live in the portal
    now = timezone.now()
    context: dict[str, object] = {
        "clients_count": Client.objects.for_user(user).count(),
        "now": now,
    }
    if user.is_network_staff:
        context["partners_count"] = Partner.objects.for_user(user).filter(is_active=True).count()
    if user.is_active and user.role in dashboard.DESK_ROLES:
        context["desk"] = dashboard.desk_dashboard(user, now)
    elif user.is_active and user.role in dashboard.PARTNER_ROLES:
        context["mine"] = dashboard.partner_dashboard(user, now)
    return render(request, "web/home.html", context)


@login_required
def settings_index(request: HttpRequest) -> HttpResponse:
    """Where the practice's settings pages are listed (the network reads them, admins change)."""
    if not request.user.is_network_staff:
        raise Http404
    return render(request, "web/settings_index.html")
