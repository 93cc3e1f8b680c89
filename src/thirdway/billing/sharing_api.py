"""API of a practice's shared tool costs, its clawback period and the referral fees clawed
back (practice admins; anyone else is refused or finds nothing).  Money travels as decimal
strings."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Literal

from django.shortcuts import get_object_or_404
from ninja import Field, Router, Schema, Status

from thirdway.access import find_visible
from thirdway.audit.models import Source
from thirdway.billing import clawbacks, services, tool_costs
from thirdway.billing.access import may_manage_billing
from thirdway.billing.api import Money
from thirdway.billing.models import ReferralClawback, ToolCost
from thirdway.errors import refuse_nulls, require
from thirdway.network.models import Practice
from thirdway.payloads import Id, Payload, kept

router = Router()
UnitName = Literal["monitored_device", "managed_device", "user", "client"]
RATE = {"le": Decimal(100000)}


class ToolCostOut(Schema):
    id: int
    practice_id: int
    name: str
    unit: str
    rate: Decimal


class ToolCostIn(Payload, extra="forbid"):
    practice: Id
    name: str = Field(min_length=1, max_length=100)
    unit: UnitName
    rate: Money = Field(le=Decimal(100000))


class ToolCostPatch(Payload, extra="forbid"):
    name: str = kept(min_length=1, max_length=100)
    unit: UnitName = kept()
    rate: Money = kept(le=Decimal(100000))


class SharingOut(Schema):
    practice_id: int
    clawback_months: int
    tool_costs: list[ToolCostOut]


class SharingPatch(Payload, extra="forbid"):
    clawback_months: int = kept(ge=0, le=36)


class ClawbackOut(Schema):
    id: int
    practice_id: int
    client_id: int
    first_invoiced_on: dt.date
    left_on: dt.date
    months: int
    transaction_id: int | None = Field(None, alias="clawback_id")
    memo: str
    at: dt.datetime

    @staticmethod
    def resolve_memo(obj: ReferralClawback) -> str:
        return obj.clawback.memo if obj.clawback_id else "nothing was left to claw back"


class ClawbackIn(Payload, extra="forbid"):
    practice: Id
    client: Id


def _practice(request, practice_id: int) -> Practice:
    require(may_manage_billing(request.auth), tool_costs.MANAGE)
    return get_object_or_404(Practice, pk=practice_id)


def _named_practice(request, practice_id: int) -> Practice:
    """The practice a payload names: a 400 naming ``practice`` when there is none."""
    require(may_manage_billing(request.auth), tool_costs.MANAGE)
    return find_visible(Practice.objects.all(), "practice", practice_id)


def _tools(request):
    return ToolCost.objects.for_user(request.auth)


def _sharing(practice: Practice) -> dict:
    return {
        "practice_id": practice.pk,
        "clawback_months": services.settings_of(practice).clawback_months,
        "tool_costs": list(ToolCost.objects.filter(practice=practice).order_by("name", "pk")),
    }


@router.get("/billing/sharing/{practice_id}", response=SharingOut)
def get_sharing(request, practice_id: int):
    """The practice's shared tool costs and clawback period (practice admins)."""
    return _sharing(_practice(request, practice_id))


@router.patch("/billing/sharing/{practice_id}", response=SharingOut)
def update_sharing(request, practice_id: int, payload: SharingPatch):
    """Change the clawback period (0 to 36 months; 0: referral fees are never clawed back)."""
    practice = _practice(request, practice_id)
    data = payload.model_dump(exclude_unset=True)
    refuse_nulls(name for name, value in data.items() if value is None)
    services.update_settings(request.auth, practice, data, source=Source.API)
    return _sharing(practice)


@router.get("/billing/tool-costs", response=list[ToolCostOut])
def list_tool_costs(request, practice: Id | None = None):
    """The shared tool costs one may see (a practice admin's all), at most 50 a practice."""
    found = _tools(request).order_by("practice", "name", "pk")
    if practice is not None:
        found = found.filter(practice_id=practice)
    return list(found[:500])


@router.post("/billing/tool-costs", response={201: ToolCostOut})
def add_tool_cost(request, payload: ToolCostIn):
    """Add a tool whose cost each client's revenue bears before the split."""
    practice = _named_practice(request, payload.practice)
    data = payload.model_dump(exclude={"practice"})
    return Status(201, tool_costs.add_tool(request.auth, practice, source=Source.API, **data))


@router.get("/billing/tool-costs/{tool_id}", response=ToolCostOut)
def get_tool_cost(request, tool_id: int):
    return get_object_or_404(_tools(request), pk=tool_id)


@router.patch("/billing/tool-costs/{tool_id}", response=ToolCostOut)
def change_tool_cost(request, tool_id: int, payload: ToolCostPatch):
    """Change a tool's name, unit or rate (months already charged keep theirs)."""
    tool = get_object_or_404(_tools(request), pk=tool_id)
    data = payload.model_dump(exclude_unset=True)
    refuse_nulls(name for name, value in data.items() if value is None)
    tool_costs.change_tool(request.auth, tool, data, source=Source.API)
    return _tools(request).get(pk=tool.pk)


@router.delete("/billing/tool-costs/{tool_id}", response={204: None})
def remove_tool_cost(request, tool_id: int):
    tool = get_object_or_404(_tools(request), pk=tool_id)
    tool_costs.remove_tool(request.auth, tool, source=Source.API)
    return Status(204, None)


@router.get("/billing/clawbacks", response=list[ClawbackOut])
def list_clawbacks(request, practice: Id | None = None):
    """The referral fees clawed back, newest first (the last 200)."""
    found = ReferralClawback.objects.for_user(request.auth).select_related("clawback")
    if practice is not None:
        found = found.filter(practice_id=practice)
    return list(found[:200])


@router.post("/billing/clawbacks", response={200: ClawbackOut, 201: ClawbackOut})
def claw_back(request, payload: ClawbackIn):
    """Claw back a client's referral fees now, if it left within the practice's period (201;
    200 with the clawback made earlier; 400 naming ``client`` when nothing is due)."""
    practice = _named_practice(request, payload.practice)
    earlier = ReferralClawback.objects.filter(practice=practice, client_id=payload.client).first()
    if earlier is not None:
        return Status(200, earlier)
    made = clawbacks.claw_back_named(request.auth, practice, payload.client, source=Source.API)
    return Status(201, ReferralClawback.objects.select_related("clawback").get(pk=made.pk))
