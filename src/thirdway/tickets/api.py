"""API of the service desk: tickets, their timeline and files, search, and webhooks.

Who sees what is ``Ticket.objects.for_user`` (and the article and attachment rules built on
it): a ticket, article or attachment the caller cannot see is a 404, as if it did not exist.
An id in a payload that is unknown, not visible or of another client is a 400 naming the field.
Every POST takes an ``Idempotency-Key`` header (see ``thirdway.tickets.idempotency``).
"""

import datetime as dt
import html
import secrets
from typing import Annotated, Literal
from urllib.parse import urlsplit

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Q, prefetch_related_objects
from django.http import FileResponse, Http404
from django.shortcuts import get_object_or_404
from django.urls import reverse
from ninja import Field, File, Form, Query, Router, Schema, Status, UploadedFile
from ninja.pagination import LimitOffsetPagination, paginate
from pydantic import AfterValidator, AwareDatetime

from thirdway.audit.models import Source
from thirdway.audit.services import diff, record, snapshot
from thirdway.clients.models import Asset, Client, Contact, Site
from thirdway.network.models import Absence, Partner, Practice
from thirdway.tickets import services
from thirdway.tickets.access import can_work_on
from thirdway.tickets.assignment import continuity
from thirdway.tickets.idempotency import idempotent
from thirdway.tickets.lifecycle import Status as TicketStatus
from thirdway.tickets.models import (
    Article,
    Attachment,
    Channel,
    Tag,
    Ticket,
    TicketLink,
    Webhook,
    WebhookDelivery,
    number_of,
)
from thirdway.tickets.search import search
from thirdway.tickets.sla_clocks import clocks
from thirdway.tickets.webhooks import events

router = Router()

StatusName = Literal[tuple(status.value for status in TicketStatus)]
TypeName = Literal["incident", "service_request", "change", "problem", "alert", "maintenance"]
LinkKindName = Literal["related", "duplicate", "parent"]
EventName = Literal[events.EVENTS]
SortName = Literal[
    "-updated_at",
    "updated_at",
    "-created_at",
    "created_at",
    "priority",
    "-priority",
    "number",
    "sla_due_at",
]
SORTS = {
    "-updated_at": ["-updated_at", "-id"],
    "updated_at": ["updated_at", "id"],
    "-created_at": ["-created_at", "-id"],
    "created_at": ["created_at", "id"],
    "priority": ["priority", "-updated_at", "-id"],
    "-priority": ["-priority", "-updated_at", "-id"],
    "number": ["id"],
    "sla_due_at": list(clocks.BREACHES_SOONEST),
}


def _decoded(text: str) -> str:
    """Character references decoded until none are left, so that markup hidden in them
    (``&lt;script&gt;``) reaches the services' cleaning as markup and is stripped as such."""
    while (decoded := html.unescape(text)) != text:
        text = decoded
    return text


# A one-line text field (subject, category, reason): the services strip any markup from it.
Line = Annotated[str, AfterValidator(_decoded)]


def _invalid(field: str, message: str, allowed: str) -> ValidationError:
    return ValidationError({field: ValidationError(message, params={"allowed": allowed})})


def _visible(user, model, field: str, object_id, client: Client | None = None):
    """An object named by id in a payload: one the caller sees (of ``client`` when given)."""
    if object_id is None:
        return None
    found = model.objects.for_user(user).filter(pk=object_id)
    if client is not None:
        found = found.filter(client=client)
    found = found.first()
    if found is None:
        noun = model._meta.verbose_name
        where = f" at {client.name}" if client is not None else ""
        raise _invalid(
            field,
            f"No {noun} with id {object_id}{where}.",
            f"the id of a {noun}{where} you can see",
        )
    return found


# --- schemas -----------------------------------------------------------------------------------


