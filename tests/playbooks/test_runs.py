"""Templates, their versions, and runs for clients: tickets per step, evidence, blocking steps,
and recurring maintenance that makes its work once."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from thirdway.audit.models import Source
from thirdway.playbooks import schedules, services
from thirdway.playbooks.models import Run, Schedule
from thirdway.tickets.models import Ticket, TicketLink

WEB = Source.WEB


def _onboarding(cast):
    return services.copy_builtin(
        cast.admin, "user_onboarding", practice_id=cast.security.pk, source=WEB
    )


def _fields(error: ValidationError) -> set[str]:
    return set(error.value.message_dict)


def test_a_run_opens_a_parent_and_a_linked_child_ticket_per_step(cast):
    playbook = _onboarding(cast)
    run = services.start_run(cast.partner, playbook, cast.acme, source=WEB)
    steps = list(run.steps.select_related("ticket"))
    assert [s.ticket.subject for s in steps] == [
        "1. Account created",
        "2. Licences assigned",
        "3. Device prepared",
        "4. Welcome and MFA",
    ]
    children = set(
        TicketLink.objects.filter(source=run.ticket, kind="parent").values_list("target", flat=True)
    )
    assert children == {s.ticket_id for s in steps}
    assert all(
        s.ticket.client == cast.acme and s.ticket.sla_policy_id == run.ticket.sla_policy_id
        for s in steps
    )


def test_evidence_is_required_kept_and_blocking_steps_hold_later_ones(cast):
    run = services.start_run(cast.partner, _onboarding(cast), cast.acme, source=WEB)
    first, second, third, fourth = run.steps.all()
    with pytest.raises(ValidationError) as error:
        services.complete_step(cast.partner, first, evidence="  ", source=WEB)
    assert _fields(error) == {"evidence"}
    with pytest.raises(ValidationError) as error:
        services.complete_step(cast.partner, second, evidence=True, source=WEB)
    assert _fields(error) == {"step"} and "Account created" in str(error.value)
    services.complete_step(cast.partner, first, evidence="alice@acme.example", source=WEB)
    services.complete_step(cast.partner, second, evidence=True, source=WEB)
    services.complete_step(cast.partner, third, evidence="LAPTOP-7", source=WEB)
    assert Ticket.objects.get(pk=run.ticket_id).status != "resolved"
    services.complete_step(cast.partner, fourth, evidence=True, source=WEB)
    first.refresh_from_db()
    assert first.evidence == "alice@acme.example" and first.completed_by == cast.partner
    assert Ticket.objects.get(pk=first.ticket_id).status == "resolved"
    assert Ticket.objects.get(pk=run.ticket_id).status == "resolved"
    assert Run.objects.get(pk=run.pk).completed_at is not None
    texts = [event.text for event in run.events.all()]
    assert texts[0].startswith("Started User onboarding at a client v1")
    assert texts[-1] == "All steps done; the run is complete."


def test_editing_a_published_template_makes_the_next_version_and_runs_keep_theirs(cast):
    playbook = _onboarding(cast)
    run = services.start_run(cast.partner, playbook, cast.acme, source=WEB)
    services.update_step(cast.partner, playbook, 2, {"title": "Licences and groups"}, source=WEB)
    services.add_step(cast.partner, playbook, {"title": "Check in after a week"}, source=WEB)
    services.move_step(cast.partner, playbook, 5, -1, source=WEB)
    assert playbook.published().number == 1
    services.publish(cast.partner, playbook, source=WEB)
    version = playbook.published()
    assert version.number == 2
    assert [s.title for s in version.steps.all()] == [
        "Account created",
        "Licences and groups",
        "Device prepared",
        "Check in after a week",
        "Welcome and MFA",
    ]
    assert run.version.number == 1
    assert [s.step.title for s in run.steps.all()][1] == "Licences assigned"
    later = services.start_run(cast.partner, playbook, cast.acme, source=WEB)
    assert later.steps.count() == 5


def test_a_partner_of_another_practice_or_client_cannot_edit_or_run(cast):
    playbook = _onboarding(cast)
    with pytest.raises(PermissionDenied):
        services.add_step(cast.other_partner, playbook, {"title": "x"}, source=WEB)
    with pytest.raises(PermissionDenied):
        services.start_run(cast.other_partner, playbook, cast.acme, source=WEB)
    with pytest.raises(PermissionDenied):
        services.start_run(cast.client_admin, playbook, cast.acme, source=WEB)


def _schedule(cast, rule="FREQ=WEEKLY;BYDAY=MO;BYHOUR=8;BYMINUTE=0", **more):
    start = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    data = {
        "name": "Patch servers",
        "rule": rule,
        "starts_at": start,
        "lead_minutes": 1440,
        "makes": "ticket",
        **more,
    }
    return schedules.save_schedule(cast.partner, cast.acme, data, source=WEB)


@pytest.mark.parametrize(
    "rule", sorted({"FREQ=SECONDLY", "FREQ=DAILY;UNTIL=20200101T000000Z", "BOGUS=1", ""})
)
def test_a_rule_that_never_fires_fires_too_often_or_is_malformed_is_refused(cast, rule):
    with pytest.raises(ValidationError) as error:
        _schedule(cast, rule=rule)
    assert _fields(error) == {"rule"}
    assert not Schedule.objects.exists()


def test_a_schedule_makes_one_ticket_ahead_catches_up_once_and_waits_while_open(cast):
    schedule = _schedule(cast)
    first = schedule.next_at
    # Three weeks of downtime: one ticket, for the latest due Monday.
    later = first + dt.timedelta(weeks=3)
    assert schedules.sweep(later)["made"] == 1
    assert schedules.sweep(later)["made"] == 0  # idempotent
    schedule.refresh_from_db()
    assert schedule.last_slot == first + dt.timedelta(weeks=3)
    assert schedule.next_at == first + dt.timedelta(weeks=4)
    assert Ticket.objects.filter(subject__startswith="Patch servers").count() == 1
    # The next slot comes due a day ahead while that ticket is still open: none is made.
    assert schedules.sweep(schedule.next_at - dt.timedelta(hours=23)) == {
        "made": 0,
        "skipped": 1,
        "failed": 0,
    }
    assert Ticket.objects.filter(subject__startswith="Patch servers").count() == 1


def test_a_schedule_can_start_a_playbook_run(cast):
    playbook = _onboarding(cast)
    schedule = _schedule(cast, makes="run", playbook=playbook.pk)
    schedules.sweep(schedule.next_at)
    run = Run.objects.get(schedule=schedule)
    assert run.ticket.type == "maintenance" and run.steps.count() == 4


def test_two_clocks_reading_the_same_slot_make_its_ticket_once(cast):
    schedule = _schedule(cast)
    stale = Schedule.objects.select_related("client", "last_ticket").get(pk=schedule.pk)
    now = schedule.next_at
    assert schedules.sweep(now)["made"] == 1
    # A second clock that read the schedule before the first one claimed it finds it taken.
    assert schedules._sweep_one(stale, now) == "taken"
    assert Ticket.objects.filter(subject__startswith="Patch servers").count() == 1
