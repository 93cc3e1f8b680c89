"""API of sales: leads, opportunities, proposals, and the prospect's answer through the signed
link (the only endpoints of Thirdway that need no account: the token is the key)."""

import datetime as dt
from decimal import Decimal
from typing import Annotated, Literal

from django.http import Http404, HttpRequest
from django.shortcuts import get_object_or_404
from ninja import Field, Router, Schema, Status
from ninja.errors import HttpError
from ninja.pagination import paginate
from pydantic import BeforeValidator, WithJsonSchema
from pydantic_core import PydanticCustomError

from thirdway.audit.models import Source
from thirdway.billing.api import Money
from thirdway.payloads import MAX_EMAIL, Id, Page, Payload, kept
from thirdway.sales import links, services
from thirdway.sales.models import Lead, Opportunity, Proposal

router = Router()
LONGEST_QUANTITY = 12


def _short(value: object) -> object:
    """A quantity sent as text is short, before Decimal reads it."""
    if isinstance(value, str) and len(value) > LONGEST_QUANTITY:
        raise PydanticCustomError(
            "quantity_too_long",
            f"The quantity is longer than {LONGEST_QUANTITY} characters.",
            {"allowed": f"at most {LONGEST_QUANTITY} characters"},
        )
    return value


# A quantity of a proposal line: above 0, hundredths at most, as a number or a decimal string.
Quantity = Annotated[
    Decimal,
    BeforeValidator(_short),
    Field(ge=Decimal("0.01"), le=services.MAX_QUANTITY, max_digits=10, decimal_places=2),
    WithJsonSchema(
        {
            "anyOf": [
                {"type": "number", "minimum": 0.01, "maximum": float(services.MAX_QUANTITY)},
                {"type": "string", "maxLength": LONGEST_QUANTITY, "pattern": r"^\d+(\.\d{1,2})?$"},
            ]
        }
    ),
]
API = Source.API
SourceName = Literal["referral", "web", "event", "partner", "other"]
StateName = Literal["new", "qualified", "converted", "disqualified"]
StageName = Literal["discovery", "proposal", "negotiation", "won", "lost"]


class SalesLeadOut(Schema):
    id: int
    company: str
    contact_name: str
    contact_email: str
    contact_phone: str
    source: str
    referrer_id: int | None
    owner_id: int
    practices: list[int]
    town: str
    country: str
    time_zone: str
    notes: str
    state: str
    disqualified_reason: str
    created_at: dt.datetime

    @staticmethod
    def resolve_practices(obj: Lead) -> list[int]:
        return [practice.pk for practice in obj.practices.all()]


class SalesLeadIn(Payload, extra="forbid"):
    company: str = Field(min_length=1, max_length=200)
    contact_name: str = Field(min_length=1, max_length=150)
    contact_email: str = Field(min_length=3, max_length=MAX_EMAIL)
    contact_phone: str = Field("", max_length=40)
    source: SourceName
    referrer: Id | None = None
    owner: Id | None = None
    practices: list[Id] = Field(default_factory=list, max_length=services.MAX_PRACTICES)
    town: str = Field("", max_length=100)
    country: str = Field("FR", min_length=2, max_length=2)
    time_zone: str = Field("Europe/Paris", max_length=64)
    notes: str = Field("", max_length=5000)


class SalesLeadPatch(Payload, extra="forbid"):
    company: str = kept(min_length=1, max_length=200)
    contact_name: str = kept(min_length=1, max_length=150)
    contact_email: str = kept(min_length=3, max_length=MAX_EMAIL)
    contact_phone: str = kept(max_length=40)
    source: SourceName = kept()
    referrer: Id | None = None
    owner: Id = kept()
    practices: list[Id] = kept(max_length=services.MAX_PRACTICES)
    town: str = kept(max_length=100)
    country: str = kept(min_length=2, max_length=2)
    time_zone: str = kept(max_length=64)
    notes: str = kept(max_length=5000)


class SalesReasonIn(Payload, extra="forbid"):
    reason: str = Field(min_length=1, max_length=250)


class SalesOpportunityOut(Schema):
    id: int
    lead_id: int
    practice_id: int
    title: str
    stage: str
    probability: int
    monthly_value: Decimal
    weighted_value: Decimal
    expected_close: dt.date | None
    lost_reason: str
    won_at: dt.datetime | None
    client_id: int | None
    contract_id: int | None
    run_id: int | None


class SalesOpportunityIn(Payload, extra="forbid"):
    lead: Id
    practice: Id
    title: str = Field(min_length=1, max_length=200)
    monthly_value: Money = Decimal(0)
    expected_close: dt.date | None = None


