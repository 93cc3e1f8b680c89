"""Every change to leads, opportunities and proposals (the only writers of them).

Winning a deal lives in ``winning.py``; the prospect's signed link in ``links.py``.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal, InvalidOperation

from django.db import transaction

from thirdway.access import find_visible
from thirdway.audit.services import create_and_record, record, update_and_record
from thirdway.errors import invalid, require
from thirdway.network.models import Partner, Practice
from thirdway.sales.access import can_create, can_work
from thirdway.sales.models import (
    OPEN_STAGES,
    Lead,
    LeadSource,
    LeadState,
    Opportunity,
    Proposal,
    ProposalLine,
    ProposalState,
    Stage,
)
from thirdway.sla.models import SlaPolicy

LEAD_FIELDS = [
    "company",
    "contact_name",
    "contact_email",
    "contact_phone",
    "source",
    "referrer",
    "owner",
    "town",
    "country",
    "time_zone",
    "notes",
]
OPPORTUNITY_FIELDS = ["lead", "practice", "title", "stage", "monthly_value", "expected_close"]
MAX_LINES = 30
MAX_PRACTICES = 20
MAX_MONEY = Decimal("999999999999.99")
MAX_QUANTITY = Decimal("99999999.99")
WORK = "Only practice admins, the desk and the lead's owner work on this lead."


def _scope(lead: Lead) -> str:
    return f"lead:{lead.pk}"


# --- leads -------------------------------------------------------------------------------------


def _partner(field: str, pk) -> Partner | None:
    partners = Partner.objects.filter(is_active=True)
    return find_visible(partners, field, pk, noun="active partner")


def _lead_values(data: dict) -> dict:
    """Model values from a payload or a form's data, ids turned into objects."""
    values = {name: data[name] for name in LEAD_FIELDS if name in data}
    for name in ("referrer", "owner"):
        if name in values and not isinstance(values[name], Partner | None):
            values[name] = _partner(name, values[name])
    if "source" in values and values["source"] not in LeadSource.values:
        raise invalid("source", "Unknown source.", ", ".join(LeadSource.values))
    referral = values.get("source") == LeadSource.REFERRAL
    if referral and "referrer" in values and values["referrer"] is None:
        raise invalid("referrer", "A referral names its partner.", "an active partner")
    return values


def _practices(ids) -> list[Practice]:
    if ids is None:
        return []
    items = list(ids)
    if len(items) > MAX_PRACTICES:
        raise invalid("practices", "Too many practices.", f"at most {MAX_PRACTICES}")
    found = []
    for item in items:
        practice = item if isinstance(item, Practice) else None
        if practice is None:
            practice = find_visible(Practice.objects.all(), "practices", item)
        found.append(practice)
    return found


@transaction.atomic
def create_lead(actor, data: dict, *, source: str, practices=None) -> Lead:
    """A new lead from ``data`` (the lead's fields; its own ``source`` is where it came
    from); its owner defaults to the partner who enters it."""
    require(can_create(actor), "Only the network's partners, admins and desk enter leads.")
    values = _lead_values(data)
    if values.get("owner") is None:
        values["owner"] = getattr(actor, "partner", None)
    if values["owner"] is None:
        raise invalid("owner", "A lead needs an owner.", "an active partner")
    needs = _practices(practices)
    lead = create_and_record(
        actor, Lead(**values), fields=LEAD_FIELDS, action="lead.create", source=source, scope=_scope
    )
    lead.practices.set(needs)
    return lead


@transaction.atomic
def update_lead(actor, lead: Lead, data: dict, *, source: str, practices=None) -> Lead:
    require(can_work(actor, lead), WORK)
    if lead.state in (LeadState.CONVERTED, LeadState.DISQUALIFIED):
        raise invalid("state", f"The lead is {lead.state}.", "a new or qualified lead")
    values = _lead_values(data)
    if "owner" in values and values["owner"] is None:
        raise invalid("owner", "A lead needs an owner.", "an active partner")
    candidate = Lead.objects.get(pk=lead.pk)
    for name, value in values.items():
        setattr(candidate, name, value)
    if candidate.source == LeadSource.REFERRAL and candidate.referrer_id is None:
        raise invalid("referrer", "A referral names its partner.", "an active partner")
    if practices is not None:
        lead.practices.set(_practices(practices))
    return update_and_record(
        actor,
        lead,
        values,
        fields=LEAD_FIELDS,
        action="lead.update",
        source=source,
        scope=_scope(lead),
    )


def _move_lead(actor, lead: Lead, state: str, *, source: str, reason: str = "") -> Lead:
    before = lead.state
    lead.state = state
    lead.disqualified_reason = reason
    lead.save(update_fields=["state", "disqualified_reason"])
    changes = {"state": [before, state]}
    if reason:
        changes["reason"] = [None, reason]
    record(actor, f"lead.{state}", lead, source=source, scope=_scope(lead), changes=changes)
    return lead


