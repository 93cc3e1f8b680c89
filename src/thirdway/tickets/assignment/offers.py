"""On-site work offered beyond a partner's limits: the partner accepts or declines it.

When nobody within their limits can respond in time, the engine may choose a partner beyond
their radius or shift (a *stretch*, see ``dispatch/engine/evaluation.py``). For such work the
desk does not impose it: the ticket is offered to the partner, stays unassigned while the offer
is open, and is theirs only once they accept. A decline (with its reason) or an offer left
unanswered for the practice's ``offer_timeout_minutes`` dispatches it again without them.

The only writer of ``DispatchOffer`` and of a practice's offer timeout; every act is audited.
"""

from __future__ import annotations

import datetime as dt

from django.db import transaction
from django.utils import timezone

from thirdway.audit.models import Source
from thirdway.audit.services import record as audit_record
from thirdway.dispatch import engine
from thirdway.errors import invalid, require, require_admin
from thirdway.network.models import Partner
from thirdway.tickets.assignment.models import (
    DispatchKind,
    DispatchOffer,
    DispatchRecord,
    OfferState,
    PracticeDispatch,
)
from thirdway.tickets.models import NotificationKind, Ticket

# Limits whose stretch the partner must accept first; a level stretch is the desk's call.
NEEDS_ACCEPTANCE = ("radius", "shift")
TIMEOUT_DEFAULT = 15
TIMEOUT_MIN, TIMEOUT_MAX = 1, 240
TIMEOUT_ALLOWED = f"a whole number of minutes from {TIMEOUT_MIN} to {TIMEOUT_MAX}"
REASON_MAX = 500
REASON_ALLOWED = f"a reason of 1 to {REASON_MAX} characters"
EXPIRE_LIMIT = 100


def needs_acceptance(candidate: engine.Candidate | None) -> bool:
    """Whether giving the ticket to ``candidate`` stretches a limit they must accept."""
    return candidate is not None and any(
        name in NEEDS_ACCEPTANCE for name in candidate.stretched_limits
    )


def offer_timeout(practice_id: int | None) -> dt.timedelta:
    """How long the practice's partners have to answer an offer."""
    minutes = (
        PracticeDispatch.objects.filter(practice_id=practice_id)
        .values_list("offer_timeout_minutes", flat=True)
        .first()
    )
    return dt.timedelta(minutes=minutes or TIMEOUT_DEFAULT)


def set_offer_timeout(actor, practice, minutes, *, source: str) -> PracticeDispatch:
    """A practice admin sets how long an offer waits for its partner (1-240 minutes)."""
    require_admin(actor)
    if isinstance(minutes, bool) or not isinstance(minutes, int):
        raise invalid("offer_timeout_minutes", "Give a whole number of minutes.", TIMEOUT_ALLOWED)
    if not TIMEOUT_MIN <= minutes <= TIMEOUT_MAX:
        raise invalid(
            "offer_timeout_minutes", f"{minutes} minutes is out of range.", TIMEOUT_ALLOWED
        )
    with transaction.atomic():
        entry, _ = PracticeDispatch.objects.select_for_update().get_or_create(practice=practice)
        before = entry.offer_timeout_minutes
        if before != minutes:
            entry.offer_timeout_minutes = minutes
            entry.save(update_fields=["offer_timeout_minutes", "updated_at"])
            audit_record(
                actor,
                "dispatch.offer_timeout",
                practice,
                source=source,
                changes={"offer_timeout_minutes": [before, minutes]},
            )
    return entry


def make_offer(
    ticket: Ticket, candidate: engine.Candidate, record: DispatchRecord, now: dt.datetime
) -> DispatchOffer:
    """Offer a locked, unassigned ticket to the stretched ``candidate`` (the ranking is in
    ``record``); the ticket stays unassigned until they accept."""
    offer = DispatchOffer.objects.create(
        ticket=ticket,
        partner_id=candidate.partner_id,
        record=record,
        limits=",".join(candidate.stretched_limits),
        stretched=candidate.stretched or "",
        why=candidate.stretch_why or "",
        offered_at=now,
        expires_at=now + offer_timeout(ticket.practice_id),
    )
    audit_record(
        None,
        "ticket.dispatch_offered",
        ticket,
        source=Source.SYSTEM,
        scope=f"ticket:{ticket.pk}",
        changes={"offered_to": [None, candidate.partner_id], "stretched": [None, offer.limits]},
    )
    _tell_partner(offer, now)
    return offer


