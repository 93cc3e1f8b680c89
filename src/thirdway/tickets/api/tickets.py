"""API of tickets: finding, opening and changing them."""

from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Q, prefetch_related_objects
from django.shortcuts import get_object_or_404
from ninja import Query, Router, Status
from ninja.pagination import paginate

from thirdway.access import find_visible
from thirdway.audit.models import Source
from thirdway.clients.models import Client
from thirdway.errors import invalid, refuse_nulls
from thirdway.payloads import MAX_QUERY, CappedPage, Id
from thirdway.tickets import services
from thirdway.tickets.access import can_work_on
from thirdway.tickets.api.finding import (
    _fresh,
    _fresh_article,
    _other_ticket,
    _ticket,
    _tickets,
)
from thirdway.tickets.api.schemas import (
    MAX_STATUSES,
    NOT_NULL,
    ArticleIn,
    ArticleOut,
    AssignIn,
    BulkIn,
    BulkOut,
    HitOut,
    LinkIn,
    LinkOut,
    MergeIn,
    Priority,
    PriorityIn,
    SlaName,
    SortName,
    SplitIn,
    StatusFilterName,
    StatusIn,
    TicketDetailOut,
    TicketIn,
    TicketOut,
    TicketPatch,
)
from thirdway.tickets.filters import TicketFilter
from thirdway.tickets.idempotency import idempotent
from thirdway.tickets.models import TAG_LENGTH, Channel, Tag, Ticket, TicketLink
from thirdway.tickets.search import search

router = Router()
# Each status or priority is worth giving once: longer lists are refused.
STATUS_FILTER = Query(None, max_length=MAX_STATUSES)
PRIORITY_FILTER = Query(None, max_length=4)
TAG_FILTER = Query(None, max_length=TAG_LENGTH)
TEXT_FILTER = Query(None, max_length=MAX_QUERY)
SEARCH_TEXT = Query(..., max_length=MAX_QUERY)
SLA_FILTER = Query(
    None,
    description="breached: the next SLA deadline has passed; "
    "soon: it falls within the next four hours.",
)
# Search answers its best matches, at most 50.
SEARCH_LIMIT = Query(20, ge=1, le=50)


@router.get("/tickets", response=list[TicketOut])
@paginate(CappedPage)
def list_tickets(
    request,
    status: list[StatusFilterName] | None = STATUS_FILTER,
    client: Id | None = None,
    assignee: Id | None = None,
    unassigned: bool | None = None,
    practice: Id | None = None,
    priority: list[Priority] | None = PRIORITY_FILTER,
    requester: Id | None = None,
    tag: str | None = TAG_FILTER,
    q: str | None = TEXT_FILTER,
    sla: SlaName | None = SLA_FILTER,
    sort: SortName = "-updated_at",
):
    """Tickets the caller sees, filtered (several ``status`` or ``priority`` values may be
    given; ``status=open`` is every status but resolved and closed) and sorted; ``q`` keeps
    those among the best 500 matches of ``/tickets/search``.  ``count`` is exact up to 10,000
    tickets; past that it is 10,001 and ``count_capped`` is true."""
    given = {
        "status": status,
        "priority": priority,
        "client": client,
        "practice": practice,
        "assignee": assignee,
        "unassigned": unassigned,
        "requester": requester,
        "tag": tag,
        "q": q,
        "sla": sla,
        "sort": sort,
    }
    filters = TicketFilter(given, _tickets(request.auth), user=request.auth)
    if not filters.is_valid():
        raise ValidationError(filters.errors.as_data())
    return filters.qs


@router.get("/tickets/search", response=list[HitOut])
def search_tickets(request, q: str = SEARCH_TEXT, limit: int = SEARCH_LIMIT):
    """Tickets the caller sees that match ``q``; ``snippet`` is HTML with ``<mark>`` around the
    matches, escaped otherwise.  Internal notes are searched for the network only."""
    return [
        {
            "id": hit.ticket.pk,
            "number": hit.ticket.number,
            "subject": hit.ticket.subject,
            "status": hit.ticket.status,
            "snippet": hit.snippet,
        }
        for hit in search(request.auth, q, limit=limit)
    ]


@router.get("/tickets/{int:ticket_id}", response=TicketDetailOut)
def get_ticket(request, ticket_id: int):
    ticket = _ticket(request, ticket_id)
    links = list(TicketLink.objects.filter(Q(source=ticket) | Q(target=ticket)).order_by("id"))
    others = {link.target_id if link.source_id == ticket.pk else link.source_id for link in links}
    seen = set(
        Ticket.objects.for_user(request.auth).filter(pk__in=others).values_list("pk", flat=True)
    )
    ticket.visible_links = [
        link for link in links if {link.source_id, link.target_id} - {ticket.pk} <= seen
    ]
    return ticket


