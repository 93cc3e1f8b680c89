"""API of a client's alert rule: the defaults of its alert tickets, and how its alerts are
grouped into incidents and reminded of."""

from typing import Literal

from django.http import HttpRequest
from django.shortcuts import get_object_or_404
from ninja import Router, Schema

from thirdway.audit.models import Source
from thirdway.monitoring import services
from thirdway.monitoring.access import monitored_clients
from thirdway.monitoring.api import _ids
from thirdway.payloads import Id, Payload, kept

router = Router()


GroupByName = Literal["none", "client", "site", "kind", "tag"]


class RuleOut(Schema):
    client_id: int
    priority: int
    category: str
    practice_id: int | None
    group_by: str
    group_window_seconds: int
    group_wait_seconds: int
    group_tag: str
    repeat_interval_seconds: int


class RuleIn(Payload, extra="forbid"):
    priority: int = kept(ge=1, le=4)
    category: str = kept(max_length=100)
    practice: Id | None = None
    group_by: GroupByName = kept(description="What groups alerts on one ticket (none: nothing).")
    group_window_seconds: int = kept(
        ge=30, le=86_400, description="How long after an incident's first alert others join it."
    )
    group_wait_seconds: int = kept(
        ge=0, le=600, description="How long a new incident waits before opening its ticket."
    )
    group_tag: str = kept(
        max_length=40, description="With group_by tag: the tag whose assets' alerts are grouped."
    )
    repeat_interval_seconds: int = kept(
        ge=0, le=7 * 86_400, description="A reminder note while the ticket stays open; 0: none."
    )


@router.get("/monitoring/clients/{client_id}/alert-rule", response=RuleOut)
def get_alert_rule(request: HttpRequest, client_id: int):
    client = get_object_or_404(monitored_clients(request.auth), pk=client_id)
    return services.rule_of(client)


@router.put("/monitoring/clients/{client_id}/alert-rule", response=RuleOut)
def set_alert_rule(request: HttpRequest, client_id: int, payload: RuleIn):
    client = get_object_or_404(monitored_clients(request.auth), pk=client_id)
    data = _ids(payload.model_dump(exclude_unset=True), "practice")
    return services.set_alert_rule(request.auth, client, data, source=Source.API)