class TicketOut(Schema):
    id: int
    number: str
    subject: str
    status: str
    status_label: str
    type: str
    category: str
    impact: int
    urgency: int
    priority: int
    priority_reason: str
    channel: str
    client_id: int
    client_name: str
    requester_id: int | None
    requester_name: str | None
    site_id: int | None
    asset_id: int | None
    practice_id: int | None
    assignee_id: int | None
    assignee_name: str | None
    needs_onsite: bool
    visit_starts_at: dt.datetime | None
    visit_ends_at: dt.datetime | None
    tags: list[str]
    merged_into_id: int | None
    created_at: dt.datetime
    updated_at: dt.datetime
    first_responded_at: dt.datetime | None
    resolved_at: dt.datetime | None
    closed_at: dt.datetime | None
    first_response_due_at: dt.datetime | None
    next_response_due_at: dt.datetime | None
    resolution_due_at: dt.datetime | None
    sla_due_at: dt.datetime | None

    @staticmethod
    def resolve_status_label(obj: Ticket) -> str:
        return obj.get_status_display()

    @staticmethod
    def resolve_client_name(obj: Ticket) -> str:
        return obj.client.name

    @staticmethod
    def resolve_requester_name(obj: Ticket) -> str | None:
        return obj.requester.name if obj.requester_id else None

    @staticmethod
    def resolve_assignee_name(obj: Ticket) -> str | None:
        return obj.assignee.name if obj.assignee_id else None

    @staticmethod
    def resolve_tags(obj: Ticket) -> list[str]:
        return [tag.name for tag in obj.tags.all()]


class LinkOut(Schema):
    id: int
    kind: str
    source_id: int
    source_number: str
    target_id: int
    target_number: str

    @staticmethod
    def resolve_source_number(obj: TicketLink) -> str:
        return number_of(obj.source_id)

    @staticmethod
    def resolve_target_number(obj: TicketLink) -> str:
        return number_of(obj.target_id)


class TicketDetailOut(TicketOut):
    links: list[LinkOut]

    @staticmethod
    def resolve_links(obj: Ticket) -> list[TicketLink]:
        return getattr(obj, "visible_links", [])


class AttachmentOut(Schema):
    id: int
    filename: str
    content_type: str
    size: int
    sha256: str
    url: str

    @staticmethod
    def resolve_url(obj: Attachment) -> str:
        return reverse("api:ticket_attachment", kwargs={"attachment_id": obj.pk})


class ArticleOut(Schema):
    id: int
    ticket_id: int
    kind: str
    author_label: str
    body_html: str
    body_text: str
    event: str
    data: dict
    channel: str
    time_spent_minutes: int
    created_at: dt.datetime
    attachments: list[AttachmentOut]

    @staticmethod
    def resolve_attachments(obj: Article) -> list[Attachment]:
        return list(obj.attachments.all())


class TicketIn(Schema, extra="forbid"):
    client: int | None = Field(None, description="Required for the network; a contact's own.")
    subject: Line
    body_html: str | None = None
    body_text: str | None = None
    requester: int | None = None
    site: int | None = None
    asset: int | None = None
    practice: int | None = None
    assignee: int | None = None
    category: Line = ""
    type: TypeName = "incident"
    impact: int = Field(2, ge=1, le=3)
    urgency: int = Field(2, ge=1, le=3)
    priority: int | None = Field(None, ge=1, le=4)
    priority_reason: Line = ""
    needs_onsite: bool = False
    visit_starts_at: AwareDatetime | None = None
    visit_ends_at: AwareDatetime | None = None
    tags: list[Line] = []


class TicketPatch(Schema, extra="forbid"):
    subject: Line | None = None
    category: Line | None = None
    type: TypeName | None = None
    practice: int | None = None
    site: int | None = None
    asset: int | None = None
    requester: int | None = None
    needs_onsite: bool | None = None
    visit_starts_at: AwareDatetime | None = None
    visit_ends_at: AwareDatetime | None = None
    tags: list[Line] | None = None


NOT_NULL = ("subject", "category", "type", "needs_onsite", "tags")


class ArticleIn(Schema, extra="forbid"):
    body_html: str | None = None
    body_text: str | None = None
    time_spent_minutes: int = Field(0, ge=0, le=1440)


class StatusIn(Schema, extra="forbid"):
    status: str
    reason: str = ""
    force: bool = False


class AssignIn(Schema, extra="forbid"):
    partner: int | None
    reason: str = ""


class PriorityIn(Schema, extra="forbid"):
    priority: int | None = Field(None, ge=1, le=4)
    impact: int | None = Field(None, ge=1, le=3)
    urgency: int | None = Field(None, ge=1, le=3)
    reason: str = ""


class MergeIn(Schema, extra="forbid"):
    into: int


class SplitIn(Schema, extra="forbid"):
    articles: list[int] = Field(min_length=1)
    subject: Line = ""


class LinkIn(Schema, extra="forbid"):
    target: int
    kind: LinkKindName = "related"


