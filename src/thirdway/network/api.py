"""API of the partner network: practices, partners, skills and absences."""

import datetime as dt
from typing import Annotated, Literal

from django.db.models import Prefetch
from django.shortcuts import get_object_or_404
from django.utils import timezone
from ninja import Field, Query, Router, Schema, Status
from ninja.pagination import paginate
from pydantic import ValidationInfo, model_validator

from thirdway.access import find_visible
from thirdway.audit.models import Source
from thirdway.network import services
from thirdway.network.models import Absence, Partner, Practice, Skill
from thirdway.network.schedule import available_ids
from thirdway.payloads import (
    MAX_EMAIL,
    MAX_LANGUAGES,
    MAX_NOTES,
    MAX_PASSWORD,
    MAX_SHIFTS,
    Id,
    Moment,
    Page,
    Payload,
    kept,
)

router = Router()
PartnerKindName = Literal["partner", "associate", "desk"]
AbsenceKindName = Literal["vacation", "sick", "training", "other"]
Hours = dict[str, list[tuple[str, str]]]
# What a client may send: seven days of at most a few shifts each, from HH:MM to HH:MM.
Clock = Annotated[str, Field(max_length=5)]
HoursIn = Annotated[
    dict[str, Annotated[list[tuple[Clock, Clock]], Field(max_length=MAX_SHIFTS)]],
    Field(max_length=7),
]
Languages = Annotated[list[Annotated[str, Field(max_length=20)]], Field(max_length=MAX_LANGUAGES)]


def _practices(request):
    return Practice.objects.for_user(request.auth)


def _partners(request):
    skills = Prefetch("skills", queryset=Skill.objects.select_related("practice"))
    return Partner.objects.for_user(request.auth).prefetch_related(skills)


# --- practices ---------------------------------------------------------------------------------


class PracticeOut(Schema):
    id: int
    name: str
    slug: str
    description: str
    lead_id: int | None
    auto_dispatch: bool
    move_late: bool


class PracticeIn(Payload, extra="forbid"):
    name: str = Field(max_length=100)
    slug: str | None = Field(None, max_length=100)
    description: str = Field("", max_length=MAX_NOTES)
    lead: Id | None = None
    auto_dispatch: bool = False
    move_late: bool = False


class PracticePatch(Payload, extra="forbid"):
    name: str = kept(max_length=100)
    slug: str = kept(max_length=100)
    description: str = kept(max_length=MAX_NOTES)
    lead: Id | None = None
    auto_dispatch: bool = kept()
    move_late: bool = kept()


def _practice_data(payload: Schema, **dump) -> dict:
    data = payload.model_dump(**dump)
    if "lead" in data:
        data["lead"] = services.resolve_partner("lead", data["lead"])
    return data


@router.get("/practices", response=list[PracticeOut])
@paginate(Page)
def list_practices(request):
    return _practices(request)


@router.get("/practices/{practice_id}", response=PracticeOut)
def get_practice(request, practice_id: int):
    return get_object_or_404(_practices(request), pk=practice_id)


@router.post("/practices", response={201: PracticeOut})
def create_practice(request, payload: PracticeIn):
    data = _practice_data(payload, exclude_none=True)
    return Status(201, services.create_practice(request.auth, source=Source.API, **data))


@router.patch("/practices/{practice_id}", response=PracticeOut)
def update_practice(request, practice_id: int, payload: PracticePatch):
    practice = get_object_or_404(_practices(request), pk=practice_id)
    data = _practice_data(payload, exclude_unset=True)
    return services.update_practice(request.auth, practice, data, source=Source.API)


# --- partners ----------------------------------------------------------------------------------


class SkillOut(Schema):
    practice_id: int
    practice: str = Field(alias="practice.name")
    level: int


class PartnerOut(Schema):
    """Client contacts get the name, kind, town, languages and skills; the network gets all."""

    id: int
    name: str
    kind: str
    region: str
    town: str
    languages: list[str]
    skills: list[SkillOut]
    email: str | None = None
    phone: str | None = None
    latitude: float | None = None
    longitude: float | None = None
    time_zone: str | None = None
    service_radius_km: int | None = None
    working_hours: Hours | None = None
    capacity: int | None = None
    is_active: bool | None = None
    user_id: int | None = None
    deputy_id: int | None = None

    @staticmethod
    def resolve_skills(obj: Partner) -> list:
        return list(obj.skills.all())

    @model_validator(mode="after")
    def hide_private_fields(self, info: ValidationInfo) -> "PartnerOut":
        request = (info.context or {}).get("request")
        if request is None or not request.auth.is_network_staff:
            for name in PRIVATE_PARTNER_FIELDS:
                setattr(self, name, None)
        return self


PRIVATE_PARTNER_FIELDS = (
    "email",
    "phone",
    "latitude",
    "longitude",
    "time_zone",
    "service_radius_km",
    "working_hours",
    "capacity",
    "is_active",
    "user_id",
    "deputy_id",
)


class PartnerIn(Payload, extra="forbid"):
    name: str = Field(max_length=150)
    email: str = Field(max_length=MAX_EMAIL)
    phone: str = Field("", max_length=40)
    kind: PartnerKindName = "partner"
    region: str = Field("", max_length=100)
    town: str = Field("", max_length=100)
    latitude: float
    longitude: float
    time_zone: str = Field(max_length=64)
    service_radius_km: int = 30
    working_hours: HoursIn = {}
    capacity: int = 10
    languages: Languages = []
    username: str | None = Field(
        None, max_length=150, description="Give one to create a sign-in account."
    )
    password: str | None = Field(None, max_length=MAX_PASSWORD)


