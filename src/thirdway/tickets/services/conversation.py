"""Replies and internal notes."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.utils import timezone

from thirdway.audit.services import record
from thirdway.errors import invalid
from thirdway.tickets import timekeeping
from thirdway.tickets.access import can_reply_as_client, can_work_on
from thirdway.tickets.lifecycle import Status
from thirdway.tickets.models import (
    Article,
    ArticleKind,
    Channel,
    Ticket,
    WorkType,
)
from thirdway.tickets.notifications import triggers
from thirdway.tickets.services._shared import (
    Upload,
    _lock,
    _refuse_merged,
    _scope,
    _touch,
)
from thirdway.tickets.services.opening import _article
from thirdway.tickets.services.workflow import _set_status
from thirdway.tickets.sla_clocks import clocks
from thirdway.tickets.webhooks import events

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
    work_type: str = WorkType.REMOTE,
    billable: bool = True,
    channel: str = Channel.WEB,
    source: str,
    origin: events.Origin | None = None,
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
            work_type=work_type,
            billable=billable,
        )
        if ticket.first_responded_at is None:
            ticket.first_responded_at = article.created_at
            ticket.save(update_fields=["first_responded_at", "updated_at"])
        clocks.network_replied(ticket)
        clocks.refresh(ticket)
    elif can_reply_as_client(actor, ticket):
        _reopen_window_check(ticket)
        article = _article(actor, ticket, ArticleKind.REPLY, body_html, body_text, channel, uploads)
        _client_replied(actor, ticket, source, origin)
        clocks.client_replied(ticket, article.created_at)
        clocks.refresh(ticket)
        triggers.client_replied(ticket, article)
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
    events.emit("ticket.replied", ticket, article, origin)
    return article


def _reopen_window_check(ticket: Ticket) -> None:
    if ticket.status == Status.CLOSED and ticket.closed_at is not None:
        limit = ticket.closed_at + dt.timedelta(days=settings.TICKET_REOPEN_DAYS)
        if timezone.now() > limit:
            raise invalid(
                "body",
                f"{ticket.number} was closed more than {settings.TICKET_REOPEN_DAYS} days ago; "
                "open a new ticket instead.",
                "a new ticket",
            )


def _client_replied(actor, ticket: Ticket, source: str, origin: events.Origin | None) -> None:
    if ticket.status in (Status.WAITING_CLIENT, Status.RESOLVED, Status.CLOSED):
        _set_status(actor, ticket, Status.IN_PROGRESS, "The client replied.", source, origin)


@transaction.atomic
def note(
    actor,
    ticket: Ticket,
    *,
    body_html: str | None = None,
    body_text: str | None = None,
    uploads: Iterable[Upload] = (),
    time_spent_minutes: int = 0,
    work_type: str = WorkType.REMOTE,
    billable: bool = True,
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
        work_type=work_type,
        billable=billable,
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
    triggers.mentioned(actor, ticket, article)
    events.emit("ticket.noted", ticket, article)
    return article


@transaction.atomic
def correct_time(
    actor, article: Article, *, time_spent_minutes: int, billable: bool | None = None, source: str
) -> Article:
    """Correct the minutes recorded on a reply or note: its author or a practice admin.
    Whoever keeps time beside the ticket (billing) is told (``timekeeping``)."""
    if article.kind not in (ArticleKind.REPLY, ArticleKind.NOTE):
        raise invalid("article", "Only a reply or a note carries time.", "a reply or a note")
    if not (actor.is_practice_admin or article.author_id == actor.pk):
        raise PermissionDenied("Only the author or a practice admin corrects the time.")
    if not isinstance(time_spent_minutes, int) or not 0 <= time_spent_minutes <= 24 * 60:
        raise invalid(
            "time_spent_minutes",
            f"{time_spent_minutes} minutes is out of range.",
            "0 to 1440 minutes",
        )
    ticket = _lock(article.ticket)
    article = Article.objects.select_for_update().get(pk=article.pk, ticket=ticket)
    before = article.time_spent_minutes
    article.time_spent_minutes = time_spent_minutes
    fields = ["time_spent_minutes"]
    if billable is not None:
        article.billable = billable
        fields.append("billable")
    article.save(update_fields=fields)
    timekeeping.article_time_written(article, created=False)
    record(
        actor,
        "ticket.time_corrected",
        ticket,
        source=source,
        scope=_scope(ticket),
        changes={"time_spent_minutes": [before, time_spent_minutes]},
    )
    return article
