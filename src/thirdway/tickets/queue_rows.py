"""The rows of a queue page as the text they show.

The template then prints a few ready strings per row instead of resolving, for each of fifty
tickets, a dozen lookups through related objects and filters (addresses, labels, dates in the
reader's time zone): most of the Python time of a queue page went there.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db.models import OuterRef, Subquery
from django.urls import reverse
from django.utils import timezone

from thirdway.accounts.models import CLIENT_ROLES
from thirdway.tickets.lifecycle import LABELS, Status
from thirdway.tickets.models import (
    Article,
    ArticleKind,
    DispatchOffer,
    OfferState,
    SurgeHold,
    Ticket,
)

# What a row shows: the ticket's long texts and its relations' other columns stay in the database.
ROW_FIELDS = (
    "subject",
    "status",
    "priority",
    "sla_due_at",
    "updated_at",
    "client__name",
    "requester__name",
    "assignee__name",
    "practice__name",
)
NOBODY = "—"


def with_last_public_message(tickets):
    """Annotate who wrote each ticket's last public message (their role), and whether it is
    the message that opened the ticket: in the one query that reads the page's rows."""
    public = Article.objects.filter(ticket=OuterRef("pk"), kind=ArticleKind.REPLY)
    last = public.order_by("-created_at", "-id")
    # And work offered beyond a partner's limits, awaiting their answer (at most one open).
    offered = DispatchOffer.objects.filter(ticket=OuterRef("pk"), state=OfferState.OPEN)
    # And routine work held while its skill is in surge.
    held = SurgeHold.objects.filter(ticket=OuterRef("pk"), ended_at__isnull=True)
    return tickets.annotate(
        last_public_role=Subquery(last.values("author__role")[:1]),
        last_public_id=Subquery(last.values("id")[:1]),
        first_public_id=Subquery(public.order_by("created_at", "id").values("id")[:1]),
        offered_limits=Subquery(offered.values("limits")[:1]),
        offered_to=Subquery(offered.values("partner__name")[:1]),
        held_on=Subquery(held.values("practice__name")[:1]),
    )


def client_replied(ticket: Ticket) -> bool:
    """The client wrote last, after the message that opened the ticket: the desk owes them
    an answer (a new ticket says so by its status already)."""
    role = getattr(ticket, "last_public_role", None)
    return role in CLIENT_ROLES and ticket.last_public_id != ticket.first_public_id


@dataclass(frozen=True, slots=True)
class QueueRow:
    pk: int
    number: str
    href: str
    subject: str
    tags: tuple[str, ...]
    requester: str | None
    client: str
    status: str
    status_label: str
    priority: int
    assignee: str
    practice: str
    due_iso: str
    due_text: str
    breached: bool
    updated_iso: str
    updated_text: str
    client_replied: bool = False
    awaiting: str = ""
    held: str = ""


def _shown(moment: dt.datetime) -> str:
    """As the ``date:"Y-m-d H:i"`` filter shows it: in the reader's time zone."""
    return timezone.localtime(moment).strftime("%Y-%m-%d %H:%M")


def queue_row(ticket: Ticket, now: dt.datetime, href_of) -> QueueRow:
    due = ticket.sla_due_at
    return QueueRow(
        pk=ticket.pk,
        number=ticket.number,
        href=href_of(ticket.number),
        subject=ticket.subject,
        tags=tuple(tag.name for tag in ticket.tags.all()),
        requester=ticket.requester.name if ticket.requester else None,
        client=ticket.client.name,
        status=ticket.status,
        status_label=LABELS[Status(ticket.status)],
        priority=ticket.priority,
        assignee=(ticket.assignee.name if ticket.assignee else "") or NOBODY,
        practice=(ticket.practice.name if ticket.practice else "") or NOBODY,
        due_iso=due.isoformat() if due else "",
        due_text=_shown(due) if due else "",
        breached=bool(due and due <= now),
        updated_iso=ticket.updated_at.isoformat(),
        updated_text=_shown(ticket.updated_at),
        client_replied=client_replied(ticket),
        awaiting=_awaiting(ticket),
        held=held_text(getattr(ticket, "held_on", None)),
    )


def held_text(skill: str | None) -> str:
    """ "held: surge on Security" while the ticket is held for a surge of its skill."""
    return f"held: surge on {skill}" if skill else ""


def _awaiting(ticket: Ticket) -> str:
    """ "Offered to X: awaiting acceptance, stretched: radius" while an offer is open."""
    limits = getattr(ticket, "offered_limits", None)
    if not limits:
        return ""
    who = getattr(ticket, "offered_to", None) or "a partner"
    return f"Offered to {who}: awaiting acceptance, stretched: {limits.replace(',', ', ')}"


def queue_rows(tickets, now: dt.datetime) -> list[QueueRow]:
    """One ``QueueRow`` per ticket (read with ``ROW_FIELDS``, their client, requester,
    assignee and practice, their tags prefetched, and ``with_last_public_message``)."""
    # Every ticket's address is this one with its number in place of the placeholder's.
    placeholder = "TW-0"
    pattern = reverse("tickets:detail", args=[placeholder])
    head, tail = pattern.rsplit(placeholder, 1)
    return [queue_row(ticket, now, lambda number: f"{head}{number}{tail}") for ticket in tickets]
