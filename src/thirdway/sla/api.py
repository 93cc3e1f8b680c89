"""API of service levels and coverage: calendars and policies (read by the network, written by
admins), who is on call, and the rotas with the hours they leave uncovered."""

import datetime as dt
from typing import Annotated

from django.http import Http404
from django.shortcuts import get_object_or_404
from django.utils import timezone
from ninja import Field, Router, Schema, Status
from ninja.pagination import paginate

from thirdway.audit.models import Source
from thirdway.network.models import Rota
from thirdway.network.oncall import describe_gaps, monday_of, plan_of, who_is_on_call
from thirdway.payloads import MAX_SHIFTS, Id, Moment, Page, Payload
from thirdway.sla import services
from thirdway.sla.models import BusinessCalendar, SlaPolicy

router = Router()
# One span of working hours: its start and end, HH:MM.
Span = Annotated[list[Annotated[str, Field(max_length=5)]], Field(min_length=2, max_length=2)]
# A closed date, YYYY-MM-DD.
DateText = Annotated[str, Field(max_length=10)]
# Days a calendar may list as closed, on top of public holidays.
MAX_CLOSED_DATES = 1000


class CalendarOut(Schema):
    id: int
    name: str
    time_zone: str
    weekly_hours: dict[str, list[list[str]]]
    holiday_country: str
    holiday_region: str
    closed_dates: list[dt.date]


class CalendarIn(Payload, extra="forbid"):
    name: str = Field(max_length=100)
    time_zone: str = Field(max_length=64)
    weekly_hours: Annotated[
        dict[str, Annotated[list[Span], Field(max_length=MAX_SHIFTS)]], Field(max_length=7)
    ]
    holiday_country: str = Field("", max_length=2)
    holiday_region: str = Field("", max_length=10)
    closed_dates: list[DateText] = Field([], max_length=MAX_CLOSED_DATES)


class TargetOut(Schema):
    priority: int
    first_response_minutes: int | None
    next_response_minutes: int | None
    resolution_minutes: int | None


class StepOut(Schema):
    clock: str
    percent: int
    actions: list[str]


class PolicyOut(Schema):
    id: int
    name: str
    description: str
    calendar_id: int
    is_default: bool
    targets: list[TargetOut]
    steps: list[StepOut]

    @staticmethod
    def resolve_targets(obj: SlaPolicy) -> list:
        return list(obj.targets.all())

    @staticmethod
    def resolve_steps(obj: SlaPolicy) -> list:
        return list(obj.steps.all())


@router.get("/sla/calendars", response=list[CalendarOut])
@paginate(Page)
def list_calendars(request):
    return BusinessCalendar.objects.for_user(request.auth)


@router.post("/sla/calendars", response={201: CalendarOut})
def create_calendar(request, payload: CalendarIn):
    calendar = services.create_calendar(request.auth, source=Source.API, **payload.model_dump())
    return Status(201, calendar)


@router.get("/sla/policies", response=list[PolicyOut])
@paginate(Page)
def list_policies(request):
    return SlaPolicy.objects.for_user(request.auth).prefetch_related("targets", "steps")


@router.get("/sla/policies/{policy_id}", response=PolicyOut)
def get_policy(request, policy_id: int):
    return get_object_or_404(SlaPolicy.objects.for_user(request.auth), pk=policy_id)


# --- on call ---------------------------------------------------------------------------------


class OnCallOut(Schema):
    at: dt.datetime
    partner_id: int | None
    partner_name: str | None
    rota_id: int | None
    rota_name: str | None


@router.get("/on-call", response=OnCallOut)
def on_call(request, practice: Id | None = None, at: Moment | None = None):
    """Who is on call for a practice (or the desk, without one) at ``at`` (default: now)."""
    if not request.auth.is_network_staff:
        raise Http404
    when = at or timezone.now()
    partner, rota = who_is_on_call(practice, when)
    return {
        "at": when,
        "partner_id": partner.pk if partner else None,
        "partner_name": partner.name if partner else None,
        "rota_id": rota.pk if rota else None,
        "rota_name": rota.name if rota else None,
    }


class RotaOut(Schema):
    id: int
    name: str
    practice_id: int | None
    kind: str
    time_zone: str
    member_ids: list[int]
    uncovered: list[str]


@router.get("/rotas", response=list[RotaOut])
def list_rotas(request):
    """Every rota with its members in order and, for 24x7 rotas, this week's uncovered hours."""
    if not request.auth.is_network_staff:
        return []
    now = timezone.now()
    out = []
    for rota in Rota.objects.prefetch_related("memberships"):
        gaps = plan_of(rota, now, now).gaps(monday_of(now)) if rota.covers_24x7 else []
        out.append(
            {
                "id": rota.pk,
                "name": rota.name,
                "practice_id": rota.practice_id,
                "kind": rota.kind,
                "time_zone": rota.time_zone,
                "member_ids": [m.partner_id for m in rota.memberships.all()],
                "uncovered": describe_gaps(gaps),
            }
        )
    return out
