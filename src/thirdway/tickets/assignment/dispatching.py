"""Dispatch over the ticket queue: what the pure engine needs, read from the database, and its
decisions applied and recorded.

The engine (``thirdway.dispatch.engine``) and the optimiser are the same ones the simulator
runs; this module only turns rows into their dataclasses and back.  Three acts:

- **On arrival** a ticket of a practice with ``auto_dispatch`` goes, through the task queue, to
  the partner ranked first.  A ticket nobody can take stays unassigned, with the reason, in the
  desk's *unassignable* queue: never dropped.
- **Every few minutes** (``THIRDWAY_DISPATCH_REOPTIMISE_SECONDS``) the unassigned queue of those
  practices is assigned jointly (min-cost assignment), so one ticket does not take the only
  partner another could have had.
- **On request** the desk asks for a ranking of any ticket (a *suggestion*, assigning nothing).
- **Urgent work not left waiting** (practices with ``move_late``): with the re-planning, a P1
  or late ticket nobody has started, whose partner the engine would not give it to now (off
  shift until after it is due, away, at capacity), goes to the partner ranked first, once.

Each decision is a ``DispatchRecord`` with the best candidates and the weighted score of each
term, shown on the ticket as *why this partner*.  A person who assigns someone else is recorded
as an override, with their reason (``services.workflow.assign``).
"""

from __future__ import annotations

import datetime as dt
import logging
from collections import defaultdict
from dataclasses import replace

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import Count, Q
from django.utils import timezone

from thirdway.audit.models import Source
from thirdway.audit.services import record as audit_record
from thirdway.dispatch import engine, optimiser
from thirdway.network.models import Absence, Partner, Rota, Skill
from thirdway.network.oncall import plan_of
from thirdway.tickets.access import can_work_on
from thirdway.tickets.assignment import offers, surge
from thirdway.tickets.assignment.models import DispatchOffer, IncidentLink, OfferState
from thirdway.tickets.assignment.weights import weights_for
from thirdway.tickets.lifecycle import OPEN, Status
from thirdway.tickets.models import (
    DispatchKind,
    DispatchRecord,
    SlaEscalation,
    Ticket,
    TicketType,
    number_of,
)

log = logging.getLogger(__name__)

# How expert the partner must be, by the kind of work (1-5, as partners' skill levels).
REQUIRED_LEVEL = {
    TicketType.INCIDENT: 2,
    TicketType.SERVICE_REQUEST: 1,
    TicketType.CHANGE: 3,
    TicketType.PROBLEM: 3,
    TicketType.ALERT: 2,
    TicketType.MAINTENANCE: 2,
}
# Targets used when a ticket has no SLA policy (wall-clock, from creation).
DEFAULT_RESPONSE = {1: dt.timedelta(hours=1), 2: dt.timedelta(hours=4), 3: dt.timedelta(hours=8)}
DEFAULT_RESOLUTION = {1: dt.timedelta(hours=8), 2: dt.timedelta(days=1), 3: dt.timedelta(days=3)}
FALLBACK_RESPONSE = dt.timedelta(days=1)
FALLBACK_RESOLUTION = dt.timedelta(days=5)
RECENT = dt.timedelta(days=90)
CANDIDATES_KEPT = 5
QUEUE_LIMIT = 1000
# Late tickets looked at per run, most urgent first (each is ranked on its own).
MOVE_LIMIT = 50
# Held by a partner but not started: no first response, and not in progress or waiting.
NOT_STARTED = (Status.NEW, Status.ASSIGNED)


# --- from rows to the engine's inputs -----------------------------------------------------------


def weights(practice_id: int | None = None) -> engine.Weights:
    """The weights a ticket of the practice is ranked with (its own over the site-wide)."""
    return weights_for(practice_id)


