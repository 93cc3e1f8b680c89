"""Opening tickets, and the articles and attachments every message brings."""

from __future__ import annotations

import datetime as dt
import hashlib
import mimetypes
from collections.abc import Iterable

import puremagic
from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.base import ContentFile
from django.db import transaction

from thirdway.audit.services import diff, record, snapshot
from thirdway.clients.access import SEES_ALL
from thirdway.clients.models import Asset, Client, Contact, Site
from thirdway.errors import invalid
from thirdway.tickets import timekeeping
from thirdway.tickets.access import is_contact_of
from thirdway.tickets.assignment.arrival import dispatch_when_committed
from thirdway.tickets.bodies import body_from, clean_line
from thirdway.tickets.lifecycle import Status
from thirdway.tickets.models import (
    Article,
    ArticleKind,
    Attachment,
    Channel,
    Ticket,
    TicketType,
    WorkType,
)
from thirdway.tickets.notifications import triggers
from thirdway.tickets.notifications.models import NotificationKind
from thirdway.tickets.search import index_rows, search_text_of
from thirdway.tickets.services._shared import (
    ACTIVE_CONTENT,
    TICKET_FIELDS,
    AttachmentTooLarge,
    Upload,
    _label,
    _owned,
    _priority_from,
    _scope,
    _tags,
    resolve_assignee,
    resolve_practice,
)
from thirdway.tickets.sla_clocks import clocks
from thirdway.tickets.webhooks import events

# Relations ``create_ticket`` resolves itself, within the client (full_clean need not re-read them).
RESOLVED_RELATIONS = [
    "client",
    "requester",
    "site",
    "asset",
    "practice",
    "assignee",
    "merged_into",
    # Given by the client's service level just before (clocks.attach_policy).
    "sla_policy",
    "sla_calendar",
]

# --- create ------------------------------------------------------------------------------------


@transaction.atomic
def create_ticket(
    actor,
    client: Client,
    *,
    subject: str,
    body_html: str | None = None,
    body_text: str | None = None,
    requester_id=None,
    site_id=None,
    asset_id=None,
    practice_id=None,
    category: str = "",
    type: str = TicketType.INCIDENT,
    impact: int = 2,
    urgency: int = 2,
    priority: int | None = None,
    priority_reason: str = "",
    channel: str = Channel.WEB,
    needs_onsite: bool = False,
    visit_starts_at: dt.datetime | None = None,
    visit_ends_at: dt.datetime | None = None,
    assignee_id=None,
    tags: Iterable[str] = (),
    uploads: Iterable[Upload] = (),
    source: str,
    origin: events.Origin | None = None,
    dispatch: bool = True,
) -> Ticket:
    """Open a ticket with its first public article.

    ``dispatch=False`` leaves it out of dispatch on arrival: the caller dispatches it later
    with ``dispatch_when_committed`` (a playbook step held by a blocking step before it).

    Client contacts open tickets for their own organisation only, as themselves (a client
    admin may name another contact of theirs as requester); the network may open tickets for
    any client it sees, and may set the assignee and override the matrix priority with a reason.
    """
    staff = actor.is_network_staff
    if (
        staff
        and actor.role not in SEES_ALL
        and not Client.objects.for_user(actor).filter(pk=client.pk).exists()
    ):
        raise PermissionDenied("You may open tickets only for clients you serve.")
    if not staff and not is_contact_of(actor, client.pk):
        raise PermissionDenied("You may open tickets only for your own organisation.")
    if not staff and actor.role != "client_admin" and requester_id is not None:
        _owned(actor, Contact, client, "requester", requester_id)  # their own, or a 400
    if not staff and (requester_id is None or actor.role != "client_admin"):
        requester_id = actor.contact.pk
    matrix = _priority_from(impact, urgency)
    priority = matrix if priority is None or not staff else priority
    if priority != matrix and not priority_reason.strip():
        raise invalid(
            "priority_reason",
            "Say why the priority differs from the matrix.",
            f"a reason, or priority {matrix} (impact × urgency)",
        )
    ticket = Ticket(
        client=client,
        subject=clean_line(subject),
        category=clean_line(category, 100),
        requester=_requester(actor, staff, client, requester_id),
        site=_owned(actor, Site, client, "site", site_id),
        asset=_owned(actor, Asset, client, "asset", asset_id),
        practice=resolve_practice(actor, practice_id),
        type=type,
        impact=impact,
        urgency=urgency,
        priority=priority,
        priority_reason=clean_line(priority_reason),
        channel=channel,
        needs_onsite=needs_onsite,
        visit_starts_at=visit_starts_at,
        visit_ends_at=visit_ends_at,
        assignee=resolve_assignee(actor, assignee_id) if staff else None,
    )
    if not ticket.subject:
        raise invalid("subject", "A ticket needs a subject.", "1 to 250 characters of text")
    if ticket.assignee is not None:
        ticket.status = Status.ASSIGNED
    clocks.start(ticket)
    # The related rows were just looked up inside the client, and the priority is checked by
    # its field: only the visit window is left of what the table's constraints guard.
    ticket.full_clean(exclude=RESOLVED_RELATIONS, validate_constraints=False)
    if visit_starts_at and visit_ends_at and visit_ends_at <= visit_starts_at:
        raise invalid(
            "visit_ends_at", "The visit must end after it starts.", "an end after the start"
        )
    tag_rows = _tags(actor, tags)
    body = body_from(body_html=body_html, body_text=body_text)
    uploads = list(uploads)
    # The search texts are written with the row (the first message is all there is yet).
    ticket.search_text = search_text_of(ticket, [body[1]])
    ticket.save()
    if tag_rows:
        ticket.tags.add(*tag_rows)
    if ticket.requester and ticket.requester.user_id:
        ticket.watchers.add(ticket.requester.user_id)
    article = _article(
        actor, ticket, ArticleKind.REPLY, body_html, body_text, channel, uploads, body=body
    )
    index_rows([(ticket.pk, ticket.search_text, ticket.note_text)])
    record(
        actor,
        "ticket.create",
        ticket,
        source=source,
        scope=_scope(ticket),
        changes=diff({}, snapshot(ticket, TICKET_FIELDS)),
    )
    if origin is not None:
        origin.opened = article
    if ticket.assignee is not None:
        triggers.assigned(actor, ticket, None, ticket.assignee, NotificationKind.ASSIGNED)
    events.emit("ticket.created", ticket, article, origin)
    if dispatch:
        dispatch_when_committed(ticket)
    return ticket


