"""Surge in the desk: while a skill's tickets not started outnumber its partners at work by the
practice's ratio, a practice that asks holds new routine work (P4, and P3 if it says so) and
the clock releases it, in arrival order, once the surge is over; the desk tells the engine
the skill is in surge by the very rule the simulator uses (``storms.in_surge``)."""

from __future__ import annotations

import dataclasses

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from thirdway.audit.models import AuditRecord, Source
from thirdway.dispatch import storms
from thirdway.network.models import Partner, Practice
from thirdway.tickets import services as tickets
from thirdway.tickets.assignment import dispatching, surge, switches
from thirdway.tickets.models import (
    Article,
    DispatchRecord,
    IncidentLink,
    PracticeDispatch,
    SurgeHold,
    Ticket,
)
from thirdway.tickets.tasks import release_surge_holds

from .test_dispatching import ALWAYS
from .test_incidents import _open


@pytest.fixture
def surging(cast):
    """Security holds P4 work in a surge, ratio 1: Paula (its only partner) works all week,
    so two tickets not started put it in surge."""
    Partner.objects.update(working_hours=ALWAYS)
    Practice.objects.filter(pk=cast.security.pk).update(auto_dispatch=True)
    cast.security.refresh_from_db()
    switches.set_switches(
        cast.admin, cast.security, {"surge": True, "surge_ratio": 1.0}, source="web"
    )
    return cast


def _storm(cast, count: int = 2) -> list[Ticket]:
    return [_open(cast, subject=f"Alarm {n}", priority=2) for n in range(count)]


def _held(ticket: Ticket) -> SurgeHold | None:
    return surge.open_hold(ticket.pk)


def test_a_p4_arriving_in_a_surge_is_held_recorded_and_left_out_of_the_queue(surging):
    _storm(surging)
    assert surge.surging([surging.security.pk], timezone.now()) == {surging.security.pk}
    routine = _open(surging, subject="New mouse", priority=4)
    assert dispatching.dispatch_on_arrival(routine.pk) is None
    hold = _held(routine)
    assert hold is not None and hold.why.startswith("Held: surge on Security (2 tickets")
    assert Ticket.objects.get(pk=routine.pk).assignee is None
    assert routine not in list(dispatching.queue())
    assert DispatchRecord.objects.filter(ticket=routine, kind="held").exists()
    assert Article.objects.filter(ticket=routine, event="surge_held").exists()
    assert AuditRecord.objects.filter(action="ticket.surge_held").count() == 1
    # a retried arrival task, or the re-plan, leaves it held
    assert dispatching.dispatch_on_arrival(routine.pk) is None
    dispatching.reoptimise_queue()
    assert _held(routine) is not None and Ticket.objects.get(pk=routine.pk).assignee is None


def test_urgent_work_and_p3_are_dispatched_p3_held_when_the_practice_says_so(surging):
    _storm(surging)
    p3 = _open(surging, priority=3)
    assert dispatching.dispatch_on_arrival(p3.pk) is not None and _held(p3) is None
    switches.set_switches(surging.admin, surging.security, {"surge_defers_p3": True}, source="web")
    another = _open(surging, priority=3)
    assert dispatching.dispatch_on_arrival(another.pk) is None and _held(another) is not None


def test_nothing_is_held_without_a_surge_or_when_the_practice_does_not_ask(surging):
    _storm(surging, 1)  # one waiting, one partner at work: ratio 1 is not exceeded
    calm = _open(surging, priority=4)
    assert dispatching.dispatch_on_arrival(calm.pk) is not None and _held(calm) is None
    switches.set_switches(surging.admin, surging.security, {"surge": False}, source="web")
    _storm(surging, 3)
    off = _open(surging, priority=4)
    assert dispatching.dispatch_on_arrival(off.pk) is not None and _held(off) is None