def _on_call_spans(start: dt.datetime, end: dt.datetime) -> dict[int, list[tuple]]:
    spans: dict[int, list[tuple]] = defaultdict(list)
    for rota in Rota.objects.all():
        for a, b, who in plan_of(rota, start, end).segments(start, end):
            if who is not None:
                spans[who].append((a, b))
    return spans


def _visits_in_progress(exclude_tickets=()) -> dict[int, engine.Visit]:
    """Where each partner out on a visit is: the site of their on-site ticket in progress
    (the one last touched, when several are), which the engine measures their next drive
    from; partners without one leave from home."""
    visits: dict[int, engine.Visit] = {}
    rows = (
        Ticket.objects.filter(
            status=Status.IN_PROGRESS,
            needs_onsite=True,
            assignee__isnull=False,
            site__latitude__isnull=False,
            site__longitude__isnull=False,
        )
        .exclude(pk__in=list(exclude_tickets))
        .order_by("assignee_id", "-updated_at", "-pk")
        .values_list("assignee_id", "pk", "site__latitude", "site__longitude")
    )
    for partner_id, pk, lat, lon in rows:
        if partner_id not in visits:
            visits[partner_id] = engine.Visit((lat, lon), f"the site of {number_of(pk)}")
    return visits


def partner_states(now: dt.datetime, *, exclude_tickets=()) -> list[engine.PartnerState]:
    """Every active partner as the engine sees them at ``now``; a fixed number of queries
    (plus three per on-call rota) however many partners there are.

    ``exclude_tickets`` are left out of the loads (the queue being re-planned) and of the
    visits partners drive on from.
    """
    end = now + dt.timedelta(days=engine.DEFAULT_HORIZON_DAYS)
    skills: dict[int, dict[str, int]] = defaultdict(dict)
    for partner_id, slug, level in Skill.objects.filter(partner__is_active=True).values_list(
        "partner_id", "practice__slug", "level"
    ):
        skills[partner_id][slug] = level
    absences: dict[int, list[tuple]] = defaultdict(list)
    for partner_id, starts, ends in (
        Absence.objects.overlapping(now, end)
        .filter(partner__is_active=True)
        .values_list("partner_id", "starts_at", "ends_at")
    ):
        absences[partner_id].append((max(starts, now - dt.timedelta(days=1)), ends))
    loads = dict(
        Ticket.objects.filter(assignee__isnull=False, status__in=OPEN)
        .exclude(pk__in=list(exclude_tickets))
        .values_list("assignee_id")
        .annotate(n=Count("id"))
        .values_list("assignee_id", "n")
    )
    on_call = _on_call_spans(now, end)
    visits = _visits_in_progress(exclude_tickets)
    states = []
    for partner in Partner.objects.filter(is_active=True).order_by("pk"):
        states.append(
            engine.PartnerState(
                id=partner.pk,
                name=partner.name,
                kind=partner.kind,
                skills=skills.get(partner.pk, {}),
                home_lat=partner.latitude,
                home_lon=partner.longitude,
                radius_km=float(partner.service_radius_km),
                time_zone=partner.time_zone,
                working_hours={
                    day: [tuple(span) for span in spans]
                    for day, spans in (partner.working_hours or {}).items()
                },
                absences=tuple(absences.get(partner.pk, ())),
                on_call=tuple(on_call.get(partner.pk, ())),
                open_load=loads.get(partner.pk, 0),
                capacity=partner.capacity,
                languages=frozenset(partner.languages or ()),
                drive_from=(
                    dict.fromkeys(engine.PRIORITIES, visits[partner.pk])
                    if partner.pk in visits
                    else {}
                ),
            )
        )
    return states


def _priority(ticket: Ticket) -> str:
    return f"P{min(max(ticket.priority, 1), 4)}"


def _location(ticket: Ticket) -> tuple[float, float] | None:
    site = ticket.site
    if site is not None and site.latitude is not None and site.longitude is not None:
        return (site.latitude, site.longitude)
    return None


