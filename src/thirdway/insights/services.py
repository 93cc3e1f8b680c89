"""The insights room's one writer of ratings: signed rating links, the rating itself, and the
follow-up ticket a low score opens for the client's lead partner."""

from __future__ import annotations

import logging

from django.conf import settings
from django.db import IntegrityError, transaction
from django.urls import reverse

from thirdway.audit.models import Source
from thirdway.audit.services import record
from thirdway.errors import invalid
from thirdway.insights.models import COMMENT_LENGTH, LOW_SCORE, CsatResponse
from thirdway.tickets.lifecycle import Status
from thirdway.tickets.models import Ticket
from thirdway.tickets.rating_links import (
    LINK_DAYS,
    LinkExpired,
    LinkForged,
    rating_token,
    read_rating_token,
)

log = logging.getLogger(__name__)
RATED = (Status.RESOLVED, Status.CLOSED)


def rating_path(ticket: Ticket) -> str:
    return reverse("insights:rate", args=[rating_token(ticket)])


def rating_url(ticket: Ticket) -> str:
    """The whole link, for an e-mail or the API (on ``THIRDWAY_SITE_URL`` when set)."""
    base = settings.SITE_URL or ""
    return base.rstrip("/") + rating_path(ticket)


def ticket_of_token(token: str) -> tuple[Ticket, dict]:
    """The ticket a rating link names, or a 400 on ``token`` saying why it cannot be used."""
    try:
        data = read_rating_token(token)
    except LinkExpired:
        raise invalid(
            "token", "This rating link has expired.", f"a link under {LINK_DAYS} days old"
        ) from None
    except LinkForged:
        raise invalid(
            "token", "This rating link is not valid.", "the link from the e-mail or portal"
        ) from None
    ticket = (
        Ticket.objects.select_related("client__lead_partner__user").filter(pk=data.get("t")).first()
    )
    if ticket is None or ticket.status not in RATED:
        raise invalid("token", "This ticket is not resolved any more.", "a resolved ticket")
    return ticket, data


def already_rated(ticket: Ticket) -> bool:
    return CsatResponse.objects.filter(ticket=ticket).exists()


@transaction.atomic
def rate_ticket(actor, token: str, *, score: int, comment: str = "", source: str) -> CsatResponse:
    """Record the rating a signed link carries (once per ticket); a low score opens one
    follow-up ticket for the client's lead partner. ``actor`` may be None (a link from mail
    followed without signing in: the link is the proof)."""
    ticket, data = ticket_of_token(token)
    if not isinstance(score, int) or not 1 <= score <= 5:
        raise invalid("score", f"{score!r} is not a rating.", "1 (bad) to 5 (good)")
    comment = (comment or "").strip()
    if len(comment) > COMMENT_LENGTH:
        raise invalid(
            "comment", f"The comment has {len(comment)} characters.", f"at most {COMMENT_LENGTH}"
        )
    if already_rated(ticket):
        raise invalid("token", "This ticket was rated already.", "one rating per ticket")
    try:
        with transaction.atomic():
            response = CsatResponse.objects.create(
                ticket=ticket,
                client_id=ticket.client_id,
                contact_id=data.get("c"),
                partner_id=ticket.assignee_id,
                practice_id=ticket.practice_id,
                score=score,
                comment=comment,
            )
    except IntegrityError:
        raise invalid("token", "This ticket was rated already.", "one rating per ticket") from None
    record(actor, "insights.rated", response, source=source, changes={"score": [None, score]})
    if score <= LOW_SCORE:
        _follow_up(response, ticket)
    return response


def _follow_up(response: CsatResponse, ticket: Ticket) -> None:
    from thirdway.tickets.services import create_ticket

    lead = ticket.client.lead_partner
    if lead is None or lead.user is None:
        log.warning("No lead partner to follow up the low rating of ticket %s", ticket.pk)
        return
    said = f'\n\nTheir comment: "{response.comment}"' if response.comment else ""
    follow = create_ticket(
        lead.user,
        ticket.client,
        subject=f"Low satisfaction on {ticket.number}: {ticket.subject}"[:250],
        body_text=(
            f"The client rated {ticket.number} {response.score} out of 5.{said}\n\n"
            "Call them, find out what went wrong and what would put it right."
        ),
        requester_id=response.contact_id,
        practice_id=ticket.practice_id,
        category="Client satisfaction",
        type="service_request",
        assignee_id=lead.pk,
        source=Source.SYSTEM,
    )
    response.follow_up = follow
    response.save(update_fields=["follow_up"])
