"""A P1 nobody can start in time interrupts a partner's running P3 or P4, where the practice
allows it (``PracticeDispatch.preempt``, off by default).

The rule is the engine's (``dispatch/engine/preemption.py``), the simulator's too: of the
partners at work now (on shift or on call, not away) on a P3 or P4 in progress and on nothing
more urgent, the cheapest by the engine's terms that the skill, radius and language filters
let through takes the P1 at once. Their work in progress goes back to their queue
(*Assigned*): it stays theirs, its first response stands, the minutes recorded on it stay on
it, and its SLA clocks run on as for any open ticket (an interruption is no pause). Both
tickets say so on their timelines, the partner is told, and the dispatch record explains it.
"""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.db import transaction
from django.db.models import Q, Sum
from django.utils import timezone

from thirdway.audit.models import Source
from thirdway.dispatch import engine
from thirdway.dispatch.engine import preemption
from thirdway.network.models import Partner
from thirdway.tickets.assignment import offers
from thirdway.tickets.assignment.models import (
    DispatchKind,
    DispatchRecord,
    OfferState,
    PracticeDispatch,
)
from thirdway.tickets.assignment.weights import weights_for
from thirdway.tickets.lifecycle import Status
from thirdway.tickets.models import Article, NotificationKind, Ticket

INTERRUPTIBLE = tuple(int(p[1]) for p in preemption.INTERRUPTIBLE)
URGENT = (1, 2)
# Waiting P1s looked at per re-plan, most urgent first.
PREEMPT_LIMIT = 50
SET_ASIDE = "Set aside for urgent work; the work done so far is kept."


def allowed(practice_id: int | None) -> bool:
    """Whether the practice lets a P1 interrupt running work."""
    if practice_id is None:
        return False
    return PracticeDispatch.objects.filter(practice_id=practice_id, preempt=True).exists()


def running_partners() -> dict[int, list[Ticket]]:
    """Partners with a P3 or P4 in progress and nothing more urgent in progress: their
    interruptible tickets, by partner id."""
    running: dict[int, list[Ticket]] = {}
    busy_with_urgent = set(
        Ticket.objects.filter(status=Status.IN_PROGRESS, priority__in=URGENT)
        .exclude(assignee__isnull=True)
        .values_list("assignee_id", flat=True)
    )
    for ticket in Ticket.objects.filter(
        status=Status.IN_PROGRESS, priority__in=INTERRUPTIBLE, assignee__isnull=False
    ).order_by("pk"):
        if ticket.assignee_id not in busy_with_urgent:
            running.setdefault(ticket.assignee_id, []).append(ticket)
    return running


def try_preempt(
    ticket: Ticket, decision: engine.Decision, need: engine.TicketNeed, states, now: dt.datetime
) -> DispatchRecord | None:
    """Give the locked, waiting ``ticket`` to a partner whose running P3/P4 it interrupts,
    when the engine's rule says it may; None (nothing done) otherwise."""
    if not preemption.is_late(need, decision.chosen) or not allowed(ticket.practice_id):
        return None
    return _preempt_with(ticket, decision, need, states, now)


def _preempt_with(
    ticket: Ticket,
    decision: engine.Decision,
    need: engine.TicketNeed,
    states,
    now: dt.datetime,
    holder: str = "",
) -> DispatchRecord | None:
    """The engine's cheapest partner at work on running P3/P4 work takes ``ticket`` at once
    (never the partner who holds it); None when there is none."""
    running = running_partners()
    refused = offers.refused_by(ticket.pk)
    if ticket.assignee_id is not None:
        refused.add(ticket.assignee_id)  # another partner's work is interrupted, not theirs
    present = {state.id for state in states}
    index = engine.as_index(states, [need], now)
    rows = [index.row(pid) for pid in running if pid not in refused and pid in present]
    row = preemption.interrupting_row(
        need,
        index,
        weights_for(ticket.practice_id),
        engine.epoch(now),
        sorted(rows),
        on_duty_only=True,
    )
    if row is None:
        return None
    partner = Partner.objects.get(pk=index.partners[row].id)
    return _interrupt(ticket, decision, partner, running[partner.pk], now, holder)


def _interrupt(
    ticket: Ticket,
    decision: engine.Decision,
    partner: Partner,
    set_aside: list,
    now,
    holder: str = "",
) -> DispatchRecord:
    from thirdway.tickets.assignment import dispatching
    from thirdway.tickets.notifications.services import notify
    from thirdway.tickets.services._shared import _event
    from thirdway.tickets.services.workflow import _set_status, assign

    worst = max(set_aside, key=lambda t: (t.priority, t.pk))  # P4 over P3 in the words
    why = (
        f"{preemption.why_interrupted(f'P{worst.priority}')}: "
        f"{partner.name} set aside {_numbers(set_aside)}; {holder}{decision.reason}"
    )[:500]
    record = dispatching._record(
        ticket,
        DispatchKind.PREEMPTED,
        decision=decision,
        partner_id=partner.pk,
        reason=why,
        now=now,
    )
    minutes = _minutes(set_aside)
    for other in set_aside:
        other = Ticket.objects.select_for_update(of=("self",)).get(pk=other.pk)
        if other.status != Status.IN_PROGRESS:
            continue
        _set_status(None, other, Status.ASSIGNED, SET_ASIDE, Source.SYSTEM)
        kept = minutes.get(other.pk, 0)
        _event(
            other,
            None,
            "preempted",
            f"Set aside for P1 {ticket.number} ({ticket.subject}), which nobody could start "
            f"in time. Still {partner.name}'s, back in their queue; the {kept} min recorded "
            "on it stay on it and its first response stands.",
            {"for": ticket.pk},
        )
        if partner.user_id:
            notify(
                partner.user,
                NotificationKind.PREEMPTED,
                other,
                f"{other.number} set aside: P1 {ticket.number} needs you now. "
                f"Resume {other.number} when it is done; its {kept} min stay on it.",
                now=now,
            )
    assign(None, ticket, partner, reason=why, source=Source.SYSTEM)
    _event(
        ticket,
        None,
        "preempted",
        f"{partner.name} interrupted {_numbers(set_aside)} to take this P1 at once.",
        {"set_aside": [t.pk for t in set_aside]},
    )
    return record


