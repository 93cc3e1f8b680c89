"""Take my next ticket: a partner coming free is given the most urgent ticket they may take,
by the dispatch engine's urgency-first rule (the simulator's), from the web and the API."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from thirdway.audit.models import AuditRecord, Source
from thirdway.clients import services as clients
from thirdway.dispatch import engine
from thirdway.dispatch.engine import next_ticket as rule
from thirdway.network import services as network
from thirdway.network.models import Partner
from thirdway.tickets import services as tickets
from thirdway.tickets.assignment import next_ticket
from thirdway.tickets.models import DispatchKind, DispatchRecord, Ticket

ALWAYS = {day: [["00:00", "24:00"]] for day in engine.WEEKDAYS}
HOUR = dt.timedelta(hours=1)


def _ticket(cast, client, priority: int, *, holder=None, due=None) -> Ticket:
    ticket = tickets.create_ticket(
        cast.admin,
        client,
        subject=f"P{priority} for {client.name}",
        body_text="Help.",
        practice_id=cast.security.pk,
        priority=priority,
        priority_reason="As agreed with the client.",
        source=Source.WEB,
    )
    if holder is not None:
        tickets.assign(cast.admin, ticket, holder, source=Source.CLI)
    if due is not None:
        Ticket.objects.filter(pk=ticket.pk).update(first_response_due_at=due)
    return Ticket.objects.get(pk=ticket.pk)


@pytest.fixture
def desk(cast):
    """Paula (Security 4, Acme's lead) holds a P4; Sam, of Acme's team, holds an overdue P2;
    Globex (which Paula does not serve) has an unassigned P1 nobody has taken."""
    Partner.objects.update(working_hours=ALWAYS)
    sam = network.create_partner(
        cast.admin,
        name="Sam Second",
        email="sam@network.example",
        kind="partner",
        town="Lyon",
        latitude=45.7,
        longitude=4.8,
        time_zone="Europe/Paris",
        working_hours=ALWAYS,
        source=Source.CLI,
    )
    network.set_skill(cast.admin, sam, cast.security, 4, source=Source.CLI)
    clients.set_team(cast.admin, cast.acme, [cast.associate_record, sam], source=Source.CLI)
    now = timezone.now()
    cast.sam = sam
    cast.own = _ticket(cast, cast.acme, 4, holder=cast.partner_record, due=now + 4 * HOUR)
    cast.overdue = _ticket(cast, cast.acme, 2, holder=sam, due=now - HOUR)
    cast.alien = _ticket(cast, cast.globex, 1, due=now - HOUR)
    return cast


def test_an_overdue_p2_in_another_queue_beats_the_own_p4(desk):
    taken = next_ticket.take_next(desk.partner, source=Source.WEB)
    assert taken is not None and taken.pk == desk.overdue.pk
    assert taken.assignee == desk.partner_record
    record = DispatchRecord.objects.get(ticket=taken, kind=DispatchKind.TAKEN)
    assert record.reason.startswith("Taken as the most urgent next")
    assert record.actor == desk.partner and record.partner == desk.partner_record
    assert AuditRecord.objects.filter(action="ticket.assign", object_id=str(taken.pk)).exists()
    # No override: the partner took what the rule chose.
    assert not DispatchRecord.objects.filter(ticket=taken, kind=DispatchKind.OVERRIDE).exists()


def test_the_desk_chooses_as_the_engine_rule_on_the_same_inputs(desk):
    now = timezone.now()
    found = next_ticket.inputs(desk.partner_record, now)
    assert found is not None
    direct = rule.next_ticket(found.own, found.waiting, found.others, found.now_s, found.may_take)
    chosen = next_ticket.choose(desk.partner_record, now)
    assert direct is not None and chosen is not None
    assert chosen.ticket == direct.ticket and chosen.ticket.key == desk.overdue.pk
    # Globex's P1 is not among the inputs: Paula does not serve Globex.
    seen = {t.key for t in found.waiting} | {t.key for h in found.others for t in h.queue}
    assert desk.alien.pk not in seen


def test_nothing_more_urgent_leaves_everything_as_it_was(desk):
    Ticket.objects.filter(pk=desk.overdue.pk).update(
        first_response_due_at=timezone.now() + 8 * HOUR, priority=4
    )
    Ticket.objects.filter(pk=desk.own.pk).update(priority=1)
    assert next_ticket.take_next(desk.partner, source=Source.WEB) is None
    assert Ticket.objects.get(pk=desk.overdue.pk).assignee == desk.sam
    assert not DispatchRecord.objects.filter(kind=DispatchKind.TAKEN).exists()


def test_a_ticket_beyond_the_partners_skill_is_never_taken(desk):
    network.set_skill(desk.admin, desk.partner_record, desk.security, 1, source=Source.CLI)
    assert next_ticket.take_next(desk.partner, source=Source.WEB) is None
    assert Ticket.objects.get(pk=desk.overdue.pk).assignee == desk.sam


def test_the_button_takes_it_and_opens_it(desk, web_as):
    web = web_as(desk.partner)
    page = web.get("/tickets/?queue=mine")
    assert b"Take my next ticket" in page.content
    answer = web.post("/tickets/take-next/")
    assert answer.status_code == 302
    assert answer["Location"] == f"/tickets/{desk.overdue.number}/"
    assert Ticket.objects.get(pk=desk.overdue.pk).assignee == desk.partner_record
    # Again: nothing left more urgent than the own queue; a message, nothing changed.
    again = web.post("/tickets/take-next/", follow=True)
    assert b"Nothing to take" in again.content
    assert Ticket.objects.get(pk=desk.own.pk).assignee == desk.partner_record


def test_the_api_takes_it_or_says_there_is_nothing(desk, api_as):
    api = api_as(desk.partner)
    answer = api.post("/api/v1/dispatch/next")
    assert answer.status_code == 200, answer.content
    assert answer.json()["ticket_id"] == desk.overdue.pk
    assert answer.json()["why"].startswith("Taken as the most urgent next")
    again = api.post("/api/v1/dispatch/next")
    assert again.status_code == 409
    assert "Nothing to take" in again.json()["detail"]


def test_never_a_ticket_of_a_client_the_partner_does_not_serve(desk, api_as):
    """Oscar leads Globex, not Acme: he takes Globex's P1, never Acme's overdue P2."""
    network.set_skill(desk.admin, desk.other_partner_record, desk.security, 4, source=Source.CLI)
    api = api_as(desk.other_partner)
    answer = api.post("/api/v1/dispatch/next")
    assert answer.status_code == 200, answer.content
    assert answer.json()["ticket_id"] == desk.alien.pk
    assert api.post("/api/v1/dispatch/next").status_code == 409
    assert Ticket.objects.get(pk=desk.overdue.pk).assignee == desk.sam


@pytest.mark.parametrize("role", ["client_user", "client_admin", "outsider"])
def test_no_one_but_a_partner_takes_tickets(desk, api_as, role):
    answer = api_as(getattr(desk, role)).post("/api/v1/dispatch/next")
    assert answer.status_code in (403, 404)
    assert Ticket.objects.get(pk=desk.overdue.pk).assignee == desk.sam
    assert Ticket.objects.get(pk=desk.alien.pk).assignee is None


def test_a_ticket_linked_under_an_incident_is_never_taken_as_next(desk):
    """The incident's parent is worked; its children wait with it, even when more urgent. The
    links of tickets resolved long ago are not read but change nothing."""
    from thirdway.tickets.assignment.models import IncidentLink

    now = timezone.now()
    parent = _ticket(desk, desk.acme, 3, holder=desk.sam, due=now + 2 * HOUR)
    IncidentLink.objects.create(parent=parent, child=desk.overdue, why="same outage", linked_at=now)
    old = _ticket(desk, desk.acme, 1)
    Ticket.objects.filter(pk=old.pk).update(status="resolved")
    IncidentLink.objects.create(parent=parent, child=old, why="last year's outage", linked_at=now)
    # The overdue P2 would be taken (the first test); linked, nothing beats the own P4.
    assert next_ticket.take_next(desk.partner, source=Source.WEB) is None
    assert Ticket.objects.get(pk=desk.overdue.pk).assignee == desk.sam
