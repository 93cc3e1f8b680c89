"""API of incident links: repeats of an open incident linked under it (``assignment.incidents``).
Whoever sees both tickets sees the link; the network may unlink a repeat, which is then
dispatched on its own."""

from __future__ import annotations

import datetime as dt

from django.db.models import Q
from django.shortcuts import get_object_or_404
from ninja import Query, Router, Schema, Status

from thirdway.audit.models import Source
from thirdway.payloads import Id
from thirdway.tickets.assignment import incidents
from thirdway.tickets.assignment.models import IncidentLink

router = Router()
LIST_LIMIT = 100


class IncidentLinkOut(Schema):
    id: int
    parent_id: int
    parent_number: str
    child_id: int
    child_number: str
    child_status: str
    why: str
    linked_at: dt.datetime


class IncidentLinkFilter(Schema):
    ticket: Id | None = None


def _links(request):
    return IncidentLink.objects.for_user(request.auth).select_related("parent", "child")


def _out(link: IncidentLink) -> dict:
    return {
        "id": link.pk,
        "parent_id": link.parent_id,
        "parent_number": link.parent.number,
        "child_id": link.child_id,
        "child_number": link.child.number,
        "child_status": link.child.status,
        "why": link.why,
        "linked_at": link.linked_at,
    }


@router.get("/incident-links", response=list[IncidentLinkOut])
def list_incident_links(request, filters: Query[IncidentLinkFilter]):
    """Links between tickets the caller sees, newest first, at most 100; ``ticket`` keeps
    those of one ticket (as the incident or as its repeat)."""
    links = _links(request).order_by("-linked_at", "-pk")
    if filters.ticket is not None:
        links = links.filter(Q(parent_id=filters.ticket) | Q(child_id=filters.ticket))
    return [_out(link) for link in links[:LIST_LIMIT]]


@router.get("/incident-links/{link_id}", response=IncidentLinkOut)
def get_incident_link(request, link_id: int):
    return _out(get_object_or_404(_links(request), pk=link_id))


@router.delete("/incident-links/{link_id}", response={204: None})
def unlink_incident(request, link_id: int):
    """Unlink the repeat from its incident (the network only); it is dispatched on its own."""
    link = get_object_or_404(_links(request), pk=link_id)
    incidents.unlink(request.auth, link.child, link.child_id, source=Source.API)
    return Status(204, None)