def _numbers(tickets: list[Ticket]) -> str:
    return ", ".join(f"P{t.priority} {t.number}" for t in tickets)


def _minutes(tickets: list[Ticket]) -> dict[int, int]:
    return dict(
        Article.objects.filter(ticket__in=tickets)
        .values_list("ticket_id")
        .annotate(total=Sum("time_spent_minutes"))
        .values_list("ticket_id", "total")
    )


def waiting_p1s(now: dt.datetime, within: dt.timedelta, limit: int = PREEMPT_LIMIT):
    """Unassigned P1s of practices that allow pre-emption, not offered to anyone, whose
    response falls due before ``now + within`` (the next re-plan): most urgent first."""
    return (
        Ticket.objects.filter(
            status=Status.NEW,
            priority=1,
            assignee__isnull=True,
            merged_into__isnull=True,
            practice__dispatch_settings__preempt=True,
            incident_parent__isnull=True,
        )
        .filter(Q(first_response_due_at__isnull=True) | Q(first_response_due_at__lte=now + within))
        .exclude(dispatch_offers__state=OfferState.OPEN)
        .order_by("first_response_due_at", "created_at", "pk")
        .values_list("pk", flat=True)[:limit]
    )


def held_p1s(now: dt.datetime, within: dt.timedelta, limit: int = PREEMPT_LIMIT):
    """P1s of practices that allow pre-emption that a partner holds and nobody has started
    (new or assigned, no first response), whose response falls due before ``now + within``:
    most urgent first."""
    return (
        Ticket.objects.filter(
            status__in=(Status.NEW, Status.ASSIGNED),
            priority=1,
            assignee__isnull=False,
            first_responded_at__isnull=True,
            merged_into__isnull=True,
            practice__dispatch_settings__preempt=True,
            incident_parent__isnull=True,
        )
        .filter(Q(first_response_due_at__isnull=True) | Q(first_response_due_at__lte=now + within))
        .order_by("first_response_due_at", "created_at", "pk")
        .values_list("pk", flat=True)[:limit]
    )


def _held(ticket_id: int) -> Ticket | None:
    """The held, unstarted P1, locked; None when it was started or let go meanwhile."""
    return (
        Ticket.objects.select_for_update(of=("self",))
        .select_related("assignee")
        .filter(
            pk=ticket_id,
            status__in=(Status.NEW, Status.ASSIGNED),
            assignee__isnull=False,
            first_responded_at__isnull=True,
        )
        .first()
    )


def preempt_held(ticket: Ticket, now: dt.datetime, within: dt.timedelta) -> DispatchRecord | None:
    """A P1 its partner holds but cannot start before it is due (off shift, away: the
    engine's cover, ``holder_start_s``) interrupts another partner's running P3/P4 by the
    engine's rule (``held_is_late``); None (nothing done) otherwise."""
    from thirdway.tickets.assignment import dispatching

    need = dispatching.needs_of([ticket], now)[0]
    states = dispatching.partner_states(now, exclude_tickets=[ticket.pk])
    chosen = weights_for(ticket.practice_id)
    index = engine.as_index(states, [need], now)
    now_s = engine.epoch(now)
    held_by = {state.id for state in states}
    start = (
        preemption.holder_start_s(need, index, chosen, now_s, index.row(ticket.assignee_id))
        if ticket.assignee_id in held_by
        else None
    )
    if not preemption.held_is_late(need, start, now_s, int(within.total_seconds())):
        return None
    decision = engine.rank(need, states, chosen, now)
    holder = f"{ticket.assignee.name}, who held it, cannot start it before it is due; "
    return _preempt_with(ticket, decision, need, states, now, holder)


def preempt_waiting(now: dt.datetime | None = None) -> dict[str, int]:
    """With each re-plan: a waiting P1 that nobody can start before it is due, or a P1 its
    partner holds and cannot start before then, interrupts running routine work (the
    simulator's pre-emption at its re-plan ticks)."""
    from thirdway.tickets.assignment import dispatching

    now = now or timezone.now()
    within = dt.timedelta(seconds=settings.DISPATCH_REOPTIMISE_SECONDS)
    preempted = 0
    for ticket_id in list(held_p1s(now, within)):
        with transaction.atomic():
            ticket = _held(ticket_id)
            if ticket is not None and preempt_held(ticket, now, within) is not None:
                preempted += 1
    for ticket_id in list(waiting_p1s(now, within)):
        with transaction.atomic():
            ticket = dispatching._waiting(ticket_id)
            if ticket is None:
                continue
            need = dispatching.needs_of([ticket], now)[0]
            states = dispatching.partner_states(now, exclude_tickets=[ticket.pk])
            decision = engine.rank(need, states, weights_for(ticket.practice_id), now)
            if try_preempt(ticket, decision, need, states, now) is not None:
                preempted += 1
    return {"preempted": preempted}