class SalesOpportunityPatch(Payload, extra="forbid"):
    title: str = kept(min_length=1, max_length=200)
    monthly_value: Money = kept()
    expected_close: dt.date | None = None


class SalesStageIn(Payload, extra="forbid"):
    stage: StageName
    reason: str = Field("", max_length=250)


class SalesProposalLineOut(Schema):
    position: int
    description: str
    quantity: Decimal
    unit_price: Decimal
    total: Decimal


class SalesProposalOut(Schema):
    id: int
    opportunity_id: int
    number: int
    state: str
    term_months: int
    notice_days: int
    sla_policy_id: int | None
    lines: list[SalesProposalLineOut]
    total: Decimal
    term_total: Decimal
    sent_at: dt.datetime | None
    expires_at: dt.datetime | None
    answered_at: dt.datetime | None
    accepted_name: str
    decline_reason: str

    @staticmethod
    def resolve_lines(obj: Proposal) -> list:
        return list(obj.lines.all())


class SalesProposalLineIn(Payload, extra="forbid"):
    description: str = Field(min_length=1, max_length=200)
    quantity: Quantity
    unit_price: Money


class SalesProposalIn(Payload, extra="forbid"):
    opportunity: Id
    lines: list[SalesProposalLineIn] = Field(min_length=1, max_length=services.MAX_LINES)
    term_months: int = Field(12, ge=1, le=120)
    notice_days: int = Field(30, ge=0, le=365)
    sla_policy: Id | None = None


class SalesLinkOut(Schema):
    token: str
    url: str
    expires_at: dt.datetime


class SalesAcceptIn(Payload, extra="forbid"):
    token: str = Field(min_length=1, max_length=300)
    name: str = Field(min_length=1, max_length=links.MAX_NAME)
    agree: bool


class SalesDeclineIn(Payload, extra="forbid"):
    token: str = Field(min_length=1, max_length=300)
    reason: str = Field("", max_length=250)


class SalesAnswerOut(Schema):
    proposal: int
    state: str
    answered_at: dt.datetime | None
    client_id: int | None


# --- leads -------------------------------------------------------------------------------------


def _lead(request: HttpRequest, lead_id: int) -> Lead:
    return get_object_or_404(Lead.objects.for_user(request.auth), pk=lead_id)


@router.get("/sales/leads", response=list[SalesLeadOut])
@paginate(Page)
def list_leads(request: HttpRequest, state: StateName | None = None):
    leads = Lead.objects.for_user(request.auth).prefetch_related("practices")
    return leads.filter(state=state) if state else leads


@router.post("/sales/leads", response={201: SalesLeadOut})
def create_lead(request: HttpRequest, payload: SalesLeadIn):
    data = payload.model_dump()
    practices = data.pop("practices")
    return Status(201, services.create_lead(request.auth, data, source=API, practices=practices))


@router.get("/sales/leads/{lead_id}", response=SalesLeadOut)
def get_lead(request: HttpRequest, lead_id: int):
    return _lead(request, lead_id)


@router.patch("/sales/leads/{lead_id}", response=SalesLeadOut)
def update_lead(request: HttpRequest, lead_id: int, payload: SalesLeadPatch):
    lead = _lead(request, lead_id)
    data = payload.model_dump(exclude_unset=True)
    practices = data.pop("practices", None)
    return services.update_lead(request.auth, lead, data, source=API, practices=practices)


@router.post("/sales/leads/{lead_id}/qualify", response=SalesLeadOut)
def qualify_lead(request: HttpRequest, lead_id: int):
    return services.qualify_lead(request.auth, _lead(request, lead_id), source=API)


@router.post("/sales/leads/{lead_id}/disqualify", response=SalesLeadOut)
def disqualify_lead(request: HttpRequest, lead_id: int, payload: SalesReasonIn):
    lead = _lead(request, lead_id)
    return services.disqualify_lead(request.auth, lead, reason=payload.reason, source=API)


# --- opportunities -----------------------------------------------------------------------------


def _opportunity(request: HttpRequest, opportunity_id: int) -> Opportunity:
    rows = Opportunity.objects.for_user(request.auth).select_related("lead__owner")
    return get_object_or_404(rows, pk=opportunity_id)


@router.get("/sales/opportunities", response=list[SalesOpportunityOut])
@paginate(Page)
def list_opportunities(
    request: HttpRequest, practice: Id | None = None, stage: StageName | None = None
):
    rows = Opportunity.objects.for_user(request.auth)
    if practice is not None:
        rows = rows.filter(practice_id=practice)
    return rows.filter(stage=stage) if stage else rows


