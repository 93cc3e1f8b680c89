"""API of incidents: the alerts of one group on one ticket, as the engine grouped them."""

import datetime as dt
from typing import Literal

from django.http import HttpRequest
from django.shortcuts import get_object_or_404
from ninja import Field, Router, Schema
from ninja.pagination import paginate

from thirdway.monitoring.incidents import incidents_for
from thirdway.monitoring.models import Alert, Incident
from thirdway.payloads import Id, Page

router = Router()


class IncidentAlertOut(Schema):
    id: int
    check_id: int
    check_name: str
    status: str
    severity: str
    summary: str
    opened_at: dt.datetime
    resolved_at: dt.datetime | None

    @staticmethod
    def resolve_check_id(obj: Alert) -> int:
        return obj.check_obj_id

    @staticmethod
    def resolve_check_name(obj: Alert) -> str:
        return obj.check_obj.name


class IncidentOut(Schema):
    id: int
    client_id: int
    group_key: str = Field(
        description="What grouped its alerts: client, site:<id>, kind:<kind>, tag:<tag> or "
        "check:<id> (no grouping)."
    )
    status: str
    opened_at: dt.datetime
    resolved_at: dt.datetime | None
    reminders: int
    ticket_number: str | None
    alerts: list[IncidentAlertOut]

    @staticmethod
    def resolve_ticket_number(obj: Incident) -> str | None:
        return obj.ticket.number if obj.ticket_id else None

    @staticmethod
    def resolve_alerts(obj: Incident) -> list[Alert]:
        return list(obj.alerts.all())


@router.get("/monitoring/incidents", response=list[IncidentOut])
@paginate(Page)
def list_incidents(
    request: HttpRequest,
    client: Id | None = None,
    status: Literal["open", "resolved", "all"] = "all",
):
    """The incidents of the clients one sees, newest first, each with its alerts."""
    rows = incidents_for(request.auth, status=status)
    return rows.filter(client_id=client) if client is not None else rows


@router.get("/monitoring/incidents/{incident_id}", response=IncidentOut)
def get_incident(request: HttpRequest, incident_id: int):
    return get_object_or_404(incidents_for(request.auth, status="all"), pk=incident_id)
