"""Pages of incidents (alerts grouped on one ticket): the network-wide list for the desk and
each client's, with each incident's alerts and ticket.  Read only: incidents are written by
the alert engine."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render

from thirdway.monitoring.access import monitored_clients
from thirdway.monitoring.incidents import incidents_for
from thirdway.monitoring.models import Incident

INCIDENTS_PER_PAGE = 25
SHOWN = {"open": "Open", "resolved": "Resolved", "all": "All"}


def group_label(incident: Incident) -> str:
    """The group key in words: the whole client, a site, a kind of check, a tag, one check."""
    kind, _, value = incident.group_key.partition(":")
    if kind == "client":
        return "Whole client"
    if kind == "site":
        sites = [alert.check_obj.site for alert in incident.alerts.all() if alert.check_obj.site]
        return f"Site: {sites[0].name}" if sites else "No site"
    return {"kind": f"Kind: {value}", "tag": f"Tag: {value}", "check": "One check"}.get(
        kind, incident.group_key
    )


def _page(request: HttpRequest, **context) -> HttpResponse:
    status = request.GET.get("status", "open")
    if status not in SHOWN:
        status = "open"
    rows = incidents_for(request.user, client=context.get("client"), status=status)
    page = Paginator(rows, INCIDENTS_PER_PAGE).get_page(request.GET.get("page"))
    for incident in page.object_list:
        incident.label = group_label(incident)
    context |= {
        "page": page,
        "status": status,
        "statuses": SHOWN,
        "querystring": f"status={status}",
    }
    return render(request, "monitoring/incidents.html", context)


@login_required
def incident_list(request: HttpRequest) -> HttpResponse:
    """Every incident of the clients the person sees: the desk's list."""
    if not request.user.is_network_staff:
        raise Http404
    return _page(request, client=None)


@login_required
def client_incidents(request: HttpRequest, client_id: int) -> HttpResponse:
    client = get_object_or_404(monitored_clients(request.user), pk=client_id)
    return _page(request, client=client)
