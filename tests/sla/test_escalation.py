"""The clock sweep: escalation steps fire once, in order, with their actions on the timeline;
two sweeps at once never act twice; one bad ticket never stops the sweep."""

from __future__ import annotations

import datetime as dt
import threading
from zoneinfo import ZoneInfo

import pytest
from django.db import connection, connections

from thirdway.audit.models import Source
from thirdway.network import services as network
from thirdway.tickets import services
from thirdway.tickets.models import ClockFailure, ClockPause, SlaEscalation, Ticket
from thirdway.tickets.sla_clocks import clocks, escalation

PARIS = ZoneInfo("Europe/Paris")
OPENED = dt.datetime(2026, 3, 2, 9, 0, tzinfo=PARIS)  # a Monday morning


@pytest.fixture
def desk_rota(cast):
    return network.create_rota(
        cast.admin,
        name="Desk",
        practice=None,
        kind="weekly",
        time_zone="Europe/Paris",
        starts_on=dt.date(2026, 1, 5),
        members=[cast.desk_record],
        source=Source.CLI,
    )


@pytest.fixture
def led(cast):
    network.update_practice(
        cast.admin, cast.security, {"lead": cast.partner_record}, source=Source.CLI
    )
    return cast.security


def open_at(cast, at=OPENED, **extra) -> Ticket:
    ticket = services.create_ticket(
        cast.admin,
        cast.acme,
        subject="Server down",
        body_text="Nothing answers.",
        practice_id=cast.security.pk,
        source="web",
        **extra,
    )
    Ticket.objects.filter(pk=ticket.pk).update(created_at=at)
    ticket.refresh_from_db()
    clocks.refresh(ticket, at)
    return ticket


def escalations(ticket) -> list[tuple[str, int]]:
    return list(ticket.escalations.values_list("clock", "percent"))


def timeline(ticket) -> list[str]:
    return list(ticket.articles.filter(event="sla_escalation").values_list("body_text", flat=True))


def test_a_warning_fires_at_75_percent_and_only_once(cast, standard):
    ticket = open_at(cast, assignee_id=cast.associate_record.pk)
    noon = dt.datetime(2026, 3, 2, 12, 0, tzinfo=PARIS)  # 3 of 4 business hours used
    report = escalation.sweep(noon)
    assert report.fired == 1 and report.failed == 0
    assert escalations(ticket) == [("first_response", 75)]
    [text] = timeline(ticket)
    assert "75 % used, 1 h 00 min left" in text and "Ada Associate warned." in text
    assert escalation.sweep(noon).fired == 0
    assert escalation.sweep(noon + dt.timedelta(minutes=30)).fired == 0
    assert len(timeline(ticket)) == 1


def test_a_breach_notifies_the_lead_and_hands_to_the_on_call_partner(
    cast, standard, desk_rota, led
):
    ticket = open_at(cast, assignee_id=cast.associate_record.pk)
    afternoon = dt.datetime(2026, 3, 2, 15, 0, tzinfo=PARIS)  # 5 business hours used
    escalation.sweep(afternoon)
    ticket.refresh_from_db()
    assert escalations(ticket) == [("first_response", 75), ("first_response", 100)]
    assert ticket.assignee == cast.desk_record
    breach = timeline(ticket)[-1]
    assert "breached (1 h 00 min over)" in breach
    assert "Practice lead Paula Partner notified." in breach
    assert "Handed to Dean Desk (on-call partner)." in breach
    assignment = ticket.articles.filter(event="assigned").last()
    assert "SLA escalation" in assignment.body_text


def test_a_resolution_breach_raises_the_priority_without_firing_again(cast, standard, led):
    ticket = open_at(cast)
    wednesday = dt.datetime(2026, 3, 4, 12, 0, tzinfo=PARIS)  # 17 of 16 business hours
    escalation.sweep(wednesday)
    ticket.refresh_from_db()
    assert ticket.priority == 2
    assert ("resolution", 75) in escalations(ticket)
    assert ("resolution", 100) in escalations(ticket)
    # The new, shorter P2 target is breached as well, but its steps were already taken.
    assert escalation.sweep(wednesday + dt.timedelta(hours=1)).fired == 0
    ticket.refresh_from_db()
    assert ticket.priority == 2


def test_a_claimed_step_is_never_acted_on_twice(cast, standard):
    ticket = open_at(cast)
    now = dt.datetime(2026, 3, 2, 12, 0, tzinfo=PARIS)
    [(clock, state), *_] = clocks.evaluate(ticket, now)
    assert escalation.fire(ticket.pk, clock, state, 75, ["warn_assignee"], now)
    assert not escalation.fire(ticket.pk, clock, state, 75, ["warn_assignee"], now)
    assert len(timeline(ticket)) == 1


def test_one_bad_ticket_is_listed_and_the_others_are_still_evaluated(cast, standard):
    bad, good = open_at(cast), open_at(cast)
    # A pause that ends before it starts cannot be evaluated.
    ClockPause.objects.create(
        ticket=bad,
        reason="waiting_client",
        started_at=OPENED + dt.timedelta(hours=2),
        ended_at=OPENED + dt.timedelta(hours=1),
    )
    report = escalation.sweep(dt.datetime(2026, 3, 2, 12, 0, tzinfo=PARIS))
    assert report.failed == 1 and report.failures == [bad.pk]
    assert escalations(good) == [("first_response", 75)]
    failure = ClockFailure.objects.get()
    assert failure.ticket == bad and "pause ends" in failure.error


def test_the_sweep_stores_due_times_that_moved(cast, standard):
    ticket = open_at(cast)
    Ticket.objects.filter(pk=ticket.pk).update(sla_due_at=None, resolution_due_at=None)
    report = escalation.sweep(OPENED + dt.timedelta(minutes=5))
    ticket.refresh_from_db()
    assert report.moved == 1 and ticket.resolution_due_at is not None
    assert ticket.sla_due_at == ticket.first_response_due_at


def _sweep_in_thread(now, barrier, reports, errors):
    try:
        barrier.wait(timeout=30)
        reports.append(escalation.sweep(now, batch=7))
    except Exception as error:  # surfaced by the assertion below
        errors.append(error)
    finally:
        connection.close()


@pytest.mark.skipif(
    connections["default"].vendor != "postgresql",
    reason="concurrent writers need a server database; SQLite serialises them",
)
@pytest.mark.django_db(transaction=True)
def test_two_sweeps_at_once_never_notify_twice(cast, standard, desk_rota, led):
    tickets = [open_at(cast, assignee_id=cast.associate_record.pk) for _ in range(20)]
    now = dt.datetime(2026, 3, 4, 12, 0, tzinfo=PARIS)  # every step of both clocks is due
    barrier, reports, errors = threading.Barrier(2), [], []
    threads = [
        threading.Thread(target=_sweep_in_thread, args=(now, barrier, reports, errors))
        for _ in range(2)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not errors
    per_ticket = 4  # first response 75 % and 100 %, resolution 75 % and 100 %
    assert sum(report.fired for report in reports) == 20 * per_ticket
    assert SlaEscalation.objects.count() == 20 * per_ticket
    for ticket in tickets:
        assert len(timeline(ticket)) == per_ticket
        ticket.refresh_from_db()
        assert ticket.priority == 2  # raised once, not twice