def _tell_partner(offer: DispatchOffer, now: dt.datetime) -> None:
    """The partner hears of the offer in the app and, as they chose, by e-mail (the mail
    room's outgoing path), with where to accept or decline it."""
    from thirdway.tickets.notifications.services import notify

    partner = Partner.objects.select_related("user").get(pk=offer.partner_id)
    if partner.user is None:
        return
    ticket = offer.ticket
    minutes = round((offer.expires_at - offer.offered_at).total_seconds() / 60)
    text = (
        f"Offered to you: {ticket.number} {ticket.subject} (P{ticket.priority}), beyond your "
        f"limits ({offer.stretched or offer.limits}). Accept or decline within {minutes} min."
    )
    notify(partner.user, NotificationKind.OFFERED, ticket, text, now=now)


def open_offer(ticket: Ticket) -> DispatchOffer | None:
    return (
        DispatchOffer.objects.filter(ticket=ticket, state=OfferState.OPEN)
        .select_related("partner")
        .first()
    )


def refused_by(ticket_id: int) -> set[int]:
    """Partners who declined the ticket or let an offer of it lapse: not asked again."""
    return set(
        DispatchOffer.objects.filter(
            ticket_id=ticket_id, state__in=(OfferState.DECLINED, OfferState.EXPIRED)
        ).values_list("partner_id", flat=True)
    )


def _answerable(actor, offer_id: int, now: dt.datetime) -> DispatchOffer:
    """The open offer ``offer_id`` made to ``actor``, locked; 404 when they may not see it,
    403 when it is someone else's, 400 when it is no longer open."""
    offer = (
        DispatchOffer.objects.for_user(actor)
        .select_for_update(of=("self",))
        .select_related("partner", "ticket")
        .get(pk=offer_id)
    )
    require(
        offer.partner.user_id is not None and offer.partner.user_id == actor.pk,
        "Only the partner it is offered to may answer this offer.",
    )
    if offer.state != OfferState.OPEN or offer.expires_at <= now:
        raise invalid(
            "offer",
            f"This offer is no longer open ({offer.get_state_display().lower()}).",
            "an offer awaiting your answer",
        )
    return offer


def _answer(
    offer: DispatchOffer, actor, state: str, now: dt.datetime, source: str, reason: str = ""
) -> None:
    before = offer.state
    offer.state, offer.answered_at, offer.answered_by = state, now, actor
    offer.decline_reason = reason
    offer.save(update_fields=["state", "answered_at", "answered_by", "decline_reason"])
    changes = {"state": [before, state]}
    if reason:
        changes["decline_reason"] = ["", reason]
    audit_record(
        actor,
        f"ticket.dispatch_offer_{state}",
        offer.ticket,
        source=source,
        scope=f"ticket:{offer.ticket_id}",
        changes=changes,
    )


def _answer_record(offer: DispatchOffer, kind: str, actor, reason: str, now) -> DispatchRecord:
    ranked = offer.record.candidates if offer.record is not None else []
    return DispatchRecord.objects.create(
        ticket=offer.ticket,
        kind=kind,
        partner=offer.partner,
        actor=actor,
        reason=reason,
        candidates=ranked,
        rejected_by=offer.record.rejected_by if offer.record is not None else {},
        feasible_count=offer.record.feasible_count if offer.record is not None else 0,
        decided_at=now,
    )