class PartnerPatch(Payload, extra="forbid"):
    name: str = kept(max_length=150)
    email: str = kept(max_length=MAX_EMAIL)
    phone: str = kept(max_length=40)
    kind: PartnerKindName = kept()
    region: str = kept(max_length=100)
    town: str = kept(max_length=100)
    latitude: float = kept()
    longitude: float = kept()
    time_zone: str = kept(max_length=64)
    service_radius_km: int = kept()
    working_hours: HoursIn = kept()
    capacity: int = kept()
    languages: Languages = kept()
    is_active: bool = kept()
    deputy: Id | None = Field(
        None, description="The standing deputy while away: an active partner's id; null clears."
    )


class PartnerFilter(Schema):
    practice: Id | None = None
    region: str | None = Field(None, max_length=100)
    kind: PartnerKindName | None = None
    available_now: bool = False


def _hours_as_lists(data: dict) -> dict:
    if data.get("working_hours") is not None:
        data["working_hours"] = {
            day: [list(span) for span in spans] for day, spans in data["working_hours"].items()
        }
    return data


@router.get("/partners", response=list[PartnerOut])
@paginate(Page)
def list_partners(request, filters: Query[PartnerFilter]):
    partners = _partners(request)
    if filters.practice is not None:
        partners = partners.filter(skills__practice_id=filters.practice)
    if filters.region:
        partners = partners.filter(region=filters.region)
    if filters.kind:
        partners = partners.filter(kind=filters.kind)
    if filters.available_now:
        partners = partners.filter(pk__in=available_ids(partners, timezone.now()))
    return partners


@router.get("/partners/{partner_id}", response=PartnerOut)
def get_partner(request, partner_id: int):
    return get_object_or_404(_partners(request), pk=partner_id)


@router.post("/partners", response={201: PartnerOut})
def create_partner(request, payload: PartnerIn):
    data = _hours_as_lists(payload.model_dump())
    partner = services.create_partner(request.auth, source=Source.API, **data)
    return Status(201, _partners(request).get(pk=partner.pk))


@router.patch("/partners/{partner_id}", response=PartnerOut)
def update_partner(request, partner_id: int, payload: PartnerPatch):
    partner = get_object_or_404(_partners(request), pk=partner_id)
    data = _hours_as_lists(payload.model_dump(exclude_unset=True))
    if "deputy" in data:
        data["deputy"] = services.resolve_partner("deputy", data["deputy"])
    services.update_partner(request.auth, partner, data, source=Source.API)
    return get_object_or_404(_partners(request), pk=partner_id)


class SkillIn(Payload, extra="forbid"):
    level: int


@router.put("/partners/{partner_id}/skills/{practice_id}", response=SkillOut)
def set_skill(request, partner_id: int, practice_id: int, payload: SkillIn):
    partner = get_object_or_404(_partners(request), pk=partner_id)
    practice = get_object_or_404(_practices(request), pk=practice_id)
    return services.set_skill(request.auth, partner, practice, payload.level, source=Source.API)


@router.delete("/partners/{partner_id}/skills/{practice_id}", response={204: None})
def remove_skill(request, partner_id: int, practice_id: int):
    partner = get_object_or_404(_partners(request), pk=partner_id)
    skill = get_object_or_404(partner.skills.all(), practice_id=practice_id)
    services.remove_skill(request.auth, skill, source=Source.API)
    return Status(204, None)


# --- absences ----------------------------------------------------------------------------------


class AbsenceOut(Schema):
    id: int
    partner_id: int
    kind: str
    starts_at: dt.datetime
    ends_at: dt.datetime
    note: str
    deputy_id: int | None


class AbsenceIn(Payload, extra="forbid"):
    """Times carry their offset (``Z`` or ``+02:00``): a bare local time would be ambiguous."""

    partner: Id
    kind: AbsenceKindName
    starts_at: Moment
    ends_at: Moment
    note: str = Field("", max_length=200)
    deputy: Id | None = Field(
        None,
        description="Who takes the partner's open tickets during the absence: an active "
        "partner sharing a practice with them, not away then. Empty: the partner's standing "
        "deputy, else the partner the dispatcher ranks first per ticket.",
    )


class AbsencePatch(Payload, extra="forbid"):
    kind: AbsenceKindName = kept()
    starts_at: Moment = kept()
    ends_at: Moment = kept()
    note: str = kept(max_length=200)
    deputy: Id | None = Field(None, description="An active partner's id; null clears it.")


def _absences(request):
    return Absence.objects.for_user(request.auth)


@router.get("/absences", response=list[AbsenceOut])
@paginate(Page)
def list_absences(request, partner: Id | None = None):
    absences = _absences(request)
    return absences.filter(partner_id=partner) if partner is not None else absences


@router.get("/absences/{absence_id}", response=AbsenceOut)
def get_absence(request, absence_id: int):
    return get_object_or_404(_absences(request), pk=absence_id)


@router.post("/absences", response={201: AbsenceOut})
def create_absence(request, payload: AbsenceIn):
    data = payload.model_dump()
    partner = find_visible(Partner.objects.for_user(request.auth), "partner", data.pop("partner"))
    return Status(201, services.add_absence(request.auth, partner, source=Source.API, **data))


@router.patch("/absences/{absence_id}", response=AbsenceOut)
def update_absence(request, absence_id: int, payload: AbsencePatch):
    absence = get_object_or_404(_absences(request).select_related("partner"), pk=absence_id)
    data = payload.model_dump(exclude_unset=True)
    return services.update_absence(request.auth, absence, data, source=Source.API)


@router.delete("/absences/{absence_id}", response={204: None})
def cancel_absence(request, absence_id: int):
    absence = get_object_or_404(_absences(request).select_related("partner"), pk=absence_id)
    services.cancel_absence(request.auth, absence, source=Source.API)
    return Status(204, None)