class BulkIn(Schema, extra="forbid"):
    tickets: list[int] = Field(min_length=1, max_length=200)
    status: str | None = None
    assignee: int | None = None
    unassign: bool = False
    priority: int | None = Field(None, ge=1, le=4)
    reason: str = ""
    add_tags: list[Line] = []


class Refusal(Schema):
    id: int
    reason: str


class BulkOut(Schema):
    updated: list[int]
    refused: list[Refusal]


class HitOut(Schema):
    id: int
    number: str
    subject: str
    status: str
    snippet: str


# --- finding tickets ---------------------------------------------------------------------------


def _tickets(user):
    return (
        Ticket.objects.for_user(user)
        .select_related("client", "requester", "assignee")
        .prefetch_related("tags")
    )


def _ticket(request, ticket_id: int) -> Ticket:
    return get_object_or_404(_tickets(request.auth), pk=ticket_id)


def _fresh(ticket_id: int) -> Ticket:
    """A ticket as it is now, after a change the caller made (who may no longer see it)."""
    return (
        Ticket.objects.select_related("client", "requester", "assignee")
        .prefetch_related("tags")
        .get(pk=ticket_id)
    )


def _fresh_article(article_id: int) -> Article:
    return Article.objects.prefetch_related("attachments").get(pk=article_id)


def _other_ticket(request, field: str, ticket_id: int) -> Ticket:
    """A ticket named in a payload: one the caller sees, or a 400 naming the field."""
    found = Ticket.objects.for_user(request.auth).filter(pk=ticket_id).first()
    if found is None:
        raise _invalid(field, f"No ticket with id {ticket_id}.", "the id of a ticket you can see")
    return found


@router.get("/tickets", response=list[TicketOut])
@paginate(LimitOffsetPagination)
def list_tickets(
    request,
    status: Query[list[StatusName] | None] = None,
    client: int | None = None,
    assignee: int | None = None,
    unassigned: bool | None = None,
    practice: int | None = None,
    priority: Query[list[int] | None] = None,
    requester: int | None = None,
    tag: str | None = None,
    q: str | None = None,
    sort: SortName = "-updated_at",
):
    """Tickets the caller sees, filtered (several ``status`` or ``priority`` values may be
    given) and sorted; ``q`` keeps those among the best 500 matches of ``/tickets/search``."""
    tickets = _tickets(request.auth)
    if status:
        tickets = tickets.filter(status__in=status)
    if priority:
        tickets = tickets.filter(priority__in=priority)
    for name, value in (
        ("client_id", client),
        ("assignee_id", assignee),
        ("practice_id", practice),
        ("requester_id", requester),
    ):
        if value is not None:
            tickets = tickets.filter(**{name: value})
    if unassigned is not None:
        tickets = tickets.filter(assignee__isnull=unassigned)
    if tag:
        tickets = tickets.filter(
            pk__in=Ticket.tags.through.objects.filter(tag__name=tag.strip().lower()).values(
                "ticket_id"
            )
        )
    if q is not None and q.strip():
        found = [hit.ticket.pk for hit in search(request.auth, q, limit=500)]
        tickets = tickets.filter(pk__in=found)
    return tickets.order_by(*SORTS[sort])


@router.get("/tickets/search", response=list[HitOut])
def search_tickets(request, q: str, limit: Query[int] = 20):
    """Tickets the caller sees that match ``q``; ``snippet`` is HTML with ``<mark>`` around the
    matches, escaped otherwise.  Internal notes are searched for the network only."""
    limit = max(1, min(limit, 50))
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
        raise _invalid("client", "Say which client the ticket is for.", "a client's id")
    return _visible(user, Client, "client", client_id)


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
    for field, model in (("requester", Contact), ("site", Site), ("asset", Asset)):
        _visible(user, model, field, data[field], client)
    _visible(user, Practice, "practice", data["practice"])
    if data["assignee"] is not None:
        _active_partner(user, "assignee", data["assignee"])
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
    nulls = [name for name in NOT_NULL if name in data and data[name] is None]
    if nulls:
        raise ValidationError(
            {
                name: ValidationError(
                    "This field cannot be null.",
                    params={"allowed": "a value; leave the field out to keep it as it is"},
                )
                for name in nulls
            }
        )
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


def _active_partner(user, field: str, partner_id: int) -> Partner:
    partner = Partner.objects.for_user(user).filter(pk=partner_id, is_active=True).first()
    if partner is None:
        raise _invalid(field, f"No active partner with id {partner_id}.", "an active partner's id")
    return partner