# --- opening and changing tickets --------------------------------------------------------------


def _client_of_payload(user, client_id: int | None) -> Client:
    if not (user.is_network_staff or user.is_client_contact):
        raise PermissionDenied("Only the network and client contacts may open tickets.")
    if client_id is None:
        contact = getattr(user, "contact", None)
        if user.is_client_contact and contact is not None:
            return contact.client
        raise invalid("client", "Say which client the ticket is for.", "a client's id")
    return find_visible(Client.objects.for_user(user), "client", client_id)


@router.post("/tickets", response={201: TicketOut})
@idempotent
def create_ticket(request, payload: TicketIn):
    """Open a ticket with its first public message (``body_html`` is sanitised, or give
    ``body_text``).  Its channel is ``api``.  The assignee and a priority other than the
    matrix's are for the network to set."""
    user = request.auth
    data = payload.model_dump()
    client = _client_of_payload(user, data.pop("client"))
    if not user.is_network_staff:
        for field in ("assignee", "priority"):
            if data[field] is not None:
                raise PermissionDenied(f"Only the network may set the {field} of a ticket.")
    ticket = services.create_ticket(
        user,
        client,
        subject=data["subject"],
        body_html=data["body_html"],
        body_text=data["body_text"],
        requester_id=data["requester"],
        site_id=data["site"],
        asset_id=data["asset"],
        practice_id=data["practice"],
        assignee_id=data["assignee"],
        category=data["category"],
        type=data["type"],
        impact=data["impact"],
        urgency=data["urgency"],
        priority=data["priority"],
        priority_reason=data["priority_reason"],
        needs_onsite=data["needs_onsite"],
        visit_starts_at=data["visit_starts_at"],
        visit_ends_at=data["visit_ends_at"],
        tags=data["tags"],
        channel=Channel.API,
        source=Source.API,
    )
    # The new ticket as saved, with its client, requester and assignee already loaded.
    if data["tags"]:
        prefetch_related_objects([ticket], "tags")
    else:  # nothing to read for a ticket opened without tags
        ticket._prefetched_objects_cache = {"tags": Tag.objects.none()}
    return Status(201, ticket)


@router.patch("/tickets/{int:ticket_id}", response=TicketOut)
def update_ticket(request, ticket_id: int, payload: TicketPatch):
    """Change the descriptive fields; ids of the requester, site and asset must be of the
    ticket's client."""
    ticket = _ticket(request, ticket_id)
    data = payload.model_dump(exclude_unset=True)
    refuse_nulls(name for name in NOT_NULL if name in data and data[name] is None)
    services.update_ticket(request.auth, ticket, data, source=Source.API)
    return _fresh(ticket.pk)


@router.post("/tickets/{int:ticket_id}/reply", response={201: ArticleOut})
@idempotent
def reply(request, ticket_id: int, payload: ArticleIn):
    """A public reply: from the network, or from a contact of the ticket's client."""
    ticket = _ticket(request, ticket_id)
    article = services.reply(
        request.auth,
        ticket,
        body_html=payload.body_html,
        body_text=payload.body_text,
        time_spent_minutes=payload.time_spent_minutes,
        work_type=payload.work_type,
        billable=payload.billable,
        channel=Channel.API,
        source=Source.API,
    )
    return Status(201, _fresh_article(article.pk))


@router.post("/tickets/{int:ticket_id}/note", response={201: ArticleOut})
@idempotent
def note(request, ticket_id: int, payload: ArticleIn):
    """An internal note, for the network only; never shown to the client."""
    ticket = _ticket(request, ticket_id)
    article = services.note(
        request.auth,
        ticket,
        body_html=payload.body_html,
        body_text=payload.body_text,
        time_spent_minutes=payload.time_spent_minutes,
        work_type=payload.work_type,
        billable=payload.billable,
        source=Source.API,
    )
    return Status(201, _fresh_article(article.pk))


@router.post("/tickets/{int:ticket_id}/status", response=TicketOut)
@idempotent
def change_status(request, ticket_id: int, payload: StatusIn):
    """Move the ticket along its lifecycle; a refused move is a 409 listing the allowed ones.
    A parent with open children is resolved or closed only with ``force`` and a reason."""
    ticket = _ticket(request, ticket_id)
    services.change_status(
        request.auth,
        ticket,
        payload.status,
        reason=payload.reason,
        force=payload.force,
        source=Source.API,
    )
    return _fresh(ticket.pk)


