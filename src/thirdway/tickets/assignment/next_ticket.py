"""Take my next ticket: urgency first in the desk, by the simulator's very rule.

A partner who comes free asks for their next ticket; it is chosen over the whole queue they
qualify for (``thirdway.dispatch.engine.next_ticket``): the unassigned tickets and the tickets
other partners hold and have not started, when more urgent than the first of their own queue.
Only tickets of the clients the partner serves (lead or team) are looked at.  Rows are turned
into the engine's inputs as ``dispatching`` does for ``engine.rank``.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from thirdway.audit.models import Source
from thirdway.clients.models import Client
from thirdway.dispatch import engine
from thirdway.dispatch.engine import next_ticket as rule
from thirdway.network.models import Partner
from thirdway.tickets.assignment import dispatching, offers
from thirdway.tickets.assignment.models import (
    DispatchKind,
    DispatchOffer,
    IncidentLink,
    OfferState,
)
from thirdway.tickets.lifecycle import Status
from thirdway.tickets.models import Ticket

# Tickets read per call, most urgent first (unassigned and held alike).
LIMIT = 500


@dataclass(frozen=True)
class Inputs:
    own: rule.Order | None
    waiting: list[rule.Open]
    others: list[rule.Held]
    may_take: Callable[[rule.Open], bool]
    now_s: int


def served_clients(partner: Partner) -> list[int]:
    led = Client.objects.filter(lead_partner=partner).values_list("pk", flat=True)
    team = Client.team.through.objects.filter(partner=partner).values_list("client_id", flat=True)
    return sorted({*led, *team})


def _not_started():
    return dispatching._loaded(
        Ticket.objects.filter(
            status__in=dispatching.NOT_STARTED,
            first_responded_at__isnull=True,
            merged_into__isnull=True,
        )
    )


def inputs(partner: Partner, now: dt.datetime, practices=None) -> Inputs | None:
    """The rule's inputs for ``partner`` coming free at ``now``; None when they are not in
    the pool (inactive). ``practices``: only tickets of these practices are looked at (their
    own queue is whole)."""
    clients = served_clients(partner)
    own_tickets = list(_not_started().filter(assignee=partner).order_by("priority", "pk")[:LIMIT])
    offered = DispatchOffer.objects.filter(state=OfferState.OPEN).values("ticket_id")
    # Only links whose child is itself not started can take a ticket out of the pool; links to
    # tickets long resolved, which pile up over the years, are not read.
    children = IncidentLink.objects.filter(child__status__in=dispatching.NOT_STARTED).values(
        "child_id"
    )
    pool = list(
        _not_started()
        .filter(client_id__in=clients)
        .filter(
            Q(assignee__isnull=True, status=Status.NEW)
            | Q(assignee__isnull=False, assignee__is_active=True)
        )
        .exclude(assignee=partner)
        .exclude(pk__in=offered)
        .exclude(pk__in=children)
        .filter(Q() if practices is None else Q(practice_id__in=list(practices)))
        .order_by("priority", "first_response_due_at", "pk")[:LIMIT]
    )
    tickets = own_tickets + pool
    needs = {need.id: need for need in dispatching.needs_of(tickets, now)}
    states = dispatching.partner_states(now)
    if partner.pk not in {s.id for s in states}:
        return None
    index = engine.PartnerIndex.for_tickets(states, needs.values(), now)
    now_s = engine.epoch(now)
    by_pk = {t.pk: t for t in tickets}

    def unstarted(ticket: Ticket) -> rule.Open:
        need = needs[ticket.pk]
        due = engine.epoch(need.response_due_at)
        return rule.Open(ticket.pk, ticket.pk, need.priority, due, need.needs_onsite)

    def failures(ticket_id: int, partner_id: int) -> dict:
        ticket = by_pk[ticket_id]
        rows = np.array([index.row(partner_id)])
        weights = dispatching.weights(ticket.practice_id)
        return engine.evaluate(needs[ticket_id], index, weights, now_s, rows).failures

    def may_take(open_: rule.Open) -> bool:
        found = failures(open_.key, partner.pk)
        return not any(found[name][0] for name in rule.FILTERS if name in found)

    def late(holder: int, queue: list[rule.Open]):
        """The holder's tickets the engine says they cannot start before their due time."""

        def keys() -> list[int]:
            if holder not in {s.id for s in states}:
                return [t.key for t in queue]
            found = [(t, failures(t.key, holder).get("availability")) for t in queue]
            return [t.key for t, flags in found if flags is not None and flags[0]]

        return keys

    own = min((unstarted(t).order() for t in own_tickets), default=None)
    held: dict[int, list[rule.Open]] = defaultdict(list)
    waiting = []
    for ticket in pool:
        if ticket.assignee_id is None:
            waiting.append(unstarted(ticket))
        else:
            held[ticket.assignee_id].append(unstarted(ticket))
    busy = set(
        Ticket.objects.filter(assignee_id__in=list(held), status=Status.IN_PROGRESS).values_list(
            "assignee_id", flat=True
        )
    )
    others = [
        rule.Held(queue, holder in busy, late(holder, queue))
        for holder, queue in sorted(held.items())
    ]
    return Inputs(own, waiting, others, may_take, now_s)


def choose(partner: Partner, now: dt.datetime, practices=None) -> rule.Pick | None:
    """The ticket ``partner`` should take next at ``now`` (records nothing); ``practices`` as
    for :func:`inputs`."""
    found = inputs(partner, now, practices)
    if found is None:
        return None
    return rule.next_ticket(found.own, found.waiting, found.others, found.now_s, found.may_take)


def take_next(user, *, source: str = Source.WEB, now: dt.datetime | None = None) -> Ticket | None:
    """Give ``user``'s partner the ticket they should take next, recorded with its reason and
    audited as an assignment; None (nothing changed) when there is none."""
    partner = offers.partner_of(user)
    if partner is None or not partner.is_active or not user.is_network_staff:
        raise PermissionDenied("Only an active partner takes tickets.")
    now = now or timezone.now()
    with transaction.atomic():
        pick = choose(partner, now)
        if pick is None:
            return None
        return give(partner, pick, actor=user, source=source, now=now)


def give(
    partner: Partner, pick: rule.Pick, *, actor, source: str, now: dt.datetime, reason: str = ""
) -> Ticket | None:
    """Assign the picked ticket to ``partner`` (in the caller's transaction), recorded as
    *Taken as the most urgent next* with ``reason`` (the pick's by default) and audited;
    None when it was started or taken by them meanwhile. ``actor`` None: taken for them."""
    from thirdway.tickets.services.workflow import assign

    ticket = (
        dispatching._loaded(Ticket.objects.select_for_update(of=("self",)))
        .filter(
            pk=pick.ticket.key,
            status__in=dispatching.NOT_STARTED,
            first_responded_at__isnull=True,
        )
        .first()
    )
    if ticket is None or ticket.assignee_id == partner.pk:
        return None  # started or taken meanwhile
    reason = reason or pick.reason
    dispatching._record(
        ticket, DispatchKind.TAKEN, partner_id=partner.pk, actor=actor, reason=reason, now=now
    )
    return assign(actor, ticket, partner, reason=reason, source=source)
