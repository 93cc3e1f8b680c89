"""The clock sweep: re-evaluate every open ticket's SLA clocks, store due times that moved,
and fire the escalation steps each clock has reached.

Each step is claimed by inserting its ``SlaEscalation`` row before acting, in the same
transaction as the actions: two sweeps running at once never act twice, and a step whose
actions failed is rolled back and tried again by the next sweep.  One ticket that cannot be
evaluated is logged and listed as a ``ClockFailure``; the sweep goes on with the rest.
"""

from __future__ import annotations

import datetime as dt
import logging
import time
from collections import defaultdict
from dataclasses import dataclass, field

from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from thirdway.audit.models import Source
from thirdway.network.models import Partner, Skill
from thirdway.network.oncall import who_is_on_call
from thirdway.network.schedule import available_ids
from thirdway.sla import engine
from thirdway.sla.models import ClockKind, EscalationAction
from thirdway.tickets import services
from thirdway.tickets.lifecycle import OPEN
from thirdway.tickets.models import ClockFailure, ClockPause, SlaEscalation, Ticket
from thirdway.tickets.notifications import triggers
from thirdway.tickets.services._shared import _event
from thirdway.tickets.sla_clocks import clocks
from thirdway.tickets.webhooks import events

log = logging.getLogger(__name__)
BATCH = 2000
SWEEP_FIELDS = (
    "id",
    "client_id",
    "status",
    "priority",
    "practice_id",
    "assignee_id",
    "sla_policy_id",
    "sla_calendar_id",
    "created_at",
    "first_responded_at",
    "awaiting_reply_since",
    *clocks.STORED,
)


class SweptTicket:
    """The fields of a ticket the sweep reads, from one row of ``values_list`` (model
    instances cost more to build than the clocks cost to evaluate)."""

    __slots__ = SWEEP_FIELDS

    def __init__(self, row: tuple) -> None:
        for name, value in zip(SWEEP_FIELDS, row, strict=True):
            setattr(self, name, value)

    @property
    def pk(self) -> int:
        return self.id


@dataclass
class SweepReport:
    tickets: int = 0
    moved: int = 0
    fired: int = 0
    failed: int = 0
    seconds: float = 0.0
    failures: list[int] = field(default_factory=list)


def sweep(now: dt.datetime | None = None, batch: int = BATCH) -> SweepReport:
    """Evaluate every open ticket under a policy, in batches of ``batch`` by id."""
    started = time.perf_counter()
    now = now or timezone.now()
    book = clocks.PolicyBook(now.date())
    report = SweepReport()
    last = 0
    while True:
        rows = [
            SweptTicket(row)
            for row in Ticket.objects.filter(pk__gt=last, status__in=OPEN, sla_policy__isnull=False)
            .order_by("pk")
            .values_list(*SWEEP_FIELDS)[:batch]
        ]
        if not rows:
            break
        last = rows[-1].pk
        _sweep_batch(rows, book, now, report)
    report.seconds = time.perf_counter() - started
    return report


def _sweep_batch(
    rows: list[SweptTicket], book: clocks.PolicyBook, now, report: SweepReport
) -> None:
    ids = [row.pk for row in rows]
    # Raw (start, end) pairs: turning them into engine pauses is part of each ticket's own
    # evaluation, so one malformed pause fails only its ticket.
    pauses: dict[int, list[tuple]] = defaultdict(list)
    for ticket_id, start, end in ClockPause.objects.filter(ticket_id__in=ids).values_list(
        "ticket_id", "started_at", "ended_at"
    ):
        pauses[ticket_id].append((start, end))
    fired: dict[tuple, set[int]] = defaultdict(set)
    for ticket_id, kind, cycle, percent in SlaEscalation.objects.filter(
        ticket_id__in=ids
    ).values_list("ticket_id", "clock", "cycle_start", "percent"):
        fired[(ticket_id, kind, cycle)].add(percent)
    moved: list[Ticket] = []
    for ticket in rows:
        report.tickets += 1
        try:
            states = _evaluate(ticket, book, clocks.pauses_of(pauses[ticket.pk]), now)
            if _store(ticket, states):
                moved.append(ticket)
            for clock, state in states:
                report.fired += _escalate(ticket, clock, state, book, fired, now)
        except Exception as error:
            report.failed += 1
            report.failures.append(ticket.pk)
            log.exception("sla sweep: ticket %s failed", ticket.pk)
            ClockFailure.objects.create(ticket_id=ticket.pk, job="sla.sweep", error=repr(error))
    if moved:
        _write_due_times(moved)
        report.moved += len(moved)


def _write_due_times(moved: list[SweptTicket]) -> None:
    """One prepared UPDATE run for many rows (``bulk_update``'s CASE expressions cost far more
    per row than the clocks themselves)."""
    table = Ticket._meta.db_table
    columns = ", ".join(f"{connection.ops.quote_name(name)} = %s" for name in clocks.STORED)
    adapt = connection.ops.adapt_datetimefield_value
    rows = [[adapt(getattr(t, name)) for name in clocks.STORED] + [t.pk] for t in moved]
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.executemany(
            f"UPDATE {connection.ops.quote_name(table)} SET {columns} WHERE id = %s",  # noqa: S608
            rows,
        )


def _evaluate(ticket, book, pauses, now):
    target = book.targets.get((ticket.sla_policy_id, ticket.priority))
    running = clocks.clocks_of(ticket, target, pauses)
    if not running:
        return []
    calendar = book.calendars[str(ticket.sla_calendar_id)]
    return [(c, engine.evaluate_clock(calendar, c.clock, now)) for c in running]


