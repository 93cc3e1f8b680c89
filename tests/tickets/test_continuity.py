"""Absence continuity: open tickets go to a deputy when an absence starts, the client sees
who has them now, and the partner takes them back on return."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import PermissionDenied
from django.test import Client as HttpClient
from django.utils import timezone

from thirdway.audit.models import Source
from thirdway.network import services as network
from thirdway.tickets import services
from thirdway.tickets.assignment import continuity
from thirdway.tickets.models import Handover, Ticket

ALWAYS = {day: [["00:00", "24:00"]] for day in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")}


def open_for(cast, partner, practice=None) -> Ticket:
    return services.create_ticket(
        cast.admin,
        cast.acme,
        subject="Backup failed",
        body_text="Last night's backup failed.",
        assignee_id=partner.pk,
        requester_id=cast.acme_user_contact.pk,
        practice_id=(practice or cast.security).pk,
        source="web",
    )


def away(cast, partner, days=5):
    now = timezone.now()
    return network.add_absence(
        cast.admin,
        partner,
        kind="vacation",
        starts_at=now - dt.timedelta(hours=1),
        ends_at=now + dt.timedelta(days=days),
        source=Source.CLI,
    )


def test_a_named_deputy_takes_over_and_the_client_sees_who(cast):
    network.update_partner(
        cast.admin, cast.partner_record, {"deputy": cast.associate_record}, source=Source.CLI
    )
    ticket = open_for(cast, cast.partner_record)
    absence = away(cast, cast.partner_record)
    assert continuity.hand_over_absences() == 1
    ticket.refresh_from_db()
    assert ticket.assignee == cast.associate_record
    event = ticket.articles.filter(event="assigned").last()
    assert "Paula Partner is away until" in event.body_text
    assert "Ada Associate takes over." in event.body_text
    handover = Handover.objects.get()
    assert (handover.absence, handover.to_partner) == (absence, cast.associate_record)
    portal = HttpClient()
    portal.force_login(cast.client_user)
    page = portal.get(f"/portal/tickets/{ticket.pk}/")
    assert page.status_code == 200 and "Ada Associate" in page.content.decode()
    assert continuity.hand_over_absences() == 0  # never twice


def test_without_a_deputy_the_most_skilled_partner_of_the_practice_who_is_in(cast):
    # On shift whenever the test runs (the engine picks only partners at work).
    network.update_partner(
        cast.admin, cast.associate_record, {"working_hours": ALWAYS}, source=Source.CLI
    )
    network.set_skill(cast.admin, cast.associate_record, cast.security, 2, source=Source.CLI)
    network.set_skill(cast.admin, cast.desk_record, cast.security, 3, source=Source.CLI)
    ticket = open_for(cast, cast.partner_record)
    away(cast, cast.partner_record)
    away(cast, cast.desk_record)  # the best one is away too
    continuity.hand_over_absences()
    ticket.refresh_from_db()
    assert ticket.assignee == cast.associate_record


def test_then_the_practice_lead_and_else_the_queue(cast):
    network.update_practice(
        cast.admin, cast.networking, {"lead": cast.desk_record}, source=Source.CLI
    )
    led = open_for(cast, cast.other_partner_record, practice=cast.networking)
    away(cast, cast.other_partner_record)
    away(cast, cast.associate_record)  # the only other networking partner
    continuity.hand_over_absences()
    led.refresh_from_db()
    assert led.assignee == cast.desk_record
    lone = open_for(cast, cast.partner_record)
    away(cast, cast.partner_record)
    continuity.hand_over_absences()
    lone.refresh_from_db()
    assert lone.assignee is None and lone.status == "new"


def test_back_from_the_absence_the_partner_takes_the_tickets_back(cast):
    network.update_partner(
        cast.admin, cast.partner_record, {"deputy": cast.associate_record}, source=Source.CLI
    )
    kept, moved_on = open_for(cast, cast.partner_record), open_for(cast, cast.partner_record)
    absence = away(cast, cast.partner_record)
    continuity.hand_over_absences()
    # The deputy passed one ticket on to someone else: that one stays where it is.
    services.assign(cast.admin, moved_on, cast.desk_record, source="web")
    with pytest.raises(PermissionDenied):
        continuity.take_back(cast.other_partner, absence, source=Source.WEB)
    api = HttpClient()
    api.force_login(cast.partner)
    answer = api.post(f"/tickets/handovers/{absence.pk}/take-back/")
    assert answer.status_code == 302
    kept.refresh_from_db()
    moved_on.refresh_from_db()
    assert kept.assignee == cast.partner_record
    assert moved_on.assignee == cast.desk_record
    assert Handover.objects.get(ticket=kept).returned_at is not None
    assert continuity.take_back(cast.partner, absence, source=Source.WEB) == 0
