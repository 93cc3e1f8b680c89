"""API of fixed-fee projects (their milestones, budget and time) and of a practice's billing
settings.  Money travels as decimal strings."""

import datetime as dt
from decimal import Decimal
from typing import Literal

from django.shortcuts import get_object_or_404
from ninja import Field, Router, Schema

from thirdway.audit.models import Source
from thirdway.billing import projects, services
from thirdway.billing.access import may_manage_billing
from thirdway.billing.api import Money, Multiplier, Percent
from thirdway.billing.models import BillingSettings, Contract, Milestone
from thirdway.billing.projects import MilestoneState
from thirdway.errors import refuse_nulls, require
from thirdway.network.models import Practice
from thirdway.payloads import Id, Payload, kept

router = Router()


# --- projects ----------------------------------------------------------------------------------


class MilestoneOut(Schema):
    id: int
    name: str
    amount: Decimal | None
    percent: Decimal | None
    value: Decimal = Field(description="What it bills: the amount, or the percent of the price.")
    due_on: dt.date
    done_at: dt.datetime | None
    state: Literal["planned", "done", "billed"]
    invoice_id: int | None = Field(description="The invoice that billed it.")


class ProjectOut(Schema):
    contract_id: int
    price: Decimal
    billed: Decimal
    budget_minutes: int
    worked_minutes: int = Field(description="Time logged on the project (tracked, not billed).")
    budget_hours: Decimal
    worked_hours: Decimal
    used_percent: int | None
    effective_rate: Decimal | None = Field(description="The price per hour worked.")
    milestones: list[MilestoneOut]


class MilestoneIn(Payload, extra="forbid"):
    id: Id | None = Field(None, description="An existing milestone's id; none: a new one.")
    name: str = Field(min_length=1, max_length=150)
    amount: Money | None = None
    percent: Percent | None = None
    due_on: dt.date


class MilestonesIn(Payload, extra="forbid"):
    milestones: list[MilestoneIn] = Field(min_length=1, max_length=projects.MOST_MILESTONES)


def _milestone_out(state: MilestoneState) -> dict:
    milestone = state.milestone
    return {
        "id": milestone.pk,
        "name": milestone.name,
        "amount": milestone.amount,
        "percent": milestone.percent,
        "value": state.value,
        "due_on": milestone.due_on,
        "done_at": milestone.done_at,
        "state": state.state,
        "invoice_id": state.invoice_line.invoice_id if state.invoice_line else None,
    }


def _project_out(contract: Contract) -> dict:
    found = projects.progress(contract)
    return {
        "contract_id": contract.pk,
        "price": found.price,
        "billed": found.billed,
        "budget_minutes": found.budget_minutes,
        "worked_minutes": found.worked_minutes,
        "budget_hours": found.budget_hours,
        "worked_hours": found.worked_hours,
        "used_percent": found.used_percent,
        "effective_rate": found.effective_rate,
        "milestones": [_milestone_out(state) for state in found.milestones],
    }


def _project(request, contract_id: int) -> Contract:
    contracts = Contract.objects.for_user(request.auth).select_related("client")
    return get_object_or_404(contracts, pk=contract_id)


@router.get("/contracts/{contract_id}/project", response=ProjectOut)
def get_project(request, contract_id: int):
    """A project's milestones, what they billed, and its budget against the time logged."""
    contract = _project(request, contract_id)
    projects._require_project(contract)
    return _project_out(contract)


@router.put("/contracts/{contract_id}/milestones", response=ProjectOut)
def set_milestones(request, contract_id: int, payload: MilestonesIn):
    """Replace the plan (practice admins): the milestones must add up to the price."""
    contract = _project(request, contract_id)
    items = [item.model_dump() for item in payload.milestones]
    projects.set_milestones(request.auth, contract, items, source=Source.API)
    return _project_out(Contract.objects.get(pk=contract.pk))


@router.post("/contracts/{contract_id}/milestones/{milestone_id}/done", response=MilestoneOut)
def mark_done(request, contract_id: int, milestone_id: int):
    """Mark a milestone done (practice admins, the client's lead partner): the next invoice
    run bills it."""
    contract = _project(request, contract_id)
    milestone = get_object_or_404(Milestone.objects.filter(contract=contract), pk=milestone_id)
    done = projects.mark_done(request.auth, milestone, source=Source.API)
    done.contract = contract
    return _milestone_out(MilestoneState(done, done.value, None))


@router.delete("/contracts/{contract_id}/milestones/{milestone_id}/done", response=MilestoneOut)
def unmark_done(request, contract_id: int, milestone_id: int):
    """Un-mark a milestone done (practice admins, the client's lead partner) while no invoice
    bills it; once billed it is a 400 on ``done_at`` (a credit note gives the money back)."""
    contract = _project(request, contract_id)
    milestone = get_object_or_404(Milestone.objects.filter(contract=contract), pk=milestone_id)
    undone = projects.unmark_done(request.auth, milestone, source=Source.API)
    undone.contract = contract
    return _milestone_out(MilestoneState(undone, undone.value, None))


# --- a practice's billing settings -------------------------------------------------------------


class BillingSettingsOut(Schema):
    practice_id: int
    currency: str
    invoice_prefix: str
    credit_note_prefix: str
    origination: Decimal
    fade_years: int
    delivery: Decimal
    delivery_basis: str
    pool: Decimal
    network: Decimal
    desk_fee: Decimal
    referral: Decimal
    payment_days: int
    after_hours_multiplier: Decimal


class BillingSettingsPatch(Payload, extra="forbid"):
    """The numbering, split rules, payment days and after-hours multiplier (the seller's
    identity is changed on the settings page)."""

    currency: str = kept(min_length=3, max_length=3, pattern=r"^[A-Z]{3}$")
    invoice_prefix: str = kept(max_length=20)
    credit_note_prefix: str = kept(max_length=20)
    origination: Percent = kept()
    fade_years: int = kept(ge=0, le=50)
    delivery: Percent = kept()
    delivery_basis: Literal["time", "tickets"] = kept()
    pool: Percent = kept()
    network: Percent = kept()
    desk_fee: Percent = kept()
    referral: Percent = kept()
    payment_days: int = kept(ge=0, le=365)
    after_hours_multiplier: Multiplier = kept()


def _settings(request, practice_id: int) -> BillingSettings:
    require(may_manage_billing(request.auth), services.MANAGE)
    return services.settings_of(get_object_or_404(Practice, pk=practice_id))


@router.get("/billing/settings/{practice_id}", response=BillingSettingsOut)
def get_settings(request, practice_id: int):
    """A practice's billing settings (practice admins)."""
    return _settings(request, practice_id)


@router.patch("/billing/settings/{practice_id}", response=BillingSettingsOut)
def update_settings(request, practice_id: int, payload: BillingSettingsPatch):
    """Change them; split rules that do not add up to 100 % are refused naming the rule."""
    found = _settings(request, practice_id)
    data = payload.model_dump(exclude_unset=True)
    refuse_nulls(name for name, value in data.items() if value is None)
    return services.update_settings(request.auth, found.practice, data, source=Source.API)
