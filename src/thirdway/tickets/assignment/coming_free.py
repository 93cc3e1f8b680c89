"""When a partner comes free, their next ticket is offered to them or taken for them.

A partner comes free when they resolve or close a ticket they held (``change_status`` enqueues
``partner_came_free`` after commit), when a shift of theirs starts, or when an absence of
theirs ends (both seen by the dispatch sweep, :func:`sweep`). The ticket is the one *Take my
next ticket* would give them (``next_ticket.choose``, the engine's urgency-first rule), looked
for among the tickets of the practices whose ``when_free`` is *offer* or *take*; that ticket's
practice says which. A partner with a ticket in progress, off shift or away is not free: nothing
happens. Each event is claimed once (``ComingFree``), so a retried task or a second sweep over
the same shift start does nothing.
"""

from __future__ import annotations

import datetime as dt
import logging
import zoneinfo

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from thirdway.audit.models import Source
from thirdway.network.models import Absence, Partner
from thirdway.network.places import shift_at
from thirdway.network.schedule import available_ids
from thirdway.tickets.assignment.models import ComingFree, FreeTrigger, PracticeDispatch, WhenFree
from thirdway.tickets.lifecycle import OPEN, Status
from thirdway.tickets.models import NotificationKind, Ticket

log = logging.getLogger(__name__)

# Events looked at per sweep (shift starts and returns together).
SWEEP_LIMIT = 200


def practices_on() -> dict[int, str]:
    """``when_free`` of every practice that offers or takes, by practice id (one query)."""
    return dict(
        PracticeDispatch.objects.exclude(when_free=WhenFree.NOTHING).values_list(
            "practice_id", "when_free"
        )
    )


def after_status(ticket: Ticket, before: str, target: str) -> None:
    """Called by ``change_status``: a ticket its partner held is resolved or closed, so they
    may be free; the worker sees to it after commit."""
    if ticket.assignee_id is None or before not in OPEN:
        return
    if target not in (Status.RESOLVED, Status.CLOSED) or not practices_on():
        return
    from thirdway.tickets.tasks import partner_came_free

    stamp = ticket.resolved_at if target == Status.RESOLVED else ticket.closed_at
    key = f"{ticket.pk}@{stamp.isoformat() if stamp else target}"
    args = (ticket.assignee_id, FreeTrigger.RESOLVED.value, key)
    transaction.on_commit(lambda: partner_came_free.enqueue(*args))


def not_free(partner: Partner, now: dt.datetime) -> str:
    """Why ``partner`` is not free at ``now`` ('' when they are)."""
    if not partner.is_active or partner.user_id is None:
        return "not an active partner with an account"
    if Ticket.objects.filter(assignee=partner, status=Status.IN_PROGRESS).exists():
        return "a ticket in progress"
    if partner.pk not in available_ids(Partner.objects.filter(pk=partner.pk), now):
        return "off shift or away"
    return ""


def came_free(
    partner_id: int, trigger: str, key: str, *, now: dt.datetime | None = None
) -> ComingFree | None:
    """The partner came free (``trigger``, ``key`` naming the event): offer or take their next
    ticket as its practice says. None when no practice offers or takes, or when this event was
    already seen; else the claim, with what came of it."""
    now = now or timezone.now()
    on = practices_on()
    if not on:
        return None
    with transaction.atomic():
        # the partner's row is locked so two events of theirs are decided one after the other
        partner = Partner.objects.select_for_update().filter(pk=partner_id).first()
        if partner is None:
            return None
        claim, created = ComingFree.objects.get_or_create(
            partner=partner, trigger=trigger, key=key[:80], defaults={"decided_at": now}
        )
        if not created:
            return None  # a retry, or the same shift start seen again
        claim.outcome, claim.ticket = _decide(partner, trigger, on, now)
        claim.save(update_fields=["outcome", "ticket"])
    return claim


