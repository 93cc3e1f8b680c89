"""Surge in the desk: routine work waits out a storm of its skill, by the simulator's rule.

A skill (practice) is *in surge* when its tickets not yet started — queued with a partner or
waiting unassigned, neither held nor linked under an incident — outnumber ``surge_ratio`` times
its partners at work now (active, with the skill, on shift and not away: ``available_ids``);
the count is :func:`thirdway.dispatch.storms.in_surge`, the one the simulator uses.

In a practice with ``surge`` on (``PracticeDispatch``, off by default), a ticket that is about
to be dispatched (on arrival, or again after an offer is declined or an unlinking) and that is
deferrable (:func:`~thirdway.dispatch.storms.deferred_in_surge`: P4, and P3 with
``surge_defers_p3``) while its skill is in surge is *held*: a ``SurgeHold`` is recorded, with a
dispatch record, an audit entry and a line on its timeline, and it is not dispatched nor
re-planned with the queue. The clock's ``dispatch.surge_release`` job releases held tickets, in
arrival order, for every skill no longer in surge (or whose practice turned surge off), and
dispatches them as on arrival. A held ticket stays in the queue, marked; anyone who takes or
assigns it by hand ends its hold.

Whether or not a practice holds work, the tickets the desk ranks carry ``TicketNeed.surge``
when their skill is in surge (:func:`surging`), as the simulator's policy does.

The only writer of ``SurgeHold``.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter, defaultdict
from collections.abc import Iterable

from django.db import transaction
from django.db.models import Count
from django.utils import timezone

from thirdway.audit.models import Source
from thirdway.audit.services import record as audit_record
from thirdway.dispatch import storms
from thirdway.network.models import Practice, Skill
from thirdway.network.schedule import available_among
from thirdway.tickets.assignment.models import (
    DispatchKind,
    HoldEnd,
    IncidentLink,
    SurgeHold,
)
from thirdway.tickets.assignment.switches import switches_by_practice, switches_of
from thirdway.tickets.models import Ticket

# Held tickets released per run of the clock job, oldest first.
RELEASE_LIMIT = 500
NOT_STARTED = ("new", "assigned")
PANEL_LIMIT = 200


def open_holds():
    return SurgeHold.objects.filter(ended_at__isnull=True)


def _not_started(practice_ids: Iterable[int]):
    """The tickets of those practices that count as waiting: not started, not merged, not
    held, not linked under an incident."""
    ids = list(practice_ids)
    # Only links whose child is itself not started can take a ticket off this count; the
    # links to tickets long resolved, which pile up over the years, are not read.
    linked = IncidentLink.objects.filter(child__practice_id__in=ids, child__status__in=NOT_STARTED)
    return (
        Ticket.objects.filter(
            practice_id__in=ids,
            status__in=NOT_STARTED,
            first_responded_at__isnull=True,
            merged_into__isnull=True,
        )
        .exclude(pk__in=open_holds().values("ticket_id"))
        .exclude(pk__in=linked.values("child_id"))
    )


def waiting(practice_ids: Iterable[int]) -> Counter[int]:
    """Tickets not yet started, by practice id (one query)."""
    rows = (
        _not_started(practice_ids)
        .order_by()
        .values("practice_id")
        .annotate(n=Count("id"))
        .values_list("practice_id", "n")
    )
    return Counter(dict(rows))


def _waiting_with_ratio(practice_ids: Iterable[int]) -> tuple[Counter[int], dict[int, float]]:
    """:func:`waiting`, and the surge ratio each practice with waiting tickets set (none where
    it set none), in the same grouped query."""
    rows = (
        _not_started(practice_ids)
        .order_by()
        .values("practice_id", "practice__dispatch_settings__surge_ratio")
        .annotate(n=Count("id"))
        .values_list("practice_id", "practice__dispatch_settings__surge_ratio", "n")
    )
    count: Counter[int] = Counter()
    ratio: dict[int, float] = {}
    for practice_id, chosen, n in rows:
        count[practice_id] = n
        if chosen is not None:
            ratio[practice_id] = float(chosen)
    return count, ratio


def partners_on(practice_ids: Iterable[int], now: dt.datetime) -> Counter[int]:
    """Active partners with the skill who are at work at ``now`` (on shift, not away), by
    practice id (two queries: the skills with their partners' hours, then absences)."""
    skills = list(
        Skill.objects.filter(
            practice_id__in=list(practice_ids), level__gte=1, partner__is_active=True
        ).values_list("practice_id", "partner_id", "partner__time_zone", "partner__working_hours")
    )
    on = available_among({partner: (zone, hours) for _, partner, zone, hours in skills}, now)
    return Counter(practice for practice, partner, _, _ in skills if partner in on)


def _ratio(settings: dict | None) -> float:
    return float(settings["surge_ratio"]) if settings else storms.DEFAULT_SURGE_RATIO


def surging(
    practice_ids: Iterable[int], now: dt.datetime, *, for_the_drive: bool = False
) -> set[int]:
    """The practices among ``practice_ids`` whose skill is in surge at ``now`` (each by its
    own ratio; the default where it set none): by :func:`storms.in_surge`, or with
    ``for_the_drive`` by :func:`storms.drive_in_surge` (what the engine is told). One query
    when no skill could surge, three at most, whatever their number."""
    rule = storms.drive_in_surge if for_the_drive else storms.in_surge
    ids = {pk for pk in practice_ids if pk is not None}
    if not ids:
        return set()
    count, chosen = _waiting_with_ratio(ids)
    if not count:
        return set()
    ratio = {pk: chosen.get(pk, storms.DEFAULT_SURGE_RATIO) for pk in ids}
    # Few tickets wait in a calm week: partners are read only when the queue could surge.
    maybe = {pk for pk in ids if rule(count[pk], 1, ratio[pk])}
    if not maybe:
        return set()
    on = partners_on(maybe, now)
    return {pk for pk in maybe if rule(count[pk], on[pk], ratio[pk])}


def state(now: dt.datetime, practices=None) -> list[dict]:
    """Every practice (or those given) with its surge setting, tickets not started, partners
    at work and whether it is in surge now, by name."""
    rows = list(Practice.objects.order_by("name") if practices is None else practices)
    ids = [p.pk for p in rows]
    count, on, chosen = waiting(ids), partners_on(ids, now), switches_by_practice()
    held = Counter(
        dict(
            open_holds()
            .filter(practice_id__in=ids)
            .order_by()
            .values("practice_id")
            .annotate(n=Count("id"))
            .values_list("practice_id", "n")
        )
    )
    found = []
    for practice in rows:
        settings = chosen.get(practice.pk)
        ratio = _ratio(settings)
        found.append(
            {
                "practice": practice,
                "on": bool(settings and settings["surge"]),
                "defers_p3": bool(settings and settings["surge_defers_p3"]),
                "ratio": ratio,
                "waiting": count[practice.pk],
                "partners_on": on[practice.pk],
                "held": held[practice.pk],
                "in_surge": storms.in_surge(count[practice.pk], on[practice.pk], ratio),
            }
        )
    return found


def panel(user, now: dt.datetime, limit: int = PANEL_LIMIT) -> tuple[list[dict], list[SurgeHold]]:
    """What ``user`` sees of surges now: the skills (all for the desk and practice admins, a
    partner's own skills for them, none for anyone else) and the open holds they may see, in
    arrival order."""
    from thirdway.tickets.access import SEES_ALL

    if not (user.is_authenticated and user.is_active):
        return [], []
    if user.role in SEES_ALL:
        practices = Practice.objects.order_by("name")
    elif user.is_network_staff:
        mine = Skill.objects.filter(partner__user=user).values("practice_id")
        practices = Practice.objects.filter(pk__in=mine).order_by("name")
    else:
        return [], []
    holds = (
        SurgeHold.objects.for_user(user)
        .filter(ended_at__isnull=True)
        .select_related("ticket", "ticket__client", "practice")
        .order_by("ticket__created_at", "ticket_id")[:limit]
    )
    return state(now, practices), list(holds)


def open_hold(ticket_id: int) -> SurgeHold | None:
    return open_holds().filter(ticket_id=ticket_id).first()


def shown_hold(ticket_id: int) -> dict | None:
    """The ticket's open hold as its page shows it ("held: surge on <skill>"), or None."""
    hold = open_holds().select_related("practice").filter(ticket_id=ticket_id).first()
    if hold is None:
        return None
    return {"label": f"held: surge on {hold.practice.name}", "why": hold.why}


def hold_if_surging(ticket: Ticket, now: dt.datetime) -> SurgeHold | None:
    """Hold a locked ticket about to be dispatched when its practice holds routine work in a
    surge, it is deferrable and its skill is in surge now; None (dispatch it) otherwise."""
    if ticket.practice_id is None:
        return None
    settings = switches_of(ticket.practice_id)
    priority = f"P{min(max(ticket.priority, 1), 4)}"
    if not settings["surge"] or not storms.deferred_in_surge(priority, settings["surge_defers_p3"]):
        return None
    if open_hold(ticket.pk) is not None:
        return None
    # the tickets waiting before this one, as the simulator counts them at an arrival
    count = waiting([ticket.practice_id])[ticket.practice_id] - 1
    on = partners_on([ticket.practice_id], now)[ticket.practice_id]
    if not storms.in_surge(count, on, _ratio(settings)):
        return None
    skill = ticket.practice.name
    why = (
        f"Held: surge on {skill} ({count} ticket{'s' * (count != 1)} not started, {on} "
        f"partner{'s' * (on != 1)} at work, "
        f"ratio {_ratio(settings):g}); dispatched when the surge is over."
    )
    hold = SurgeHold.objects.create(
        ticket=ticket, practice_id=ticket.practice_id, held_at=now, why=why[:300]
    )
    from thirdway.tickets.assignment.dispatching import _record
    from thirdway.tickets.services._shared import _event

    _record(ticket, DispatchKind.HELD, reason=hold.why, now=now)
    _event(ticket, None, "surge_held", hold.why, {"practice": ticket.practice_id})
    audit_record(
        None,
        "ticket.surge_held",
        ticket,
        source=Source.SYSTEM,
        scope=f"ticket:{ticket.pk}",
        changes={"surge_hold": [None, skill]},
    )
    return hold


def _end(hold: SurgeHold, how: str, now: dt.datetime, *, actor=None, source=Source.SYSTEM):
    from thirdway.tickets.services._shared import _event

    hold.ended_at, hold.ended_how = now, how
    hold.save(update_fields=["ended_at", "ended_how"])
    text = {
        HoldEnd.RELEASED: "Surge over: released for dispatch.",
        HoldEnd.TAKEN: "Taken by hand: no longer held for the surge.",
        HoldEnd.CLOSED: "No longer held for the surge: closed, merged or started.",
    }[HoldEnd(how)]
    _event(hold.ticket, actor, "surge_released", text, {"how": how})
    audit_record(
        actor,
        "ticket.surge_released",
        hold.ticket,
        source=source,
        scope=f"ticket:{hold.ticket_id}",
        changes={"surge_hold": ["held", how]},
    )


def taken(actor, ticket: Ticket, *, source: str) -> None:
    """Called when a ticket is given to someone (by hand, or taken as their next): its open
    hold, if any, ends."""
    hold = open_holds().select_related("ticket").filter(ticket_id=ticket.pk).first()
    if hold is not None:
        _end(hold, HoldEnd.TAKEN, timezone.now(), actor=actor, source=source)


def release(now: dt.datetime | None = None) -> dict[str, int]:
    """Release held tickets, in arrival order, for every skill no longer in surge (or whose
    practice turned surge off) and dispatch them as on arrival; a hold whose ticket was
    closed, merged or given to someone meanwhile just ends. Returns what happened."""
    from thirdway.tickets.assignment import dispatching

    now = now or timezone.now()
    holds = list(
        open_holds()
        .select_related("ticket", "ticket__practice")
        .order_by("ticket__created_at", "ticket_id")[:RELEASE_LIMIT]
    )
    if not holds:
        return {"held": 0, "released": 0, "ended": 0}
    by_practice: dict[int, list[SurgeHold]] = defaultdict(list)
    for hold in holds:
        by_practice[hold.practice_id].append(hold)
    chosen = switches_by_practice()
    still = surging(
        [pk for pk in by_practice if (chosen.get(pk) or {}).get("surge")],
        now,
    )
    released = ended = 0
    for hold in holds:
        if hold.practice_id in still:
            continue
        with transaction.atomic():
            locked = open_holds().select_for_update(of=("self",)).filter(pk=hold.pk).first()
            if locked is None:
                continue
            locked.ticket = hold.ticket
            ticket = dispatching._waiting(hold.ticket_id, holds=False)
            if ticket is None:
                gone = hold.ticket.assignee_id is not None
                _end(locked, HoldEnd.TAKEN if gone else HoldEnd.CLOSED, now)
                ended += 1
                continue
            _end(locked, HoldEnd.RELEASED, now)
            released += 1
            if ticket.practice.auto_dispatch:
                dispatching._decide(ticket, DispatchKind.RELEASED, now, hold=False)
    return {"held": len(holds) - released - ended, "released": released, "ended": ended}