def _store(ticket: SweptTicket, states) -> bool:
    values = clocks.due_values(states)
    if ticket.awaiting_reply_since is None:
        values[clocks.DUE_FIELDS[ClockKind.NEXT_RESPONSE]] = None
    changed = False
    for name, value in values.items():
        if getattr(ticket, name) != value:
            setattr(ticket, name, value)
            changed = True
    return changed


def _escalate(ticket, clock, state, book, fired, now) -> int:
    policy = book.steps.get((ticket.sla_policy_id, clock.kind))
    if policy is None:
        return 0
    done = fired[(ticket.pk, clock.kind, clock.cycle_start)]
    count = 0
    for step in policy.due(state, done):
        actions = book.actions[(ticket.sla_policy_id, clock.kind, step.percent)]
        if fire(ticket.pk, clock, state, step.percent, actions, now):
            count += 1
        done.add(step.percent)
    return count


def fire(ticket_id: int, clock, state, percent: int, actions: list[str], now) -> bool:
    """Claim the step, then act; False when another sweep already claimed it."""
    with transaction.atomic():
        try:
            with transaction.atomic():
                claim = SlaEscalation.objects.create(
                    ticket_id=ticket_id,
                    clock=clock.kind,
                    cycle_start=clock.cycle_start,
                    percent=percent,
                    actions=actions,
                )
        except IntegrityError:
            return False
        claim.outcome = act(ticket_id, clock.kind, state, percent, actions, now)
        claim.save(update_fields=["outcome"])
    return True


@dataclass(frozen=True)
class Step:
    """What an action is told of the step it acts for."""

    now: dt.datetime
    breached: bool
    summary: str  # "SLA first response breached (2 h over)."


def act(ticket_id: int, kind: str, state, percent: int, actions: list[str], now) -> str:
    """Carry out a step's actions; one event on the timeline says what was done."""
    ticket = Ticket.objects.select_related("practice__lead", "assignee").get(pk=ticket_id)
    label = dict(ClockKind.choices)[kind]
    if state.breached:
        over = clocks.business_duration(state.elapsed_seconds - state.target_seconds)
        where = f"breached ({over} over)"
    else:
        where = f"{percent} % used, {clocks.business_duration(state.remaining_seconds)} left"
    step = Step(now=now, breached=state.breached, summary=f"SLA {label.lower()} {where}.")
    done = [ACTIONS[action](ticket, step) for action in actions]
    text = f"{step.summary} " + " ".join(d for d in done if d)
    _event(
        ticket,
        None,
        "sla_escalation",
        text.strip(),
        {"clock": kind, "percent": percent, "actions": actions},
    )
    events.emit("ticket.sla_escalated", ticket)
    return text


def _warn_assignee(ticket: Ticket, step: Step) -> str:
    if ticket.assignee is None:
        return "No assignee to warn."
    if not triggers.sla_step(ticket.assignee, ticket, step.breached, step.summary):
        return f"{ticket.assignee.name} has no account that sees the ticket: not warned."
    return f"{ticket.assignee.name} warned."


def _notify_lead(ticket: Ticket, step: Step) -> str:
    lead = ticket.practice.lead if ticket.practice else None
    if lead is None:
        return "No practice lead to notify."
    if not triggers.sla_step(lead, ticket, step.breached, step.summary):
        return f"Practice lead {lead.name} has no account that sees the ticket: not notified."
    return f"Practice lead {lead.name} notified."


def _hand_to(ticket: Ticket, partner: Partner | None, why: str) -> str:
    if partner is None:
        return f"No {why} to hand to."
    if partner.pk == ticket.assignee_id:
        return f"{partner.name} ({why}) already has it."
    services.assign(
        None, ticket, partner, reason=f"SLA escalation to the {why}.", source=Source.SYSTEM
    )
    return f"Handed to {partner.name} ({why})."


def _hand_to_on_call(ticket: Ticket, step: Step) -> str:
    partner, _ = who_is_on_call(ticket.practice_id, step.now)
    return _hand_to(ticket, partner, "on-call partner")


def expert_for(ticket: Ticket, now) -> Partner | None:
    """The most skilled active partner of the ticket's practice, working now if any is."""
    if ticket.practice_id is None:
        return None
    skills = list(
        Skill.objects.filter(practice_id=ticket.practice_id, partner__is_active=True)
        .exclude(partner_id=ticket.assignee_id)
        .select_related("partner")
        .order_by("-level", "partner_id")[:50]
    )
    working = available_ids(Partner.objects.filter(pk__in=[s.partner_id for s in skills]), now)
    ranked = sorted(skills, key=lambda s: (s.partner_id not in working, -s.level, s.partner_id))
    return ranked[0].partner if ranked else None


def _hand_to_expert(ticket: Ticket, step: Step) -> str:
    return _hand_to(ticket, expert_for(ticket, step.now), "practice expert")


def _raise_priority(ticket: Ticket, step: Step) -> str:
    if ticket.priority <= 1:
        return "Already P1."
    before = ticket.priority
    services.change_priority(
        None, ticket, priority=before - 1, reason="Raised by SLA escalation.", source=Source.SYSTEM
    )
    return f"Priority raised P{before} → P{before - 1}."


ACTIONS = {
    EscalationAction.WARN_ASSIGNEE: _warn_assignee,
    EscalationAction.NOTIFY_LEAD: _notify_lead,
    EscalationAction.HAND_TO_ON_CALL: _hand_to_on_call,
    EscalationAction.HAND_TO_EXPERT: _hand_to_expert,
    EscalationAction.RAISE_PRIORITY: _raise_priority,
}