@router.post("/tickets/{int:ticket_id}/assign", response=TicketOut)
@idempotent
def assign(request, ticket_id: int, payload: AssignIn):
    """Give the ticket to a partner, or back to the queue with ``partner: null``."""
    ticket = _ticket(request, ticket_id)
    _require_worker(request.auth, ticket)
    partner = None
    if payload.partner is not None:
        partner = _active_partner(request.auth, "partner", payload.partner)
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
    if target.pk == ticket.pk:
        raise _invalid("into", "A ticket cannot be merged into itself.", "another ticket's id")
    if target.client_id != ticket.client_id:
        raise _invalid(
            "into",
            f"{target.number} is of another client.",
            f"the id of a ticket of {ticket.client.name}",
        )
    merged = services.merge(request.auth, ticket, target, source=Source.API)
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
        raise _invalid(
            "__all__",
            "Nothing to change.",
            "at least one of status, assignee, unassign, priority, add_tags",
        )
    assignee = None
    if payload.assignee is not None:
        assignee = _active_partner(user, "assignee", payload.assignee)
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


# --- timeline and files ------------------------------------------------------------------------


@router.get("/tickets/{int:ticket_id}/articles", response=list[ArticleOut])
@paginate(LimitOffsetPagination)
def list_articles(request, ticket_id: int):
    """The timeline, oldest first: replies for contacts; notes and events too for the network."""
    ticket = _ticket(request, ticket_id)
    return (
        Article.objects.for_user(request.auth)
        .filter(ticket=ticket)
        .prefetch_related("attachments")
        .order_by("created_at", "id")
    )


@router.post("/tickets/{int:ticket_id}/attachments", response={201: ArticleOut})
@idempotent
def upload(
    request,
    ticket_id: int,
    files: File[list[UploadedFile]],
    kind: Form[Literal["reply", "note"]] = "reply",
    body_text: Form[str] = "",
    body_html: Form[str] = "",
):
    """Files sent as multipart ``files``, carried by a new reply (or note, for the network)
    with an optional message.  A file over the size limit is a 413 and nothing is stored."""
    ticket = _ticket(request, ticket_id)
    for upload in files:
        services.check_upload_size(upload.size)
    uploads = [services.Upload(upload.name or "file", upload.read()) for upload in files]
    if kind == "note":
        article = services.note(
            request.auth,
            ticket,
            body_html=body_html or None,
            body_text=body_text,
            uploads=uploads,
            source=Source.API,
        )
    else:
        article = services.reply(
            request.auth,
            ticket,
            body_html=body_html or None,
            body_text=body_text,
            uploads=uploads,
            channel=Channel.API,
            source=Source.API,
        )
    return Status(201, _fresh_article(article.pk))


@router.get("/tickets/attachments/{int:attachment_id}", url_name="ticket_attachment")
def download(request, attachment_id: int):
    """The file, always as a download, if the caller sees the article that carries it."""
    attachment = get_object_or_404(Attachment.objects.for_user(request.auth), pk=attachment_id)
    response = FileResponse(
        attachment.file.open("rb"),
        as_attachment=True,
        filename=attachment.filename,
        content_type=attachment.content_type,
    )
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    response["Cache-Control"] = "private, no-store"
    return response


# --- webhooks ----------------------------------------------------------------------------------


class WebhookOut(Schema):
    id: int
    name: str
    url: str
    events: list[str]
    client_id: int | None
    allow_private_target: bool
    is_active: bool
    created_at: dt.datetime


class WebhookCreated(WebhookOut):
    secret: str = Field(description="Shown once: keep it to verify X-Thirdway-Signature.")


class WebhookIn(Schema, extra="forbid"):
    name: str = Field(min_length=1, max_length=100)
    url: str
    events: list[EventName] = Field([], description="Empty: every event.")
    client: int | None = None
    allow_private_target: bool = False
    is_active: bool = True


class WebhookPatch(Schema, extra="forbid"):
    name: str | None = Field(None, min_length=1, max_length=100)
    url: str | None = None
    events: list[EventName] | None = None
    client: int | None = None
    allow_private_target: bool | None = None
    is_active: bool | None = None