@router.post("/sales/opportunities", response={201: SalesOpportunityOut})
def create_opportunity(request: HttpRequest, payload: SalesOpportunityIn):
    from thirdway.access import find_visible

    lead = find_visible(Lead.objects.for_user(request.auth), "lead", payload.lead)
    made = services.create_opportunity(
        request.auth,
        lead,
        practice=payload.practice,
        title=payload.title,
        monthly_value=payload.monthly_value,
        expected_close=payload.expected_close,
        source=API,
    )
    return Status(201, made)


@router.get("/sales/opportunities/{opportunity_id}", response=SalesOpportunityOut)
def get_opportunity(request: HttpRequest, opportunity_id: int):
    return _opportunity(request, opportunity_id)


@router.patch("/sales/opportunities/{opportunity_id}", response=SalesOpportunityOut)
def update_opportunity(request: HttpRequest, opportunity_id: int, payload: SalesOpportunityPatch):
    opportunity = _opportunity(request, opportunity_id)
    data = payload.model_dump(exclude_unset=True)
    return services.update_opportunity(request.auth, opportunity, data, source=API)


@router.post("/sales/opportunities/{opportunity_id}/stage", response=SalesOpportunityOut)
def move_opportunity(request: HttpRequest, opportunity_id: int, payload: SalesStageIn):
    """Move to another stage; ``lost`` needs a reason; ``won`` makes the client, its draft
    contract and its onboarding run (once: a second call answers the same)."""
    opportunity = _opportunity(request, opportunity_id)
    return services.move_opportunity(
        request.auth, opportunity, payload.stage, reason=payload.reason, source=API
    )


# --- proposals ---------------------------------------------------------------------------------


def _proposal(request: HttpRequest, proposal_id: int) -> Proposal:
    rows = Proposal.objects.for_user(request.auth).select_related("opportunity__lead__owner")
    return get_object_or_404(rows, pk=proposal_id)


@router.get("/sales/proposals", response=list[SalesProposalOut])
@paginate(Page)
def list_proposals(request: HttpRequest, opportunity: Id | None = None):
    rows = Proposal.objects.for_user(request.auth).prefetch_related("lines")
    return rows.filter(opportunity_id=opportunity) if opportunity is not None else rows


@router.post("/sales/proposals", response={201: SalesProposalOut})
def create_proposal(request: HttpRequest, payload: SalesProposalIn):
    from thirdway.access import find_visible

    rows = Opportunity.objects.for_user(request.auth).select_related("lead__owner")
    opportunity = find_visible(rows, "opportunity", payload.opportunity)
    data = payload.model_dump()
    made = services.create_proposal(
        request.auth,
        opportunity,
        lines=data["lines"],
        term_months=data["term_months"],
        notice_days=data["notice_days"],
        sla_policy=data["sla_policy"],
        source=API,
    )
    return Status(201, made)


@router.get("/sales/proposals/{proposal_id}", response=SalesProposalOut)
def get_proposal(request: HttpRequest, proposal_id: int):
    return _proposal(request, proposal_id)


@router.post("/sales/proposals/{proposal_id}/send", response=SalesLinkOut)
def send_proposal(request: HttpRequest, proposal_id: int):
    """A fresh signed link for the prospect (earlier links of the proposal stop working)."""
    from django.urls import reverse

    proposal = _proposal(request, proposal_id)
    token = links.send(request.auth, proposal, source=API)
    proposal.refresh_from_db()
    url = request.build_absolute_uri(reverse("sales:public", args=[token]))
    return {"token": token, "url": url, "expires_at": proposal.expires_at}


def _by_token(token: str) -> Proposal:
    try:
        return links.proposal_for(token)
    except links.LinkRefused as refused:
        if refused.expired:
            raise HttpError(410, "This link has expired: ask for a new one.") from None
        raise Http404("No proposal has this link.") from None


def _answer(proposal: Proposal) -> dict:
    proposal.refresh_from_db()
    return {
        "proposal": proposal.pk,
        "state": proposal.state,
        "answered_at": proposal.answered_at,
        "client_id": proposal.opportunity.client_id,
    }


def _ip(request: HttpRequest) -> str | None:
    return request.META.get("REMOTE_ADDR") or None


@router.post("/sales/proposal-answers/accept", response=SalesAnswerOut, auth=None)
def accept_proposal(request: HttpRequest, payload: SalesAcceptIn):
    """The prospect accepts with their name typed and the box ticked; once only."""
    proposal = _by_token(payload.token)
    links.accept(proposal, name=payload.name, agreed=payload.agree, ip=_ip(request), source=API)
    return _answer(proposal)


@router.post("/sales/proposal-answers/decline", response=SalesAnswerOut, auth=None)
def decline_proposal(request: HttpRequest, payload: SalesDeclineIn):
    proposal = _by_token(payload.token)
    links.decline(proposal, reason=payload.reason, ip=_ip(request), source=API)
    return _answer(proposal)
