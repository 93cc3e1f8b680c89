"""A P1 nobody can start in time interrupts a partner's running P3 or P4, where the practice
allows it: the interrupted ticket stays theirs, back in their queue, with its time and its
first response kept; both tickets and the partner are told; the record explains it."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db.models import Sum
from django.utils import timezone

from thirdway.audit.models import Source
from thirdway.dispatch import engine
from thirdway.dispatch.engine import preemption as rule
from thirdway.network.models import Partner, Practice
from thirdway.sla import services as sla
from thirdway.tickets import services as tickets
from thirdway.tickets.assignment import dispatching, preemption, switches
from thirdway.tickets.models import (
    Article,
    DispatchKind,
    DispatchRecord,
    Notification,
    NotificationKind,
    Ticket,
)
from thirdway.tickets.sla_clocks import clocks
from thirdway.tickets.tasks import reoptimise_dispatch_queue

from .test_dispatching import ALWAYS, _lyon_partner


@pytest.fixture
def busy(cast):
    """Security is dispatched automatically; Paula, its only partner, works all week with room
    for one ticket, and is at work on a P3 with 25 minutes recorded on it."""
    return _busy(cast)


@pytest.fixture
def busy_with_sla(cast):
    """``busy``, the tickets under a round-the-clock SLA policy."""
    always = sla.create_calendar(
        cast.admin, name="24x7", time_zone="UTC", weekly_hours=ALWAYS, source=Source.CLI
    )
    targets = {p: {"first_response": 60 * p, "resolution": 480 * p} for p in (1, 2, 3, 4)}
    sla.create_policy(
        cast.admin,
        name="Round the clock",
        calendar=always,
        targets=targets,
        is_default=True,
        source=Source.CLI,
    )
    return _busy(cast)


def _busy(cast):
    Partner.objects.update(working_hours=ALWAYS)
    Partner.objects.filter(pk=cast.partner_record.pk).update(capacity=1)
    Practice.objects.filter(pk=cast.security.pk).update(auto_dispatch=True)
    cast.security.refresh_from_db()
    cast.p3 = _open(cast, priority=3, subject="Printer driver")
    tickets.assign(cast.admin, cast.p3, cast.partner_record, source=Source.WEB)
    tickets.reply(
        cast.partner, cast.p3, body_text="Looking at it now.", source=Source.WEB
    )  # the first response
    tickets.note(
        cast.partner, cast.p3, body_text="Driver removed.", time_spent_minutes=25, source=Source.WEB
    )
    tickets.change_status(cast.partner, cast.p3, "in_progress", source=Source.WEB)
    cast.p3.refresh_from_db()
    return cast


def _open(cast, *, priority: int, subject: str = "Server room flooded") -> Ticket:
    return tickets.create_ticket(
        cast.admin,
        cast.acme,
        subject=subject,
        body_text="Help.",
        practice_id=cast.security.pk,
        priority=priority,
        priority_reason="Set by the desk.",
        source=Source.WEB,
    )


def _allow(cast) -> None:
    switches.set_switches(cast.admin, cast.security, {"preempt": True}, source=Source.WEB)


def _minutes(ticket: Ticket) -> int:
    return Article.objects.filter(ticket=ticket).aggregate(m=Sum("time_spent_minutes"))["m"]


def test_without_the_practice_switch_a_p1_never_interrupts_anyone(busy):
    assert switches.switches_of(busy.security.pk) == {
        "preempt": False,
        "link_incidents": False,
        "when_free": "nothing",
        "surge": False,
        "surge_ratio": 2.0,
        "surge_defers_p3": False,
    }
    p1 = _open(busy, priority=1)
    dispatching.dispatch_on_arrival(p1.pk)
    p1.refresh_from_db()
    busy.p3.refresh_from_db()
    assert p1.assignee is None and "at capacity" in p1.unassignable_reason
    assert busy.p3.status == "in_progress"
    assert not DispatchRecord.objects.filter(kind=DispatchKind.PREEMPTED).exists()


def test_a_p1_nobody_can_start_interrupts_the_running_p3_which_keeps_its_time(busy):
    _allow(busy)
    responded = busy.p3.first_responded_at
    p1 = _open(busy, priority=1)
    record = dispatching.dispatch_on_arrival(p1.pk)
    p1.refresh_from_db()
    busy.p3.refresh_from_db()
    assert p1.assignee == busy.partner_record and p1.status == "assigned"
    assert record.kind == DispatchKind.PREEMPTED and record.partner == busy.partner_record
    assert record.reason.startswith(
        f"interrupted their P3 to take it at once: Paula Partner "
        f"set aside P3 {busy.p3.number}; no partner can take"
    )
    # back in her queue, still hers, its response and its minutes kept
    assert busy.p3.status == "assigned" and busy.p3.assignee == busy.partner_record
    assert busy.p3.first_responded_at == responded
    assert _minutes(busy.p3) == 25
    set_aside = Article.objects.get(ticket=busy.p3, event="preempted")
    assert f"Set aside for P1 {p1.number}" in set_aside.body_text
    assert "the 25 min recorded on it stay on it" in set_aside.body_text
    taken = Article.objects.get(ticket=p1, event="preempted")
    assert taken.body_text == (
        f"Paula Partner interrupted P3 {busy.p3.number} to take this P1 at once."
    )
    status = Article.objects.filter(ticket=busy.p3, event="status").latest("pk")
    assert status.body_text.endswith("Set aside for urgent work; the work done so far is kept.")
    told = Notification.objects.get(recipient=busy.partner, kind=NotificationKind.PREEMPTED)
    assert told.ticket == busy.p3 and p1.number in told.text
    assert Notification.objects.filter(
        recipient=busy.partner, kind=NotificationKind.ASSIGNED, ticket=p1
    ).exists()


def test_the_interrupted_ticket_keeps_its_sla_clocks_running_and_its_response_met(
    busy_with_sla,
):
    """An interruption is no pause: the first response stays met when it was, the resolution
    clock runs on towards the same due time."""
    busy = busy_with_sla
    assert busy.p3.sla_policy_id is not None
    before = {view.kind: view for view in clocks.views_of(busy.p3)}
    due = busy.p3.resolution_due_at
    _allow(busy)
    p1 = _open(busy, priority=1)
    dispatching.dispatch_on_arrival(p1.pk)
    busy.p3.refresh_from_db()
    assert busy.p3.status == "assigned" and busy.p3.resolution_due_at == due
    after = {view.kind: view for view in clocks.views_of(busy.p3)}
    assert after["first_response"].met_at == before["first_response"].met_at is not None
    assert not after["resolution"].state.paused
    assert not Article.objects.filter(ticket=busy.p3, event="sla_paused").exists()


def test_the_recorded_ranking_is_the_engines_own(busy):
    _allow(busy)
    now = timezone.now()
    p1 = _open(busy, priority=1)
    record = dispatching.dispatch_on_arrival(p1.pk, now)
    need = dispatching.needs_of([Ticket.objects.get(pk=p1.pk)], now)[0]
    states = dispatching.partner_states(now, exclude_tickets=[p1.pk])
    decision = engine.rank(need, states, dispatching.weights(busy.security.pk), now)
    assert rule.is_late(need, decision.chosen)
    assert record.candidates == [dispatching._candidate_row(c) for c in decision.top(5)]
    assert record.rejected_by == dict(decision.rejected_by)


def test_a_p2_or_a_partner_busy_with_urgent_work_is_not_interrupted(busy):
    _allow(busy)
    Ticket.objects.filter(pk=busy.p3.pk).update(priority=2)
    p1 = _open(busy, priority=1)
    dispatching.dispatch_on_arrival(p1.pk)
    p1.refresh_from_db()
    assert p1.assignee is None
    assert Ticket.objects.get(pk=busy.p3.pk).status == "in_progress"


def test_a_partner_off_duty_is_not_called_away_from_a_ticket_left_in_progress(busy):
    _allow(busy)
    Partner.objects.filter(pk=busy.partner_record.pk).update(working_hours={})
    p1 = _open(busy, priority=1)
    dispatching.dispatch_on_arrival(p1.pk)
    assert Ticket.objects.get(pk=p1.pk).assignee is None
    assert Ticket.objects.get(pk=busy.p3.pk).status == "in_progress"


def test_of_two_running_partners_the_engines_cheapest_is_interrupted(busy):
    lou = _lyon_partner(busy, "Lou Lyon", busy.security, 3)
    Partner.objects.filter(pk=lou.pk).update(capacity=1)
    theirs = _open(busy, priority=4, subject="New mouse")
    tickets.assign(busy.admin, theirs, lou, source=Source.WEB)
    tickets.change_status(busy.admin, theirs, "in_progress", source=Source.WEB)
    _allow(busy)
    p1 = _open(busy, priority=1)
    now = timezone.now()
    need = dispatching.needs_of([Ticket.objects.get(pk=p1.pk)], now)[0]
    states = dispatching.partner_states(now, exclude_tickets=[p1.pk])
    index = engine.as_index(states, [need], now)
    rows = sorted(index.row(p) for p in (busy.partner_record.pk, lou.pk))
    expected = rule.interrupting_row(
        need, index, dispatching.weights(busy.security.pk), engine.epoch(now), rows
    )
    dispatching.dispatch_on_arrival(p1.pk, now)
    assert Ticket.objects.get(pk=p1.pk).assignee_id == index.partners[expected].id


def test_the_replan_job_lets_a_waiting_p1_interrupt_running_work(busy):
    p1 = _open(busy, priority=1)
    dispatching.dispatch_on_arrival(p1.pk)  # not allowed yet: left unassignable
    assert Ticket.objects.get(pk=p1.pk).assignee is None
    _allow(busy)
    outcome = reoptimise_dispatch_queue.call()
    assert outcome["preempted"] == 1
    assert Ticket.objects.get(pk=p1.pk).assignee == busy.partner_record
    assert Ticket.objects.get(pk=busy.p3.pk).status == "assigned"
    assert preemption.preempt_waiting() == {"preempted": 0}


def test_a_p1_declined_beyond_someones_radius_interrupts_routine_work_instead(busy):
    """Offered to Paula beyond her radius before the practice allowed pre-emption, then
    declined: ranked again, it interrupts Lou's running P4 rather than wait."""
    from thirdway.clients import services as clients
    from thirdway.tickets.assignment import offers
    from thirdway.tickets.models import DispatchOffer

    lou = _lyon_partner(busy, "Lou Lyon", busy.security, 3)
    Partner.objects.filter(pk=lou.pk).update(capacity=1, service_radius_km=60)
    Partner.objects.filter(pk=busy.partner_record.pk).update(capacity=8, service_radius_km=30)
    Ticket.objects.filter(pk=busy.p3.pk).update(status="assigned")  # Paula is free now
    routine = _open(busy, priority=4, subject="New mouse")
    tickets.assign(busy.admin, routine, lou, source=Source.WEB)
    tickets.change_status(busy.admin, routine, "in_progress", source=Source.WEB)
    depot = clients.create_site(
        busy.admin,
        busy.acme,
        name="Depot",
        latitude=45.76 + 0.36,  # about 40 km north of Paula: beyond her 30 km
        longitude=4.84,
        source=Source.CLI,
    )
    p1 = tickets.create_ticket(
        busy.admin,
        busy.acme,
        subject="Depot flooded",
        body_text="Water.",
        practice_id=busy.security.pk,
        site_id=depot.pk,
        needs_onsite=True,
        priority=1,
        priority_reason="Flooding.",
        source=Source.WEB,
    )
    dispatching.dispatch_on_arrival(p1.pk)
    offer = DispatchOffer.objects.get(ticket=p1)
    assert offer.partner == busy.partner_record and offer.limit_names == ["radius"]
    _allow(busy)
    offers.decline(busy.partner, offer.pk, "On another site.", source=Source.WEB)
    p1.refresh_from_db()
    assert p1.assignee_id == lou.pk
    assert DispatchRecord.objects.filter(ticket=p1).first().kind == DispatchKind.PREEMPTED
    assert Ticket.objects.get(pk=routine.pk).status == "assigned"


