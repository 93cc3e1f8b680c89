"""The desk's tickets, spread so that every role of the cast sees a different part of them."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from thirdway.audit.models import Source
from thirdway.tickets import services
from thirdway.tickets.models import Ticket

from .support import EVERYONE, NETWORK, NOT_NETWORK


@dataclass
class Desk:
    """Six tickets (t1..t6); see the ``desk`` fixture for who sees which."""

    t1: Ticket
    t2: Ticket
    t3: Ticket
    t4: Ticket
    t5: Ticket
    t6: Ticket

    def numbers(self, *names: str) -> set[str]:
        return {getattr(self, name).number for name in names}

    def fresh(self, name: str) -> Ticket:
        return Ticket.objects.get(pk=getattr(self, name).pk)


def _open(cast, client, subject, practice=None, **extra) -> Ticket:
    return services.create_ticket(
        cast.admin,
        client,
        subject=subject,
        body_text=f"Body of {subject}",
        practice_id=practice.pk if practice else None,
        source=Source.CLI,
        **extra,
    )


@pytest.fixture
def desk(cast) -> Desk:
    """
    t1  Acme,   Security,   nobody,    new             admin desk partner
    t2  Globex, Networking, nobody,    new             admin desk other_partner
    t3  Acme,   Networking, associate, in progress     admin desk partner associate
    t4  Globex, Security,   partner,   waiting client  admin desk partner other_partner
    t5  Acme,   Security,   partner,   closed          admin desk partner
    t6  Acme,   —,          nobody,    scheduled       admin desk partner
    """
    admin = cast.admin
    t1 = _open(cast, cast.acme, "Printer jammed", cast.security)
    t2 = _open(cast, cast.globex, "Wi-Fi drops", cast.networking)
    t3 = _open(cast, cast.acme, "Switch upgrade", cast.networking)
    services.assign(admin, t3, cast.associate_record, source=Source.CLI)
    services.change_status(admin, t3, "in_progress", source=Source.CLI)
    t4 = _open(cast, cast.globex, "Firewall rules", cast.security)
    services.assign(admin, t4, cast.partner_record, source=Source.CLI)
    services.change_status(admin, t4, "waiting_client", source=Source.CLI)
    t5 = _open(cast, cast.acme, "Old antivirus", cast.security)
    services.assign(admin, t5, cast.partner_record, source=Source.CLI)
    services.change_status(admin, t5, "closed", source=Source.CLI)
    t6 = _open(cast, cast.acme, "Office move")
    services.change_status(admin, t6, "scheduled", source=Source.CLI)
    return Desk(*(Ticket.objects.get(pk=t.pk) for t in (t1, t2, t3, t4, t5, t6)))


@pytest.fixture(params=EVERYONE)
def role(request) -> str:
    return request.param


@pytest.fixture(params=NETWORK)
def staff_role(request) -> str:
    return request.param


@pytest.fixture(params=NOT_NETWORK)
def outside_role(request) -> str:
    return request.param
