"""Escalation steps tell people: "warn the assignee" and "notify the practice lead" leave a
notification (a warning before the target, a breach after it) with the person, never with
someone who cannot see the ticket."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from thirdway.audit.models import Source
from thirdway.network import services as network
from thirdway.tickets import services
from thirdway.tickets.models import Notification, NotificationKind, Ticket
from thirdway.tickets.sla_clocks import clocks, escalation

PARIS = ZoneInfo("Europe/Paris")
OPENED = dt.datetime(2026, 3, 2, 9, 0, tzinfo=PARIS)  # a Monday morning
NOON = dt.datetime(2026, 3, 2, 12, 0, tzinfo=PARIS)  # 3 of 4 business hours used
AFTERNOON = dt.datetime(2026, 3, 2, 15, 0, tzinfo=PARIS)  # 5 business hours used


def open_at(cast, **extra) -> Ticket:
    ticket = services.create_ticket(
        cast.admin,
        cast.acme,
        subject="Server down",
        body_text="Nothing answers.",
        practice_id=cast.security.pk,
        source="web",
        **extra,
    )
    Ticket.objects.filter(pk=ticket.pk).update(created_at=OPENED)
    ticket.refresh_from_db()
    clocks.refresh(ticket, OPENED)
    Notification.objects.all().delete()  # the assignment's own
    return ticket


def lead(cast, partner) -> None:
    network.update_practice(cast.admin, cast.security, {"lead": partner}, source=Source.CLI)


def told() -> list[tuple[str, str]]:
    rows = Notification.objects.order_by("id")
    return list(rows.values_list("recipient__username", "kind"))


def test_the_warning_reaches_the_assignee_and_the_breach_the_lead(cast, standard):
    lead(cast, cast.partner_record)
    ticket = open_at(cast, assignee_id=cast.associate_record.pk)
    escalation.sweep(NOON)
    assert told() == [("ada", NotificationKind.SLA_WARNING)]
    warning = Notification.objects.get()
    assert ticket.number in warning.text and "75 % used" in warning.text
    escalation.sweep(AFTERNOON)
    assert told() == [("ada", NotificationKind.SLA_WARNING), ("paula", NotificationKind.SLA_BREACH)]
    breach = Notification.objects.get(kind=NotificationKind.SLA_BREACH)
    assert "breached (1 h 00 min over)" in breach.text
    escalation.sweep(AFTERNOON + dt.timedelta(minutes=5))  # steps fire once
    assert Notification.objects.count() == 2


def test_a_lead_who_cannot_see_the_ticket_is_not_told_and_the_timeline_says_so(cast, standard):
    # Oscar serves Globex in networking: an Acme security ticket assigned to Ada is not his.
    lead(cast, cast.other_partner_record)
    ticket = open_at(cast, assignee_id=cast.associate_record.pk)
    escalation.sweep(AFTERNOON)
    assert ("oscar", NotificationKind.SLA_BREACH) not in told()
    breach = ticket.articles.filter(event="sla_escalation").last().body_text
    assert "Practice lead Oscar Other has no account that sees the ticket: not notified." in breach


def test_without_an_assignee_the_warning_tells_nobody(cast, standard):
    ticket = open_at(cast)
    escalation.sweep(NOON)
    assert told() == []
    assert "No assignee to warn." in ticket.articles.filter(event="sla_escalation").get().body_text