def ticket_need(
    ticket: Ticket, *, recent: frozenset[int] = frozenset(), escalate: bool = False
) -> engine.TicketNeed:
    """What ``ticket`` asks of whoever takes it (its SLA due times, or defaults by priority)."""
    created = ticket.created_at or timezone.now()
    response_due = ticket.first_response_due_at or created + DEFAULT_RESPONSE.get(
        ticket.priority, FALLBACK_RESPONSE
    )
    if ticket.first_responded_at and ticket.next_response_due_at:
        response_due = ticket.next_response_due_at
    resolution_due = ticket.resolution_due_at or created + DEFAULT_RESOLUTION.get(
        ticket.priority, FALLBACK_RESOLUTION
    )
    location = _location(ticket) if ticket.needs_onsite else None
    window = None
    if ticket.visit_starts_at and ticket.visit_ends_at:
        window = (ticket.visit_starts_at, ticket.visit_ends_at)
    return engine.TicketNeed(
        id=ticket.pk,
        practice=ticket.practice.slug if ticket.practice_id else engine.DESK_PRACTICE,
        required_level=REQUIRED_LEVEL.get(ticket.type, 2),
        priority=_priority(ticket),
        created_at=created,
        response_due_at=response_due,
        resolution_due_at=max(resolution_due, response_due),
        needs_onsite=location is not None,
        onsite_location=location,
        visit_window=window if location is not None else None,
        client_lead_partner_id=ticket.client.lead_partner_id,
        recent_partner_ids=recent,
        desk_first=(
            ticket.type == TicketType.SERVICE_REQUEST and ticket.priority >= 3 and location is None
        ),
        escalate=escalate,
    )


def needs_of(tickets: list[Ticket], now: dt.datetime) -> list[engine.TicketNeed]:
    """The engine's view of several tickets, in a few queries whatever their number (their
    skills' surge included, ``surge.surging``)."""
    client_ids = {t.client_id for t in tickets}
    recent: dict[int, set[int]] = defaultdict(set)
    for client_id, partner_id in (
        Ticket.objects.filter(client_id__in=client_ids, updated_at__gte=now - RECENT)
        .exclude(assignee__isnull=True)
        .values_list("client_id", "assignee_id")
        .distinct()
    ):
        recent[client_id].add(partner_id)
    in_surge = surge.surging({t.practice_id for t in tickets}, now, for_the_drive=True)
    breached = set(
        SlaEscalation.objects.filter(
            ticket_id__in=[t.pk for t in tickets], percent__gte=100
        ).values_list("ticket_id", flat=True)
    )
    return [
        replace(
            ticket_need(t, recent=frozenset(recent[t.client_id]), escalate=t.pk in breached),
            surge=t.practice_id in in_surge,
        )
        for t in tickets
    ]


def _loaded(queryset):
    return queryset.select_related("practice", "client", "site")


# --- decisions, recorded -------------------------------------------------------------------------


def _candidate_row(candidate: engine.Candidate) -> dict:
    return {
        "partner_id": candidate.partner_id,
        "name": candidate.partner_name,
        "total": round(candidate.total, 3),
        "terms": {name: round(value, 3) for name, value in candidate.terms.items()},
        "explanation": candidate.explanation,
        "escalated": candidate.escalated,
        "stretched": candidate.stretched,
        "stretched_limits": list(candidate.stretched_limits),
        "stretch_why": candidate.stretch_why,
    }


def _record(
    ticket, kind, *, decision=None, candidate=None, partner_id=None, actor=None, reason="", now=None
):
    if decision is not None:
        rows = [_candidate_row(c) for c in decision.top(CANDIDATES_KEPT)]
    else:
        rows = [] if candidate is None else [_candidate_row(candidate)]
    return DispatchRecord.objects.create(
        ticket=ticket,
        kind=kind,
        partner_id=partner_id,
        actor=actor,
        reason=reason or (decision.reason if decision is not None else ""),
        candidates=rows,
        rejected_by=dict(decision.rejected_by) if decision is not None else {},
        feasible_count=decision.feasible_count if decision is not None else 0,
        decided_at=now or timezone.now(),
    )


