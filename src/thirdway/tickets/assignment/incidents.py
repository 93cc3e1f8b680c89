"""Storms in the desk: a new ticket that repeats an open incident is linked under it.

In a practice that links incidents (``PracticeDispatch.link_incidents``, off by default), a
ticket arriving unassigned is matched by the simulator's rule (``dispatch/storms.py``
``link_incident``): the same client and practice, arrived at most 15 minutes after an open
ticket that is not itself linked, the same site and the same asset where both name them, and
never under a less urgent ticket. Linked, it is not dispatched: the parent is. When the parent
is started its children are answered (their first response is the parent's start), and when
it is resolved or closed, so are they, given to the parent's partner. A person may unlink a
child; it is then dispatched on its own.

The only writer of ``IncidentLink``; every act is audited and told on both timelines.
"""

from __future__ import annotations

import datetime as dt

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.utils import timezone

from thirdway.audit.models import Source
from thirdway.audit.services import record as audit_record
from thirdway.dispatch import storms
from thirdway.errors import invalid
from thirdway.tickets.access import can_work_on
from thirdway.tickets.assignment.models import IncidentLink
from thirdway.tickets.assignment.switches import switches_of
from thirdway.tickets.lifecycle import OPEN, Status, allowed_from
from thirdway.tickets.models import Ticket

WINDOW = dt.timedelta(seconds=storms.DEFAULT_WINDOW_S)
FINISHING = (Status.RESOLVED, Status.CLOSED)


def _seconds(moment: dt.datetime) -> int:
    return int(moment.timestamp())


def _as_incident(ticket: Ticket) -> storms.IncidentTicket:
    return storms.IncidentTicket(
        id=ticket.pk,
        client=ticket.client_id,
        practice=str(ticket.practice_id),
        arrival_s=_seconds(ticket.created_at),
        site=ticket.site_id,
        asset=ticket.asset_id,
    )


def parent_for(ticket: Ticket) -> Ticket | None:
    """The open ticket ``ticket`` repeats, by the storms rule, or None."""
    created = ticket.created_at
    nearby = (
        Ticket.objects.filter(
            client_id=ticket.client_id,
            practice_id=ticket.practice_id,
            status__in=OPEN,
            merged_into__isnull=True,
            created_at__gte=created - WINDOW,
            created_at__lte=created,
            # never under a less urgent ticket: a P1 does not wait on a P4's partner
            priority__lte=ticket.priority,
            incident_parent__isnull=True,
        )
        .exclude(pk=ticket.pk)
        .order_by("created_at", "pk")[:200]
    )
    found = {t.pk: t for t in nearby}
    parent_id = storms.link_incident(
        _as_incident(ticket), [_as_incident(t) for t in found.values()], int(WINDOW.seconds)
    )
    return found.get(parent_id) if parent_id is not None else None


def link_on_arrival(ticket: Ticket, now: dt.datetime | None = None) -> IncidentLink | None:
    """Link a new, unassigned ticket under the incident it repeats, when its practice links
    incidents; None when it is not linked (it is then dispatched as usual)."""
    if ticket.practice_id is None or ticket.assignee_id is not None:
        return None
    if not switches_of(ticket.practice_id)["link_incidents"]:
        return None
    if IncidentLink.objects.filter(parent=ticket).exists():
        return None  # already an incident of its own
    parent = parent_for(ticket)
    if parent is None:
        return None
    now = now or timezone.now()
    why = _why(ticket, parent)
    entry = IncidentLink.objects.create(parent=parent, child=ticket, why=why, linked_at=now)
    _told(ticket, parent, entry, linked=True)
    if parent.status not in (Status.NEW, Status.ASSIGNED):
        _answer(ticket, parent, now)  # the incident is being worked on already
    return entry


def _why(ticket: Ticket, parent: Ticket) -> str:
    minutes = max(0, round((ticket.created_at - parent.created_at).total_seconds() / 60))
    same = ["client", "practice"]
    if ticket.site_id and parent.site_id:
        same.append("site")
    if ticket.asset_id and parent.asset_id:
        same.append("asset")
    return f"Same {', '.join(same)}, {minutes} min after {parent.number}."


