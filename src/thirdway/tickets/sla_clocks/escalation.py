"""The clock sweep: re-evaluate the SLA clocks of the open tickets whose next check has come,
store due times that moved, fire the escalation steps each clock has reached, and store when
each ticket must be read next.

A ticket's ``sla_check_at`` is the next instant anything can happen to its clocks without the
ticket changing: its next escalation step, or a pause starting or ending.  Every change to the
ticket (status, priority, reply) sets it to the moment of the change, and a change of targets,
steps or calendar sets it on every open ticket counting on them, so the sweep reads a ticket
only when something is due; a full sweep (``full=True``) reads them all.  Each sweep also
takes the next ``audit`` tickets in turn by id and re-reads the open ones among them, so that a
row written around the services is put right within a round (100 minutes on a desk of 100,000
tickets).

Each step is claimed by inserting its ``SlaEscalation`` row before acting, in the same
transaction as the actions: two sweeps running at once never act twice, and a step whose
actions failed is rolled back and tried again by the next sweep.  One ticket that cannot be
evaluated is logged and listed as a ``ClockFailure`` and stays due; the sweep goes on with the
rest.
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
    "sla_check_at",
)
# Tickets taken in turn by id by each sweep besides those due (see the docstring).
AUDIT = 1000
# Past this many seconds a sweep leaves the tickets it has not read to the next one, so that a
# minute when thousands of steps fall due (about 10 ms each) never runs into the next minutes.
BUDGET = 40.0
_audit_after = 0  # the last id of the previous turn, in this process (a restart starts over)


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
    due: int = 0
    left: int = 0
    moved: int = 0
    fired: int = 0
    failed: int = 0
    seconds: float = 0.0
    failures: list[int] = field(default_factory=list)


def sweep(
    now: dt.datetime | None = None,
    batch: int = BATCH,
    audit: int = AUDIT,
    full: bool = False,
    budget: float | None = BUDGET,
) -> SweepReport:
    """Evaluate the open tickets under a policy whose check has come, soonest first (all of
    them, by id, when ``full``), then those among the next ``audit`` tickets in turn, in
    batches of ``batch``.  Past ``budget`` seconds the tickets not read yet are left due for
    the next sweep (``left``); at least one is read, and a full sweep reads them all."""
    global _audit_after
    started = time.perf_counter()
    deadline = None if full or budget is None else started + budget
    now = now or timezone.now()
    book = clocks.PolicyBook(now.date())
    report = SweepReport()
    swept = Ticket.objects.filter(status__in=OPEN, sla_policy__isnull=False)
    if full:
        ids = list(swept.order_by("pk").values_list("pk", flat=True))
    else:
        # The partial index alone, soonest first; which of them are open under a policy is
        # asked per batch, with their rows.
        ids = list(
            Ticket.objects.filter(sla_check_at__lte=now)
            .order_by("sla_check_at", "pk")
            .values_list("pk", flat=True)
        )
        report.due = len(ids)
        if audit > 0:
            # The next ids in turn, along the primary key (the open ones are kept per batch).
            turn = list(
                Ticket.objects.filter(pk__gt=_audit_after)
                .order_by("pk")
                .values_list("pk", flat=True)[:audit]
            )
            _audit_after = turn[-1] if len(turn) == audit else 0
            due = set(ids)
            ids += [pk for pk in turn if pk not in due]
    for at in range(0, len(ids), batch):
        chunk = ids[at : at + batch]
        place = {pk: n for n, pk in enumerate(chunk)}
        # By primary key alone: a status condition here leads SQLite to the status index.
        found = Ticket.objects.filter(pk__in=chunk).order_by().values_list(*SWEEP_FIELDS)
        rows = sorted(
            (
                row
                for row in map(SweptTicket, found)
                if row.status in OPEN and row.sla_policy_id is not None
            ),
            key=lambda row: place[row.pk],
        )
        if not full:
            # Closed, or without a policy (written around the services): never due again.
            read = {row.pk for row in rows}
            Ticket.objects.filter(
                pk__in=[pk for pk in chunk if pk not in read], sla_check_at__lte=now
            ).update(sla_check_at=None)
        _sweep_batch(rows, book, now, report, deadline)
    report.seconds = time.perf_counter() - started
    return report


def _sweep_batch(
    rows: list[SweptTicket],
    book: clocks.PolicyBook,
    now,
    report: SweepReport,
    deadline: float | None = None,
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
    checked: list[tuple[SweptTicket, dt.datetime | None, bool]] = []
    for ticket in rows:
        if deadline is not None and report.tickets and time.perf_counter() > deadline:
            report.left += 1  # still due: the next sweep reads it first
            continue
        report.tickets += 1
        try:
            states = _evaluate(ticket, book, clocks.pauses_of(pauses[ticket.pk]), now)
            moved = _store(ticket, states)
            report.moved += moved
            for clock, state in states:
                report.fired += _escalate(ticket, clock, state, book, fired, now)
            checked.append((ticket, _next_check(ticket, states, book, fired, now), moved))
        except Exception as error:
            report.failed += 1
            report.failures.append(ticket.pk)
            log.exception("sla sweep: ticket %s failed", ticket.pk)
            ClockFailure.objects.create(ticket_id=ticket.pk, job="sla.sweep", error=repr(error))
    _write_checked(checked)


def _next_check(ticket: SweptTicket, states, book: clocks.PolicyBook, fired, now):
    """The soonest instant one of the ticket's running clocks reaches a step not fired yet or
    a pause boundary; None when there is none (nothing happens until the ticket changes)."""
    moments = []
    for clock, _state in states:
        policy = book.steps.get((ticket.sla_policy_id, clock.kind))
        done = fired[(ticket.pk, clock.kind, clock.cycle_start)]
        percents = [s.percent for s in policy.steps if s.percent not in done] if policy else []
        calendar = book.calendars[str(ticket.sla_calendar_id)]
        moment = engine.next_change(calendar, clock.clock, now, percents)
        if moment is not None:
            moments.append(moment)
    return min(moments, default=None)


def _write_checked(checked: list[tuple[SweptTicket, dt.datetime | None, bool]]) -> None:
    """Store the due times and the next check of the tickets read, in one prepared UPDATE run
    for many rows (``bulk_update``'s CASE expressions cost far more per row than the clocks
    themselves).  A ticket changed meanwhile (its ``sla_check_at`` is no longer the one read)
    is left as it is: it is read again by the next sweep."""
    adapt = connection.ops.adapt_datetimefield_value
    rows = [
        [
            *(adapt(getattr(ticket, name)) for name in clocks.STORED),
            adapt(check),
            ticket.pk,
            adapt(ticket.sla_check_at),
        ]
        for ticket, check, moved in checked
        if moved or check != ticket.sla_check_at
    ]
    if not rows:
        return
    quote = connection.ops.quote_name
    columns = ", ".join(f"{quote(name)} = %s" for name in [*clocks.STORED, "sla_check_at"])
    same = "IS NOT DISTINCT FROM" if connection.vendor == "postgresql" else "IS"
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.executemany(
            f"UPDATE {quote(Ticket._meta.db_table)} SET {columns} "  # noqa: S608
            f"WHERE id = %s AND {quote('sla_check_at')} {same} %s",
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