def rank(ticket: Ticket, now: dt.datetime | None = None, *, states=None) -> engine.Decision:
    """The engine's ranking of every partner for ``ticket`` (records nothing).

    ``states`` is the partner pool when the caller has read it already.
    """
    now = now or timezone.now()
    need = needs_of([ticket], now)[0]
    if states is None:
        states = partner_states(now, exclude_tickets=[ticket.pk])
    return engine.rank(need, states, weights(ticket.practice_id), now)


def suggest(actor, ticket: Ticket, now: dt.datetime | None = None) -> DispatchRecord:
    """Rank the partners for a ticket on a person's request; assigns nobody."""
    if not can_work_on(actor, ticket):
        raise PermissionDenied("Only the network may ask who should take this ticket.")
    now = now or timezone.now()
    decision = rank(_loaded(Ticket.objects).get(pk=ticket.pk), now)
    chosen = decision.chosen.partner_id if decision.chosen else None
    return _record(
        ticket, DispatchKind.SUGGESTION, decision=decision, partner_id=chosen, actor=actor, now=now
    )


def _apply(
    ticket: Ticket, kind: str, partner_id, decision=None, candidate=None, reason="", now=None
):
    """Give a locked, still unassigned ticket to ``partner_id``, or mark it unassignable."""
    from thirdway.tickets.services.workflow import assign

    if partner_id is None:
        text = reason or (decision.reason if decision else "no partner can take this ticket")
        if ticket.unassignable_reason != text:
            before, ticket.unassignable_reason = ticket.unassignable_reason, text[:500]
            ticket.save(update_fields=["unassignable_reason"])
            audit_record(
                None,
                "ticket.unassignable",
                ticket,
                source=Source.SYSTEM,
                scope=f"ticket:{ticket.pk}",
                changes={"unassignable_reason": [before, ticket.unassignable_reason]},
            )
            _record(ticket, DispatchKind.UNASSIGNABLE, decision=decision, reason=text, now=now)
        return None
    chosen = candidate if candidate is not None else (decision.chosen if decision else None)
    if offers.needs_acceptance(chosen):
        # Beyond the partner's radius or shift: offered to them, not imposed.
        record = _record(
            ticket,
            DispatchKind.OFFERED,
            decision=decision,
            candidate=candidate,
            partner_id=partner_id,
            reason=reason,
            now=now,
        )
        offers.make_offer(ticket, chosen, record, now or timezone.now())
        return record
    record = _record(
        ticket,
        kind,
        decision=decision,
        candidate=candidate,
        partner_id=partner_id,
        reason=reason,
        now=now,
    )
    partner = Partner.objects.get(pk=partner_id)
    assign(None, ticket, partner, reason="Chosen by dispatch.", source=Source.SYSTEM)
    return record


def _waiting(ticket_id: int, *, holds: bool = True) -> Ticket | None:
    """The ticket, locked, when it still waits for a partner; None otherwise (held for a
    surge too, unless ``holds`` is False)."""
    ticket = _loaded(Ticket.objects.select_for_update(of=("self",))).filter(pk=ticket_id).first()
    if ticket is None or ticket.assignee_id is not None or ticket.merged_into_id is not None:
        return None
    if ticket.status != Status.NEW or offers.open_offer(ticket) is not None:
        return None
    if IncidentLink.objects.filter(child=ticket).exists():
        return None  # its incident is dispatched, not it
    if holds and surge.open_hold(ticket.pk) is not None:
        return None  # released by the clock when the surge is over
    return ticket