@transaction.atomic
def qualify_lead(actor, lead: Lead, *, source: str) -> Lead:
    require(can_work(actor, lead), WORK)
    lead = Lead.objects.select_for_update().get(pk=lead.pk)
    if lead.state != LeadState.NEW:
        raise invalid("state", f"The lead is {lead.state}.", "a new lead")
    return _move_lead(actor, lead, LeadState.QUALIFIED, source=source)


@transaction.atomic
def disqualify_lead(actor, lead: Lead, *, reason: str, source: str) -> Lead:
    require(can_work(actor, lead), WORK)
    lead = Lead.objects.select_for_update().get(pk=lead.pk)
    if lead.state not in (LeadState.NEW, LeadState.QUALIFIED):
        raise invalid("state", f"The lead is {lead.state}.", "a new or qualified lead")
    reason = _reason(reason)
    if lead.opportunities.filter(stage__in=OPEN_STAGES).exists():
        raise invalid("state", "The lead has open opportunities.", "close them as lost first")
    return _move_lead(actor, lead, LeadState.DISQUALIFIED, source=source, reason=reason)


def _reason(reason) -> str:
    reason = str(reason or "").strip()
    if not reason or len(reason) > 250:
        raise invalid("reason", "Say why.", "1 to 250 characters")
    return reason


# --- opportunities -----------------------------------------------------------------------------


def money(field: str, value) -> Decimal:
    """A sum of money from a form or payload: whole cents, 0 to MAX_MONEY."""
    try:
        amount = Decimal(str(value))
    except (InvalidOperation, ValueError):
        raise invalid(field, "Not an amount.", "a number such as 1200.00") from None
    if (
        not amount.is_finite()
        or not 0 <= amount <= MAX_MONEY
        or amount != amount.quantize(Decimal("0.01"))
    ):
        raise invalid(field, "Out of range.", f"0 to {MAX_MONEY}, in whole cents")
    return amount


@transaction.atomic
def create_opportunity(
    actor,
    lead: Lead,
    *,
    practice,
    title: str,
    monthly_value=Decimal(0),
    expected_close: dt.date | None = None,
    source: str,
) -> Opportunity:
    """A deal with a qualified lead, in one practice (a new lead is qualified by it)."""
    require(can_work(actor, lead), WORK)
    lead = Lead.objects.select_for_update().get(pk=lead.pk)
    if lead.state == LeadState.NEW:
        lead = _move_lead(actor, lead, LeadState.QUALIFIED, source=source)
    if lead.state != LeadState.QUALIFIED:
        raise invalid("lead", f"The lead is {lead.state}.", "a new or qualified lead")
    if not isinstance(practice, Practice):
        practice = find_visible(Practice.objects.all(), "practice", practice)
    if practice is None:
        raise invalid("practice", "Name the practice.", "the id of a practice")
    title = str(title or "").strip()
    if not title or len(title) > 200:
        raise invalid("title", "An opportunity needs a title.", "1 to 200 characters")
    opportunity = Opportunity(
        lead=lead,
        practice=practice,
        title=title,
        monthly_value=money("monthly_value", monthly_value),
        expected_close=expected_close,
    )
    return create_and_record(
        actor,
        opportunity,
        fields=OPPORTUNITY_FIELDS,
        action="opportunity.create",
        source=source,
        scope=_scope(lead),
    )


@transaction.atomic
def update_opportunity(actor, opportunity: Opportunity, data: dict, *, source: str):
    require(can_work(actor, opportunity.lead), WORK)
    if not opportunity.is_open:
        raise invalid("stage", f"The opportunity is {opportunity.stage}.", "an open opportunity")
    values = {}
    if "title" in data:
        values["title"] = str(data["title"] or "").strip()
        if not values["title"] or len(values["title"]) > 200:
            raise invalid("title", "An opportunity needs a title.", "1 to 200 characters")
    if "monthly_value" in data:
        values["monthly_value"] = money("monthly_value", data["monthly_value"])
    if "expected_close" in data:
        values["expected_close"] = data["expected_close"]
    return update_and_record(
        actor,
        opportunity,
        values,
        fields=OPPORTUNITY_FIELDS,
        action="opportunity.update",
        source=source,
        scope=_scope(opportunity.lead),
    )