def _decide(
    partner: Partner, trigger: str, on: dict[int, str], now: dt.datetime
) -> tuple[str, Ticket | None]:
    from thirdway.tickets.assignment import next_ticket  # the engine: loaded by the worker only

    busy = not_free(partner, now)
    if busy:
        return f"Nothing: {busy}.", None
    pick = next_ticket.choose(partner, now, practices=on)
    if pick is None:
        return "Nothing more urgent than their own queue.", None
    came = FreeTrigger(trigger).label
    reason = f"{pick.reason} ({partner.name} {came})."
    ticket = Ticket.objects.select_related("practice").get(pk=pick.ticket.key)
    if on.get(ticket.practice_id) == WhenFree.TAKE:
        taken = next_ticket.give(
            partner, pick, actor=None, source=Source.SYSTEM, now=now, reason=reason
        )
        return (f"Taken: {taken.number}.", taken) if taken else ("Nothing: taken meanwhile.", None)
    why = pick.reason.removeprefix(f"{next_ticket.rule.TAKEN}: ")
    _offer(partner, ticket, f"{why}; you {came}", now)
    return f"Offered: {ticket.number}.", ticket


def _offer(partner: Partner, ticket: Ticket, why: str, now: dt.datetime) -> None:
    """Tell the partner which ticket is theirs to take next, in the app and by e-mail as they
    chose; the notice's *Take it* (or *Take my next ticket*) takes it in one click."""
    from thirdway.tickets.notifications.services import notify

    text = (
        f"Your next ticket: {ticket.number} {ticket.subject} ({why}). "
        "Take it here or with Take my next ticket on your Mine queue."
    )
    notify(partner.user, NotificationKind.NEXT_TICKET, ticket, text, now=now)


def shift_start(hours: dict, zone: str, now: dt.datetime) -> dt.datetime | None:
    """When the shift the partner is on at ``now`` started: the start of their working
    interval, unless they were already on shift the minute before it (one interval running
    into the next, or round the clock). None: off shift, or no start today."""
    span = shift_at(hours, zone, now)
    if span is None:
        return None
    local = now.astimezone(zoneinfo.ZoneInfo(zone))
    start = local.replace(hour=span[0].hour, minute=span[0].minute, second=0, microsecond=0)
    if shift_at(hours, zone, start - dt.timedelta(minutes=1)) is not None:
        return None
    return start


def events(now: dt.datetime, window: dt.timedelta, practices) -> list[tuple[int, str, str]]:
    """Partners of ``practices`` whose shift started, or whose absence ended, within
    ``window`` before ``now``: (partner, trigger, key naming the event)."""
    partners = (
        Partner.objects.filter(
            is_active=True, user__isnull=False, skills__practice_id__in=list(practices)
        )
        .distinct()
        .values_list("pk", "time_zone", "working_hours")
    )
    found = []
    for pk, zone, hours in partners:
        start = shift_start(hours, zone, now)
        if start is not None and now - start <= window:
            found.append((pk, FreeTrigger.SHIFT.value, start.isoformat()))
    returns = Absence.objects.filter(
        ends_at__gt=now - window, ends_at__lte=now, partner_id__in=[p[0] for p in partners]
    ).values_list("partner_id", "pk", "ends_at")
    found.extend(
        (pk, FreeTrigger.BACK.value, f"{absence}@{ends.isoformat()}")
        for pk, absence, ends in returns
    )
    return found[:SWEEP_LIMIT]


def sweep(now: dt.datetime | None = None) -> dict[str, int]:
    """With the dispatch sweep: partners whose shift started or who came back since about the
    last run (twice its interval, so a late run misses none; the claims keep each once)."""
    now = now or timezone.now()
    on = practices_on()
    if not on:
        return {"came_free": 0}
    window = dt.timedelta(seconds=2 * settings.DISPATCH_REOPTIMISE_SECONDS)
    done = 0
    for partner_id, trigger, key in events(now, window, on):
        try:
            done += came_free(partner_id, trigger, key, now=now) is not None
        except Exception:
            # one partner's failure never stops the others'
            log.exception("coming free of partner %s (%s) failed", partner_id, trigger)
    return {"came_free": done}
