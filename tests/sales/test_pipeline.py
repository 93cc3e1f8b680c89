"""Leads and opportunities move only as their states allow; a won deal makes the client, its
first contact, a draft contract and the onboarding run, exactly once."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from thirdway.audit.models import Source
from thirdway.billing.models import Contract, ContractStatus
from thirdway.clients.models import Client
from thirdway.playbooks.models import Run
from thirdway.sales import services, winning
from thirdway.sales.models import LeadState, ProposalState, Stage

from .conftest import LINES, lead

CLI = Source.CLI


def fields_of(error: ValidationError) -> set[str]:
    return set(error.value.message_dict)


def test_a_lead_is_qualified_once_and_disqualified_only_with_a_reason(cast):
    paula = cast.partner_record
    found = lead(paula, "Atelier Roux")
    assert found.state == LeadState.NEW
    services.qualify_lead(cast.partner, found, source=CLI)
    found.refresh_from_db()
    assert found.state == LeadState.QUALIFIED
    with pytest.raises(ValidationError) as again:
        services.qualify_lead(cast.partner, found, source=CLI)
    assert fields_of(again) == {"state"}
    with pytest.raises(ValidationError) as no_reason:
        services.disqualify_lead(cast.partner, found, reason="  ", source=CLI)
    assert fields_of(no_reason) == {"reason"}
    services.disqualify_lead(cast.partner, found, reason="No budget this year", source=CLI)
    found.refresh_from_db()
    assert (found.state, found.disqualified_reason) == ("disqualified", "No budget this year")
    with pytest.raises(ValidationError):
        services.create_opportunity(
            cast.partner, found, practice=cast.security, title="Later", source=CLI
        )


def test_a_referral_must_name_its_partner_and_nothing_is_saved_otherwise(cast):
    from thirdway.sales.models import Lead

    with pytest.raises(ValidationError) as refused:
        lead(cast.partner_record, "Sans Parrain", source="referral", referrer=None)
    assert fields_of(refused) == {"referrer"}
    assert not Lead.objects.filter(company="Sans Parrain").exists()


def test_only_the_owner_the_admin_and_the_desk_work_a_lead(cast, pipeline):
    with pytest.raises(PermissionDenied):
        services.qualify_lead(cast.other_partner, pipeline.own, source=CLI)
    with pytest.raises(PermissionDenied):
        services.qualify_lead(cast.associate, pipeline.own, source=CLI)
    with pytest.raises(PermissionDenied):
        winning.win(cast.desk, pipeline.deal, source=CLI)
    assert services.qualify_lead(cast.desk, pipeline.security_need, source=CLI).state == (
        "qualified"
    )


def test_an_opportunity_moves_between_open_stages_and_closes_as_lost_with_a_reason(cast, pipeline):
    deal = pipeline.networking_deal
    oscar = cast.other_partner
    services.move_opportunity(oscar, deal, Stage.NEGOTIATION, source=CLI)
    deal.refresh_from_db()
    assert (deal.stage, deal.probability, deal.weighted_value) == ("negotiation", 75, Decimal(225))
    with pytest.raises(ValidationError) as no_reason:
        services.move_opportunity(oscar, deal, Stage.LOST, source=CLI)
    assert fields_of(no_reason) == {"reason"}
    with pytest.raises(ValidationError) as unknown:
        services.move_opportunity(oscar, deal, "maybe", source=CLI)
    assert fields_of(unknown) == {"stage"}
    services.move_opportunity(oscar, deal, Stage.LOST, reason="Went elsewhere", source=CLI)
    deal.refresh_from_db()
    assert (deal.stage, deal.lost_reason, deal.weighted_value) == ("lost", "Went elsewhere", 0)
    with pytest.raises(ValidationError):
        services.move_opportunity(oscar, deal, Stage.DISCOVERY, source=CLI)
    with pytest.raises(ValidationError):
        services.move_opportunity(oscar, deal, Stage.WON, source=CLI)
    assert Client.objects.filter(name="Hotel Lambert").count() == 0


def test_a_proposal_moves_its_deal_to_proposal_and_withdraws_the_earlier_one(cast, pipeline):
    deal = pipeline.deal
    deal.refresh_from_db()
    assert deal.stage == Stage.PROPOSAL
    assert pipeline.proposal.total == Decimal("629.50")
    assert pipeline.proposal.term_total == Decimal("7554.00")
    second = services.create_proposal(cast.partner, deal, lines=LINES[:1], source=CLI)
    pipeline.proposal.refresh_from_db()
    assert (second.number, pipeline.proposal.state) == (2, ProposalState.WITHDRAWN)


ONE = [{"description": "x", "quantity": 1, "unit_price": 1}]


@pytest.mark.parametrize(
    ("lines", "more", "field"),
    [
        ([], {}, "lines"),
        ([{"description": "x", "quantity": 1, "unit_price": 1}] * 31, {}, "lines"),
        ([{"description": "", "quantity": 1, "unit_price": 1}], {}, "lines.1.description"),
        ([{"description": "x", "quantity": 0, "unit_price": 1}], {}, "lines.1.quantity"),
        ([{"description": "x", "quantity": "1e9", "unit_price": 1}], {}, "lines.1.quantity"),
        ([{"description": "x", "quantity": 1, "unit_price": -1}], {}, "lines.1.unit_price"),
        ([{"description": "x", "quantity": 1, "unit_price": "0.001"}], {}, "lines.1.unit_price"),
        ([{"description": "x", "quantity": 1, "unit_price": "NaN"}], {}, "lines.1.unit_price"),
        ([{"description": "x", "quantity": 1, "unit_price": 1}], {"term_months": 0}, "term_months"),
        (
            [{"description": "x", "quantity": 1, "unit_price": 1}],
            {"notice_days": 400},
            "notice_days",
        ),
    ],
)
def test_a_proposal_out_of_bounds_is_refused_naming_the_field(cast, pipeline, lines, more, field):
    from thirdway.sales.models import Proposal

    before = Proposal.objects.count()
    with pytest.raises(ValidationError) as refused:
        services.create_proposal(cast.partner, pipeline.deal, lines=lines, source=CLI, **more)
    assert fields_of(refused) == {field}
    assert Proposal.objects.count() == before
    pipeline.proposal.refresh_from_db()
    assert pipeline.proposal.state == ProposalState.SENT


def test_winning_makes_the_client_contact_draft_contract_and_onboarding_run_once(cast, pipeline):
    deal = winning.win(cast.partner, pipeline.deal, source=CLI)
    again = services.move_opportunity(cast.admin, pipeline.deal, Stage.WON, source=CLI)
    winning.win(cast.admin, pipeline.deal, source=CLI)

    assert again.pk == deal.pk and again.client_id == deal.client_id
    clients = Client.objects.filter(name="Boulangerie Durand")
    assert clients.count() == 1
    client = clients.get()
    assert client.lead_partner == cast.partner_record
    assert [(c.name, c.email, c.role) for c in client.contacts.all()] == [
        ("Camille Martin", "camille@boulangerie.example", "admin")
    ]
    contract = Contract.objects.get(client=client)
    assert contract.status == ContractStatus.DRAFT
    assert contract.sla_policy == pipeline.policy
    assert contract.originator == cast.partner_record and contract.referrer is None
    assert sorted((line.description, line.price) for line in contract.lines.all()) == [
        ("Backup of the server", Decimal("89.50")),
        ("Managed workstations × 12", Decimal("540.00")),
    ]
    runs = Run.objects.filter(client=client)
    assert runs.count() == 1
    assert runs.get().playbook.builtin_key == "client_onboarding"
    assert runs.get().playbook.practice == cast.security
    deal.refresh_from_db()
    pipeline.own.refresh_from_db()
    pipeline.proposal.refresh_from_db()
    assert (deal.stage, deal.contract, deal.run) == ("won", contract, runs.get())
    assert pipeline.own.state == LeadState.CONVERTED
    assert pipeline.proposal.state == ProposalState.WITHDRAWN


def test_a_referred_deal_records_the_referrer_as_originator_and_referrer(cast, pipeline):
    referred = pipeline.referred
    deal = services.create_opportunity(
        cast.other_partner, referred, practice=cast.networking, title="Morel", source=CLI
    )
    won = winning.win(cast.other_partner, deal, source=CLI)
    assert (won.contract.originator, won.contract.referrer) == (
        cast.partner_record,
        cast.partner_record,
    )
    assert won.contract.lines.count() == 0
    assert won.client.lead_partner == cast.other_partner_record


def test_a_draft_contract_is_not_invoiced_until_it_is_made_active(cast, pipeline):
    from thirdway.billing import invoicing
    from thirdway.billing import services as billing

    deal = winning.win(cast.partner, pipeline.deal, source=CLI)
    month = deal.contract.starts_on
    assert deal.client_id not in invoicing.proposals(cast.security, month)
    billing.update_contract(cast.admin, deal.contract, {"status": "active"}, source=CLI)
    _, lines = invoicing.proposals(cast.security, month)[deal.client_id]
    assert sum(line.quantity * line.unit_price for line in lines) == Decimal("629.50")
