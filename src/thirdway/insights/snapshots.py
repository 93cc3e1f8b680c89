"""The daily snapshot: each practice's, partner's and client's figures of one UTC day, for all
their tickets and per category of ticket.

A ticket counts for its practice, its assignee and its client, in the row of all categories
(``category=""``) and in the row of its own category. First response times are in business
minutes of the ticket's SLA calendar (the SLA room's engine), in wall-clock minutes for a
ticket without one. The backlog is the tickets open now that were opened by the day's end: a
snapshot of a past day taken late sees today's open tickets, so the job takes each day as it
ends (and today again every hour). What is read beyond the tickets' columns (first contact,
the desk, on-site work, travel, time entries, schedules) is in ``snapshot_facts``.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable

from django.db import transaction
from django.db.models import Q

from thirdway.insights import figures, snapshot_facts
from thirdway.insights.models import UNCATEGORISED, CsatResponse, DailySnapshot, Scope
from thirdway.sla.calendars import to_engine
from thirdway.sla.engine import business_seconds_between
from thirdway.tickets.lifecycle import OPEN
from thirdway.tickets.models import Article, Channel, Ticket

Key = tuple[str, int, str]  # scope, subject, category ("" for all)


def _subjects(ticket) -> Iterable[tuple[str, int]]:
    if ticket.practice_id:
        yield (Scope.PRACTICE, ticket.practice_id)
    if ticket.assignee_id:
        yield (Scope.PARTNER, ticket.assignee_id)
    yield (Scope.CLIENT, ticket.client_id)


def _with_categories(subjects: Iterable[tuple[str, int]], ticket) -> Iterable[Key]:
    category = (ticket.category or UNCATEGORISED) if ticket is not None else None
    for scope, subject in subjects:
        yield (scope, subject, "")
        if category is not None:
            yield (scope, subject, category)


def _keys(ticket) -> Iterable[Key]:
    return _with_categories(_subjects(ticket), ticket)


def first_response_minutes(ticket) -> tuple[float, bool]:
    """Minutes to the first response, and whether they are business minutes."""
    if ticket.sla_calendar is not None:
        calendar = to_engine(ticket.sla_calendar, ticket.created_at.date())
        seconds = business_seconds_between(calendar, ticket.created_at, ticket.first_responded_at)
        return seconds / 60, True
    return (ticket.first_responded_at - ticket.created_at).total_seconds() / 60, False


COUNTS = (
    "opened",
    "resolved",
    "sla_met",
    "sla_measured",
    "reopened",
    "csat_count",
    "csat_sum",
    "first_contact",
    "desk_resolved",
    "onsite_resolved",
    "travel_minutes",
    "from_alerts",
    "billable_minutes",
    "scheduled_minutes",
)


class _Tally:
    def __init__(self) -> None:
        for name in COUNTS:
            setattr(self, name, 0)
        self.responses: list[float] = []
        self.business = True
        self.ages: list[float] = []

    def row(self, day: dt.date, key: Key) -> DailySnapshot:
        scope, subject, category = key
        return DailySnapshot(
            day=day,
            scope=scope,
            subject_id=subject,
            category=category,
            practice_id=subject if scope == Scope.PRACTICE else None,
            partner_id=subject if scope == Scope.PARTNER else None,
            client_id=subject if scope == Scope.CLIENT else None,
            first_response_p50=figures.percentile(self.responses, 0.5),
            first_response_p90=figures.percentile(self.responses, 0.9),
            first_response_business=self.business,
            backlog=len(self.ages),
            backlog_age_p50=figures.percentile(self.ages, 0.5),
            backlog_age_max=max(self.ages) if self.ages else None,
            **{name: getattr(self, name) for name in COUNTS},
        )


def figures_of_day(day: dt.date) -> dict[Key, _Tally]:
    """Every figure of ``day`` (UTC), by scope, subject and category."""
    start = dt.datetime.combine(day, dt.time(), tzinfo=dt.UTC)
    end = start + dt.timedelta(days=1)
    tallies: dict[Key, _Tally] = defaultdict(_Tally)
    within = {"__gte": start, "__lt": end}
    touched = list(
        Ticket.objects.filter(
            Q(**{f"created_at{k}": v for k, v in within.items()})
            | Q(**{f"resolved_at{k}": v for k, v in within.items()})
            | Q(**{f"first_responded_at{k}": v for k, v in within.items()})
            | Q(status__in=OPEN, created_at__lt=end)
        ).select_related("sla_calendar")
    )
    facts = snapshot_facts.resolved_facts(
        t for t in touched if t.resolved_at and start <= t.resolved_at < end
    )
    for ticket in touched:
        for key in _keys(ticket):
            _count(tallies[key], ticket, start, end, facts)
    _reopenings(tallies, start, end)
    _ratings(tallies, start, end)
    _time(tallies, day, start, end)
    return tallies


def _count(tally: _Tally, ticket, start, end, facts: snapshot_facts.ResolvedFacts) -> None:
    if start <= ticket.created_at < end:
        tally.opened += 1
        tally.from_alerts += ticket.channel == Channel.MONITORING
    if ticket.resolved_at and start <= ticket.resolved_at < end:
        _count_resolved(tally, ticket, facts)
    if ticket.first_responded_at and start <= ticket.first_responded_at < end:
        minutes, business = first_response_minutes(ticket)
        tally.responses.append(round(minutes, 1))
        tally.business = tally.business and business
    if ticket.status in OPEN and ticket.created_at < end:
        tally.ages.append(round((end - ticket.created_at).total_seconds() / 3600, 1))


def _count_resolved(tally: _Tally, ticket, facts: snapshot_facts.ResolvedFacts) -> None:
    tally.resolved += 1
    if ticket.resolution_due_at:
        tally.sla_measured += 1
        tally.sla_met += ticket.resolved_at <= ticket.resolution_due_at
    tally.first_contact += ticket.pk in facts.first_contact
    tally.desk_resolved += ticket.pk in facts.by_desk
    tally.onsite_resolved += ticket.pk in facts.onsite


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


def _ratings(tallies: dict[Key, _Tally], start: dt.datetime, end: dt.datetime) -> None:
    for response in CsatResponse.objects.filter(
        created_at__gte=start, created_at__lt=end
    ).select_related("ticket"):
        for key in _keys(response.ticket):
            tallies[key].csat_count += 1
            tallies[key].csat_sum += response.score


def _time(tallies: dict[Key, _Tally], day: dt.date, start, end) -> None:
    """Travel logged on the day, billable minutes of the day's time entries (for the partner
    who worked them and the ticket's practice and client), and the partners' schedules."""
    for ticket, minutes in snapshot_facts.travel(start, end):
        for key in _keys(ticket):
            tallies[key].travel_minutes += minutes
    for entry in snapshot_facts.billable_entries(day):
        ticket = entry.ticket
        subjects = [(Scope.PARTNER, entry.partner_id)]
        if ticket is not None:
            subjects += [s for s in _subjects(ticket) if s[0] != Scope.PARTNER]
        for key in _with_categories(subjects, ticket):
            tallies[key].billable_minutes += entry.billable_minutes
    partners = [k[1] for k in tallies if k[0] == Scope.PARTNER and k[2] == ""]
    for pk, minutes in snapshot_facts.scheduled_minutes(partners, day).items():
        tallies[(Scope.PARTNER, pk, "")].scheduled_minutes = minutes


def take(day: dt.date) -> int:
    """Write ``day``'s snapshot rows, replacing any earlier ones of that day; the row count."""
    rows = [tally.row(day, key) for key, tally in sorted(figures_of_day(day).items())]
    with transaction.atomic():
        DailySnapshot.objects.filter(day=day).delete()
        DailySnapshot.objects.bulk_create(rows, ignore_conflicts=True)
    return len(rows)
