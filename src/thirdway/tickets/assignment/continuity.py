"""Absence continuity: while a partner is away their open tickets are with a deputy, and on
return they may take them back.

The deputy is, in order: the deputy named on the absence, the partner's standing deputy, the
partner the dispatch engine ranks
first for the ticket (skills, hours, absences, load, continuity:
``tickets/assignment/dispatching.py``), the practice lead; whoever is active and not away
themselves.  Without any, the ticket goes back to the queue, so nothing waits on someone who is
away.  Each hand-over is a ``Handover`` row claimed by a unique constraint, then an assignment
(seen by the client as "now handled by ...").
"""

from __future__ import annotations

import datetime as dt
import logging

from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from thirdway.network.models import Absence, Partner
from thirdway.tickets.lifecycle import OPEN
from thirdway.tickets.models import ClockFailure, Handover, Ticket
from thirdway.tickets.notifications.models import NotificationKind
from thirdway.tickets.services.workflow import assign

log = logging.getLogger(__name__)


def _away_ids(ids, now: dt.datetime) -> set[int]:
    return set(
        Absence.objects.current(now).filter(partner_id__in=ids).values_list("partner_id", flat=True)
    )


def choose_deputy(
    partner: Partner,
    ticket: Ticket,
    now: dt.datetime,
    states=None,
    absence: Absence | None = None,
) -> Partner | None:
    """Who takes ``ticket`` while ``partner`` is away (None: back to the queue).

    The deputy named on the absence, else the partner's standing deputy, when active and not
    away; else the partner the dispatch engine ranks first (``states``: the pool already read,
    to share it across a sweep); else the practice lead when present.
    """
    named = [absence.deputy if absence is not None else None, partner.deputy]
    for deputy in named:
        if deputy is None or deputy.pk == partner.pk:
            continue
        if deputy.is_active and not _away_ids([deputy.pk], now):
            return deputy
    # the optimiser is heavy: loaded when needed
    from thirdway.tickets.assignment import dispatching

    decision = dispatching.rank(ticket, now, states=states)
    if decision.chosen is not None and decision.chosen.partner_id != partner.pk:
        return Partner.objects.get(pk=decision.chosen.partner_id)
    lead = ticket.practice.lead if ticket.practice_id else None
    usable = lead is not None and lead.pk != partner.pk and lead.is_active
    if usable and not _away_ids([lead.pk], now):
        return lead
    return None


def hand_over(absence: Absence, ticket: Ticket, now: dt.datetime, states=None) -> Handover | None:
    """Hand one ticket over for one absence; None when it was already handed over."""
    with transaction.atomic():
        try:
            with transaction.atomic():
                handover = Handover.objects.create(
                    absence=absence, ticket=ticket, from_partner=absence.partner
                )
        except IntegrityError:
            return None
        deputy = choose_deputy(absence.partner, ticket, now, states, absence)
        handover.to_partner = deputy
        handover.save(update_fields=["to_partner"])
        until = timezone.localtime(absence.ends_at).strftime("%d %b %Y")
        reason = f"{absence.partner.name} is away until {until}; " + (
            f"{deputy.name} takes over." if deputy else "back to the queue."
        )
        assign(
            None,
            ticket,
            deputy,
            reason=reason,
            source="system",
            notice=NotificationKind.HANDED_OVER,
        )
    return handover


def hand_over_absences(now: dt.datetime | None = None) -> int:
    """Hand over the open tickets of everyone whose absence has begun; returns how many."""
    now = now or timezone.now()
    count = 0
    states = None
    for absence in Absence.objects.current(now).select_related("partner__deputy", "deputy"):
        tickets = (
            Ticket.objects.filter(assignee=absence.partner, status__in=OPEN)
            .exclude(handovers__absence=absence)
            .select_related("practice__lead", "client", "site")
        )
        for ticket in tickets:
            if states is None:
                from thirdway.tickets.assignment import dispatching

                states = dispatching.partner_states(now)
            try:
                count += hand_over(absence, ticket, now, states) is not None
            except Exception as error:
                log.exception("hand-over of ticket %s failed", ticket.pk)
                ClockFailure.objects.create(
                    ticket=ticket, job="absence.handover", error=repr(error)
                )
    return count


def returnable(absence: Absence):
    """Hand-overs of this absence whose ticket is open and still with the deputy."""
    return Handover.objects.filter(
        absence=absence,
        returned_at__isnull=True,
        ticket__status__in=OPEN,
        ticket__assignee_id=F("to_partner_id"),
    ).select_related("ticket")


@transaction.atomic
def take_back(actor, absence: Absence, *, source: str) -> int:
    """The partner, back, takes their tickets back from the deputies; returns how many."""
    partner = absence.partner
    if not (actor.is_practice_admin or partner.user_id == actor.pk):
        raise PermissionDenied("Only the partner (or a practice admin) may take tickets back.")
    count = 0
    now = timezone.now()
    for handover in returnable(absence).select_for_update(of=("self",)):
        assign(
            actor,
            handover.ticket,
            partner,
            reason=f"{partner.name} is back.",
            source=source,
            notice=NotificationKind.TAKEN_BACK,
        )
        handover.returned_at = now
        handover.save(update_fields=["returned_at"])
        count += 1
    return count