# --- a P1 someone holds but cannot start in time -------------------------------------------------


def _held_by_lou(cast, *, on_shift: bool, due_in_minutes: int = 2) -> tuple[Ticket, Partner]:
    """A P1 assigned to Lou Lyon, not started, whose response falls due in a few minutes;
    Lou off shift (no hours, no on-call) unless ``on_shift``."""
    lou = _lyon_partner(cast, "Lou Lyon", cast.security, 3)
    if not on_shift:
        Partner.objects.filter(pk=lou.pk).update(working_hours={})
    p1 = _open(cast, priority=1)
    tickets.assign(cast.admin, p1, lou, source=Source.WEB)
    now = timezone.now()
    Ticket.objects.filter(pk=p1.pk).update(
        created_at=now - dt.timedelta(minutes=60 - due_in_minutes),
        first_response_due_at=now + dt.timedelta(minutes=due_in_minutes),
    )
    return Ticket.objects.get(pk=p1.pk), lou


def test_a_p1_held_by_someone_off_shift_interrupts_another_partners_running_p3(busy):
    _allow(busy)
    p1, _ = _held_by_lou(busy, on_shift=False)
    outcome = reoptimise_dispatch_queue.call()
    assert outcome["preempted"] == 1
    p1.refresh_from_db()
    busy.p3.refresh_from_db()
    assert p1.assignee == busy.partner_record and p1.status == "assigned"
    assert busy.p3.status == "assigned" and busy.p3.assignee == busy.partner_record
    record = DispatchRecord.objects.get(ticket=p1, kind=DispatchKind.PREEMPTED)
    assert record.partner == busy.partner_record
    assert record.reason.startswith(
        f"interrupted their P3 to take it at once: Paula Partner set aside P3 "
        f"{busy.p3.number}; Lou Lyon, who held it, cannot start it before it is due; "
    )
    assert Article.objects.filter(ticket=p1, event="preempted").exists()
    assert preemption.preempt_waiting() == {"preempted": 0}  # taken once