def _told(
    child: Ticket,
    parent: Ticket,
    entry: IncidentLink,
    *,
    linked: bool,
    actor=None,
    source: str = Source.SYSTEM,
) -> None:
    from thirdway.tickets.services._shared import _event

    if linked:
        child_text = (
            f"Linked under incident {parent.number}: {entry.why} Answered when it is "
            "started and resolved with it; not dispatched on its own."
        )
        parent_text = f"{child.number} linked under this incident: {entry.why}"
    else:
        child_text = f"Unlinked from incident {parent.number}; dispatched on its own."
        parent_text = f"{child.number} unlinked from this incident."
    event = "incident_linked" if linked else "incident_unlinked"
    _event(child, actor, event, child_text, {"parent": parent.pk})
    _event(parent, actor, event, parent_text, {"child": child.pk})
    audit_record(
        actor,
        f"ticket.{event}",
        child,
        source=source,
        scope=f"ticket:{child.pk}",
        changes={"incident_parent": [None, parent.pk] if linked else [parent.pk, None]},
    )


def is_linked(ticket_id: int) -> bool:
    return IncidentLink.objects.filter(child_id=ticket_id).exists()


def parent_moved(ticket: Ticket, target: Status, source: str) -> None:
    """Called with each status change of a ticket: an incident's children are answered when
    it is started, and resolved or closed with it."""
    if target != Status.IN_PROGRESS and target not in FINISHING:
        return
    children = list(
        Ticket.objects.select_for_update(of=("self",)).filter(
            incident_parent__parent=ticket, status__in=OPEN
        )
    )
    now = timezone.now()
    for child in children:
        if target == Status.IN_PROGRESS:
            _answer(child, ticket, now)
        else:
            _finish(child, ticket, target, source)


def _answer(child: Ticket, parent: Ticket, now: dt.datetime) -> None:
    from thirdway.tickets.services._shared import _event
    from thirdway.tickets.sla_clocks import clocks

    if child.first_responded_at is not None:
        return
    child.first_responded_at = now
    child.save(update_fields=["first_responded_at", "updated_at"])
    clocks.refresh(child, now)
    who = parent.assignee.name if parent.assignee_id else "its partner"
    _event(
        child,
        None,
        "incident_answered",
        f"Answered with incident {parent.number}: {who} started it.",
        {"parent": parent.pk},
    )


def _finish(child: Ticket, parent: Ticket, target: Status, source: str) -> None:
    from thirdway.tickets.services.workflow import _set_status

    if child.assignee_id is None and parent.assignee_id is not None:
        child.assignee_id = parent.assignee_id
        child.save(update_fields=["assignee", "updated_at"])
    if target.value not in allowed_from(child.status):
        return
    verb = "Resolved" if target == Status.RESOLVED else "Closed"
    _set_status(None, child, target, f"{verb} with incident {parent.number}.", source)


def unlink(actor, ticket: Ticket, child_id: int, *, source: str) -> Ticket:
    """Unlink a child from its incident (from the child's page or its parent's); the child is
    then dispatched on its own. Returns the child."""
    from thirdway.tickets.assignment.arrival import dispatch_when_committed

    if not can_work_on(actor, ticket):
        raise PermissionDenied("Only the network may unlink a ticket from its incident.")
    with transaction.atomic():
        entry = (
            IncidentLink.objects.select_for_update(of=("self",))
            .select_related("parent", "child", "child__practice")
            .filter(child_id=child_id)
            .first()
        )
        if entry is None or ticket.pk not in (entry.parent_id, entry.child_id):
            raise invalid(
                "child",
                "That ticket is not linked under this incident.",
                "a ticket linked under this one, or this ticket itself",
            )
        child, parent = entry.child, entry.parent
        entry.delete()
        _told(child, parent, entry, linked=False, actor=actor, source=source)
        if child.status == Status.NEW:
            dispatch_when_committed(child, link=False)
    return child