@transaction.atomic
def dispatch_on_arrival(ticket_id: int, now: dt.datetime | None = None) -> DispatchRecord | None:
    """Assign a new ticket to the partner ranked first; a retry of a done one does nothing."""
    ticket = _waiting(ticket_id)
    if (
        ticket is None
        or DispatchRecord.objects.filter(
            ticket=ticket, kind__in=(DispatchKind.ARRIVAL, DispatchKind.RELEASED)
        ).exists()
    ):
        return None
    now = now or timezone.now()
    return _decide(ticket, DispatchKind.ARRIVAL, now)


def _decide(
    ticket: Ticket, kind: str, now: dt.datetime, *, hold: bool = True
) -> DispatchRecord | None:
    """Rank a locked, waiting ticket and apply the outcome: a P1 nobody can start in time
    interrupts running routine work first where its practice allows it (``preemption``).
    With ``hold``, routine work whose skill is in surge is held instead (``surge``)."""
    from thirdway.tickets.assignment import preemption

    if hold and surge.hold_if_surging(ticket, now) is not None:
        return None

    need = needs_of([ticket], now)[0]
    states = partner_states(now, exclude_tickets=[ticket.pk])
    decision = engine.rank(need, states, weights(ticket.practice_id), now)
    interrupted = preemption.try_preempt(ticket, decision, need, states, now)
    if interrupted is not None:
        return interrupted
    chosen = decision.chosen.partner_id if decision.chosen else None
    return _apply(ticket, kind, chosen, decision, now=now)


def queue(limit: int = QUEUE_LIMIT):
    """The tickets re-planned together: new, unassigned, in practices dispatched automatically,
    not linked under an incident nor held for a surge; most urgent first."""
    return _loaded(
        Ticket.objects.filter(
            status=Status.NEW,
            assignee__isnull=True,
            merged_into__isnull=True,
            practice__auto_dispatch=True,
            incident_parent__isnull=True,
        )
        .exclude(dispatch_offers__state=OfferState.OPEN)
        .exclude(pk__in=surge.open_holds().values("ticket_id"))
    ).order_by("priority", "created_at", "pk")[:limit]


def reoptimise_queue(now: dt.datetime | None = None) -> dict[str, int]:
    """Assign the waiting queue jointly at minimum total cost; returns what happened."""
    now = now or timezone.now()
    tickets = list(queue())
    if not tickets:
        return {"queued": 0, "assigned": 0, "unassignable": 0}
    assigned = unassignable = 0
    groups = _by_weights(tickets)
    for position, (chosen, group) in enumerate(groups):
        # The groups planned later are still waiting: their tickets load nobody yet.
        waiting = [t.pk for _, later in groups[position:] for t in later]
        plan = optimiser.reoptimise(
            needs_of(group, now), partner_states(now, exclude_tickets=waiting), chosen, now
        )
        refused = _refused([t.pk for t in group])
        for assignment in plan.assignments:
            with transaction.atomic():
                if assignment.partner_id in refused.get(assignment.ticket_id, ()):
                    # They declined it or let it lapse: ranked again without them.
                    offers.redispatch(assignment.ticket_id, now)
                    continue
                ticket = _waiting(assignment.ticket_id)
                if ticket is None:
                    continue
                _apply(
                    ticket,
                    DispatchKind.REOPTIMISE,
                    assignment.partner_id,
                    candidate=assignment.candidate,
                    reason=assignment.reason,
                    now=now,
                )
                if assignment.partner_id is None:
                    unassignable += 1
                else:
                    assigned += 1
    return {"queued": len(tickets), "assigned": assigned, "unassignable": unassignable}


def _refused(ticket_ids: list[int]) -> dict[int, set[int]]:
    """Per ticket, the partners who declined it or let its offer lapse (one query)."""
    refused: dict[int, set[int]] = defaultdict(set)
    for ticket_id, partner_id in DispatchOffer.objects.filter(
        ticket_id__in=ticket_ids, state__in=(OfferState.DECLINED, OfferState.EXPIRED)
    ).values_list("ticket_id", "partner_id"):
        refused[ticket_id].add(partner_id)
    return refused


