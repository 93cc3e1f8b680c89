"""The sweep reads only the tickets whose next check has come, and fires exactly what a sweep of
every open ticket fires: the same steps at the same sweeps, the same due times stored.

Random policies (targets, steps), calendars (Paris office with French holidays and a closed
day, 24x7, Toronto), tickets (priorities, replies, statuses, pauses past, ongoing and ending
later) and changes between sweeps (pauses and resumes, replies, priorities, resolutions, new
targets), replayed once with the sweep of due tickets and once with a full sweep.
"""

from __future__ import annotations

import datetime as dt
import random
from itertools import pairwise
from zoneinfo import ZoneInfo

import pytest
from django.db import transaction
from django.utils import timezone

from thirdway.audit.models import Source
from thirdway.sla import services as sla
from thirdway.tickets import services
from thirdway.tickets.lifecycle import OPEN, WAITING
from thirdway.tickets.models import ClockPause, SlaEscalation, Ticket
from thirdway.tickets.sla_clocks import clocks, escalation

WEEK = {day: [["08:30", "18:00"]] for day in ("mon", "tue", "wed", "thu", "fri")}
ACTIONS = ["warn_assignee", "notify_lead", "raise_priority"]
PERCENTS = [10, 25, 50, 75, 90, 99, 100]
KINDS = ["first_response", "next_response", "resolution"]


class Rollback(Exception):
    """Leaves a replay's writes behind, so the other replay starts from the same rows."""


def _targets(rng: random.Random) -> dict:
    return {
        p: {kind: rng.choice([None, *range(10, 900, 7)]) for kind in KINDS} for p in (1, 2, 3, 4)
    }


def _steps(rng: random.Random) -> dict:
    return {
        kind: [
            (percent, rng.sample(ACTIONS, rng.randint(1, 2)))
            for percent in sorted(rng.sample(PERCENTS, rng.randint(0, 4)))
        ]
        for kind in KINDS
    }


def _world(cast, rng: random.Random, base: dt.datetime, count: int) -> list:
    calendars = [
        sla.create_calendar(
            cast.admin,
            name="Paris",
            time_zone="Europe/Paris",
            weekly_hours={d: [["09:00", "12:00"], ["13:00", "17:00"]] for d in WEEK},
            holiday_country="FR",
            closed_dates=[(base + dt.timedelta(days=1)).date().isoformat()],
            source=Source.CLI,
        ),
        sla.create_calendar(
            cast.admin,
            name="24x7",
            time_zone="UTC",
            weekly_hours={
                d: [["00:00", "24:00"]] for d in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
            },
            source=Source.CLI,
        ),
        sla.create_calendar(
            cast.admin,
            name="Toronto",
            time_zone="America/Toronto",
            weekly_hours=WEEK,
            source=Source.CLI,
        ),
    ]
    policies = [
        sla.create_policy(
            cast.admin,
            name=f"Policy {n}",
            calendar=rng.choice(calendars),
            targets=_targets(rng),
            steps=_steps(rng),
            source=Source.CLI,
        )
        for n in range(3)
    ]
    rows = []
    for _ in range(count):
        created = base - dt.timedelta(minutes=rng.randint(0, 3 * 24 * 60))
        responded = rng.random() < 0.4
        status = rng.choice(["new", "in_progress", "waiting_client", "scheduled", "resolved"])
        rows.append(
            Ticket(
                client=cast.acme,
                subject="random",
                priority=rng.randint(1, 4),
                status=status,
                practice=cast.security,
                assignee=rng.choice([None, cast.associate_record]),
                sla_policy=rng.choice(policies),
                sla_calendar=rng.choice(calendars),
                created_at=created,
                first_responded_at=created + dt.timedelta(minutes=5) if responded else None,
                awaiting_reply_since=(
                    created + dt.timedelta(minutes=rng.randint(6, 60))
                    if responded and rng.random() < 0.5
                    else None
                ),
            )
        )
    tickets = Ticket.objects.bulk_create(rows)
    pauses = []
    for ticket in tickets:
        start = ticket.created_at + dt.timedelta(minutes=rng.randint(1, 600))
        if rng.random() < 0.3:
            end = start + dt.timedelta(minutes=rng.randint(1, 300))
            pauses.append(
                ClockPause(ticket=ticket, reason="waiting_client", started_at=start, ended_at=end)
            )
        if ticket.status in WAITING:
            # Ongoing, or (written by an import) ending after the first sweeps.
            end = base + dt.timedelta(minutes=rng.randint(1, 900)) if rng.random() < 0.3 else None
            start = max(start, ticket.created_at) + dt.timedelta(days=3)
            start = min(start, base - dt.timedelta(minutes=1))
            pauses.append(
                ClockPause(ticket=ticket, reason="scheduled", started_at=start, ended_at=end)
            )
    ClockPause.objects.bulk_create(pauses)
    return policies


def _change(cast, rng: random.Random, policies: list, at: dt.datetime) -> None:
    """What the services write when people work on tickets, at ``at``."""
    ids = sorted(Ticket.objects.filter(status__in=OPEN).values_list("pk", flat=True))
    for pk in rng.sample(ids, min(len(ids), 6)):
        ticket = Ticket.objects.get(pk=pk)
        what = rng.choice(["status", "client", "network", "priority"])
        if what == "status":
            before = ticket.status
            after = (
                "in_progress" if before in WAITING else rng.choice(["waiting_client", "resolved"])
            )
            Ticket.objects.filter(pk=pk).update(status=after)
            ticket.status = after
            clocks.status_changed(ticket, before, after, at)
        elif what == "client":
            clocks.client_replied(ticket, at)
        elif what == "network":
            if ticket.first_responded_at is None:
                ticket.first_responded_at = at
                Ticket.objects.filter(pk=pk).update(first_responded_at=at)
            clocks.network_replied(ticket)
        else:
            ticket.priority = rng.randint(1, 4)
            Ticket.objects.filter(pk=pk).update(priority=ticket.priority)
        clocks.refresh(ticket, at)
    if rng.random() < 0.15:
        policy = rng.choice(policies)
        if rng.random() < 0.5:
            sla.set_targets(cast.admin, policy, _targets(rng), source=Source.CLI)
        else:
            sla.set_steps(cast.admin, policy, _steps(rng), source=Source.CLI)


