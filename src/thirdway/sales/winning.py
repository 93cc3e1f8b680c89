"""A won deal, in one transaction: the client (from the lead), its first contact, a draft
contract with the proposal's lines and SLA policy, and the client-onboarding playbook run.

The opportunity row is locked first and keeps what it made (``client``, one to one): a second
win, a double click or an acceptance racing a staff action finds it won and makes nothing.

The writes go through the rooms' own services as a *sales* account (made on first use, with no
password), since the one who wins the deal — the prospect, or the partner who owns it — may not
add clients or contracts themselves; the audit trail says who won it.
"""

from __future__ import annotations

import datetime as dt

from dateutil.relativedelta import relativedelta
from django.db import transaction
from django.utils import timezone

from thirdway.accounts import services as accounts
from thirdway.accounts.models import Role, User
from thirdway.audit.services import record
from thirdway.billing import services as billing
from thirdway.billing.models import ContractKind, ContractStatus, Unit
from thirdway.clients import services as clients
from thirdway.clients.models import ClientStatus, ContactRole
from thirdway.errors import invalid, require
from thirdway.playbooks import services as playbooks
from thirdway.playbooks.models import Playbook
from thirdway.sales.access import can_win
from thirdway.sales.models import LeadState, Opportunity, Proposal, ProposalState, Stage

SALES_USERNAME = "sales"
ONBOARDING = "client_onboarding"


def sales_actor() -> User:
    """The account a won deal acts as when it opens the client, contract and run."""
    user = User.objects.filter(username=SALES_USERNAME).first()
    if user is not None:
        return user
    return accounts.create_user(
        None,
        username=SALES_USERNAME,
        role=Role.PRACTICE_ADMIN,
        first_name="Sales",
        source="system",
    )


def _proposal_of(opportunity: Opportunity) -> Proposal | None:
    """The accepted proposal, else the latest one still on offer, else none."""
    proposals = opportunity.proposals.order_by("-number")
    accepted = proposals.filter(state=ProposalState.ACCEPTED).first()
    if accepted is not None:
        return accepted
    return proposals.filter(state__in=[ProposalState.SENT, ProposalState.DRAFT]).first()


def start_of_next_month(today: dt.date) -> dt.date:
    return (today.replace(day=1) + relativedelta(months=1)).replace(day=1)


@transaction.atomic
def win(actor, opportunity: Opportunity, *, source: str, proposal: Proposal | None = None):
    """Win the deal (``actor`` None: the prospect accepted ``proposal``); once only."""
    lead = opportunity.lead
    if actor is not None:
        require(can_win(actor, lead), "Only a practice admin or the lead's owner wins a deal.")
    opportunity = (
        Opportunity.objects.select_for_update()
        .select_related("lead", "practice")
        .get(pk=opportunity.pk)
    )
    if opportunity.client_id is not None:
        return opportunity
    if not opportunity.is_open:
        raise invalid("stage", f"The opportunity is {opportunity.stage}.", "an open opportunity")
    proposal = proposal or _proposal_of(opportunity)
    system = sales_actor()
    client = _client(system, opportunity, source)
    contract = _contract(system, opportunity, client, proposal, source)
    run = _onboarding(system, opportunity, client, source)
    opportunity.stage = Stage.WON
    opportunity.won_at = timezone.now()
    opportunity.client, opportunity.contract, opportunity.run = client, contract, run
    opportunity.save(update_fields=["stage", "won_at", "client", "contract", "run"])
    opportunity.proposals.filter(state__in=[ProposalState.DRAFT, ProposalState.SENT]).update(
        state=ProposalState.WITHDRAWN, link_key=""
    )
    lead = opportunity.lead
    lead.state = LeadState.CONVERTED
    lead.save(update_fields=["state"])
    record(
        actor,
        "opportunity.won",
        opportunity,
        source=source,
        scope=f"lead:{lead.pk}",
        changes={
            "client": [None, client.pk],
            "contract": [None, contract.pk],
            "run": [None, run.pk],
            "proposal": [None, proposal.pk if proposal else None],
        },
    )
    return opportunity


def _client(system, opportunity: Opportunity, source: str):
    lead = opportunity.lead
    client = clients.create_client(
        system,
        name=lead.company,
        lead_partner=lead.owner,
        time_zone=lead.time_zone,
        country=lead.country,
        status=ClientStatus.ACTIVE,
        notes=f"Won from the lead {lead.company} ({lead.get_source_display()}). {lead.notes}"[
            :5000
        ].strip(),
        source=source,
    )
    clients.create_contact(
        system,
        client,
        name=lead.contact_name,
        email=lead.contact_email,
        phone=lead.contact_phone,
        role=ContactRole.ADMIN,
        source=source,
    )
    return client


def _contract(system, opportunity: Opportunity, client, proposal, source: str):
    """A draft managed-services contract; the referring partner (else the owner) is its
    originator, and the referrer its referrer, as the split rules read them."""
    lead = opportunity.lead
    starts_on = start_of_next_month(timezone.localdate())
    term = proposal.term_months if proposal else 12
    contract = billing.create_contract(
        system,
        client=client,
        practice=opportunity.practice,
        kind=ContractKind.MANAGED,
        name=f"{opportunity.title}"[:150],
        starts_on=starts_on,
        ends_on=starts_on + relativedelta(months=term) - dt.timedelta(days=1),
        originator=lead.referrer or lead.owner,
        referrer=lead.referrer,
        status=ContractStatus.DRAFT,
        sla_policy=proposal.sla_policy if proposal else None,
        source=source,
    )
    for line in proposal.lines.all() if proposal else []:
        count = format(line.quantity.normalize(), "f")
        said = line.description if line.quantity == 1 else f"{line.description} × {count}"
        billing.add_contract_line(
            system,
            contract,
            description=said[:200],
            unit=Unit.FLAT,
            price=line.total,
            starts_on=starts_on,
            ends_on=contract.ends_on,
            source=source,
        )
    return contract


def _onboarding(system, opportunity: Opportunity, client, source: str):
    """The practice's client-onboarding playbook (its copy of the built-in, made now if it has
    none), started for the new client."""
    practice = opportunity.practice
    playbook = next(
        (
            found
            for found in Playbook.objects.filter(practice=practice, builtin_key=ONBOARDING)
            .order_by("-pk")
            .prefetch_related("versions")
            if found.published() is not None
        ),
        None,
    )
    if playbook is None:
        playbook = playbooks.copy_builtin(
            system, ONBOARDING, practice_id=practice.pk, source=source
        )
    return playbooks.start_run(system, playbook, client, source=source)
