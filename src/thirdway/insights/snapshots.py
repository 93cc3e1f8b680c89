"""The daily snapshot: each practice's, partner's and client's figures of one UTC day.

A ticket counts for its practice, its assignee and its client. First response times are in
business minutes of the ticket's SLA calendar (the SLA room's engine), in wall-clock minutes
for a ticket without one. The backlog is the tickets open now that were opened by the day's
end: a snapshot of a past day taken late sees today's open tickets, so the job takes each day
as it ends (and today again every hour).
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable

from django.db import transaction
from django.db.models import Q

from thirdway.insights import figures
from thirdway.insights.models import CsatResponse, DailySnapshot, Scope
from thirdway.sla.calendars import to_engine
from thirdway.sla.engine import business_seconds_between
from thirdway.tickets.lifecycle import OPEN
from thirdway.tickets.models import Article, Ticket

Key = tuple[str, int]


def _keys(ticket) -> Iterable[Key]:
    if ticket.practice_id:
        yield (Scope.PRACTICE, ticket.practice_id)
    if ticket.assignee_id:
        yield (Scope.PARTNER, ticket.assignee_id)
    yield (Scope.CLIENT, ticket.client_id)


def first_response_minutes(ticket) -> tuple[float, bool]:
    """Minutes to the first response, and whether they are business minutes."""
    if ticket.sla_calendar is not None:
        calendar = to_engine(ticket.sla_calendar, ticket.created_at.date())
        seconds = business_seconds_between(calendar, ticket.created_at, ticket.first_responded_at)
        return seconds / 60, True
    return (ticket.first_responded_at - ticket.created_at).total_seconds() / 60, False


class _Tally:
    def __init__(self) -> None:
        self.opened = self.resolved = self.sla_met = self.sla_measured = 0
        self.reopened = self.csat_count = self.csat_sum = 0
        self.responses: list[float] = []
        self.business = True
        self.ages: list[float] = []

    def row(self, day: dt.date, key: Key) -> DailySnapshot:
        scope, subject = key
        return DailySnapshot(
            day=day,
            scope=scope,
            subject_id=subject,
            practice_id=subject if scope == Scope.PRACTICE else None,
            partner_id=subject if scope == Scope.PARTNER else None,
            client_id=subject if scope == Scope.CLIENT else None,
            opened=self.opened,
            resolved=self.resolved,
            first_response_p50=figures.percentile(self.responses, 0.5),
            first_response_p90=figures.percentile(self.responses, 0.9),
            first_response_business=self.business,
            sla_met=self.sla_met,
            sla_measured=self.sla_measured,
            backlog=len(self.ages),
            backlog_age_p50=figures.percentile(self.ages, 0.5),
            backlog_age_max=max(self.ages) if self.ages else None,
            reopened=self.reopened,
            csat_count=self.csat_count,
            csat_sum=self.csat_sum,
        )


def figures_of_day(day: dt.date) -> dict[Key, _Tally]:
    """Every figure of ``day`` (UTC), by scope and subject."""
    start = dt.datetime.combine(day, dt.time(), tzinfo=dt.UTC)
    end = start + dt.timedelta(days=1)
    tallies: dict[Key, _Tally] = defaultdict(_Tally)
    within = {"__gte": start, "__lt": end}
    touched = Ticket.objects.filter(
        Q(**{f"created_at{k}": v for k, v in within.items()})
        | Q(**{f"resolved_at{k}": v for k, v in within.items()})
        | Q(**{f"first_responded_at{k}": v for k, v in within.items()})
        | Q(status__in=OPEN, created_at__lt=end)
    ).select_related("sla_calendar")
    for ticket in touched:
        for key in _keys(ticket):
            _count(tallies[key], ticket, start, end)
    _reopenings(tallies, start, end)
    for response in CsatResponse.objects.filter(
        created_at__gte=start, created_at__lt=end
    ).select_related("ticket"):
        for key in _keys(response.ticket):
            tallies[key].csat_count += 1
            tallies[key].csat_sum += response.score
    return tallies


def _count(tally: _Tally, ticket, start: dt.datetime, end: dt.datetime) -> None:
    if start <= ticket.created_at < end:
        tally.opened += 1
    if ticket.resolved_at and start <= ticket.resolved_at < end:
        tally.resolved += 1
        if ticket.resolution_due_at:
            tally.sla_measured += 1
            tally.sla_met += ticket.resolved_at <= ticket.resolution_due_at
    if ticket.first_responded_at and start <= ticket.first_responded_at < end:
        minutes, business = first_response_minutes(ticket)
        tally.responses.append(round(minutes, 1))
        tally.business = tally.business and business
    if ticket.status in OPEN and ticket.created_at < end:
        tally.ages.append(round((end - ticket.created_at).total_seconds() / 3600, 1))


def _reopenings(tallies: dict[Key, _Tally], start: dt.datetime, end: dt.datetime) -> None:
    """A reopening: a status event from resolved or closed back to an open status."""
    moves = Article.objects.filter(
        event="status",
        created_at__gte=start,
        created_at__lt=end,
        data__from__in=["resolved", "closed"],
    ).select_related("ticket")
    for move in moves:
        if move.data.get("to") in OPEN:
            for key in _keys(move.ticket):
                tallies[key].reopened += 1


def take(day: dt.date) -> int:
    """Write ``day``'s snapshot rows, replacing any earlier ones of that day; the row count."""
    rows = [tally.row(day, key) for key, tally in sorted(figures_of_day(day).items())]
    with transaction.atomic():
        DailySnapshot.objects.filter(day=day).delete()
        DailySnapshot.objects.bulk_create(rows, ignore_conflicts=True)
    return len(rows)
