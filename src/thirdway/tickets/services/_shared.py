"""What the ticket services share: payload resolution, timeline events, locking and checks."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from thirdway.access import find_owned, find_visible, visible
from thirdway.clients.models import Client
from thirdway.errors import invalid
from thirdway.network.models import Partner, Practice
from thirdway.tickets import lifecycle
from thirdway.tickets.access import can_work_on
from thirdway.tickets.bodies import clean_line
from thirdway.tickets.lifecycle import Status
from thirdway.tickets.models import (
    MAX_TAGS,
    TAG_LENGTH,
    Article,
    ArticleKind,
    Tag,
    Ticket,
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


def _owned(actor, model, client: Client, field: str, object_id):
    """A site, asset or contact of the ticket's client that the actor may see, by id."""
    if object_id is None:
        return None  # nothing named: no rows to narrow (find_owned answers None as well)
    return find_owned(visible(model, actor), client, field, object_id)


def resolve_practice(actor, practice_id) -> Practice | None:
    return find_visible(
        visible(Practice, actor), "practice", practice_id, allowed="a practice's id"
    )


def resolve_assignee(actor, partner_id, field: str = "assignee") -> Partner | None:
    return find_visible(
        visible(Partner, actor).filter(is_active=True),
        field,
        partner_id,
        noun="active partner",
        allowed="an active partner's id",
    )


TAGS_ALLOWED = f"at most {MAX_TAGS} tags of at most {TAG_LENGTH} characters each"


def _tags(actor, names: Iterable[str]) -> list[Tag]:
    """The tags named, at most ``MAX_TAGS`` of ``TAG_LENGTH`` characters.  Only the network (or
    the system) adds new tags to the list; a client contact picks among the existing ones."""
    cleaned = sorted({line.lower() for line in (clean_line(name) for name in names) if line})
    if len(cleaned) > MAX_TAGS:
        raise invalid("tags", f"A ticket carries at most {MAX_TAGS} tags.", TAGS_ALLOWED)
    if any(len(name) > TAG_LENGTH for name in cleaned):
        raise invalid("tags", f"A tag is at most {TAG_LENGTH} characters long.", TAGS_ALLOWED)
    existing = {tag.name: tag for tag in Tag.objects.filter(name__in=cleaned)}
    unknown = [name for name in cleaned if name not in existing]
    if unknown and actor is not None and not actor.is_network_staff:
        raise invalid(
            "tags",
            f"Unknown tags: {', '.join(unknown)}. Only the network adds new tags.",
            "names of existing tags, or none",
        )
    return [existing.get(name) or Tag.objects.get_or_create(name=name)[0] for name in cleaned]


def _priority_from(impact: int, urgency: int) -> int:
    try:
        return lifecycle.priority_for(impact, urgency)
    except ValueError as error:
        raise invalid("impact", str(error), "1 (high), 2 (medium) or 3 (low)") from error


def _lock(ticket: Ticket) -> Ticket:
    """Re-read the ticket under a row lock, so concurrent changes apply one after the other.

    Only the ticket's row: its client's, read with it, stays unlocked, or every change to any
    ticket of one client would wait for the others (PostgreSQL locks every joined row)."""
    return Ticket.objects.select_for_update(of=("self",)).select_related("client").get(pk=ticket.pk)


def _refuse_merged(ticket: Ticket) -> None:
    if ticket.status == Status.MERGED:
        raise invalid(
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
    # None is Thirdway itself (the clock worker escalating or handing over tickets).
    if actor is not None and not can_work_on(actor, ticket):
        raise PermissionDenied("Only the network may change this ticket.")