def accept(actor, offer_id: int, *, source: str, now: dt.datetime | None = None) -> Ticket:
    """The partner takes the work offered to them: the ticket is assigned to them."""
    from thirdway.tickets.services.workflow import assign

    now = now or timezone.now()
    with transaction.atomic():
        offer = _answerable(actor, offer_id, now)
        ticket = Ticket.objects.select_for_update(of=("self",)).get(pk=offer.ticket_id)
        if ticket.assignee_id is not None or ticket.merged_into_id is not None:
            raise invalid("offer", "The ticket was taken meanwhile.", "an offer still open")
        _answer(offer, actor, OfferState.ACCEPTED, now, source)
        why = f"Accepted beyond their limits ({offer.limits.replace(',', ', ')})."
        _answer_record(offer, DispatchKind.ACCEPTED, actor, why, now)
        return assign(None, ticket, offer.partner, reason=why, source=source)


def decline(
    actor, offer_id: int, reason: str, *, source: str, now: dt.datetime | None = None
) -> DispatchOffer:
    """The partner declines the work, saying why; it is dispatched again without them."""
    reason = (reason or "").strip()
    if not reason or len(reason) > REASON_MAX:
        raise invalid("reason", "Say why you decline, in at most 500 characters.", REASON_ALLOWED)
    now = now or timezone.now()
    with transaction.atomic():
        offer = _answerable(actor, offer_id, now)
        _answer(offer, actor, OfferState.DECLINED, now, source, reason)
        _answer_record(offer, DispatchKind.DECLINED, actor, f"Declined: {reason}", now)
        redispatch(offer.ticket_id, now)
    return offer


def expire_offers(now: dt.datetime | None = None) -> int:
    """Offers left unanswered past their time lapse, and their tickets are dispatched again
    without the partner; at most ``EXPIRE_LIMIT`` per run, oldest first. Returns how many."""
    now = now or timezone.now()
    due = list(
        DispatchOffer.objects.filter(state=OfferState.OPEN, expires_at__lte=now)
        .order_by("expires_at", "pk")
        .values_list("pk", flat=True)[:EXPIRE_LIMIT]
    )
    expired = 0
    for offer_id in due:
        with transaction.atomic():
            offer = (
                DispatchOffer.objects.select_for_update(of=("self",))
                .select_related("partner", "ticket")
                .filter(pk=offer_id, state=OfferState.OPEN)
                .first()
            )
            if offer is None:
                continue  # answered meanwhile
            _answer(offer, None, OfferState.EXPIRED, now, Source.SYSTEM)
            minutes = round((offer.expires_at - offer.offered_at).total_seconds() / 60)
            why = f"Not answered within {minutes} min; dispatched again without them."
            _answer_record(offer, DispatchKind.EXPIRED, None, why, now)
            redispatch(offer.ticket_id, now)
            expired += 1
    return expired


def redispatch(ticket_id: int, now: dt.datetime) -> DispatchRecord | None:
    """Rank the ticket again without the partners who refused it, and apply the outcome (a
    P1 nobody else can start in time may interrupt routine work, as on arrival)."""
    from thirdway.tickets.assignment import dispatching

    ticket = dispatching._waiting(ticket_id)
    if ticket is None:
        return None
    from thirdway.tickets.assignment import preemption, surge

    if surge.hold_if_surging(ticket, now) is not None:
        return None

    refused = refused_by(ticket_id)
    states = [
        s
        for s in dispatching.partner_states(now, exclude_tickets=[ticket.pk])
        if s.id not in refused
    ]
    need = dispatching.needs_of([ticket], now)[0]
    decision = engine.rank(need, states, dispatching.weights(ticket.practice_id), now)
    # a P1 declined beyond someone's limits may still interrupt routine work
    interrupted = preemption.try_preempt(ticket, decision, need, states, now)
    if interrupted is not None:
        return interrupted
    chosen = decision.chosen.partner_id if decision.chosen else None
    return dispatching._apply(ticket, DispatchKind.REOPTIMISE, chosen, decision, now=now)


def offers_for(user):
    """Open offers ``user`` may see, soonest to lapse first."""
    return (
        DispatchOffer.objects.for_user(user)
        .filter(state=OfferState.OPEN)
        .select_related("ticket", "ticket__client", "ticket__site", "partner")
        .order_by("expires_at", "pk")
    )


def partner_of(user) -> Partner | None:
    return Partner.objects.filter(user=user).first() if user.is_authenticated else None