class DeliveryOut(Schema):
    id: int
    event: str
    payload: dict
    status: str
    attempts: int
    last_status_code: int | None
    last_error: str
    next_attempt_at: dt.datetime | None
    created_at: dt.datetime
    delivered_at: dt.datetime | None


WEBHOOK_FIELDS = ["name", "url", "events", "client", "allow_private_target", "is_active"]


def _require_admin(user) -> None:
    if not user.is_practice_admin:
        raise PermissionDenied("Only practice admins manage webhooks.")


def _webhook(request, webhook_id: int) -> Webhook:
    """A webhook by id: outside a practice admin's reach it does not exist (404)."""
    if not request.auth.is_practice_admin:
        raise Http404
    return get_object_or_404(Webhook, pk=webhook_id)


def _webhook_data(user, data: dict) -> dict:
    if data.get("allow_private_target") and not user.is_practice_admin:
        raise PermissionDenied("Only a practice admin may allow a private target.")
    if data.get("url") is not None and urlsplit(data["url"]).scheme not in ("http", "https"):
        raise _invalid("url", "A webhook URL must be http or https.", "an http(s):// URL")
    if "client" in data:
        data["client"] = _visible(user, Client, "client", data["client"])
    if "events" in data and data["events"] is not None:
        data["events"] = sorted(set(data["events"]))
    return data


def _save_webhook(user, hook: Webhook, data: dict, action: str) -> Webhook:
    """Validate, save and record a webhook (never its secret).

    The schema checks ``events`` (an empty list, meaning every event, is allowed), so the
    model's own check of that field, which would refuse the empty list, is left out.
    """
    nulls = sorted(name for name, value in data.items() if value is None and name != "client")
    if nulls:
        raise ValidationError(
            {
                name: ValidationError(
                    "This field cannot be null.",
                    params={"allowed": "a value; leave the field out to keep it as it is"},
                )
                for name in nulls
            }
        )
    before = snapshot(hook, WEBHOOK_FIELDS) if hook.pk else {}
    for name, value in data.items():
        setattr(hook, name, value)
    hook.full_clean(exclude=["events"])
    changes = diff(before, snapshot(hook, WEBHOOK_FIELDS))
    if changes or not before:
        with transaction.atomic():
            hook.save()
            record(user, action, hook, source=Source.API, changes=changes)
    return hook


@router.get("/webhooks", response=list[WebhookOut])
@paginate(LimitOffsetPagination)
def list_webhooks(request):
    _require_admin(request.auth)
    return Webhook.objects.order_by("id")


@router.post("/webhooks", response={201: WebhookCreated})
@idempotent
def create_webhook(request, payload: WebhookIn):
    """A URL told about ticket events, signed with a secret shown only in this answer."""
    user = request.auth
    _require_admin(user)
    data = _webhook_data(user, payload.model_dump())
    secret = "whsec_" + secrets.token_urlsafe(32)
    hook = _save_webhook(user, Webhook(secret=secret, created_by=user), data, "webhook.create")
    return Status(201, hook)


@router.patch("/webhooks/{int:webhook_id}", response=WebhookOut)
def update_webhook(request, webhook_id: int, payload: WebhookPatch):
    hook = _webhook(request, webhook_id)
    data = _webhook_data(request.auth, payload.model_dump(exclude_unset=True))
    _save_webhook(request.auth, hook, data, "webhook.update")
    return hook


@router.delete("/webhooks/{int:webhook_id}", response={204: None})
def delete_webhook(request, webhook_id: int):
    hook = _webhook(request, webhook_id)
    with transaction.atomic():
        record(request.auth, "webhook.delete", hook, source=Source.API)
        hook.delete()
    return Status(204, None)


@router.get("/webhooks/{int:webhook_id}/deliveries", response=list[DeliveryOut])
@paginate(LimitOffsetPagination)
def list_deliveries(request, webhook_id: int):
    hook = _webhook(request, webhook_id)
    return WebhookDelivery.objects.filter(webhook=hook).order_by("-created_at", "-id")


# --- absence continuity ----------------------------------------------------------------------


class TakeBackOut(Schema):
    taken_back: int


@router.post("/absences/{absence_id}/take-back", response=TakeBackOut)
def take_back(request, absence_id: int):
    """The partner, back from an absence, takes back the tickets their deputies still hold."""
    absence = get_object_or_404(Absence.objects.for_user(request.auth), pk=absence_id)
    return {"taken_back": continuity.take_back(request.auth, absence, source=Source.API)}
