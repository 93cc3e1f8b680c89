"""Pages of alerts: the list of every alert a person sees (filtered by client, check, status,
severity, incident or the check's name) and one alert's page with its facts, its timeline,
what held it back, its ticket and its incident.  Read only: alerts are written by the alert
engine."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db.models import Q
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.utils import timezone
from django.utils.http import urlencode

from thirdway.monitoring.access import sees_monitoring
from thirdway.monitoring.forms import AlertFilterForm
from thirdway.monitoring.incident_views import group_label
from thirdway.monitoring.models import Alert, CheckEvent, EventKind
from thirdway.tickets.models import Ticket

ALERTS_PER_PAGE = 50
TIMELINE_LIMIT = 200
OTHERS_LIMIT = 50
DURING = [EventKind.RESULT, EventKind.CHANGE]


def _alerts(request: HttpRequest):
    return Alert.objects.for_user(request.user).select_related(
        "check_obj__site", "check_obj__asset", "client", "ticket", "incident"
    )


def _linked_tickets(user, alerts) -> set[int]:
    """The tickets of ``alerts`` whose page the person may open (the network's ticket pages)."""
    numbers = {alert.ticket_id for alert in alerts if alert.ticket_id}
    if not (numbers and user.is_network_staff):
        return set()
    return set(Ticket.objects.for_user(user).filter(pk__in=numbers).values_list("pk", flat=True))


def _filtered(alerts, data: dict):
    if data["client"] is not None:
        alerts = alerts.filter(client=data["client"])
    if data["check"] is not None:
        alerts = alerts.filter(check_obj_id=data["check"])
    if data["incident"] is not None:
        alerts = alerts.filter(incident_id=data["incident"])
    if data["status"]:
        alerts = alerts.filter(status=data["status"])
    if data["severity"]:
        alerts = alerts.filter(severity=data["severity"])
    if data["q"].strip():
        alerts = alerts.filter(check_obj__name__icontains=data["q"].strip())
    return alerts


@login_required
def alert_list(request: HttpRequest) -> HttpResponse:
    """Every alert of the clients the person sees, newest first."""
    if not sees_monitoring(request.user):
        raise Http404
    form = AlertFilterForm(request.GET or None, user=request.user)
    valid = not form.is_bound or form.is_valid()
    data = form.cleaned_data if form.is_bound and valid else _no_filters()
    # A refused filter shows no alert rather than all of them.
    alerts = _filtered(_alerts(request), data) if valid else Alert.objects.none()
    page = Paginator(alerts, ALERTS_PER_PAGE).get_page(request.GET.get("page"))
    linked = _linked_tickets(request.user, page.object_list)
    for alert in page.object_list:
        alert.ticket_linked = alert.ticket_id in linked
    shown = {key: value for key, value in request.GET.items() if key != "page" and value}
    context = {
        "form": form,
        "page": page,
        "client": data["client"],
        "check_obj": form.check_obj,
        "incident": data["incident"],
        "querystring": urlencode(shown),
    }
    return render(request, "monitoring/alerts.html", context, status=200 if valid else 400)


def _no_filters() -> dict:
    return {
        "client": None,
        "check": None,
        "incident": None,
        "status": "",
        "severity": "",
        "q": "",
    }


def _timeline(alert: Alert) -> list[CheckEvent]:
    """The check's events tied to the alert, its status changes and edits while the alert was
    open, and what held the alert back before it opened (since the check's previous alert
    ended); oldest first, the first ``TIMELINE_LIMIT``."""
    until = alert.resolved_at or timezone.now()
    before = (
        Alert.objects.filter(check_obj_id=alert.check_obj_id, opened_at__lt=alert.opened_at)
        .order_by("-opened_at")
        .values_list("resolved_at", flat=True)
        .first()
    )
    held = Q(kind=EventKind.SUPPRESS, at__lt=alert.opened_at)
    if before is not None:
        held &= Q(at__gt=before)
    # Status changes and edits of the check, not its pings (a heartbeat's would drown the rest).
    during = Q(kind__in=DURING, alert__isnull=True, at__gte=alert.opened_at, at__lte=until)
    events = CheckEvent.objects.filter(check_obj_id=alert.check_obj_id).filter(
        Q(alert=alert) | during | held
    )
    return list(events.order_by("at", "id")[:TIMELINE_LIMIT])


@login_required
def alert_detail(request: HttpRequest, alert_id: int) -> HttpResponse:
    alert = get_object_or_404(_alerts(request), pk=alert_id)
    alert.ticket_linked = bool(_linked_tickets(request.user, [alert]))
    events = _timeline(alert)
    incident = alert.incident
    others: list[Alert] = []
    if incident is not None:
        incident.label = group_label(incident)
        others = list(
            incident.alerts.exclude(pk=alert.pk)
            .select_related("check_obj")
            .order_by("opened_at")[:OTHERS_LIMIT]
        )
    context = {
        "alert": alert,
        "client": alert.client,
        "check": alert.check_obj,
        "events": events,
        "events_cut": len(events) == TIMELINE_LIMIT,
        "held": [event for event in events if event.kind == EventKind.SUPPRESS],
        "incident": incident,
        "others": others,
    }
    return render(request, "monitoring/alert_detail.html", context)