def test_held_work_is_released_in_arrival_order_once_the_surge_is_over(surging):
    storm = _storm(surging)
    first = _open(surging, subject="First", priority=4)
    second = _open(surging, subject="Second", priority=4)
    for ticket in (first, second):
        dispatching.dispatch_on_arrival(ticket.pk)
    assert _held(first) and _held(second)
    assert release_surge_holds.call() == {"held": 2, "released": 0, "ended": 0}
    Ticket.objects.filter(pk__in=[t.pk for t in storm]).update(
        status="in_progress", first_responded_at=timezone.now()
    )
    assert release_surge_holds.call() == {"held": 0, "released": 2, "ended": 0}
    released = DispatchRecord.objects.filter(kind="released").order_by("pk")
    assert [r.ticket_id for r in released] == [first.pk, second.pk]
    for ticket in (first, second):
        ticket.refresh_from_db()
        assert ticket.assignee == surging.partner_record and _held(ticket) is None
        assert SurgeHold.objects.get(ticket=ticket).ended_how == "released"
    assert AuditRecord.objects.filter(action="ticket.surge_released").count() == 2


def test_turning_surge_off_releases_what_it_held(surging):
    _storm(surging)
    held = _open(surging, priority=4)
    dispatching.dispatch_on_arrival(held.pk)
    switches.set_switches(surging.admin, surging.security, {"surge": False}, source="web")
    assert surge.release()["released"] == 1 and _held(held) is None


def test_a_held_ticket_taken_by_hand_is_no_longer_held(surging):
    _storm(surging)
    held = _open(surging, priority=4)
    dispatching.dispatch_on_arrival(held.pk)
    tickets.assign(surging.desk, held, surging.partner_record, source=Source.WEB)
    assert _held(held) is None
    assert SurgeHold.objects.get(ticket=held).ended_how == "taken"
    record = AuditRecord.objects.get(action="ticket.surge_released")
    assert record.actor == surging.desk and record.changes == {"surge_hold": ["held", "taken"]}


def test_a_held_ticket_closed_meanwhile_just_ends_its_hold(surging):
    _storm(surging)
    held = _open(surging, priority=4)
    dispatching.dispatch_on_arrival(held.pk)
    Ticket.objects.filter(pk=held.pk).update(status="closed")
    assert surge.release() == {"held": 1, "released": 0, "ended": 0}  # still in surge
    switches.set_switches(surging.admin, surging.security, {"surge": False}, source="web")
    assert surge.release() == {"held": 0, "released": 0, "ended": 1}
    assert SurgeHold.objects.get(ticket=held).ended_how == "closed"


@pytest.mark.parametrize("waiting", [0, 1, 3, 8, 9, 12])
@pytest.mark.parametrize("ratio", [1.0, 2.0])
def test_the_desk_tells_the_engine_of_a_surge_as_the_simulator_does(surging, waiting, ratio):
    """``TicketNeed.surge`` is ``storms.drive_in_surge`` over the skill's tickets not started
    and its partners at work, held or not, as the simulator's policy sets it: more than eight
    waiting before the one partner at work, not a few."""
    switches.set_switches(surging.admin, surging.security, {"surge_ratio": ratio}, source="web")
    storm = _storm(surging, waiting) if waiting else []
    other = _open(surging, practice=surging.networking, priority=4)
    now = timezone.now()
    need = dispatching.needs_of([*storm, other], now)
    counted = waiting  # Paula is the one partner of Security at work
    expected = storms.drive_in_surge(counted, 1, ratio)
    assert expected is (counted > storms.DRIVE_SURGE_LEAST)
    assert all(n.surge == expected for n in need[:-1])
    assert need[-1].surge is False  # another skill
    plain = dispatching.ticket_need(other)
    assert dataclasses.replace(need[-1], recent_partner_ids=frozenset()) == dataclasses.replace(
        plain, recent_partner_ids=frozenset()
    )


def test_partners_away_or_off_shift_do_not_count(surging):
    Partner.objects.filter(pk=surging.partner_record.pk).update(working_hours={})
    assert surge.partners_on([surging.security.pk], timezone.now())[surging.security.pk] == 0
    _storm(surging, 1)
    # counted as one partner at least, as the simulator does: one waiting is no surge
    assert surge.surging([surging.security.pk], timezone.now()) == set()


