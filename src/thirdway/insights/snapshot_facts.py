"""What the daily snapshot reads beyond the tickets' own columns: which of the day's resolved
tickets were resolved at first contact, by the desk or with on-site work; the travel logged on
the day; the billable time entries worked on it; and the partners' scheduled minutes.

First contact: exactly one public reply by someone of the network (the message that opened
the ticket left out), and never moved from
resolved or closed back to an open status. By the desk: the last move to *resolved* was made
by a desk agent. On site: on-site time logged on the ticket, or a visit booked for it.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field

from django.db.models import Min, Q

from thirdway.accounts.models import STAFF_ROLES, Role
from thirdway.tickets.lifecycle import OPEN
from thirdway.tickets.models import Article
from thirdway.weekly_hours import WEEKDAYS, parse_time


@dataclass
class ResolvedFacts:
    first_contact: set[int] = field(default_factory=set)
    by_desk: set[int] = field(default_factory=set)
    onsite: set[int] = field(default_factory=set)


def resolved_facts(tickets: Iterable) -> ResolvedFacts:
    """The facts of these resolved tickets, in three queries whatever their number."""
    tickets = list(tickets)
    ids = [t.pk for t in tickets]
    facts = ResolvedFacts()
    if not ids:
        return facts
    replies = _network_replies(ids)
    reopened, resolver = set(), {}
    moves = (
        Article.objects.filter(ticket_id__in=ids, event="status")
        .order_by("created_at", "pk")
        .values_list("ticket_id", "data", "author__role")
    )
    for ticket_id, data, role in moves:
        data = data or {}
        if data.get("from") in ("resolved", "closed") and data.get("to") in OPEN:
            reopened.add(ticket_id)
        if data.get("to") == "resolved":
            resolver[ticket_id] = role
    facts.first_contact = {pk for pk in ids if replies[pk] == 1 and pk not in reopened}
    facts.by_desk = {pk for pk, role in resolver.items() if role == Role.DESK}
    worked_onsite = set(
        Article.objects.filter(
            ticket_id__in=ids, work_type="onsite", time_spent_minutes__gt=0
        ).values_list("ticket_id", flat=True)
    )
    facts.onsite = worked_onsite | {t.pk for t in tickets if t.visit_starts_at is not None}
    return facts


def _network_replies(ids: list[int]) -> Counter:
    """Public replies by the network per ticket, leaving out the message that opened it."""
    opening = dict(
        Article.objects.filter(ticket_id__in=ids)
        .values("ticket_id")
        .annotate(first=Min("pk"))
        .values_list("ticket_id", "first")
    )
    found = Article.objects.filter(
        ticket_id__in=ids, kind="reply", author__role__in=list(STAFF_ROLES)
    ).values_list("ticket_id", "pk")
    return Counter(ticket_id for ticket_id, pk in found if pk != opening.get(ticket_id))


def travel(start: dt.datetime, end: dt.datetime) -> list[tuple[object, int]]:
    """(ticket, minutes) of the travel logged during the day."""
    logged = Article.objects.filter(
        Q(created_at__gte=start, created_at__lt=end),
        work_type="travel",
        time_spent_minutes__gt=0,
    ).select_related("ticket")
    return [(a.ticket, a.time_spent_minutes) for a in logged]


def billable_entries(day: dt.date) -> list:
    """The billing room's time entries worked on ``day`` (reversals included: they net out)."""
    from thirdway.billing.models import TimeEntry

    return list(TimeEntry.objects.filter(worked_on=day).select_related("ticket"))


def scheduled_minutes(partner_ids: Iterable[int], day: dt.date) -> dict[int, int]:
    """Each partner's working minutes on ``day``'s weekday (their weekly working hours)."""
    from thirdway.network.models import Partner

    weekday = WEEKDAYS[day.weekday()]
    found = Partner.objects.filter(pk__in=list(partner_ids)).values_list("pk", "working_hours")
    return {
        pk: sum(
            parse_time(end) - parse_time(start) for start, end in (hours or {}).get(weekday, [])
        )
        for pk, hours in found
    }
