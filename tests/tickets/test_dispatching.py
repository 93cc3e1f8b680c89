"""Dispatch over the real ticket queue: the engine's choice applied, explained and recorded."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from thirdway.audit.models import AuditRecord, Source
from thirdway.dispatch import engine
from thirdway.network import services as network
from thirdway.network.models import Partner, Practice
from thirdway.tickets import services as tickets
from thirdway.tickets.assignment import dispatching
from thirdway.tickets.models import DispatchKind, DispatchRecord, Ticket

ALWAYS = {day: [["00:00", "24:00"]] for day in engine.WEEKDAYS}
IMMEDIATE = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}


@pytest.fixture
def round_the_clock(cast):
    """Everyone works all week, so decisions do not depend on when the tests run."""
    Partner.objects.update(working_hours=ALWAYS)
    return cast


def _auto(practice: Practice) -> Practice:
    Practice.objects.filter(pk=practice.pk).update(auto_dispatch=True)
    practice.refresh_from_db()
    return practice


def _open(cast, practice, **extra) -> Ticket:
    return tickets.create_ticket(
        cast.admin,
        cast.acme,
        subject="Printer offline",
        body_text="It stopped.",
        practice_id=practice.pk,
        source=Source.WEB,
        **extra,
    )


def _lyon_partner(cast, name: str, practice: Practice, level: int) -> Partner:
    """Another partner in Lyon, working all week, at ``level`` in ``practice``."""
    partner = network.create_partner(
        cast.admin,
        name=name,
        email=f"{name.lower().replace(' ', '.')}@network.example",
        kind="partner",
        town="Lyon",
        latitude=45.7,
        longitude=4.8,
        time_zone="Europe/Paris",
        working_hours=ALWAYS,
        source=Source.CLI,
    )
    network.set_skill(cast.admin, partner, practice, level, source=Source.CLI)
    return partner


@pytest.fixture
def arriving(settings, django_capture_on_commit_callbacks):
    """Open a ticket as the web app does: its arrival decision runs after commit."""
    settings.TASKS = IMMEDIATE

    def open_one(cast, practice, **extra) -> Ticket:
        with django_capture_on_commit_callbacks(execute=True):
            ticket = _open(cast, practice, **extra)
        ticket.refresh_from_db()
        return ticket

    return open_one


def test_a_new_ticket_of_an_automatic_practice_goes_to_the_partner_ranked_first(
    round_the_clock, arriving
):
    cast = round_the_clock
    ticket = arriving(cast, _auto(cast.security))
    # Paula is the only one skilled in Security, and Acme's lead partner.
    assert ticket.assignee == cast.partner_record
    record = DispatchRecord.objects.get(ticket=ticket, kind=DispatchKind.ARRIVAL)
    assert record.partner == cast.partner_record
    first = record.candidates[0]
    assert first["name"] == "Paula Partner"
    assert set(first["terms"]) == set(engine.TERMS)
    assert "Security 4/5" in first["explanation"]
    assert "client's lead partner" in first["explanation"]


def test_the_recorded_ranking_is_the_engines_own(round_the_clock):
    cast = round_the_clock
    ticket = _open(cast, cast.networking)
    now = timezone.now()
    record = dispatching.suggest(cast.desk, ticket, now=now)
    need = dispatching.needs_of([Ticket.objects.get(pk=ticket.pk)], now)[0]
    direct = engine.rank(need, dispatching.partner_states(now), engine.Weights(), now)
    assert [c["partner_id"] for c in record.candidates] == [
        c.partner_id for c in direct.top(dispatching.CANDIDATES_KEPT)
    ]
    assert [c["total"] for c in record.candidates] == [
        round(c.total, 3) for c in direct.top(dispatching.CANDIDATES_KEPT)
    ]
    # A suggestion assigns nobody.
    assert Ticket.objects.get(pk=ticket.pk).assignee is None


def test_a_practice_dispatched_by_the_desk_gets_no_automatic_assignment(round_the_clock, arriving):
    cast = round_the_clock
    ticket = arriving(cast, cast.security)
    assert Ticket.objects.get(pk=ticket.pk).assignee is None
    assert not DispatchRecord.objects.filter(ticket=ticket).exists()


def test_a_ticket_nobody_can_take_waits_in_the_desk_queue_with_the_reason(
    round_the_clock, arriving, web_as
):
    cast = round_the_clock
    phones = network.create_practice(
        cast.admin, name="Phones", auto_dispatch=True, source=Source.CLI
    )
    ticket = arriving(cast, phones)
    assert ticket.assignee is None
    assert ticket.unassignable_reason.startswith("no partner can take this ticket")
    assert "of 4, 4 below phones 2" in ticket.unassignable_reason
    # A retry of the arrival decision neither assigns nor records twice.
    assert dispatching.dispatch_on_arrival(ticket.pk) is None
    assert DispatchRecord.objects.filter(ticket=ticket).count() == 1
    recorded = AuditRecord.objects.filter(action="ticket.unassignable", object_id=str(ticket.pk))
    assert [(r.actor_id, r.changes["unassignable_reason"]) for r in recorded] == [
        (None, ["", ticket.unassignable_reason])
    ]
    page = web_as(cast.desk).get("/tickets/?queue=unassignable")
    assert page.status_code == 200
    assert ticket.number in page.content.decode()
    # Partners do not have the desk's queue.
    assert web_as(cast.partner).get("/tickets/?queue=unassignable").status_code == 404


def test_an_absent_partner_is_never_chosen(round_the_clock, arriving):
    cast = round_the_clock
    network.add_absence(
        cast.admin,
        cast.partner_record,
        kind="vacation",
        starts_at=timezone.now() - dt.timedelta(hours=1),
        ends_at=timezone.now() + dt.timedelta(days=3),
        source=Source.CLI,
    )
    ticket = arriving(cast, _auto(cast.security))
    assert ticket.assignee_id != cast.partner_record.pk
    record = DispatchRecord.objects.get(ticket=ticket)
    assert cast.partner_record.pk not in [c["partner_id"] for c in record.candidates]


def test_a_person_assigning_someone_else_is_recorded_as_an_override_with_the_reason(
    round_the_clock, arriving
):
    cast = round_the_clock
    ticket = arriving(cast, _auto(cast.security))
    assert ticket.assignee == cast.partner_record
    tickets.assign(
        cast.desk,
        Ticket.objects.get(pk=ticket.pk),
        cast.associate_record,
        reason="Ada is on site there today.",
        source=Source.WEB,
    )
    override = DispatchRecord.objects.filter(ticket=ticket).first()
    assert override.kind == DispatchKind.OVERRIDE
    assert (override.partner, override.actor) == (cast.associate_record, cast.desk)
    assert override.reason == "Ada is on site there today."


def test_the_queue_is_assigned_jointly_within_capacity(round_the_clock):
    cast = round_the_clock
    first = _open(cast, cast.networking)
    second = _open(cast, cast.networking)
    Partner.objects.filter(pk=cast.other_partner_record.pk).update(capacity=1)
    _auto(cast.networking)
    outcome = dispatching.reoptimise_queue()
    assert outcome == {"queued": 2, "assigned": 2, "unassignable": 0}
    holders = {Ticket.objects.get(pk=t.pk).assignee_id for t in (first, second)}
    # Oscar has room for one: the other goes to Ada, the only other networking partner.
    assert holders == {cast.other_partner_record.pk, cast.associate_record.pk}
    kinds = set(DispatchRecord.objects.values_list("kind", flat=True))
    assert kinds == {DispatchKind.REOPTIMISE}
    # Nothing is left to re-plan, so a second run does nothing.
    assert dispatching.reoptimise_queue()["queued"] == 0


def test_the_ticket_page_explains_the_choice_to_the_network_only(round_the_clock, web_as):
    cast = round_the_clock
    ticket = _open(cast, cast.security)
    answer = web_as(cast.desk).post(f"/tickets/{ticket.number}/suggest/", follow=True)
    assert answer.status_code == 200
    html = answer.content.decode()
    assert "Why this partner" in html
    assert "Paula Partner ranks first" in html
    assert "Security 4/5" in html
    assert Ticket.objects.get(pk=ticket.pk).assignee is None
    portal = web_as(cast.client_admin).get(f"/portal/tickets/{ticket.pk}/")
    assert portal.status_code == 200
    assert "Why this partner" not in portal.content.decode()
    assert "Security 4/5" not in portal.content.decode()


def test_a_client_cannot_ask_for_a_ranking(round_the_clock, web_as):
    cast = round_the_clock
    ticket = _open(cast, cast.security)
    answer = web_as(cast.client_admin).post(f"/tickets/{ticket.number}/suggest/")
    assert answer.status_code == 404
    assert not DispatchRecord.objects.exists()


def test_reading_the_partners_costs_the_same_queries_however_many_there_are(round_the_clock):
    cast = round_the_clock
    now = timezone.now()
    with CaptureQueriesContext(connection) as few:
        states = dispatching.partner_states(now)
    assert len(states) == 4
    for n in range(12):
        _lyon_partner(cast, f"Extra {n}", cast.security, 3)
    with CaptureQueriesContext(connection) as many:
        states = dispatching.partner_states(now)
    assert len(states) == 16
    assert len(many.captured_queries) == len(few.captured_queries)


def test_an_absence_hands_tickets_to_the_partner_the_engine_ranks_first(round_the_clock):
    from thirdway.tickets.assignment.continuity import hand_over_absences

    cast = round_the_clock
    ticket = _open(cast, cast.security)
    tickets.assign(cast.admin, ticket, cast.partner_record, source=Source.WEB)
    for n, level in ((1, 3), (2, 2)):
        _lyon_partner(cast, f"Sam {n}", cast.security, level)
    network.add_absence(
        cast.admin,
        cast.partner_record,
        kind="sick",
        starts_at=timezone.now() - dt.timedelta(minutes=5),
        ends_at=timezone.now() + dt.timedelta(days=2),
        source=Source.CLI,
    )
    now = timezone.now()
    expected = dispatching.rank(Ticket.objects.get(pk=ticket.pk), now).chosen
    assert expected is not None and expected.partner_id != cast.partner_record.pk
    assert hand_over_absences(now) == 1
    assert Ticket.objects.get(pk=ticket.pk).assignee_id == expected.partner_id
