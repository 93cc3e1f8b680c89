from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

import pytest

from thirdway.audit.models import Source
from thirdway.sales import links, services
from thirdway.sales.models import Lead, Opportunity, Proposal
from thirdway.sla import services as sla

LINES = [
    {"description": "Managed workstations", "quantity": Decimal(12), "unit_price": Decimal(45)},
    {"description": "Backup of the server", "quantity": Decimal(1), "unit_price": Decimal("89.50")},
]


@dataclass
class Pipeline:
    """Paula's own lead with a deal and a sent proposal, and three leads of Oscar's: one Paula
    referred, one needing Security (Paula's practice), one needing only Networking."""

    own: Lead
    referred: Lead
    security_need: Lead
    networking_only: Lead
    deal: Opportunity
    networking_deal: Opportunity
    proposal: Proposal
    token: str
    policy: object


def lead(owner, company: str, **more) -> Lead:
    """A lead entered by its owner (a web enquiry unless ``source`` says otherwise)."""
    practices = more.pop("practices", [])
    data = {
        "company": company,
        "contact_name": "Camille Martin",
        "contact_email": f"camille@{company.split()[0].lower()}.example",
        "source": "web",
        "owner": owner,
        **more,
    }
    return services.create_lead(owner.user, data, source=Source.CLI, practices=practices)


@pytest.fixture
def policy(cast):
    calendar = sla.create_calendar(
        cast.admin,
        name="Office",
        time_zone="Europe/Paris",
        weekly_hours={day: [["08:00", "18:00"]] for day in ("mon", "tue", "wed", "thu", "fri")},
        source=Source.CLI,
    )
    targets = {p: {"first_response": 60 * p, "resolution": 480 * p} for p in (1, 2, 3, 4)}
    return sla.create_policy(
        cast.admin, name="Business", calendar=calendar, targets=targets, source=Source.CLI
    )


@pytest.fixture
def pipeline(cast, policy) -> Pipeline:
    paula, oscar = cast.partner_record, cast.other_partner_record
    own = lead(paula, "Boulangerie Durand", town="Lyon", practices=[cast.security])
    referred = lead(oscar, "Cabinet Morel", source="referral", referrer=paula)
    security_need = lead(oscar, "Garage Petit", practices=[cast.security])
    networking_only = lead(oscar, "Hotel Lambert", practices=[cast.networking])
    deal = services.create_opportunity(
        paula.user,
        own,
        practice=cast.security,
        title="Durand managed IT",
        monthly_value=Decimal("629.50"),
        source=Source.CLI,
    )
    networking_deal = services.create_opportunity(
        oscar.user,
        networking_only,
        practice=cast.networking,
        title="Lambert Wi-Fi",
        monthly_value=Decimal(300),
        source=Source.CLI,
    )
    proposal = services.create_proposal(
        paula.user, deal, lines=LINES, sla_policy=policy, source=Source.CLI
    )
    token = links.send(paula.user, proposal, source=Source.CLI)
    return Pipeline(
        own,
        referred,
        security_need,
        networking_only,
        deal,
        networking_deal,
        proposal,
        token,
        policy,
    )
