"""Storms in the desk: a new ticket that repeats an open one (same client and skill within 15
minutes, same site and asset where both name them) is linked under it where the practice
asks; only the incident is dispatched, its repeats are answered when it starts and resolved
with it, and a person may unlink one, which is then dispatched on its own."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from thirdway.audit.models import AuditRecord, Source
from thirdway.dispatch import storms
from thirdway.network.models import Partner, Practice
from thirdway.tickets import services as tickets
from thirdway.tickets.assignment import dispatching, incidents, switches
from thirdway.tickets.models import Article, IncidentLink, Ticket

from .test_dispatching import ALWAYS


@pytest.fixture
def linking(cast):
    """Security links incidents and is dispatched automatically; Paula works all week."""
    Partner.objects.update(working_hours=ALWAYS)
    Practice.objects.filter(pk=cast.security.pk).update(auto_dispatch=True)
    cast.security.refresh_from_db()
    switches.set_switches(cast.admin, cast.security, {"link_incidents": True}, source="web")
    return cast


def _open(cast, client=None, *, priority: int = 2, practice=None, **extra) -> Ticket:
    return tickets.create_ticket(
        cast.admin,
        client or cast.acme,
        subject=extra.pop("subject", "Tills offline"),
        body_text="The tills cannot reach the bank.",
        practice_id=(practice or cast.security).pk,
        priority=priority,
        priority_reason="Set by the desk.",
        source=Source.WEB,
        **extra,
    )


def _parent_of(ticket: Ticket) -> int | None:
    return IncidentLink.objects.filter(child=ticket).values_list("parent_id", flat=True).first()


def test_a_repeat_within_the_window_is_linked_under_the_first_and_not_dispatched(linking):
    first = _open(linking, site_id=linking.acme_site.pk)
    second = _open(linking, site_id=linking.acme_site.pk, priority=3)
    assert _parent_of(second) == first.pk and _parent_of(first) is None
    link = IncidentLink.objects.get(child=second)
    assert link.why == f"Same client, practice, site, 0 min after {first.number}."
    assert second not in list(dispatching.queue()) and first in list(dispatching.queue())
    assert dispatching.dispatch_on_arrival(second.pk) is None
    assert Ticket.objects.get(pk=second.pk).assignee is None
    assert Article.objects.filter(ticket=second, event="incident_linked").exists()
    assert Article.objects.filter(ticket=first, event="incident_linked").exists()
    assert AuditRecord.objects.filter(action="ticket.incident_linked").count() == 1


def test_the_desk_links_as_the_storms_rule_does(linking):
    first = _open(linking)
    second = _open(linking)
    as_rule = storms.link_incident(incidents._as_incident(second), [incidents._as_incident(first)])
    assert _parent_of(second) == as_rule == first.pk


def test_nothing_is_linked_when_the_practice_does_not_ask(cast):
    first = _open(cast)
    second = _open(cast)
    assert not IncidentLink.objects.exists() and first.pk != second.pk


@pytest.mark.parametrize(
    "change",
    ["other client", "other practice", "other site", "too late", "less urgent first"],
)
def test_tickets_that_are_not_one_incident_stay_apart(linking, change):
    other_site = linking.acme_site
    first = _open(linking, site_id=linking.acme_site.pk, priority=3 if "urgent" in change else 2)
    if change == "too late":
        Ticket.objects.filter(pk=first.pk).update(
            created_at=timezone.now() - dt.timedelta(minutes=16)
        )
    if change == "other site":
        from thirdway.clients import services as clients

        other_site = clients.create_site(
            linking.admin, linking.acme, name="Depot", source=Source.CLI
        )
    client = linking.globex if change == "other client" else linking.acme
    practice = linking.networking if change == "other practice" else linking.security
    site = None if change == "other client" else other_site.pk
    second = _open(linking, client, priority=2, practice=practice, site_id=site)
    assert _parent_of(second) is None


def test_a_ticket_without_a_site_joins_an_incident_that_names_one(linking):
    first = _open(linking, site_id=linking.acme_site.pk)
    assert _parent_of(_open(linking)) == first.pk


def test_children_are_answered_when_the_incident_starts_and_resolved_with_it(linking):
    first = _open(linking)
    second = _open(linking, priority=3)
    tickets.assign(linking.admin, first, linking.partner_record, source=Source.WEB)
    tickets.change_status(linking.partner, first, "in_progress", source=Source.WEB)
    second.refresh_from_db()
    assert second.first_responded_at is not None and second.status == "new"
    answered = Article.objects.get(ticket=second, event="incident_answered")
    assert answered.body_text == f"Answered with incident {first.number}: Paula Partner started it."
    # a repeat arriving after the incident is started is answered at once
    third = _open(linking, priority=4)
    assert Ticket.objects.get(pk=third.pk).first_responded_at is not None
    tickets.change_status(linking.partner, first, "resolved", source=Source.WEB)
    for child in (second, third):
        child.refresh_from_db()
        assert child.status == "resolved" and child.assignee == linking.partner_record
        event = Article.objects.filter(ticket=child, event="status").latest("pk")
        assert event.body_text.endswith(f"Resolved with incident {first.number}.")


def test_unlinking_a_child_dispatches_it_on_its_own(linking, django_capture_on_commit_callbacks):
    first = _open(linking)
    second = _open(linking)
    with django_capture_on_commit_callbacks() as callbacks:
        incidents.unlink(linking.admin, first, second.pk, source=Source.WEB)
    assert _parent_of(second) is None and len(callbacks) == 1
    assert second in list(dispatching.queue())
    assert Article.objects.filter(ticket=second, event="incident_unlinked").exists()
    assert AuditRecord.objects.filter(action="ticket.incident_unlinked").count() == 1


def test_only_a_child_of_this_incident_can_be_unlinked_from_it(linking):
    first = _open(linking)
    second = _open(linking)
    lone = _open(linking, linking.globex, practice=linking.networking)
    with pytest.raises(Exception, match="not linked under this incident"):
        incidents.unlink(linking.admin, lone, second.pk, source=Source.WEB)
    with pytest.raises(Exception, match="Only the network"):
        incidents.unlink(linking.client_admin, first, second.pk, source=Source.WEB)
    assert _parent_of(second) == first.pk