@pytest.mark.parametrize(
    ("value", "words"),
    [(0.5, "out of range"), (10.5, "out of range"), ("2", "Give a number"), (True, "number")],
)
def test_the_ratio_is_bounded_and_nothing_is_written_when_refused(cast, value, words):
    before = AuditRecord.objects.count()
    with pytest.raises(ValidationError) as caught:
        switches.set_switches(cast.admin, cast.security, {"surge_ratio": value}, source="web")
    [error] = caught.value.error_dict["surge_ratio"]
    assert words in error.message and error.params == {"allowed": "a number from 1 to 10"}
    assert switches.switches_of(cast.security.pk)["surge_ratio"] == storms.DEFAULT_SURGE_RATIO
    assert AuditRecord.objects.count() == before


@pytest.mark.parametrize("value", [0.5, 11.0])
def test_the_database_refuses_a_ratio_out_of_bounds_from_any_writer(surging, value):
    entry = PracticeDispatch.objects.filter(practice=surging.security)
    with pytest.raises(IntegrityError), transaction.atomic():
        entry.update(surge_ratio=value)
    assert entry.get().surge_ratio == 1.0


def _link(parent: Ticket, child: Ticket) -> None:
    IncidentLink.objects.create(
        parent=parent, child=child, why="Same client.", linked_at=timezone.now()
    )


def test_a_linked_repeat_is_not_counted_and_its_link_matters_no_more_once_it_is_resolved(surging):
    first, second, third = _storm(surging, 3)
    security = surging.security.pk
    _link(first, second)
    assert surge.waiting([security])[security] == 2
    Ticket.objects.filter(pk=second.pk).update(status="resolved")
    assert surge.waiting([security])[security] == 2
    # reopened under its parent, it is left out again
    Ticket.objects.filter(pk=second.pk).update(status="new")
    assert surge.waiting([security])[security] == 2
    # a history of resolved repeats, with their parents resolved too, changes nothing
    old = _storm(surging, 4)
    for parent, child in zip(old[::2], old[1::2], strict=True):
        _link(parent, child)
    Ticket.objects.filter(pk__in=[t.pk for t in old]).update(status="resolved")
    assert surge.waiting([security])[security] == 2
    assert surge.surging([security], timezone.now()) == {security}
    assert third.pk in set(surge._not_started([security]).values_list("pk", flat=True))


def test_the_surge_check_is_one_query_when_calm_and_three_in_a_surge(
    surging, django_assert_max_num_queries
):
    now = timezone.now()
    _storm(surging, 1)
    with django_assert_max_num_queries(1):
        assert surge.surging([surging.security.pk, surging.networking.pk], now) == set()
    _storm(surging, 9)
    _open(surging, practice=surging.networking)
    with django_assert_max_num_queries(3):
        found = surge.surging([surging.security.pk, surging.networking.pk], now, for_the_drive=True)
    assert found == {surging.security.pk}


def test_telling_the_engine_of_surges_costs_the_same_queries_however_many_skills(surging):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    switches.set_switches(surging.admin, surging.networking, {"surge_ratio": 1.0}, source="web")
    one = _storm(surging, 9)
    both = [*one, *(_open(surging, practice=surging.networking) for _ in range(9))]
    now = timezone.now()
    with CaptureQueriesContext(connection) as few:
        assert all(need.surge for need in dispatching.needs_of(one, now))
    with CaptureQueriesContext(connection) as many:
        assert all(need.surge for need in dispatching.needs_of(both, now))
    assert len(many.captured_queries) == len(few.captured_queries)


@pytest.mark.parametrize("verdict", [True, False])
def test_the_desk_decides_by_the_simulators_own_function(surging, monkeypatch, verdict):
    """Not a copy of the rule: whatever ``storms.in_surge`` answers, the desk holds and tells
    the engine accordingly, as ``storm_desk`` and the simulator's policy do."""
    seen = []

    def rule(waiting, partners_on, ratio=storms.DEFAULT_SURGE_RATIO):
        seen.append((waiting, partners_on, ratio))
        return verdict

    monkeypatch.setattr(storms, "in_surge", rule)
    monkeypatch.setattr(storms, "DRIVE_SURGE_LEAST", 0)  # the engine's floor aside
    routine = _open(surging, priority=4)
    assert dispatching.needs_of([routine], timezone.now())[0].surge is verdict
    dispatching.dispatch_on_arrival(routine.pk)
    assert (_held(routine) is not None) is verdict
    assert seen and all(ratio == 1.0 for _, _, ratio in seen)
