"""SLA clocks of tickets: the joining code between tickets and the pure SLA engine.

A ticket gets its policy and calendar when it is opened (from its client, else the default
policy).  Its clocks are derived from its own facts: first response runs from creation until
the network's first public reply, next response from an unanswered client reply until the
network answers, resolution from creation until resolved.  Every clock pauses while the
ticket waits on the client, on a third party, or for a scheduled visit (``ClockPause`` rows).

``start`` sets a new ticket's due times before its first save; ``refresh`` recomputes and
stores them after each change; ``sweep`` (the clock job) re-evaluates every open ticket, stores
due times that moved and fires escalation steps.  Policies, targets and calendars are read
through the process's configuration cache (``thirdway.configcache``).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db.models import F
from django.utils import timezone

from thirdway.sla import calendars, engine
from thirdway.sla.models import BusinessCalendar, ClockKind, EscalationStep, SlaPolicy, SlaTarget
from thirdway.sla.services import cached_calendar, cached_policy_for_client, cached_targets
from thirdway.tickets.lifecycle import OPEN, WAITING, Status
from thirdway.tickets.models import ClockPause, Ticket

KINDS = (ClockKind.FIRST_RESPONSE, ClockKind.NEXT_RESPONSE, ClockKind.RESOLUTION)
DUE_FIELDS = {kind: f"{kind}_due_at" for kind in KINDS}
# "Breaches soonest": tickets without a running clock (paused, met, no policy) come last.
BREACHES_SOONEST = (F("sla_due_at").asc(nulls_last=True), "id")
STORED = [*DUE_FIELDS.values(), "sla_due_at"]


@dataclass(frozen=True)
class TicketClock:
    """One running clock of a ticket: which target, when its cycle started, the engine clock."""

    kind: str
    cycle_start: dt.datetime
    clock: engine.SlaClock


@dataclass(frozen=True)
class ClockView:
    """What the ticket page shows of one clock."""

    kind: str
    label: str
    state: engine.ClockState
    met_at: dt.datetime | None = None

    @property
    def left_text(self) -> str:
        return business_duration(self.state.remaining_seconds)

    @property
    def over_text(self) -> str:
        return business_duration(self.state.elapsed_seconds - self.state.target_seconds)


def business_duration(seconds: int) -> str:
    """``2 h 05 min`` (business time)."""
    minutes = max(0, seconds) // 60
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes:02d} min" if hours else f"{minutes} min"


# --- choosing the policy -------------------------------------------------------------------------


def attach_policy(ticket: Ticket) -> None:
    """Give a new ticket its client's policy and calendar (not saved here)."""
    policy_id, calendar_id = cached_policy_for_client(ticket.client_id)
    ticket.sla_policy_id, ticket.sla_calendar_id = policy_id, calendar_id


def start(ticket: Ticket, now: dt.datetime | None = None) -> None:
    """Give a new ticket its policy, calendar and due times, before its first save: it has no
    pauses yet, so nothing is read but the (cached) configuration."""
    attach_policy(ticket)
    ticket.created_at = now or ticket.created_at or timezone.now()
    states = _states(ticket, _target(ticket), (), ticket.created_at)
    for name, value in due_values(states).items():
        setattr(ticket, name, value)
    ticket.sla_check_at = check_from(ticket, ticket.created_at)


# --- deriving clocks from a ticket ---------------------------------------------------------


def pauses_of(rows) -> tuple[engine.Pause, ...]:
    return tuple(engine.Pause(start, end) for start, end in rows)


def clocks_of(
    ticket: Ticket, target: SlaTarget | None, pauses: tuple[engine.Pause, ...]
) -> list[TicketClock]:
    """The clocks of ``ticket`` that are still running (not met), under ``target``."""
    if target is None or ticket.status not in OPEN:
        return []
    key = str(ticket.sla_calendar_id)
    starts = {
        ClockKind.FIRST_RESPONSE: None if ticket.first_responded_at else ticket.created_at,
        ClockKind.NEXT_RESPONSE: ticket.awaiting_reply_since,
        ClockKind.RESOLUTION: ticket.created_at,
    }
    running = []
    for kind in KINDS:
        minutes, start = target.minutes(kind), starts[kind]
        if minutes and start is not None:
            clock = engine.SlaClock(key, start, minutes * 60, pauses)
            running.append(TicketClock(kind, start, clock))
    return running


def _target(ticket: Ticket) -> SlaTarget | None:
    if ticket.sla_policy_id is None or ticket.sla_calendar_id is None:
        return None
    return cached_targets(ticket.sla_policy_id).get(ticket.priority)


def _pauses(ticket: Ticket) -> tuple[engine.Pause, ...]:
    return pauses_of(ticket.clock_pauses.values_list("started_at", "ended_at"))


def evaluate(
    ticket: Ticket, now: dt.datetime | None = None
) -> list[tuple[TicketClock, engine.ClockState]]:
    """Each running clock of the ticket with its state at ``now``."""
    target = _target(ticket)
    pauses = _pauses(ticket) if target is not None and ticket.status in OPEN else ()
    return _states(ticket, target, pauses, now or timezone.now())


def _states(ticket: Ticket, target: SlaTarget | None, pauses, now: dt.datetime):
    clocks = clocks_of(ticket, target, pauses)
    if not clocks:
        return []
    row = cached_calendar(ticket.sla_calendar_id)
    if row is None:
        return []
    calendar = calendars.to_engine(row, now.date())
    return [(c, engine.evaluate_clock(calendar, c.clock, now)) for c in clocks]