@transaction.atomic
def move_opportunity(actor, opportunity: Opportunity, stage: str, *, source: str, reason=""):
    """Move an open deal to another stage; lost needs a reason, won makes the client
    (``winning.win``)."""
    from thirdway.sales import winning

    require(can_work(actor, opportunity.lead), WORK)
    if stage not in Stage.values:
        raise invalid("stage", "Unknown stage.", ", ".join(Stage.values))
    if stage == Stage.WON:
        return winning.win(actor, opportunity, source=source)
    opportunity = Opportunity.objects.select_for_update().get(pk=opportunity.pk)
    if not opportunity.is_open:
        raise invalid("stage", f"The opportunity is {opportunity.stage} already.", "an open one")
    before = opportunity.stage
    opportunity.stage = stage
    changes = {"stage": [before, stage]}
    if stage == Stage.LOST:
        opportunity.lost_reason = _reason(reason)
        changes["reason"] = [None, opportunity.lost_reason]
        _withdraw_open(opportunity)
    opportunity.save(update_fields=["stage", "lost_reason"])
    record(
        actor,
        "opportunity.stage",
        opportunity,
        source=source,
        scope=_scope(opportunity.lead),
        changes=changes,
    )
    return opportunity


def _withdraw_open(opportunity: Opportunity) -> None:
    opportunity.proposals.filter(state__in=[ProposalState.DRAFT, ProposalState.SENT]).update(
        state=ProposalState.WITHDRAWN, link_key=""
    )


# --- proposals ---------------------------------------------------------------------------------


def _line(position: int, item: dict) -> ProposalLine:
    field = f"lines.{position}"
    description = str(item.get("description") or "").strip()
    if not description or len(description) > 200:
        raise invalid(f"{field}.description", "Describe the service.", "1 to 200 characters")
    try:
        quantity = Decimal(str(item.get("quantity")))
    except (InvalidOperation, ValueError):
        raise invalid(f"{field}.quantity", "Not a quantity.", "a number such as 12") from None
    if (
        not quantity.is_finite()
        or not Decimal("0.01") <= quantity <= MAX_QUANTITY
        or (quantity != quantity.quantize(Decimal("0.01")))
    ):
        raise invalid(f"{field}.quantity", "Out of range.", f"0.01 to {MAX_QUANTITY}")
    price = money(f"{field}.unit_price", item.get("unit_price"))
    return ProposalLine(
        position=position, description=description, quantity=quantity, unit_price=price
    )


def _bounded(field: str, value, low: int, high: int, unit: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise invalid(field, "Out of range.", f"{low} to {high} {unit}")
    return value


@transaction.atomic
def create_proposal(
    actor,
    opportunity: Opportunity,
    *,
    lines: list[dict],
    term_months: int = 12,
    notice_days: int = 30,
    sla_policy=None,
    source: str,
) -> Proposal:
    """A draft proposal of priced monthly services; the opportunity moves to *proposal*."""
    require(can_work(actor, opportunity.lead), WORK)
    opportunity = Opportunity.objects.select_for_update().get(pk=opportunity.pk)
    if not opportunity.is_open:
        raise invalid("opportunity", f"It is {opportunity.stage}.", "an open opportunity")
    if not lines or len(lines) > MAX_LINES:
        raise invalid("lines", "A proposal has at least one line.", f"1 to {MAX_LINES} lines")
    made = [_line(n, item) for n, item in enumerate(lines, start=1)]
    if sla_policy is not None and not isinstance(sla_policy, SlaPolicy):
        sla_policy = find_visible(SlaPolicy.objects.all(), "sla_policy", sla_policy)
    last = opportunity.proposals.order_by("-number").first()
    _withdraw_open(opportunity)
    proposal = Proposal.objects.create(
        opportunity=opportunity,
        number=(last.number + 1) if last else 1,
        term_months=_bounded("term_months", term_months, 1, 120, "months"),
        notice_days=_bounded("notice_days", notice_days, 0, 365, "days"),
        sla_policy=sla_policy,
        created_by=actor,
    )
    for line in made:
        line.proposal = proposal
    ProposalLine.objects.bulk_create(made)
    if opportunity.stage == Stage.DISCOVERY:
        opportunity.stage = Stage.PROPOSAL
        opportunity.save(update_fields=["stage"])
    record(
        actor,
        "proposal.create",
        proposal,
        source=source,
        scope=_scope(opportunity.lead),
        changes={"total": [None, str(proposal.total)]},
    )
    return proposal


def check_answerable(proposal: Proposal) -> None:
    """Refuse an answer to a proposal that is not out for one."""
    if proposal.state != ProposalState.SENT:
        said = {
            ProposalState.ACCEPTED: "accepted already",
            ProposalState.DECLINED: "declined already",
            ProposalState.WITHDRAWN: "withdrawn",
            ProposalState.DRAFT: "not sent yet",
        }[ProposalState(proposal.state)]
        raise invalid("proposal", f"This proposal was {said}.", "a proposal awaiting an answer")