def _state() -> tuple:
    fired = sorted(
        SlaEscalation.objects.values_list("ticket_id", "clock", "cycle_start", "percent")
    )
    stored = sorted(Ticket.objects.values_list("pk", "priority", "status", *clocks.STORED))
    return fired, stored


def _replay(cast, seed: int, policies: list, moments: list, full: bool) -> tuple[list, int]:
    rng = random.Random(seed)
    seen, read = [], 0
    try:
        with transaction.atomic():
            for moment, following in pairwise(moments):
                report = escalation.sweep(moment, batch=37, audit=0, full=full)
                assert report.failed == 0
                read += report.tickets
                seen.append(_state())
                # Changes are made between two sweeps, as the services make them (at "now").
                gap = int((following - moment).total_seconds())
                _change(cast, rng, policies, moment + dt.timedelta(seconds=rng.randint(0, gap)))
            raise Rollback
    except Rollback:
        pass
    return seen, read


@pytest.mark.parametrize("seed", [1, 2, 3, 4])
def test_the_sweep_of_due_tickets_fires_what_a_full_sweep_fires(cast, seed):
    rng = random.Random(seed)
    base = timezone.now().replace(microsecond=0)
    policies = _world(cast, rng, base, 120)
    moments, at = [], base
    for _ in range(14):
        at += dt.timedelta(minutes=rng.choice([1, 7, 23, 61, 97, 240, 600]))
        moments.append(at)
    due_only, read_due = _replay(cast, seed, policies, moments, full=False)
    everything, read_all = _replay(cast, seed, policies, moments, full=True)
    for n, (mine, theirs) in enumerate(zip(due_only, everything, strict=True)):
        assert mine == theirs, f"sweep {n} at {moments[n]} differs"
    assert len(everything[-1][0]) > 20  # steps fired along the way
    assert read_due < read_all / 2  # and most tickets were not read


PARIS = ZoneInfo("Europe/Paris")
OPENED = dt.datetime(2026, 3, 2, 9, 0, tzinfo=PARIS)  # a Monday morning
WEDNESDAY = dt.datetime(2026, 3, 4, 12, 0, tzinfo=PARIS)  # every step of both clocks is due


def opened(cast) -> Ticket:
    ticket = services.create_ticket(
        cast.admin, cast.acme, subject="Server down", body_text="Nothing answers.", source="web"
    )
    Ticket.objects.filter(pk=ticket.pk).update(created_at=OPENED)
    ticket.refresh_from_db()
    return clocks.refresh(ticket, OPENED)


def test_a_sweep_past_its_budget_leaves_the_other_due_tickets_to_the_next(cast, standard):
    tickets = [opened(cast) for _ in range(3)]
    fired = []
    for _ in range(3):
        report = escalation.sweep(WEDNESDAY, budget=0)
        assert report.tickets == 1  # one ticket at least, however short the budget
        fired.append(report.fired)
    assert fired == [4, 4, 4]  # first response and resolution, 75 % and 100 % each
    assert escalation.sweep(WEDNESDAY, budget=0).fired == 0
    for ticket in tickets:
        assert ticket.escalations.count() == 4


def test_a_ticket_changed_around_the_services_is_put_right_by_the_turn_of_re_reads(cast, standard):
    ticket = opened(cast)
    assert escalation.sweep(OPENED + dt.timedelta(minutes=1), audit=0).tickets == 1
    ticket.refresh_from_db()
    assert ticket.sla_check_at == dt.datetime(2026, 3, 2, 12, 0, tzinfo=PARIS)  # 75 % of 4 h
    # An import sets a due time wrong without telling the clocks.
    Ticket.objects.filter(pk=ticket.pk).update(sla_due_at=None, first_response_due_at=None)
    assert escalation.sweep(OPENED + dt.timedelta(minutes=2), audit=0).tickets == 0
    report = escalation.sweep(OPENED + dt.timedelta(minutes=3))
    ticket.refresh_from_db()
    assert report.due == 0 and report.tickets == 1 and report.moved == 1
    assert ticket.sla_due_at == ticket.first_response_due_at is not None


def test_new_targets_make_the_tickets_of_the_policy_due(cast, standard):
    ticket = opened(cast)
    escalation.sweep(OPENED + dt.timedelta(minutes=1), audit=0)
    targets = {p: {"first_response": 60, "resolution": 600} for p in (1, 2, 3, 4)}
    sla.set_targets(cast.admin, standard, targets, source=Source.CLI)
    ticket.refresh_from_db()
    assert ticket.sla_check_at is not None and ticket.sla_check_at <= timezone.now()
    report = escalation.sweep(timezone.now(), audit=0)
    assert report.due == 1 and report.tickets == 1


def test_a_resolved_ticket_is_never_read_again(cast, standard):
    ticket = opened(cast)
    services.change_status(cast.admin, ticket, "resolved", source="web")
    ticket.refresh_from_db()
    assert ticket.sla_check_at is None
    assert escalation.sweep(WEDNESDAY, audit=0).tickets == 0