def _requester(actor, staff: bool, client: Client, requester_id) -> Contact | None:
    """The requester inside the client; a contact opening for themselves is not read again."""
    own = None if staff else getattr(actor, "contact", None)
    if own is not None and own.pk == requester_id and own.client_id == client.pk:
        return own
    return _owned(actor, Contact, client, "requester", requester_id)


def _article(
    actor,
    ticket: Ticket,
    kind: str,
    body_html,
    body_text,
    channel: str,
    uploads: Iterable[Upload],
    time_spent_minutes: int = 0,
    body: tuple[str, str] | None = None,
    *,
    work_type: str = WorkType.REMOTE,
    billable: bool = True,
) -> Article:
    safe_html, text = body or body_from(body_html=body_html, body_text=body_text)
    uploads = list(uploads)
    if not text and not uploads:
        raise invalid("body", "The message is empty.", "some text, or at least one attachment")
    if time_spent_minutes < 0 or time_spent_minutes > 24 * 60:
        raise invalid(
            "time_spent_minutes",
            f"{time_spent_minutes} minutes is out of range.",
            "0 to 1440 minutes",
        )
    if work_type not in WorkType.values:
        raise invalid(
            "work_type", f"{work_type!r} is not a kind of work.", ", ".join(WorkType.values)
        )
    article = Article.objects.create(
        ticket=ticket,
        kind=kind,
        author=actor,
        author_label=_label(actor),
        body_html=safe_html,
        body_text=text,
        channel=channel,
        time_spent_minutes=time_spent_minutes,
        work_type=work_type,
        billable=billable,
    )
    for upload in uploads:
        store_attachment(article, upload)
    if time_spent_minutes > 0 and kind in (ArticleKind.REPLY, ArticleKind.NOTE):
        timekeeping.article_time_written(article, created=True)
    return article


def check_upload_size(size: int) -> None:
    limit = settings.ATTACHMENT_MAX_BYTES
    if size > limit:
        raise AttachmentTooLarge(
            {
                "attachments": ValidationError(
                    f"The file is {size} bytes; the limit is {limit} bytes "
                    f"({limit // 1048576} MB).",
                    params={"allowed": f"files of at most {limit // 1048576} MB"},
                )
            }
        )


def store_attachment(article: Article, upload: Upload) -> Attachment:
    """Store a file through Django's storage, its type sniffed from the bytes, not the name."""
    check_upload_size(len(upload.content))
    digest = hashlib.sha256(upload.content).hexdigest()
    attachment = Attachment(
        article=article,
        ticket=article.ticket,
        filename=clean_line(upload.filename, 255) or "file",
        content_type=sniff_type(upload),
        size=len(upload.content),
        sha256=digest,
    )
    attachment.file.save(digest, ContentFile(upload.content), save=False)
    attachment.save()
    return attachment


def sniff_type(upload: Upload) -> str:
    try:
        sniffed = puremagic.from_string(upload.content[:8192], mime=True)
    except (puremagic.PureError, ValueError):
        sniffed = ""
    guessed = sniffed or mimetypes.guess_type(upload.filename)[0] or "application/octet-stream"
    return "application/octet-stream" if guessed in ACTIVE_CONTENT else guessed