def test_the_desk_asks_the_engine_whether_the_holder_can_start_in_time(busy):
    _allow(busy)
    p1, lou = _held_by_lou(busy, on_shift=False)
    now = timezone.now()
    need = dispatching.needs_of([p1], now)[0]
    states = dispatching.partner_states(now, exclude_tickets=[p1.pk])
    index = engine.as_index(states, [need], now)
    chosen = dispatching.weights(busy.security.pk)
    start = rule.holder_start_s(need, index, chosen, engine.epoch(now), index.row(lou.pk))
    assert start is None  # no shift, no on-call turn: never in time
    assert rule.held_is_late(need, start, engine.epoch(now), 300)
    assert not rule.held_is_late(need, start, engine.epoch(now) - 600, 300)  # not due yet


def test_a_p1_whose_holder_can_start_it_in_time_stays_with_them(busy):
    _allow(busy)
    p1, lou = _held_by_lou(busy, on_shift=True)
    assert preemption.preempt_waiting() == {"preempted": 0}
    assert Ticket.objects.get(pk=p1.pk).assignee == lou
    assert Ticket.objects.get(pk=busy.p3.pk).status == "in_progress"


def test_a_held_p1_interrupts_nobody_without_the_switch_or_before_the_next_run(busy):
    p1, lou = _held_by_lou(busy, on_shift=False)
    assert preemption.preempt_waiting() == {"preempted": 0}  # the practice does not allow it
    _allow(busy)
    later = timezone.now() - dt.timedelta(minutes=30)
    assert preemption.preempt_waiting(later) == {"preempted": 0}  # due after the next run
    assert Ticket.objects.get(pk=p1.pk).assignee == lou
    assert Ticket.objects.get(pk=busy.p3.pk).status == "in_progress"
