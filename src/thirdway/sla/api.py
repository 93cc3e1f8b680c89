"""API of service levels: calendars and policies (read by the network, written by admins)."""

import datetime as dt

from django.shortcuts import get_object_or_404
from ninja import Router, Schema, Status
from ninja.pagination import LimitOffsetPagination, paginate

from thirdway.audit.models import Source
from thirdway.sla import services
from thirdway.sla.models import BusinessCalendar, SlaPolicy

router = Router()


class CalendarOut(Schema):
    id: int
    name: str
    time_zone: str
    weekly_hours: dict[str, list[list[str]]]
    holiday_country: str
    holiday_region: str
    closed_dates: list[dt.date]


class CalendarIn(Schema, extra="forbid"):
    name: str
    time_zone: str
    weekly_hours: dict[str, list[list[str]]]
    holiday_country: str = ""
    holiday_region: str = ""
    closed_dates: list[str] = []


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
@paginate(LimitOffsetPagination)
def list_calendars(request):
    return BusinessCalendar.objects.for_user(request.auth)


@router.post("/sla/calendars", response={201: CalendarOut})
def create_calendar(request, payload: CalendarIn):
    calendar = services.create_calendar(request.auth, source=Source.API, **payload.model_dump())
    return Status(201, calendar)


@router.get("/sla/policies", response=list[PolicyOut])
@paginate(LimitOffsetPagination)
def list_policies(request):
    return SlaPolicy.objects.for_user(request.auth).prefetch_related("targets", "steps")


@router.get("/sla/policies/{policy_id}", response=PolicyOut)
def get_policy(request, policy_id: int):
    return get_object_or_404(SlaPolicy.objects.for_user(request.auth), pk=policy_id)