def due_values(states) -> dict[str, dt.datetime | None]:
    """The stored fields for a list of (clock, state): due per kind and the soonest of them."""
    values: dict[str, dt.datetime | None] = {}
    for clock, state in states:
        values[DUE_FIELDS[clock.kind]] = state.due_at
    dues = [state.due_at for _, state in states if state.due_at is not None]
    values["sla_due_at"] = min(dues) if dues else None
    return values


def refresh(ticket: Ticket, now: dt.datetime | None = None) -> Ticket:
    """Recompute and store the ticket's due times (met clocks keep their last due time)."""
    now = now or timezone.now()
    values: dict[str, dt.datetime | None] = due_values(evaluate(ticket, now))
    if ticket.awaiting_reply_since is None:
        values[DUE_FIELDS[ClockKind.NEXT_RESPONSE]] = None
    values["sla_check_at"] = check_from(ticket, now)
    changed = {k: v for k, v in values.items() if getattr(ticket, k) != v}
    if changed:
        for name, value in changed.items():
            setattr(ticket, name, value)
        Ticket.objects.filter(pk=ticket.pk).update(**changed)
    return ticket


def check_from(ticket: Ticket, now: dt.datetime) -> dt.datetime | None:
    """When the sweep must next read a ticket that changed at ``now``: at once while it is
    open under a policy (the sweep then stores when its next step or pause boundary comes),
    never otherwise."""
    return now if ticket.status in OPEN and ticket.sla_policy_id is not None else None


def configuration_changed(*, policy_id: int | None = None, calendar_id: int | None = None) -> None:
    """Targets, steps or a calendar changed: the next sweep reads every open ticket counting
    on them (one UPDATE; told by ``sla.services``)."""
    tickets = Ticket.objects.filter(status__in=OPEN, sla_policy__isnull=False)
    if policy_id is not None:
        tickets.filter(sla_policy_id=policy_id).update(sla_check_at=timezone.now())
    if calendar_id is not None:
        tickets.filter(sla_calendar_id=calendar_id).update(sla_check_at=timezone.now())


def views_of(ticket: Ticket, now: dt.datetime | None = None) -> list[ClockView]:
    """The clocks to show on the ticket page, running ones with time left, met ones with when."""
    labels = dict(ClockKind.choices)
    shown = [ClockView(c.kind, labels[c.kind], state) for c, state in evaluate(ticket, now)]
    if ticket.first_responded_at and ticket.first_response_due_at:
        met = engine.ClockState(0, 0, 0, ticket.first_response_due_at, False, False, 0.0)
        shown.insert(
            0,
            ClockView(
                ClockKind.FIRST_RESPONSE,
                labels[ClockKind.FIRST_RESPONSE],
                met,
                met_at=ticket.first_responded_at,
            ),
        )
    return shown


# --- pauses and replies --------------------------------------------------------------------------


def status_changed(ticket: Ticket, before: str, after: str, at: dt.datetime) -> str | None:
    """Open or close a pause when the ticket starts or stops waiting; returns what happened
    ("paused", "resumed", or "stopped" when it was resolved or closed) or None."""
    was, now_waiting = before in WAITING, after in WAITING
    if now_waiting and not was:
        ClockPause.objects.create(ticket=ticket, reason=after, started_at=at)
        return "paused"
    if was and not now_waiting:
        ClockPause.objects.filter(ticket=ticket, ended_at__isnull=True).update(ended_at=at)
        return "resumed" if after in OPEN else "stopped"
    if was and now_waiting and before != after:
        ClockPause.objects.filter(ticket=ticket, ended_at__isnull=True).update(reason=after)
    return None


def network_replied(ticket: Ticket) -> None:
    """A public reply from the network answers the client: the next-response clock stops."""
    if ticket.awaiting_reply_since is not None:
        ticket.awaiting_reply_since = None
        Ticket.objects.filter(pk=ticket.pk).update(awaiting_reply_since=None)


def client_replied(ticket: Ticket, at: dt.datetime) -> None:
    """A client reply after the first response starts the next-response clock (once per
    unanswered run of replies)."""
    if ticket.first_responded_at is not None and ticket.awaiting_reply_since is None:
        ticket.awaiting_reply_since = at
        Ticket.objects.filter(pk=ticket.pk).update(awaiting_reply_since=at)


PAUSE_TEXT = {
    Status.WAITING_CLIENT: "waiting on the client",
    Status.WAITING_THIRD_PARTY: "waiting on a third party",
    Status.SCHEDULED: "waiting for the scheduled visit",
}


# --- what the sweep needs, loaded once per batch -------------------------------------------


class PolicyBook:
    """Targets, escalation steps and compiled calendars, loaded once for a sweep."""

    def __init__(self, today: dt.date) -> None:
        self.targets: dict[tuple[int, int], SlaTarget] = {
            (t.policy_id, t.priority): t for t in SlaTarget.objects.all()
        }
        self.steps: dict[tuple[int, str], engine.EscalationPolicy] = {}
        self.actions: dict[tuple[int, str, int], list[str]] = {}
        grouped: dict[tuple[int, str], list[EscalationStep]] = {}
        for step in EscalationStep.objects.order_by("policy_id", "clock", "percent"):
            grouped.setdefault((step.policy_id, step.clock), []).append(step)
            self.actions[(step.policy_id, step.clock, step.percent)] = list(step.actions)
        for key, steps in grouped.items():
            self.steps[key] = engine.EscalationPolicy(
                tuple(engine.EscalationStep(s.percent, ",".join(s.actions)) for s in steps)
            )
        self.calendars: dict[str, engine.Calendar] = {}
        for row in BusinessCalendar.objects.all():
            self.calendars[str(row.pk)] = calendars.to_engine(row, today)
        self.policy_names = dict(SlaPolicy.objects.values_list("pk", "name"))
