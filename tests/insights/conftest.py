"""Tickets in known states for the dashboards: every figure of the desk's and a partner's
dashboard has tickets that count in it and tickets that only nearly do."""

from __future__ import annotations

import datetime as dt
import html
import re
from dataclasses import dataclass

import pytest

from thirdway.audit.models import Source
from thirdway.network import services as network
from thirdway.network.models import Partner
from thirdway.tickets import services
from thirdway.tickets.models import Ticket

# Paula reads the page in Auckland (UTC+13 in January): her "today" is not the UTC day.
AUCKLAND = "Pacific/Auckland"
TILE = re.compile(r'<a\b[^>]*?href="([^"]*)"[^>]*?data-tile="([^"]*)"\s+data-count="(\d+)"')


def shown_numbers(page_html: str) -> list[str]:
    """The ticket numbers of a queue page's rows, in order."""
    return re.findall(r'<tr data-ticket="(TW-\d+)"', page_html)


def tiles(page_html: str) -> dict[str, tuple[int, str]]:
    """Each tile of a dashboard by name: its figure and its link."""
    return {
        name: (int(count), html.unescape(href)) for href, name, count in TILE.findall(page_html)
    }


@dataclass
class Board:
    """The tickets of the ``board`` fixture, by what each stands for."""

    tickets: dict[str, Ticket]
    now: dt.datetime

    def pk(self, *names: str) -> set[int]:
        return {self.tickets[name].pk for name in names}


def _open(cast, name: str, client=None, practice=None, **extra) -> Ticket:
    if "priority" in extra:
        extra.setdefault("priority_reason", "as agreed with the client")
    return services.create_ticket(
        cast.admin,
        client or cast.acme,
        subject=name.replace("_", " ").capitalize(),
        body_text=f"Body of {name}",
        practice_id=practice.pk if practice else None,
        source=Source.CLI,
        **extra,
    )


def _due(ticket: Ticket, **columns) -> None:
    # The SLA clocks and the dispatcher write these derived columns; set them as they would.
    Ticket.objects.filter(pk=ticket.pk).update(**columns)


def build_board(cast, now: dt.datetime) -> Board:
    """
    new_p1          Acme,   nobody,  new, P1, breached an hour ago
    new_nobody      Globex, nobody,  new, P2, dispatcher found nobody, due in 30 min
    unassigned_p3   Acme,   nobody,  new, P3, due in 3 h
    paula_work      Acme,   Paula,   in progress, P2, due in 6 h
    paula_visit     Acme,   Paula,   scheduled (visit today in Auckland, yesterday in UTC)
    paula_late      Acme,   Paula,   in progress, visit tomorrow in Auckland (today in UTC)
    paula_waiting   Globex, Paula,   waiting on client, P4, no running clock
    oscar_work      Globex, Oscar,   assigned, P3, visit today in Auckland (paused nothing)
    resolved_ok     Acme,   Paula,   resolved before its due time
    resolved_late   Acme,   Oscar,   resolved after its due time
    resolved_old    Globex, Oscar,   resolved 10 days ago, late (30 days only)
    closed_never    Acme,   nobody,  closed without being resolved
    """
    made: dict[str, Ticket] = {}
    admin, paula, oscar = cast.admin, cast.partner_record, cast.other_partner_record
    made["new_p1"] = _open(cast, "new_p1", priority=1, practice=cast.security)
    _due(made["new_p1"], sla_due_at=now - dt.timedelta(hours=1))
    made["new_nobody"] = _open(cast, "new_nobody", cast.globex, cast.networking)
    _due(
        made["new_nobody"],
        unassignable_reason="no partner can take this ticket",
        sla_due_at=now + dt.timedelta(minutes=30),
    )
    made["unassigned_p3"] = _open(cast, "unassigned_p3", priority=3)
    _due(made["unassigned_p3"], sla_due_at=now + dt.timedelta(hours=3))
    made["paula_work"] = _open(cast, "paula_work", priority=2)
    services.assign(admin, made["paula_work"], paula, source=Source.CLI)
    services.change_status(admin, made["paula_work"], "in_progress", source=Source.CLI)
    _due(made["paula_work"], sla_due_at=now + dt.timedelta(hours=6))
    # Auckland is 13 hours ahead: at 10:00 UTC on the 15th it is 23:00 there.
    made["paula_visit"] = _open(
        cast,
        "paula_visit",
        priority=3,
        needs_onsite=True,
        visit_starts_at=now - dt.timedelta(hours=21, minutes=30),  # 01:30 today in Auckland
        visit_ends_at=now - dt.timedelta(hours=20),
    )
    services.assign(admin, made["paula_visit"], paula, source=Source.CLI)
    services.change_status(admin, made["paula_visit"], "scheduled", source=Source.CLI)
    made["paula_late"] = _open(
        cast,
        "paula_late",
        priority=3,
        visit_starts_at=now + dt.timedelta(hours=1, minutes=30),  # 00:30 tomorrow there
        visit_ends_at=now + dt.timedelta(hours=3),
    )
    services.assign(admin, made["paula_late"], paula, source=Source.CLI)
    services.change_status(admin, made["paula_late"], "in_progress", source=Source.CLI)
    made["paula_waiting"] = _open(cast, "paula_waiting", cast.globex, priority=4)
    services.assign(admin, made["paula_waiting"], paula, source=Source.CLI)
    services.change_status(admin, made["paula_waiting"], "waiting_client", source=Source.CLI)
    made["oscar_work"] = _open(
        cast,
        "oscar_work",
        cast.globex,
        priority=3,
        visit_starts_at=now + dt.timedelta(minutes=30),
        visit_ends_at=now + dt.timedelta(hours=1),
    )
    services.assign(admin, made["oscar_work"], oscar, source=Source.CLI)
    for name, who, due in (
        ("resolved_ok", paula, dt.timedelta(hours=2)),
        ("resolved_late", oscar, -dt.timedelta(hours=2)),
        ("resolved_old", oscar, -dt.timedelta(hours=1)),
    ):
        made[name] = _open(cast, name, cast.globex if name == "resolved_old" else cast.acme)
        services.assign(admin, made[name], who, source=Source.CLI)
        services.change_status(admin, made[name], "resolved", source=Source.CLI)
        resolved = now - dt.timedelta(days=10 if name == "resolved_old" else 1)
        _due(made[name], resolved_at=resolved, resolution_due_at=resolved + due)
    made["closed_never"] = _open(cast, "closed_never")
    services.change_status(admin, made["closed_never"], "closed", source=Source.CLI)
    return Board({name: Ticket.objects.get(pk=t.pk) for name, t in made.items()}, now)


@pytest.fixture
def board(cast, frozen_now) -> Board:
    now = frozen_now()
    type(cast.partner).objects.filter(pk=cast.partner.pk).update(time_zone=AUCKLAND)
    cast.partner.refresh_from_db()
    return build_board(cast, now)


def more_partners(cast, count: int) -> list[Partner]:
    return [
        network.create_partner(
            cast.admin,
            source=Source.CLI,
            username=f"extra{n}",
            password="correct-horse-battery-staple",
            name=f"Extra Partner {n:02d}",
            email=f"extra{n}@network.example",
            kind="partner",
            region="Québec",
            town="Montréal",
            latitude=45.5,
            longitude=-73.5,
            time_zone="America/Toronto",
            capacity=5,
        )
        for n in range(count)
    ]