def _require_worker(user, ticket: Ticket) -> None:
    """Refuse a contact before looking at the ids in the payload."""
    if not can_work_on(user, ticket):
        raise PermissionDenied("Only the network may change this ticket.")


@router.post("/tickets/{int:ticket_id}/assign", response=TicketOut)
@idempotent
def assign(request, ticket_id: int, payload: AssignIn):
    """Give the ticket to a partner, or back to the queue with ``partner: null``."""
    ticket = _ticket(request, ticket_id)
    _require_worker(request.auth, ticket)
    partner = None
    if payload.partner is not None:
        partner = services.resolve_assignee(request.auth, payload.partner, "partner")
    services.assign(request.auth, ticket, partner, reason=payload.reason, source=Source.API)
    return _fresh(ticket.pk)


@router.post("/tickets/{int:ticket_id}/priority", response=TicketOut)
@idempotent
def change_priority(request, ticket_id: int, payload: PriorityIn):
    """Set impact and urgency (the priority follows the matrix), or override the priority
    with a reason."""
    ticket = _ticket(request, ticket_id)
    services.change_priority(
        request.auth,
        ticket,
        priority=payload.priority,
        impact=payload.impact,
        urgency=payload.urgency,
        reason=payload.reason,
        source=Source.API,
    )
    return _fresh(ticket.pk)


@router.post("/tickets/{int:ticket_id}/merge", response=TicketOut)
@idempotent
def merge(request, ticket_id: int, payload: MergeIn):
    """Move every article and attachment into ticket ``into`` (same client); answers with it."""
    ticket = _ticket(request, ticket_id)
    _require_worker(request.auth, ticket)
    target = _other_ticket(request, "into", payload.into)
    merged = services.merge(request.auth, ticket, target, field="into", source=Source.API)
    return _fresh(merged.pk)


@router.post("/tickets/{int:ticket_id}/split", response={201: TicketOut})
@idempotent
def split(request, ticket_id: int, payload: SplitIn):
    """Move the given replies and notes (with their files) to a new ticket; answers with it."""
    ticket = _ticket(request, ticket_id)
    new = services.split(
        request.auth, ticket, payload.articles, subject=payload.subject, source=Source.API
    )
    return Status(201, _fresh(new.pk))


@router.post("/tickets/{int:ticket_id}/links", response={201: LinkOut})
@idempotent
def add_link(request, ticket_id: int, payload: LinkIn):
    """Relate this ticket to ``target``; ``parent`` makes this ticket the parent of target."""
    ticket = _ticket(request, ticket_id)
    _require_worker(request.auth, ticket)
    target = _other_ticket(request, "target", payload.target)
    link = services.link(request.auth, ticket, target, payload.kind, source=Source.API)
    return Status(201, link)


@router.delete("/tickets/{int:ticket_id}/links/{int:link_id}", response={204: None})
def remove_link(request, ticket_id: int, link_id: int):
    ticket = _ticket(request, ticket_id)
    _require_worker(request.auth, ticket)
    link = get_object_or_404(
        TicketLink.objects.select_related("source").filter(Q(source=ticket) | Q(target=ticket)),
        pk=link_id,
    )
    other = link.target_id if link.source_id == ticket.pk else link.source_id
    get_object_or_404(Ticket.objects.for_user(request.auth), pk=other)
    services.unlink(request.auth, link, source=Source.API)
    return Status(204, None)


@router.post("/tickets/bulk", response=BulkOut)
@idempotent
def bulk(request, payload: BulkIn):
    """The same change to many tickets; each is updated or refused on its own (a ticket the
    caller cannot see is refused as not found)."""
    user = request.auth
    if (
        payload.status is None
        and payload.assignee is None
        and not payload.unassign
        and payload.priority is None
        and not payload.add_tags
    ):
        raise invalid(
            "__all__",
            "Nothing to change.",
            "at least one of status, assignee, unassign, priority, add_tags",
        )
    assignee = None
    if payload.assignee is not None:
        assignee = services.resolve_assignee(user, payload.assignee)
    wanted = list(dict.fromkeys(payload.tickets))
    found = Ticket.objects.for_user(user).in_bulk(wanted)
    result = services.bulk_update(
        user,
        [found[pk] for pk in wanted if pk in found],
        status=payload.status,
        assignee=assignee,
        unassign=payload.unassign,
        priority=payload.priority,
        reason=payload.reason,
        add_tags=payload.add_tags,
        source=Source.API,
    )
    refused = [{"id": pk, "reason": "Not found."} for pk in wanted if pk not in found]
    refused += [{"id": pk, "reason": reason} for pk, reason in result.refused.items()]
    return {"updated": result.updated, "refused": sorted(refused, key=lambda item: item["id"])}
