"""A little of the sales pipeline for the demo: leads from each source, opportunities at each
open stage and one lost, and a proposal sent (its link is on the proposal's page)."""

from __future__ import annotations

import datetime as dt
import unicodedata
from decimal import Decimal

from django.utils import timezone

from thirdway.audit.models import Source
from thirdway.network.models import Partner, Practice
from thirdway.sales import links, services
from thirdway.sales.models import Stage

CLI = Source.CLI
LEADS = (
    # company, contact, source, town, stage (None: a lead only), monthly value
    ("Boulangerie Morin", "Claire Morin", "referral", "Lyon", Stage.NEGOTIATION, "640.00"),
    ("Cabinet Dentaire Roy", "Hugo Roy", "web", "Grenoble", Stage.PROPOSAL, "980.00"),
    ("Atelier Mercier", "Inès Mercier", "event", "Annecy", Stage.DISCOVERY, "350.00"),
    ("Transports Girard", "Paul Girard", "partner", "Vienne", Stage.LOST, "1200.00"),
    ("Librairie Faure", "Emma Faure", "other", "Chambéry", None, "0"),
)


def _ascii(word: str) -> str:
    return unicodedata.normalize("NFKD", word).encode("ascii", "ignore").decode().lower()


def load(admin, practices: list[Practice]) -> None:
    partners = list(Partner.objects.filter(kind="partner", is_active=True).order_by("pk")[:3])
    if len(partners) < 2 or not practices:
        return
    today = timezone.localdate()
    for index, (company, contact, source, town, stage, value) in enumerate(LEADS):
        owner, referrer = partners[index % len(partners)], partners[(index + 1) % len(partners)]
        practice = practices[index % len(practices)]
        data = {
            "company": company,
            "contact_name": contact,
            "contact_email": f"{_ascii(contact.split()[0])}@{_ascii(company.split()[-1])}.example",
            "source": source,
            "referrer": referrer if source == "referral" else None,
            "owner": owner,
            "town": town,
        }
        lead = services.create_lead(admin, data, source=CLI, practices=[practice])
        if stage is None:
            continue
        deal = services.create_opportunity(
            admin,
            lead,
            practice=practice,
            title=f"{company}: managed IT",
            monthly_value=Decimal(value),
            expected_close=today + dt.timedelta(days=15 * (index + 1)),
            source=CLI,
        )
        if stage in (Stage.PROPOSAL, Stage.NEGOTIATION):
            proposal = services.create_proposal(
                admin,
                deal,
                lines=[
                    {"description": "Managed workstations", "quantity": 8, "unit_price": 45},
                    {"description": "Service desk", "quantity": 1, "unit_price": value},
                ],
                source=CLI,
            )
            links.send(admin, proposal, source=CLI)
        if stage in (Stage.NEGOTIATION, Stage.LOST):
            services.move_opportunity(
                admin, deal, stage, reason="Chose to keep their own technician", source=CLI
            )
