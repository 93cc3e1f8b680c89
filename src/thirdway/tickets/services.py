"""Every change to tickets (the only writers): create, reply, note, assign, status, priority,
merge, split, link and bulk update.  Each records an audit entry and, where people should see
it, a system event on the ticket's timeline.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import mimetypes
from collections.abc import Iterable
from dataclasses import dataclass

import puremagic
from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.base import ContentFile
from django.db import transaction
from django.utils import timezone

from thirdway.audit.services import diff, record, snapshot
from thirdway.clients.models import Asset, Client, Contact, Site
from thirdway.network.models import Partner, Practice
from thirdway.tickets import events, lifecycle
from thirdway.tickets.access import can_reply_as_client, can_work_on, is_contact_of
from thirdway.tickets.bodies import body_from, clean_line
from thirdway.tickets.lifecycle import OPEN, Status, TransitionRefused
from thirdway.tickets.models import (
    Article,
    ArticleKind,
    Attachment,
    Channel,
    LinkKind,
    Tag,
    Ticket,
    TicketLink,
    TicketType,
)
from thirdway.tickets.search import refresh_search_text

TICKET_FIELDS = [
    "subject",
    "client",
    "requester",
    "site",
    "asset",
    "practice",
    "category",
    "type",
    "impact",
    "urgency",
    "priority",
    "priority_reason",
    "channel",
    "status",
    "needs_onsite",
    "visit_starts_at",
    "visit_ends_at",
    "assignee",
]
# Files a browser could run if served inline are always sent as downloads of this type.
ACTIVE_CONTENT = {
    "text/html",
    "image/svg+xml",
    "application/xhtml+xml",
    "text/xml",
    "application/xml",
    "application/javascript",
    "text/javascript",
}


@dataclass(frozen=True)
class Upload:
    """A file as it arrived: its name and bytes."""

    filename: str
    content: bytes


class AttachmentTooLarge(ValidationError):
    """Over the configured size limit (the API answers 413)."""


def _invalid(field: str, message: str, allowed: str) -> ValidationError:
    return ValidationError({field: ValidationError(message, params={"allowed": allowed})})


def _scope(ticket: Ticket) -> str:
    return f"ticket:{ticket.pk}"


def _event(ticket: Ticket, actor, event: str, text: str, data: dict | None = None) -> Article:
    """A system event on the timeline (assignment, status, priority, merge...)."""
    return Article.objects.create(
        ticket=ticket,
        kind=ArticleKind.EVENT,
        author=actor,
        author_label=_label(actor),
        event=event,
        body_text=text,
        data=data or {},
    )


def _label(actor) -> str:
    if actor is None:
        return "Thirdway"
    return actor.get_full_name() or actor.first_name or actor.get_username()


# --- resolving ids from a payload, inside the ticket's client ------------------------------------


def _owned(model, client: Client, field: str, object_id):
    if object_id is None:
        return None
    found = model.objects.filter(client=client, pk=object_id).first()
    if found is None:
        noun = model._meta.verbose_name
        raise _invalid(
            field,
            f"No {noun} with id {object_id} at this client.",
            f"the id of one of this client's {noun}s",
        )
    return found


def resolve_practice(practice_id) -> Practice | None:
    if practice_id is None:
        return None
    practice = Practice.objects.filter(pk=practice_id).first()
    if practice is None:
        raise _invalid("practice", f"No practice with id {practice_id}.", "a practice's id")
    return practice


def resolve_assignee(actor, partner_id) -> Partner | None:
    if partner_id is None:
        return None
    partner = Partner.objects.for_user(actor).filter(pk=partner_id, is_active=True).first()
    if partner is None:
        raise _invalid(
            "assignee", f"No active partner with id {partner_id}.", "an active partner's id"
        )
    return partner


def _tags(names: Iterable[str]) -> list[Tag]:
    cleaned = sorted({clean_line(name, 50).lower() for name in names if clean_line(name, 50)})
    return [Tag.objects.get_or_create(name=name)[0] for name in cleaned]


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
) -> Ticket:
    """Open a ticket with its first public article.

    Client contacts open tickets for their own organisation only, as themselves (a client
    admin may name another contact of theirs as requester); the network may open tickets for
    any client it sees, and may set the assignee and override the matrix priority with a reason.
    """
    staff = actor.is_network_staff
    contact = getattr(actor, "contact", None)
    if staff and not Client.objects.for_user(actor).filter(pk=client.pk).exists():
        raise PermissionDenied("You may open tickets only for clients you serve.")
    if not staff and not is_contact_of(actor, client.pk):
        raise PermissionDenied("You may open tickets only for your own organisation.")
    if not staff and (requester_id is None or actor.role != "client_admin"):
        requester_id = contact.pk
    matrix = _priority_from(impact, urgency)
    priority = matrix if priority is None or not staff else priority
    if priority != matrix and not priority_reason.strip():
        raise _invalid(
            "priority_reason",
            "Say why the priority differs from the matrix.",
            f"a reason, or priority {matrix} (impact × urgency)",
        )
    ticket = Ticket(
        client=client,
        subject=clean_line(subject),
        category=clean_line(category, 100),
        requester=_owned(Contact, client, "requester", requester_id),
        site=_owned(Site, client, "site", site_id),
        asset=_owned(Asset, client, "asset", asset_id),
        practice=resolve_practice(practice_id),
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
        raise _invalid("subject", "A ticket needs a subject.", "1 to 250 characters of text")
    if ticket.assignee is not None:
        ticket.status = Status.ASSIGNED
    ticket.full_clean()
    ticket.save()
    ticket.tags.set(_tags(tags))
    if ticket.requester and ticket.requester.user_id:
        ticket.watchers.add(ticket.requester.user_id)
    article = _article(actor, ticket, ArticleKind.REPLY, body_html, body_text, channel, uploads)
    refresh_search_text(ticket)
    record(
        actor,
        "ticket.create",
        ticket,
        source=source,
        scope=_scope(ticket),
        changes=diff({}, snapshot(ticket, TICKET_FIELDS)),
    )
    events.emit("ticket.created", ticket, article)
    return ticket


def _priority_from(impact: int, urgency: int) -> int:
    try:
        return lifecycle.priority_for(impact, urgency)
    except ValueError as error:
        raise _invalid("impact", str(error), "1 (high), 2 (medium) or 3 (low)") from error


def _article(
    actor,
    ticket: Ticket,
    kind: str,
    body_html,
    body_text,
    channel: str,
    uploads: Iterable[Upload],
    time_spent_minutes: int = 0,
) -> Article:
    safe_html, text = body_from(body_html=body_html, body_text=body_text)
    uploads = list(uploads)
    if not text and not uploads:
        raise _invalid("body", "The message is empty.", "some text, or at least one attachment")
    if time_spent_minutes < 0 or time_spent_minutes > 24 * 60:
        raise _invalid(
            "time_spent_minutes",
            f"{time_spent_minutes} minutes is out of range.",
            "0 to 1440 minutes",
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
    )
    for upload in uploads:
        store_attachment(article, upload)
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


# --- replies and notes -------------------------------------------------------------------------


@transaction.atomic
def reply(
    actor,
    ticket: Ticket,
    *,
    body_html: str | None = None,
    body_text: str | None = None,
    uploads: Iterable[Upload] = (),
    time_spent_minutes: int = 0,
    channel: str = Channel.WEB,
    source: str,
) -> Article:
    """A public reply. From the network it counts as the first response; from the client it
    resumes a ticket waiting on them and reopens a recently resolved or closed one."""
    ticket = _lock(ticket)
    _refuse_merged(ticket)
    if can_work_on(actor, ticket):
        article = _article(
            actor,
            ticket,
            ArticleKind.REPLY,
            body_html,
            body_text,
            channel,
            uploads,
            time_spent_minutes,
        )
        if ticket.first_responded_at is None:
            ticket.first_responded_at = article.created_at
            ticket.save(update_fields=["first_responded_at", "updated_at"])
    elif can_reply_as_client(actor, ticket):
        _reopen_window_check(ticket)
        article = _article(actor, ticket, ArticleKind.REPLY, body_html, body_text, channel, uploads)
        _client_replied(actor, ticket, source)
    else:
        raise PermissionDenied("You may not reply on this ticket.")
    _touch(ticket)
    record(
        actor,
        "ticket.reply",
        ticket,
        source=source,
        scope=_scope(ticket),
        changes={"article": [None, article.pk]},
    )
    events.emit("ticket.replied", ticket, article)
    return article


def _reopen_window_check(ticket: Ticket) -> None:
    if ticket.status == Status.CLOSED and ticket.closed_at is not None:
        limit = ticket.closed_at + dt.timedelta(days=settings.TICKET_REOPEN_DAYS)
        if timezone.now() > limit:
            raise _invalid(
                "body",
                f"{ticket.number} was closed more than {settings.TICKET_REOPEN_DAYS} days ago; "
                "open a new ticket instead.",
                "a new ticket",
            )


def _client_replied(actor, ticket: Ticket, source: str) -> None:
    if ticket.status in (Status.WAITING_CLIENT, Status.RESOLVED, Status.CLOSED):
        _set_status(actor, ticket, Status.IN_PROGRESS, "The client replied.", source)


@transaction.atomic
def note(
    actor,
    ticket: Ticket,
    *,
    body_html: str | None = None,
    body_text: str | None = None,
    uploads: Iterable[Upload] = (),
    time_spent_minutes: int = 0,
    source: str,
) -> Article:
    """An internal note: the network only, never shown to the client."""
    if not can_work_on(actor, ticket):
        raise PermissionDenied("Only the network may add internal notes.")
    ticket = _lock(ticket)
    _refuse_merged(ticket)
    article = _article(
        actor,
        ticket,
        ArticleKind.NOTE,
        body_html,
        body_text,
        Channel.WEB,
        uploads,
        time_spent_minutes,
    )
    _touch(ticket)
    record(
        actor,
        "ticket.note",
        ticket,
        source=source,
        scope=_scope(ticket),
        changes={"article": [None, article.pk]},
    )
    events.emit("ticket.noted", ticket, article)
    return article


def _lock(ticket: Ticket) -> Ticket:
    """Re-read the ticket under a row lock, so concurrent changes apply one after the other."""
    return Ticket.objects.select_for_update().select_related("client").get(pk=ticket.pk)


def _refuse_merged(ticket: Ticket) -> None:
    if ticket.status == Status.MERGED:
        raise _invalid(
            "ticket",
            f"{ticket.number} was merged into "
            f"{ticket.merged_into.number if ticket.merged_into else 'another ticket'}.",
            "the ticket it was merged into",
        )


def _touch(ticket: Ticket) -> None:
    refresh_search_text(ticket)
    Ticket.objects.filter(pk=ticket.pk).update(updated_at=timezone.now())


# --- assignment, status, priority ----------------------------------------------------------------


def _require_worker(actor, ticket: Ticket) -> None:
    if not can_work_on(actor, ticket):
        raise PermissionDenied("Only the network may change this ticket.")


@transaction.atomic
def assign(
    actor, ticket: Ticket, partner: Partner | None, *, reason: str = "", source: str
) -> Ticket:
    """Give the ticket to a partner (None: back to the queue)."""
    _require_worker(actor, ticket)
    ticket = _lock(ticket)
    _refuse_merged(ticket)
    before = ticket.assignee
    if before == partner:
        return ticket
    ticket.assignee = partner
    if partner is not None and ticket.status == Status.NEW:
        ticket.status = Status.ASSIGNED
    if partner is None and ticket.status == Status.ASSIGNED:
        ticket.status = Status.NEW
    ticket.save(update_fields=["assignee", "status", "updated_at"])
    text = f"Assigned to {partner}." if partner else "Returned to the queue."
    _event(
        ticket,
        actor,
        "assigned",
        text + (f" {reason}" if reason else ""),
        {"from": before.pk if before else None, "to": partner.pk if partner else None},
    )
    record(
        actor,
        "ticket.assign",
        ticket,
        source=source,
        scope=_scope(ticket),
        changes={"assignee": [before.pk if before else None, partner.pk if partner else None]},
    )
    events.emit("ticket.assigned", ticket)
    return ticket


@transaction.atomic
def change_status(
    actor, ticket: Ticket, status: str, *, reason: str = "", force: bool = False, source: str
) -> Ticket:
    """Move the ticket along its lifecycle; refused moves list the allowed ones.

    A parent cannot be resolved or closed while a child is open, unless forced with a reason.
    Client contacts may only close their own organisation's tickets.
    """
    closing_own = can_reply_as_client(actor, ticket) and status == Status.CLOSED
    if not can_work_on(actor, ticket) and not closing_own:
        raise PermissionDenied("You may only close this ticket.")
    ticket = _lock(ticket)
    target = lifecycle.check_transition(ticket.status, status)
    if target in (Status.RESOLVED, Status.CLOSED):
        _check_children(ticket, force, reason)
    return _set_status(actor, ticket, target, reason, source)


def _check_children(ticket: Ticket, force: bool, reason: str) -> None:
    open_children = Ticket.objects.filter(
        links_in__source=ticket, links_in__kind=LinkKind.PARENT, status__in=OPEN
    )
    if not open_children.exists():
        return
    if force and reason.strip():
        return
    numbers = ", ".join(child.number for child in open_children[:10])
    raise _invalid(
        "status",
        f"Child tickets are still open: {numbers}.",
        "resolve the children first, or force with a reason",
    )


def _set_status(actor, ticket: Ticket, target: Status, reason: str, source: str) -> Ticket:
    before = ticket.status
    now = timezone.now()
    ticket.status = target
    ticket.resolved_at = (
        now if target == Status.RESOLVED else (None if target in OPEN else ticket.resolved_at)
    )
    ticket.closed_at = (
        now if target == Status.CLOSED else (None if target in OPEN else ticket.closed_at)
    )
    ticket.save(update_fields=["status", "resolved_at", "closed_at", "updated_at"])
    text = f"Status: {lifecycle.LABELS[Status(before)]} → {lifecycle.LABELS[target]}."
    _event(
        ticket,
        actor,
        "status",
        text + (f" {reason}" if reason else ""),
        {"from": before, "to": target.value},
    )
    record(
        actor,
        "ticket.status",
        ticket,
        source=source,
        scope=_scope(ticket),
        changes={"status": [before, target.value]},
    )
    events.emit("ticket.status_changed", ticket)
    return ticket


@transaction.atomic
def change_priority(
    actor,
    ticket: Ticket,
    *,
    priority: int | None = None,
    impact: int | None = None,
    urgency: int | None = None,
    reason: str = "",
    source: str,
) -> Ticket:
    """Set impact/urgency (priority follows the matrix) or override the priority with a reason."""
    _require_worker(actor, ticket)
    ticket = _lock(ticket)
    _refuse_merged(ticket)
    before = snapshot(ticket, ["impact", "urgency", "priority", "priority_reason"])
    ticket.impact = impact or ticket.impact
    ticket.urgency = urgency or ticket.urgency
    matrix = _priority_from(ticket.impact, ticket.urgency)
    wanted = priority or matrix
    if wanted not in (1, 2, 3, 4):
        raise _invalid("priority", f"P{wanted} does not exist.", "1, 2, 3 or 4")
    if wanted != matrix and not reason.strip():
        raise _invalid(
            "priority_reason",
            "Say why the priority differs from the matrix.",
            f"a reason, or priority {matrix} (impact × urgency)",
        )
    ticket.priority = wanted
    ticket.priority_reason = clean_line(reason) if wanted != matrix else ""
    ticket.save(update_fields=["impact", "urgency", "priority", "priority_reason", "updated_at"])
    changes = diff(before, snapshot(ticket, ["impact", "urgency", "priority", "priority_reason"]))
    if changes:
        _event(
            ticket,
            actor,
            "priority",
            f"Priority P{before['priority']} → P{ticket.priority}."
            + (f" {reason}" if reason else ""),
            {"from": before["priority"], "to": ticket.priority},
        )
        record(
            actor, "ticket.priority", ticket, source=source, scope=_scope(ticket), changes=changes
        )
        events.emit("ticket.priority_changed", ticket)
    return ticket


TICKET_UPDATABLE = {
    "subject",
    "category",
    "type",
    "practice",
    "site",
    "asset",
    "requester",
    "needs_onsite",
    "visit_starts_at",
    "visit_ends_at",
    "tags",
}


@transaction.atomic
def update_ticket(actor, ticket: Ticket, data: dict, *, source: str) -> Ticket:
    """Change the descriptive fields (subject, category, practice, site, visit window, tags...)."""
    _require_worker(actor, ticket)
    unknown = set(data) - TICKET_UPDATABLE
    if unknown:
        raise ValidationError(
            {
                name: ValidationError(
                    "This field cannot be changed here.",
                    params={"allowed": ", ".join(sorted(TICKET_UPDATABLE))},
                )
                for name in unknown
            }
        )
    ticket = _lock(ticket)
    _refuse_merged(ticket)
    fields = [name for name in TICKET_FIELDS if name in data]
    before = snapshot(ticket, fields)
    resolvers = {
        "practice": lambda v: resolve_practice(v),
        "site": lambda v: _owned(Site, ticket.client, "site", v),
        "asset": lambda v: _owned(Asset, ticket.client, "asset", v),
        "requester": lambda v: _owned(Contact, ticket.client, "requester", v),
        "subject": clean_line,
        "category": lambda v: clean_line(v, 100),
    }
    for name in fields:
        value = data[name]
        setattr(ticket, name, resolvers[name](value) if name in resolvers else value)
    if "subject" in data and not ticket.subject:
        raise _invalid("subject", "A ticket needs a subject.", "1 to 250 characters of text")
    ticket.full_clean()
    ticket.save()
    changes = diff(before, snapshot(ticket, fields))
    if "tags" in data:
        old = sorted(ticket.tags.values_list("name", flat=True))
        ticket.tags.set(_tags(data["tags"]))
        new = sorted(ticket.tags.values_list("name", flat=True))
        if old != new:
            changes["tags"] = [old, new]
    if changes:
        refresh_search_text(ticket)
        record(actor, "ticket.update", ticket, source=source, scope=_scope(ticket), changes=changes)
        events.emit("ticket.updated", ticket)
    return ticket


@transaction.atomic
def set_watchers(actor, ticket: Ticket, users: list, *, source: str) -> Ticket:
    _require_worker(actor, ticket)
    before = sorted(ticket.watchers.values_list("pk", flat=True))
    ticket.watchers.set(users)
    after = sorted(user.pk for user in users)
    if before != after:
        record(
            actor,
            "ticket.watchers",
            ticket,
            source=source,
            scope=_scope(ticket),
            changes={"watchers": [before, after]},
        )
    return ticket


# --- merge, split, link --------------------------------------------------------------------------


@transaction.atomic
def merge(actor, source_ticket: Ticket, target: Ticket, *, source: str) -> Ticket:
    """Move every article and attachment of ``source_ticket`` into ``target``; the source stays
    as a pointer to the target."""
    _require_worker(actor, source_ticket)
    first, second = sorted([source_ticket.pk, target.pk])
    locked = {t.pk: t for t in Ticket.objects.select_for_update().filter(pk__in=[first, second])}
    source_ticket, target = locked[source_ticket.pk], locked[target.pk]
    if source_ticket.pk == target.pk:
        raise _invalid("target", "A ticket cannot be merged into itself.", "another ticket")
    if source_ticket.client_id != target.client_id:
        raise _invalid(
            "target",
            "Tickets of different clients cannot be merged.",
            "a ticket of the same client",
        )
    for ticket in (source_ticket, target):
        _refuse_merged(ticket)
    moved = list(source_ticket.articles.values_list("pk", flat=True))
    Article.objects.filter(pk__in=moved).update(ticket=target)
    Attachment.objects.filter(ticket=source_ticket).update(ticket=target)
    target.watchers.add(*source_ticket.watchers.all())
    before = source_ticket.status
    source_ticket.status = Status.MERGED
    source_ticket.merged_into = target
    source_ticket.save(update_fields=["status", "merged_into", "updated_at"])
    _event(source_ticket, actor, "merged", f"Merged into {target.number}.", {"into": target.pk})
    _event(
        target,
        actor,
        "merged",
        f"{source_ticket.number} merged into this ticket ({len(moved)} articles).",
        {"from": source_ticket.pk, "articles": moved},
    )
    refresh_search_text(target)
    refresh_search_text(source_ticket)
    record(
        actor,
        "ticket.merge",
        source_ticket,
        source=source,
        scope=_scope(source_ticket),
        changes={"status": [before, Status.MERGED.value], "merged_into": [None, target.pk]},
    )
    events.emit("ticket.merged", source_ticket)
    return target


@transaction.atomic
def split(actor, ticket: Ticket, article_ids: list[int], *, subject: str, source: str) -> Ticket:
    """Move the given articles to a new ticket of the same client and requester."""
    _require_worker(actor, ticket)
    ticket = _lock(ticket)
    _refuse_merged(ticket)
    chosen = list(ticket.articles.filter(pk__in=article_ids).exclude(kind=ArticleKind.EVENT))
    if not chosen or len(chosen) != len(set(article_ids)):
        raise _invalid(
            "articles",
            "Choose articles (replies or notes) of this ticket.",
            "ids of this ticket's replies and notes",
        )
    if ticket.articles.exclude(kind=ArticleKind.EVENT).count() == len(chosen):
        raise _invalid(
            "articles",
            "Leave at least one article on the original ticket.",
            "a part of the ticket's articles",
        )
    new = Ticket.objects.create(
        client=ticket.client,
        requester=ticket.requester,
        site=ticket.site,
        asset=ticket.asset,
        practice=ticket.practice,
        subject=clean_line(subject) or ticket.subject,
        type=ticket.type,
        impact=ticket.impact,
        urgency=ticket.urgency,
        priority=ticket.priority,
        priority_reason=ticket.priority_reason,
        channel=ticket.channel,
    )
    ids = [article.pk for article in chosen]
    Article.objects.filter(pk__in=ids).update(ticket=new)
    Attachment.objects.filter(article_id__in=ids).update(ticket=new)
    new.watchers.add(*ticket.watchers.all())
    _event(
        ticket,
        actor,
        "split",
        f"{len(ids)} articles split off into {new.number}.",
        {"into": new.pk, "articles": ids},
    )
    _event(new, actor, "split", f"Split off from {ticket.number}.", {"from": ticket.pk})
    TicketLink.objects.create(source=new, target=ticket, kind=LinkKind.RELATED)
    for changed in (ticket, new):
        refresh_search_text(changed)
    record(
        actor,
        "ticket.split",
        ticket,
        source=source,
        scope=_scope(ticket),
        changes={"articles": [ids, None], "into": [None, new.pk]},
    )
    record(
        actor,
        "ticket.create",
        new,
        source=source,
        scope=_scope(new),
        changes=diff({}, snapshot(new, TICKET_FIELDS)),
    )
    events.emit("ticket.created", new)
    return new


@transaction.atomic
def link(actor, source_ticket: Ticket, target: Ticket, kind: str, *, source: str) -> TicketLink:
    """Relate two tickets; ``parent`` makes ``source_ticket`` the parent of ``target``."""
    _require_worker(actor, source_ticket)
    if kind not in LinkKind.values:
        raise _invalid("kind", f"Unknown link kind {kind!r}.", ", ".join(LinkKind.values))
    if source_ticket.pk == target.pk:
        raise _invalid("target", "A ticket cannot be linked to itself.", "another ticket")
    if kind == LinkKind.PARENT and _is_ancestor(target, source_ticket):
        raise _invalid(
            "target",
            f"{target.number} is already above {source_ticket.number}.",
            "a ticket that is not one of its parents",
        )
    created, made = TicketLink.objects.get_or_create(source=source_ticket, target=target, kind=kind)
    if made:
        label = LinkKind(kind).label.lower()
        _event(
            source_ticket,
            actor,
            "linked",
            f"Now {label} {target.number}.",
            {"target": target.pk, "kind": kind},
        )
        record(
            actor,
            "ticket.link",
            source_ticket,
            source=source,
            scope=_scope(source_ticket),
            changes={"link": [None, f"{kind}:{target.pk}"]},
        )
    return created


def _is_ancestor(candidate: Ticket, ticket: Ticket) -> bool:
    """Whether ``candidate`` is a parent (at any depth) of ``ticket``."""
    seen, frontier = set(), {ticket.pk}
    while frontier:
        parents = (
            set(
                TicketLink.objects.filter(target_id__in=frontier, kind=LinkKind.PARENT).values_list(
                    "source_id", flat=True
                )
            )
            - seen
        )
        if candidate.pk in parents:
            return True
        seen |= parents
        frontier = parents
    return False


@transaction.atomic
def unlink(actor, ticket_link: TicketLink, *, source: str) -> None:
    _require_worker(actor, ticket_link.source)
    record(
        actor,
        "ticket.unlink",
        ticket_link.source,
        source=source,
        scope=_scope(ticket_link.source),
        changes={"link": [f"{ticket_link.kind}:{ticket_link.target_id}", None]},
    )
    ticket_link.delete()


# --- bulk --------------------------------------------------------------------------------------


@dataclass
class BulkResult:
    updated: list[int]
    refused: dict[int, str]


def bulk_update(
    actor,
    tickets: Iterable[Ticket],
    *,
    status: str | None = None,
    assignee: Partner | None = None,
    unassign: bool = False,
    priority: int | None = None,
    reason: str = "",
    add_tags: Iterable[str] = (),
    source: str,
) -> BulkResult:
    """Apply the same change to many tickets; each succeeds or is refused on its own."""
    result = BulkResult([], {})
    for ticket in tickets:
        try:
            with transaction.atomic():
                _bulk_one(
                    actor, ticket, status, assignee, unassign, priority, reason, add_tags, source
                )
        except (ValidationError, TransitionRefused, PermissionDenied) as error:
            result.refused[ticket.pk] = "; ".join(getattr(error, "messages", [str(error)]))
        else:
            result.updated.append(ticket.pk)
    return result


def _bulk_one(actor, ticket, status, assignee, unassign, priority, reason, add_tags, source):
    if assignee is not None or unassign:
        assign(actor, ticket, assignee, source=source)
    if priority is not None:
        change_priority(actor, ticket, priority=priority, reason=reason, source=source)
    if status is not None:
        change_status(actor, ticket, status, reason=reason, source=source)
    if add_tags:
        current = list(ticket.tags.values_list("name", flat=True))
        update_ticket(actor, ticket, {"tags": [*current, *add_tags]}, source=source)