def _by_weights(tickets: list[Ticket]) -> list[tuple[engine.Weights, list[Ticket]]]:
    """The queue split by the weights its tickets are ranked with, in the queue's order.

    Practices without weights of their own share the site-wide weights and are planned
    jointly; a practice with its own weights is planned with them, after the groups before it.
    """
    groups: dict[engine.Weights, list[Ticket]] = {}
    for ticket in tickets:
        groups.setdefault(weights(ticket.practice_id), []).append(ticket)
    return list(groups.items())


def late_unstarted(now: dt.datetime, limit: int = MOVE_LIMIT):
    """P1 and late tickets of ``move_late`` practices that someone holds and nobody has
    started (new or assigned, no first response) and that were never moved yet; most urgent
    first."""
    return _loaded(
        Ticket.objects.filter(
            status__in=NOT_STARTED,
            assignee__isnull=False,
            merged_into__isnull=True,
            first_responded_at__isnull=True,
            practice__move_late=True,
        )
        .filter(Q(priority=1) | Q(first_response_due_at__lte=now))
        .exclude(dispatch_records__kind=DispatchKind.MOVED)
    ).order_by("priority", "first_response_due_at", "pk")[:limit]


def move_late(now: dt.datetime | None = None) -> dict[str, int]:
    """Give each late or P1 ticket nobody has started to the partner the engine ranks first,
    when its partner is not among those the engine would give it to now; at most once per
    ticket, so two partners never pass one back and forth.  Returns what happened."""
    now = now or timezone.now()
    looked = moved = 0
    states = None
    for ticket in late_unstarted(now):
        looked += 1
        states = states if states is not None else partner_states(now)
        # The ticket's own place in its partner's load is free again while it is ranked.
        own = [_one_less(state) if state.id == ticket.assignee_id else state for state in states]
        decision = rank(ticket, now, states=own)
        chosen = decision.chosen
        if chosen is None or chosen.partner_id == ticket.assignee_id:
            continue
        if any(c.partner_id == ticket.assignee_id for c in decision.candidates):
            continue  # their partner may still take it in time: theirs it stays
        if offers.needs_acceptance(chosen):
            continue  # a stretch of someone's radius or shift is offered, never imposed
        with transaction.atomic():
            locked = (
                Ticket.objects.select_for_update(of=("self",))
                .filter(pk=ticket.pk, status__in=NOT_STARTED, first_responded_at__isnull=True)
                .first()
            )
            if locked is None or locked.assignee_id != ticket.assignee_id:
                continue  # started or reassigned meanwhile
            why = _why_moved(ticket, decision)
            _record(
                locked,
                DispatchKind.MOVED,
                decision=decision,
                partner_id=chosen.partner_id,
                reason=why,
                now=now,
            )
            from thirdway.tickets.services.workflow import assign

            assign(
                None,
                locked,
                Partner.objects.get(pk=chosen.partner_id),
                reason=why,
                source=Source.SYSTEM,
            )
        moved += 1
        states = None  # loads changed: read them again for the next ticket
    return {"looked_at": looked, "moved": moved}


def _one_less(state: engine.PartnerState) -> engine.PartnerState:
    return replace(state, open_load=max(state.open_load - 1, 0))


def _why_moved(ticket: Ticket, decision: engine.Decision) -> str:
    held_by = ticket.assignee.name if ticket.assignee else "its partner"
    rejected = next((r for r in decision.rejected if r.partner_id == ticket.assignee_id), None)
    because = f" ({'; '.join(rejected.reasons)})" if rejected and rejected.reasons else ""
    late = (
        "late"
        if ticket.first_response_due_at and ticket.first_response_due_at <= decision.decided_at
        else "P1"
    )
    return (f"Moved: {late} and not started; {held_by} cannot take it now{because}.")[:500]
