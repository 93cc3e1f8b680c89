"""API of dispatch offers (work beyond a partner's radius or shift, which they accept or decline)
and of a partner taking their next ticket."""

from __future__ import annotations

import datetime as dt

from django.shortcuts import get_object_or_404
from ninja import Field, Router, Schema
from ninja.errors import HttpError

from thirdway.audit.models import Source
from thirdway.tickets.assignment import next_ticket, offers
from thirdway.tickets.assignment.models import DispatchKind, DispatchOffer

router = Router()
LIST_LIMIT = 100


class DispatchOfferOut(Schema):
    id: int
    ticket_id: int
    ticket_number: str
    subject: str
    partner_id: int
    partner_name: str
    state: str
    limits: list[str]
    stretched: str
    why: str
    offered_at: dt.datetime
    expires_at: dt.datetime
    answered_at: dt.datetime | None
    decline_reason: str


class DispatchOfferDeclineIn(Schema):
    reason: str = Field(..., min_length=1, max_length=offers.REASON_MAX)


def _out(offer: DispatchOffer) -> dict:
    ticket = offer.ticket
    return {
        "id": offer.pk,
        "ticket_id": ticket.pk,
        "ticket_number": ticket.number,
        "subject": ticket.subject,
        "partner_id": offer.partner_id,
        "partner_name": offer.partner.name,
        "state": offer.state,
        "limits": offer.limit_names,
        "stretched": offer.stretched,
        "why": offer.why,
        "offered_at": offer.offered_at,
        "expires_at": offer.expires_at,
        "answered_at": offer.answered_at,
        "decline_reason": offer.decline_reason,
    }


@router.get("/dispatch-offers", response=list[DispatchOfferOut])
def list_dispatch_offers(request):
    """Open offers the caller may see (their own; every one for the desk), soonest to lapse
    first; at most 100."""
    return [_out(offer) for offer in offers.offers_for(request.auth)[:LIST_LIMIT]]


@router.post("/dispatch-offers/{offer_id}/accept", response=DispatchOfferOut)
def accept_dispatch_offer(request, offer_id: int):
    """The partner it is offered to takes the work: the ticket becomes theirs."""
    get_object_or_404(DispatchOffer.objects.for_user(request.auth), pk=offer_id)
    offers.accept(request.auth, offer_id, source=Source.API)
    return _out(DispatchOffer.objects.select_related("ticket", "partner").get(pk=offer_id))


@router.post("/dispatch-offers/{offer_id}/decline", response=DispatchOfferOut)
def decline_dispatch_offer(request, offer_id: int, payload: DispatchOfferDeclineIn):
    """The partner it is offered to declines, saying why; it is dispatched again without them."""
    get_object_or_404(DispatchOffer.objects.for_user(request.auth), pk=offer_id)
    offers.decline(request.auth, offer_id, payload.reason, source=Source.API)
    return _out(DispatchOffer.objects.select_related("ticket", "partner").get(pk=offer_id))


class NextTicketOut(Schema):
    ticket_id: int
    ticket_number: str
    subject: str
    priority: int
    why: str


@router.post("/dispatch/next", response=NextTicketOut)
def take_next_ticket(request):
    """Take my next ticket: the caller, a partner coming free, is given the most urgent ticket
    they may take (urgency first, docs/dispatch.md) among the tickets of the clients they
    serve; 409 when nothing is more urgent than their own queue (nothing changes)."""
    ticket = next_ticket.take_next(request.auth, source=Source.API)
    if ticket is None:
        raise HttpError(409, "Nothing to take: no ticket is more urgent than your own queue.")
    record = ticket.dispatch_records.filter(kind=DispatchKind.TAKEN).first()
    return {
        "ticket_id": ticket.pk,
        "ticket_number": ticket.number,
        "subject": ticket.subject,
        "priority": ticket.priority,
        "why": record.reason if record else "",
    }
